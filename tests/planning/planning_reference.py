"""Independent reference implementations for the Erlang tests.

Nothing here imports ccsim. Two families:

* mpmath at 40-60 significant digits: direct sums of the birth-death chain
  (the textbook formulas, safe at that precision), the integral form of
  Erlang B for real N, and mpmath's own incomplete gamma / 1F1 for large N;
* numpy linear algebra on a truncated CTMC: stationary law by a dense solve,
  the tagged caller's absorbing chain for served / abandoned, and the matrix
  exponential (``expm_multiply``) for waiting-time probabilities.
"""

from __future__ import annotations

from dataclasses import dataclass

import mpmath as mp
import numpy as np
from scipy import sparse
from scipy.sparse.linalg import expm_multiply

mp.mp.dps = 50


# --------------------------------------------------------------------------- mpmath


def mp_erlang_b_sum(n: int, load: float) -> mp.mpf:
    """B(N, A) = (A^N/N!) / Σ_{k<=N} A^k/k! by direct summation."""
    a = mp.mpf(load)
    term = mp.mpf(1)
    total = mp.mpf(1)
    for k in range(1, n + 1):
        term = term * a / k
        total += term
    return term / total


def mp_erlang_b_integral(x: float, load: float) -> mp.mpf:
    """Continuous Erlang B: 1/B(x, A) = A ∫_0^∞ e^{-Ay} (1+y)^x dy (Jagerman)."""
    a = mp.mpf(load)
    integral = mp.quad(lambda y: mp.exp(-a * y) * (1 + y) ** x, [0, 1, mp.inf])
    return 1 / (a * integral)


def mp_erlang_b_gamma(n: float, load: float) -> mp.mpf:
    """B(N, A) = A^N e^-A / Γ(N+1) / Q(N+1, A) with mpmath's incomplete gamma."""
    a, nn = mp.mpf(load), mp.mpf(n)
    log_num = nn * mp.log(a) - a - mp.loggamma(nn + 1)
    q = mp.gammainc(nn + 1, a, mp.inf, regularized=True)
    return mp.exp(log_num) / q


def mp_erlang_c_sum(n: int, rate: float, aht: float) -> dict[str, mp.mpf]:
    """Erlang C from the M/M/N stationary law summed directly (requires A < N)."""
    a = mp.mpf(rate) * aht
    terms = [mp.mpf(1)]
    for k in range(1, n + 1):
        terms.append(terms[-1] * a / k)
    tail = terms[n] * n / (n - a)  # Σ_{k>=N} π_k, unnormalised
    p_wait = tail / (mp.fsum(terms[:n]) + tail)
    drain = n / mp.mpf(aht) - mp.mpf(rate)
    return {"p_wait": p_wait, "asa": p_wait / drain, "drain": drain}


@dataclass(frozen=True)
class ErlangARef:
    p_wait: float
    p_abandon: float
    mean_wait: float
    mean_wait_served: float
    mean_queue_length: float


def mp_erlang_a_chain(rate: float, aht: float, patience: float, n: int) -> ErlangARef:
    """M/M/N+M by summing the birth-death chain at high precision.

    The served callers' mean wait uses first-step analysis of a tagged caller
    who finds j others waiting: with i ahead the next event is the queue
    moving (rate Nμ+iθ) or its own abandonment (θ).
    """
    lam, mu, th = mp.mpf(rate), 1 / mp.mpf(aht), 1 / mp.mpf(patience)
    p = [mp.mpf(1)]
    k = 0
    peak = mp.mpf(1)
    while True:
        k += 1
        death = min(k, n) * mu + max(k - n, 0) * th
        p.append(p[-1] * lam / death)
        peak = max(peak, p[-1])
        if k > n + 20 and p[-1] < peak * mp.mpf(10) ** -45 and lam < death:
            break
    z = mp.fsum(p)
    pi = [v / z for v in p]
    p_wait = mp.fsum(pi[n:])
    eq = mp.fsum((i - n) * pi[i] for i in range(n, len(pi)))
    served_wait = mp.mpf(0)
    p_prev, w_prev = mp.mpf(1), mp.mpf(0)  # "-1 ahead" = already at an agent
    for j in range(len(pi) - n):
        move = n * mu + j * th
        out = move + th
        p_j = move / out * p_prev
        w_j = p_j / out + move / out * w_prev
        served_wait += pi[n + j] * w_j
        p_prev, w_prev = p_j, w_j
    p_ab = th * eq / lam
    return ErlangARef(
        p_wait=float(p_wait),
        p_abandon=float(p_ab),
        mean_wait=float(eq / lam),
        mean_wait_served=float(served_wait / (1 - p_ab)) if n > 0 else float("nan"),
        mean_queue_length=float(eq),
    )


def mp_erlang_a_closed(rate: float, aht: float, patience: float, n: float) -> ErlangARef:
    """Mandelbaum–Zeltyn closed forms at high precision (mpmath 1F1 and Γ(a, x)).

    For sizes where the chain sum is too long; ``mean_wait_served`` is not
    available in closed form and is returned as NaN.
    """
    lam, pat = mp.mpf(rate), mp.mpf(patience)
    a = mp.mpf(n) * pat / aht
    x = lam * pat
    if x > a:  # S = e^x x^-a Γ(a+1) P(a, x), with P = 1 - Q well conditioned
        q = mp.gammainc(a, x, mp.inf, regularized=True)
        s = mp.exp(x - a * mp.log(x) + mp.loggamma(a + 1)) * (1 - q)
    else:
        s = mp.hyp1f1(1, a + 1, x)
    b = mp_erlang_b_gamma(n, float(lam * aht))
    p_wait = s * b / (1 + (s - 1) * b)
    m = x - a + a / s
    return ErlangARef(
        p_wait=float(p_wait),
        p_abandon=float(p_wait * m / x),
        mean_wait=float(p_wait * m / lam),
        mean_wait_served=float("nan"),
        mean_queue_length=float(p_wait * m),
    )


# --------------------------------------------------------------------------- numpy CTMC


@dataclass(frozen=True)
class CtmcA:
    """Erlang A measures from a truncated CTMC, plus the law of the tagged caller.

    Waiting-time probabilities come from the transient law of the tagged
    caller's absorbing chain, ``start · exp(T t)``."""

    pi: np.ndarray
    n: int
    tagged: np.ndarray  # generator of the tagged caller: i ahead, then served, abandoned
    p_wait: float
    p_abandon: float
    mean_wait: float
    mean_wait_served: float

    def timed(self, t: float) -> tuple[float, float, float]:
        """(answered within t, abandoned within t, still waiting at t), over offered calls."""
        k = self.tagged.shape[0] - 2
        start = np.zeros(k + 2)
        start[:k] = self.pi[self.n : self.n + k]
        at_t = expm_multiply(sparse.csr_matrix(self.tagged.T) * t, start)
        answered = float(self.pi[: self.n].sum() + at_t[k])
        return answered, float(at_t[k + 1]), float(at_t[:k].sum())


def _queue_room(rate: float, mu: float, th: float, n: int) -> int:
    """Waiting places beyond which the chain's mass is below 1e-25 of its peak."""
    term, peak, j = 1.0, 1.0, 0
    while True:
        j += 1
        term *= rate / (n * mu + j * th)
        peak = max(peak, term)
        if term < 1e-25 * peak and rate < n * mu + j * th:
            return j + 5


def ctmc_erlang_a(rate: float, aht: float, patience: float, n: int) -> CtmcA:
    """Dense-solve the M/M/N+M chain, truncated where its mass is negligible."""
    mu, th = 1 / aht, 1 / patience
    extra = _queue_room(rate, mu, th, n)
    size = n + extra + 1
    q = np.zeros((size, size))
    for k in range(size):
        if k + 1 < size:
            q[k, k + 1] = rate
        if k > 0:
            q[k, k - 1] = min(k, n) * mu + max(k - n, 0) * th
        q[k, k] = -q[k].sum()
    # π Q = 0 with Σπ = 1: replace one balance equation by the normalisation
    lhs = q.T.copy()
    lhs[-1, :] = 1.0
    rhs = np.zeros(size)
    rhs[-1] = 1.0
    pi = np.linalg.solve(lhs, rhs)
    waiting = np.arange(size) - n
    eq = float((np.clip(waiting, 0, None) * pi).sum())
    p_wait = float(pi[n:].sum())
    # tagged caller: states 0..K-1 = number ahead, K = served, K+1 = abandoned
    kk = extra
    tag = np.zeros((kk + 2, kk + 2))
    for i in range(kk):
        move = n * mu + i * th
        tag[i, i - 1 if i > 0 else kk] = move
        tag[i, kk + 1] = th
        tag[i, i] = -(move + th)
    trans = tag[:kk, :kk]
    served = np.linalg.solve(-trans, tag[:kk, kk])  # P(served | i ahead)
    time_served = np.linalg.solve(-trans, served)  # E[wait · 1{served} | i ahead]
    p_ab = th * eq / rate
    e_w_sr = float((pi[n : n + kk] * time_served).sum())
    return CtmcA(
        pi=pi,
        n=n,
        tagged=tag,
        p_wait=p_wait,
        p_abandon=p_ab,
        mean_wait=eq / rate,
        mean_wait_served=e_w_sr / (1 - p_ab),
    )
