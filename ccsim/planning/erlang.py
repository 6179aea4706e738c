"""Exact, stable, vectorised Erlang B, C and A.

Every function takes keyword arguments in explicit units (arrival rates per
second, handling times and patience in seconds), broadcasts over numpy arrays
and returns float64 arrays (0-d for scalar input; ``float(x)`` unwraps them).

Why the care: the textbook formulas use ``A**N / N!`` which overflows past
N ~ 170, and naive Erlang C returns probabilities above 1 or negative waits
once the load reaches the number of agents. Here

* Erlang B uses the incomplete-gamma identity
  ``B(N, A) = A^N e^-A / Γ(N+1) / Q(N+1, A)`` in log space, which is also the
  standard continuous extension to real N (Jagerman 1974); when ``Q``
  underflows (A far above N) it switches to the terminating series
  ``1/B = Σ_k N!/((N-k)! A^k)``.
* Erlang C is derived from B and reports ``stable=False`` (P(wait)=1, infinite
  waits) for A >= N instead of nonsense numbers.
* Erlang A (M/M/N+M, exponential patience) follows Mandelbaum & Zeltyn via
  the Kummer function ``S(a, x) = Σ_j x^j / ((a+1)...(a+j)) =
  e^x x^-a Γ(a+1) P(a, x)`` with ``a = Nμ/θ`` and ``x = λ/θ`` (a direct series
  where P underflows). Where the closed forms would cancel, and always for the
  mean wait of answered calls, the birth-death law is summed over a window
  holding all but ~e^-40 of its mass (strided beyond a few thousand terms),
  so the cost stays bounded for any N and patience.

References: G. Koole, *Call Center Optimization* (2013), ch. 5;
A. Mandelbaum & S. Zeltyn, "The M/M/n+G queue: summary of performance
measures" (Technion, 2004); O. Garnett, A. Mandelbaum & M. Reiman,
"Designing a call center with impatient customers", MSOM 4(3), 2002;
D. L. Jagerman, "Some properties of the Erlang loss function", BSTJ 53, 1974.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import numpy.typing as npt
from scipy import special

__all__ = [
    "DEFAULT_SERVICE_LEVEL_DEFINITION",
    "ErlangAResult",
    "ErlangCResult",
    "ServiceLevelDefinition",
    "erlang_a",
    "erlang_b",
    "erlang_c",
    "offered_load",
    "rate_per_second",
]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: Below this a regularised incomplete gamma value is too close to underflow
#: for its logarithm to be trusted; the series fallbacks take over.
_TINY = 1e-280
#: Stirling's series is used for Γ(z+1) from this argument up.
_STIRLING_MIN = 10.0
#: Maximum number of grid points per element for the queue-length sums.
_GRID_POINTS = 4096
#: Cap on elements materialised at once by the grid sums (memory bound).
_GRID_BATCH = 1 << 20


class ServiceLevelDefinition(enum.StrEnum):
    """The three service-level definitions found in practice.

    With abandonment they differ, so a planner must say which one a target
    means. Without abandonment (Erlang C) all three coincide.
    """

    #: Answered within t / offered. Abandoned calls count as failures. Default.
    OFFERED = "offered"
    #: Answered within t / answered. Ignores abandoned calls entirely.
    ANSWERED = "answered"
    #: Answered within t / (offered - abandoned within t): short abandons excluded.
    OFFERED_MINUS_SHORT_ABANDONS = "offered_minus_short_abandons"


#: The default definition: the strictest and most common in contracts.
DEFAULT_SERVICE_LEVEL_DEFINITION = ServiceLevelDefinition.OFFERED


# --------------------------------------------------------------------------- validation

_INF = float("inf")


def _arg(
    name: str, value: npt.ArrayLike, *, positive: bool = False, finite: bool = True
) -> FloatArray:
    """Convert to float64 and reject NaN, negatives (and zero / inf if asked), naming ``name``."""
    try:
        arr = np.array(value, dtype=np.float64)  # a copy: results never alias caller arrays
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a number or array of numbers, got {value!r}") from exc
    ok = arr > 0 if positive else arr >= 0  # False for NaN too
    if finite:
        ok &= arr < _INF
    if not ok.all():
        if np.isnan(arr).any():
            raise ValueError(f"{name} must not be NaN")
        if (arr < 0).any():
            raise ValueError(f"{name} must be >= 0, got {float(arr.min())}")
        if positive and (arr == 0).any():
            raise ValueError(f"{name} must be > 0, got 0")
        raise ValueError(f"{name} must be finite")
    return arr


def rate_per_second(*, calls: npt.ArrayLike, interval: npt.ArrayLike) -> FloatArray:
    """Arrival rate (calls/s) from calls offered in an interval of ``interval`` seconds."""
    c = _arg("calls", calls)
    t = _arg("interval", interval, positive=True)
    return np.asarray(c / t, dtype=np.float64)


def offered_load(*, arrival_rate: npt.ArrayLike, aht: npt.ArrayLike) -> FloatArray:
    """Offered load in erlangs: arrival rate (1/s) times average handling time (s)."""
    lam = _arg("arrival_rate", arrival_rate)
    h = _arg("aht", aht, positive=True)
    return np.asarray(lam * h, dtype=np.float64)


# --------------------------------------------------------------------------- log-space kernels
# Kernels take same-shaped float arrays and run inside the caller's np.errstate;
# they are written for few numpy calls, since call overhead dominates scalar use.


def _f64(x: object) -> FloatArray:
    return np.asarray(x, dtype=np.float64)


_LOG_2PI = float(np.log(2 * np.pi))


def _stirling_corr(z: FloatArray) -> FloatArray:
    """``lnΓ(z+1) - (z ln z - z + ½ ln 2πz)`` for z >= 10 (error < 1e-12)."""
    zi = 1.0 / z
    z2 = zi * zi
    return _f64(zi * (1.0 / 12 - z2 * (1.0 / 360 - z2 * (1.0 / 1260 - z2 / 1680))))


def _log_pois(n: FloatArray, z: FloatArray) -> FloatArray:
    """``ln(z^n e^-z / Γ(n+1))`` for real n, z >= 0, free of the n ln z - z cancellation."""
    nb = np.maximum(n, _STIRLING_MIN)
    d = (z - nb) / nb
    # ln(z/n): log1p near 1 (z - n is exact there), a plain log far from it
    lr = np.where(np.abs(d) < 0.5, np.log1p(d), np.log(z / nb))
    out = nb * (lr - d) - 0.5 * (_LOG_2PI + np.log(nb)) - _stirling_corr(nb)
    small = n < _STIRLING_MIN
    if small.any():
        ns, zs = n[small], z[small]
        out[small] = special.xlogy(ns, zs) - zs - special.gammaln(ns + 1)
    return _f64(out)


def _log_term_ratio(x: FloatArray, b: FloatArray, k: FloatArray) -> FloatArray:
    """``ln(x^k Γ(b+1) / Γ(b+k+1))``: log of the k-th birth-death term relative to the 0th."""
    bb = np.maximum(b, _STIRLING_MIN)
    l1 = np.log1p(k / bb)
    out = k * np.log(x / bb) - ((bb + k) * l1 - k) - 0.5 * l1
    out -= _stirling_corr(bb + k) - _stirling_corr(bb)
    small = np.broadcast_to(b < _STIRLING_MIN, out.shape)
    if small.any():
        bs = np.broadcast_to(b, out.shape)[small]
        ks = np.broadcast_to(k, out.shape)[small]
        xs = np.broadcast_to(x, out.shape)[small]
        out[small] = special.xlogy(ks, xs) - (
            special.gammaln(bs + ks + 1) - special.gammaln(bs + 1)
        )
    return _f64(out)


def _digamma_diff(z1: FloatArray, z2: FloatArray) -> FloatArray:
    """``ψ(z2) - ψ(z1)`` without cancellation when z1, z2 are large and close."""
    w1 = np.maximum(z1, 50.0) - 0.5
    w2 = np.maximum(z2, 50.0) - 0.5
    i1, i2 = 1.0 / (w1 * w1), 1.0 / (w2 * w2)
    out = (
        np.log1p((w2 - w1) / w1)
        + (i2 - i1) / 24
        - 7.0 / 960 * (i2 * i2 - i1 * i1)
        + 31.0 / 8064 * (i2**3 - i1**3)
    )
    small = np.broadcast_to(z1 < 50.0, out.shape)
    if small.any():
        a1 = np.broadcast_to(z1, out.shape)[small]
        a2 = np.broadcast_to(z2, out.shape)[small]
        out[small] = special.digamma(a2) - special.digamma(a1)
    return _f64(out)


def _ratio_series(c0: FloatArray, c1: float, d0: FloatArray, d1: float) -> FloatArray:
    """``Σ_k Π_{i<=k} r_i`` with ``r_i = max(0, (c0 + c1 i) / (d0 + d1 i))``.

    Only used where the ratios are below 1 and decreasing, so the tail after a
    term t with next ratio r is at most t r / (1 - r): that bounds the stop.
    """
    total = np.ones_like(c0)
    last = np.ones_like(c0)
    active = np.arange(c0.size)
    chunk = 64
    start = 1
    while active.size:
        i = start + np.arange(chunk, dtype=np.float64)
        r = (c0[active, None] + c1 * i) / (d0[active, None] + d1 * i)
        np.maximum(r, 0.0, out=r)
        terms = last[active, None] * np.cumprod(r, axis=1)
        total[active] += terms.sum(axis=1)
        last[active] = terms[:, -1]
        rn = r[:, -1]
        done = (rn == 0) | (last[active] * rn / (1.0 - rn) <= 1e-17 * total[active])
        active = active[~done]
        start += chunk
        chunk = min(2 * chunk, 8192)  # long tails only near the switch-over: few passes
        if start > 100_000_000:  # pragma: no cover - cannot happen in the regimes used
            raise RuntimeError("series did not converge")
    return total


def _log_erlang_b(load: FloatArray, servers: FloatArray) -> FloatArray:
    """ln B(N, A) for same-shaped float arrays (A >= 0, N >= 0 real).

    A = 0 needs no special case: Q(N+1, 0) = 1 and the Poisson term is 0 or -inf.
    """
    q = _f64(special.gammaincc(servers + 1, load))
    out = _log_pois(servers, load) - np.log(q)
    bad = q <= _TINY
    if bad.any():  # A far above N: 1/B = Σ_k N!/((N-k)! A^k), ratios (N-k+1)/A
        out[bad] = -np.log(_ratio_series(servers[bad] + 1, -1.0, load[bad], 0.0))
    if not servers.all():
        out[servers == 0] = 0.0  # no lines: everything is blocked, exactly
    return _f64(np.minimum(out, 0.0))


def _log_kummer(a: FloatArray, x: FloatArray) -> FloatArray:
    """ln S(a, x), ``S = Σ_j x^j / ((a+1)...(a+j)) = e^x x^-a Γ(a+1) P(a, x)``; S(a, 0) = 1."""
    p = _f64(special.gammainc(a, x))
    out = np.log(p) - _log_pois(a, x)
    bad = ~(p > _TINY)  # also x == 0 (and a == x == 0, where P is NaN)
    if bad.any():  # x far below a: direct series, ratios x/(a+j)
        out[bad] = np.log(_ratio_series(x[bad], 0.0, a[bad], 1.0))
    return _f64(np.maximum(out, 0.0))  # S >= 1


def _queue_moments(
    a: FloatArray, x: FloatArray, theta: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Moments of the number waiting j given all agents busy, for the M/M/N+M chain.

    The conditional law is ``t_j / S`` with ``t_j = x^j / ((a+1)...(a+j))``.
    Returns ``E[j]`` and ``E[g_j]`` where ``g_j`` is the expected wait, counted
    only if served, of a caller arriving behind j others:
    ``g_j = a/(a+j+1) Σ_{i=1..j+1} 1/(θ(a+i))`` (the tagged caller's offered wait
    is a sum of exponentials with rates Nμ+iθ; its own patience is Exp(θ)).

    The sum runs over a window holding all but ~e^-40 of the mass: consecutive
    terms by cumulative sums when the window has at most ``_GRID_POINTS``
    terms, otherwise sampled with stride s (trapezoid plus the Euler-Maclaurin
    end correction) so the cost stays bounded for any N and patience.
    """
    mode = np.maximum(0.0, np.floor(x - a))
    sq = 9.5 * np.sqrt(np.maximum(x, 1.0)) + 30
    lo = np.maximum(0.0, np.floor(mode - sq))
    hi_under = np.minimum(9.5 * np.sqrt(np.maximum(a, 1.0)) + 30, 42 / -np.log(x / (a + 1)) + 2)
    length = np.ceil(np.where(x > a, mode + sq, hi_under)) - lo + 1
    stride = np.maximum(1.0, np.ceil(length / _GRID_POINTS))
    count = np.ceil(length / stride).astype(np.int64)
    kmax = int(count.max())
    if kmax * a.size <= _GRID_BATCH and (stride == 1).all():  # the common case, in one go
        return _moments_consecutive(a, x, theta, lo=lo, count=count)
    m_out = np.empty_like(a)
    g_out = np.empty_like(a)
    step1 = stride == 1
    for rows in (step1, ~step1):
        idx = np.flatnonzero(rows)
        if idx.size == 0:
            continue
        batch = max(1, _GRID_BATCH // int(count[idx].max()))
        for s0 in range(0, idx.size, batch):
            sel = idx[s0 : s0 + batch]
            if rows is step1:
                res = _moments_consecutive(a[sel], x[sel], theta[sel], lo=lo[sel], count=count[sel])
            else:
                res = _moments_strided(
                    a[sel], x[sel], theta[sel], lo=lo[sel], stride=stride[sel], count=count[sel]
                )
            m_out[sel], g_out[sel] = res
    return m_out, g_out


def _moments_consecutive(
    a: FloatArray,
    x: FloatArray,
    theta: FloatArray,
    *,
    lo: FloatArray,
    count: npt.NDArray[np.int64],
) -> tuple[FloatArray, FloatArray]:
    """Window sums over consecutive j by running products and harmonic sums.

    The window starts e^-40 below the mode (or at 0) and the mode is at most
    ~e^60 above the start, so the running product cannot overflow.
    """
    kmax = int(count.max())
    k = np.arange(kmax, dtype=np.float64)
    a2, lo2 = a[:, None], lo[:, None]
    den = (a + lo)[:, None] + k[1:]  # a + j for j = lo+1 ...
    tau = np.ones((a.size, kmax))
    tau[:, 1:] = np.cumprod(x[:, None] / den, axis=1)
    if count.min() < kmax:
        tau[k >= count[:, None]] = 0.0
    harm = np.empty_like(tau)  # H_j = Σ_{i=1..j+1} 1/(a+i)
    harm[:, 0] = _digamma_diff(a + 1, a + lo + 2) if lo.any() else 1.0 / (a + 1)
    harm[:, 1:] = np.cumsum(1.0 / (den + 1), axis=1)
    harm[:, 1:] += harm[:, :1]
    j = lo2 + k
    z = tau.sum(axis=1)
    m = (tau * j).sum(axis=1) / z
    g = (tau * harm * (a2 / (a2 + j + 1))).sum(axis=1) / (z * theta)
    return _f64(m), _f64(g)


_D1 = np.array([-25.0, 48.0, -36.0, 16.0, -3.0])  # 12 s f'(0), error O(s^5)
_D3 = np.array([-5.0, 18.0, -24.0, 14.0, -3.0])  # 2 s^3 f'''(0), error O(s^5)


def _moments_strided(
    a: FloatArray,
    x: FloatArray,
    theta: FloatArray,
    *,
    lo: FloatArray,
    stride: FloatArray,
    count: npt.NDArray[np.int64],
) -> tuple[FloatArray, FloatArray]:
    """Window sums sampled every ``stride`` terms (only for very long windows)."""
    kmax = int(count.max())
    k = np.arange(kmax, dtype=np.float64)
    a2, lo2, st = a[:, None], lo[:, None], stride[:, None]
    off = st * k
    j = lo2 + off
    lt = _log_term_ratio(x[:, None], a2 + lo2, off)
    lt[k >= count[:, None]] = -np.inf
    tau = np.exp(lt - lt.max(axis=1, keepdims=True))
    # Euler-Maclaurin: sum_j f(j) = s sum_k f(ks) + (1-s)/2 f(0) + (s²-1)/12 f'(0)
    # - (s⁴-1)/720 f'''(0) + ...; f' and f''' from one-sided 5-point differences.
    # With s at most ~1% of the law's scale the error is ~1e-12 relative.
    w = np.broadcast_to(st, tau.shape).copy()
    w[:, 0] = (1 + stride) / 2
    s2 = stride * stride
    c1 = ((s2 - 1) / (12 * 12 * stride))[:, None]
    c3 = ((s2 * s2 - 1) / (720 * 2 * s2 * stride))[:, None]
    w[:, :5] += c1 * _D1 - c3 * _D3
    wt = w * tau
    z = wt.sum(axis=1)
    m = (wt * j).sum(axis=1) / z
    g = (wt * (a2 / (a2 + j + 1) * _digamma_diff(a2 + 1, a2 + j + 2))).sum(axis=1) / (z * theta)
    return _f64(m), _f64(g)


# --------------------------------------------------------------------------- Erlang B


def _flat(*arrays: FloatArray) -> tuple[tuple[int, ...], list[FloatArray]]:
    """Broadcast to a common shape; return it and flat 1-D arrays (never written to).

    Kernels work on 1-D arrays because arithmetic on 0-d arrays yields numpy
    scalars, which cannot be assigned into by mask.
    """
    shape = arrays[0].shape
    if any(v.shape != shape for v in arrays):
        shape = np.broadcast_shapes(*(v.shape for v in arrays))
        arrays = tuple(np.broadcast_to(v, shape) for v in arrays)
    return shape, [v.ravel() for v in arrays]


def _shaped(shape: tuple[int, ...], *arrays: object) -> list[FloatArray]:
    return [np.asarray(v, dtype=np.float64).reshape(shape) for v in arrays]


def erlang_b(*, load: npt.ArrayLike, servers: npt.ArrayLike) -> FloatArray:
    """Blocking probability of M/M/N/N for offered ``load`` (erlangs) and ``servers``.

    ``servers`` may be fractional: the continuous extension
    ``1/B(x, A) = A ∫_0^∞ e^{-Ay} (1+y)^x dy`` agrees with the classic formula
    at integers and lets planners interpolate.

    >>> round(float(erlang_b(load=8.108, servers=15)), 4)
    0.01
    """
    shape, (a, n) = _flat(_arg("load", load), _arg("servers", servers))
    with np.errstate(all="ignore"):
        return _f64(np.exp(_log_erlang_b(a, n)).reshape(shape))


# --------------------------------------------------------------------------- Erlang C


@dataclass(frozen=True, slots=True)
class ErlangCResult:
    """M/M/N performance; arrays broadcast from the inputs.

    For ``load >= servers`` (``stable`` is False) the queue grows without
    bound: ``p_wait`` is 1, ``asa`` and ``mean_queue_length`` are inf and the
    service level is 0. With no traffic at all the system counts as stable.
    ``occupancy`` is NaN for zero servers.
    """

    arrival_rate: FloatArray
    aht: FloatArray
    servers: FloatArray
    load: FloatArray
    stable: BoolArray
    p_wait: FloatArray
    #: Average speed of answer (s): mean wait of all callers (all are answered).
    asa: FloatArray
    mean_queue_length: FloatArray
    occupancy: FloatArray

    def service_level(
        self,
        within: npt.ArrayLike,
        definition: ServiceLevelDefinition | str = DEFAULT_SERVICE_LEVEL_DEFINITION,
    ) -> FloatArray:
        """P(W <= within): ``1 - P(wait) e^{-(Nμ-λ) t}``.

        Every definition gives the same value here (nobody abandons); the
        argument is accepted so code can switch models without changes.
        """
        ServiceLevelDefinition(definition)
        t = _arg("within", within)
        with np.errstate(all="ignore"):
            drain = self.servers / self.aht - self.arrival_rate
            sl = 1.0 - self.p_wait * np.exp(-drain * t)
            sl = np.where(self.stable, np.clip(sl, 0.0, 1.0), 0.0)
        return _f64(sl)


def erlang_c(
    *, arrival_rate: npt.ArrayLike, aht: npt.ArrayLike, servers: npt.ArrayLike
) -> ErlangCResult:
    """Erlang C (M/M/N): callers wait as long as needed.

    ``arrival_rate`` in calls per second, ``aht`` in seconds; ``servers`` may be
    fractional (continuous extension through Erlang B).

    >>> r = erlang_c(arrival_rate=0.2, aht=240.0, servers=55)
    >>> round(float(r.p_wait), 4), round(float(r.asa), 3)
    (0.2387, 8.184)
    """
    shape, (lam, h, n) = _flat(
        _arg("arrival_rate", arrival_rate),
        _arg("aht", aht, positive=True),
        _arg("servers", servers),
    )
    with np.errstate(all="ignore"):
        load = lam * h
        b = np.exp(_log_erlang_b(load, n))
        rho = load / n
        c = b / (1.0 - rho * (1.0 - b))
        excess = n - load
        asa = c * h / excess
        lq = c * load / excess
        occ = rho
        stable = excess > 0
        if not stable.all():
            idle = load == 0
            stable |= idle
            unstable = ~stable
            c[unstable], asa[unstable], lq[unstable], occ[unstable] = 1.0, _INF, _INF, 1.0
            c[idle], asa[idle], lq[idle] = 0.0, 0.0, 0.0
            occ[n == 0] = np.nan
    lam, h, n, load, c, asa, lq, occ = _shaped(shape, lam, h, n, load, c, asa, lq, occ)
    return ErlangCResult(
        arrival_rate=lam,
        aht=h,
        servers=n,
        load=load,
        stable=_bool(stable.reshape(shape)),
        p_wait=_f64(np.minimum(c, 1.0)),
        asa=asa,
        mean_queue_length=lq,
        occupancy=occ,
    )


def _bool(x: object) -> BoolArray:
    return np.asarray(x, dtype=np.bool_)


# --------------------------------------------------------------------------- Erlang A


@dataclass(frozen=True)
class ErlangAResult:
    """M/M/N+M (Erlang A) performance; arrays broadcast from the inputs.

    Always stable for finite patience, including N < A. ``patience=inf`` gives
    Erlang C (then unstable rows have ``p_wait`` 1 and infinite waits).
    ``mean_wait_served`` and ``occupancy`` are NaN when nobody can be served
    (zero servers with traffic). ``mean_wait_served`` is computed on first
    access: it needs a sum over the queue-length law the other measures avoid.
    """

    arrival_rate: FloatArray
    aht: FloatArray
    patience: FloatArray
    servers: FloatArray
    load: FloatArray
    p_wait: FloatArray
    p_abandon: FloatArray
    #: Mean time in queue of all callers, abandoning ones included (s).
    mean_wait: FloatArray
    mean_queue_length: FloatArray
    occupancy: FloatArray
    _log_s: FloatArray = field(repr=False)

    @cached_property
    def mean_wait_served(self) -> FloatArray:
        """Mean wait of answered callers (s): the ASA a wallboard shows."""
        shape = self.p_wait.shape  # every field has the broadcast shape
        lam, h, pat, n = (
            v.ravel() for v in (self.arrival_rate, self.aht, self.patience, self.servers)
        )
        pw, pab = self.p_wait.ravel(), self.p_abandon.ravel()
        gen = (lam > 0) & (pat < _INF) & (n > 0)
        with np.errstate(all="ignore"):
            if gen.all():
                _, g = _queue_moments(n * pat / h, lam * pat, 1.0 / pat)
                return _f64((pw * g / (1.0 - pab)).reshape(shape))
            out = np.array(self.mean_wait.ravel())  # right for idle and Erlang C rows
            if gen.any():
                pg = pat[gen]
                _, g = _queue_moments(n[gen] * pg / h[gen], lam[gen] * pg, 1.0 / pg)
                out[gen] = pw[gen] * g / (1.0 - pab[gen])
        out[(n == 0) & (lam > 0)] = np.nan
        return _f64(out.reshape(shape))

    @property
    def asa(self) -> FloatArray:
        """Average speed of answer: mean wait of answered calls (``mean_wait_served``)."""
        return self.mean_wait_served

    def _timed(self, within: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
        """P(answered within t) and P(still waiting at t), both over offered calls.

        The offered wait V (time until an agent would take the call) has
        density f_V(s) = Nμ π_N exp(x(1 - e^{-θs}) - Nμ s) for s > 0. With
        c = e^{-θt}, integrating f_V(s) e^{-θs} (the caller still there) gives
        ``P(served, 0 < W <= t) = (a/x) P(wait) [P(a+1, x) - P(a+1, xc)] / P(a, x)``
        and ``P(V > t) = P(wait) P(a, xc) / P(a, x)``, P the regularised lower
        incomplete gamma; the caller is still waiting with probability
        ``P(V > t) e^{-θt}``.
        """
        t = _arg("within", within)
        shape, (lam, h, pat, n, pw, ls, t) = _flat(
            self.arrival_rate, self.aht, self.patience, self.servers, self.p_wait, self._log_s, t
        )
        with np.errstate(all="ignore"):
            special_rows = ~((lam > 0) & (pat < _INF) & (n > 0))
            irregular = bool(special_rows.any())
            th = 1.0 / pat
            a = n * pat / h
            x = lam * pat
            if irregular:  # keep the kernels on finite, positive arguments
                a, x = np.where(special_rows, 1.0, a), np.where(special_rows, 1.0, x)
            xc = x * np.exp(-th * t)
            pa = special.gammainc(a, x)
            served = (special.gammainc(a + 1, x) - special.gammainc(a + 1, xc)) / pa
            beyond = special.gammainc(a, xc) / pa  # P(V > t) / P(wait)
            tiny = ~(pa > _TINY)
            if tiny.any():  # far below capacity: the same ratios through ln S
                ti = np.flatnonzero(tiny)
                at, xt, lst = a[ti], x[ti], ls[ti]
                log_e = xt * -np.expm1(-th[ti] * t[ti]) - n[ti] * t[ti] / h[ti]
                log_sc = _log_kummer(at, xc[ti])
                r2 = np.exp(log_e + log_sc - lst) - np.exp(log_e - lst)
                served[ti] = -np.expm1(-lst) - r2
                beyond[ti] = np.exp(log_e + log_sc - lst)
            answered = (1.0 - pw) + np.maximum(a / x * pw * served, 0.0)
            waiting = pw * beyond * np.exp(-th * t)
            if irregular:
                idle = lam == 0
                answered[idle], waiting[idle] = 1.0, 0.0
                nobody = (n == 0) & (lam > 0)
                answered[nobody] = 0.0
                waiting[nobody] = np.exp(-th[nobody] * t[nobody])
                inf = (lam > 0) & (pat == _INF)  # Erlang C rows
                drain = n[inf] / h[inf] - lam[inf]
                tail = np.where(drain > 0, pw[inf] * np.exp(-drain * t[inf]), 1.0)
                answered[inf], waiting[inf] = 1.0 - tail, tail
        answered, waiting = _shaped(shape, answered, waiting)
        return _f64(np.clip(answered, 0.0, 1.0)), _f64(np.clip(waiting, 0.0, 1.0))

    def answered_within(self, within: npt.ArrayLike) -> FloatArray:
        """Fraction of offered calls answered with a wait of at most ``within`` s."""
        return self._timed(within)[0]

    def abandoned_within(self, within: npt.ArrayLike) -> FloatArray:
        """Fraction of offered calls that abandon within ``within`` s of arriving."""
        answered, waiting = self._timed(within)
        return _f64(np.clip(1.0 - answered - waiting, 0.0, 1.0))

    def queue_time_within(self, within: npt.ArrayLike) -> FloatArray:
        """P(W <= t) for the time W spent in queue, ended by an answer or by hanging up."""
        return _f64(1.0 - self._timed(within)[1])

    def service_level(
        self,
        within: npt.ArrayLike,
        definition: ServiceLevelDefinition | str = DEFAULT_SERVICE_LEVEL_DEFINITION,
    ) -> FloatArray:
        """Service level for threshold ``within`` (s) under ``definition``."""
        d = ServiceLevelDefinition(definition)
        answered, waiting = self._timed(within)
        if d is ServiceLevelDefinition.OFFERED:
            return answered
        with np.errstate(all="ignore"):
            if d is ServiceLevelDefinition.ANSWERED:
                sl = answered / (1.0 - self.p_abandon)
            else:
                sl = answered / (answered + waiting)
            return _f64(np.clip(np.nan_to_num(sl, nan=0.0), 0.0, 1.0))


def erlang_a(
    *,
    arrival_rate: npt.ArrayLike,
    aht: npt.ArrayLike,
    patience: npt.ArrayLike,
    servers: npt.ArrayLike,
) -> ErlangAResult:
    """Erlang A (M/M/N+M): callers abandon after an exponential patience.

    ``patience`` is the mean patience in seconds (``inf`` means Erlang C).
    With ``π_N`` the probability that exactly N are in the system, ``S`` as
    above and ``B`` Erlang B: ``P(wait) = S B / (1 + (S-1) B)`` and the mean
    number waiting given all agents busy is ``E[j] = x - a + a/S``; then
    ``P(abandon) = P(wait) E[j] / x`` and ``E[W] = P(wait) E[j] / λ``
    (Little's law on the queue, abandonment rate θ per waiting caller).

    >>> r = erlang_a(arrival_rate=3.5 / 60, aht=180.0, patience=300.0, servers=13)
    >>> round(float(r.mean_wait), 2)
    9.91
    """
    shape, (lam, h, pat, n) = _flat(
        _arg("arrival_rate", arrival_rate),
        _arg("aht", aht, positive=True),
        _arg("patience", patience, positive=True, finite=False),
        _arg("servers", servers),
    )
    with np.errstate(all="ignore"):
        load = lam * h
        a = n * pat / h
        x = lam * pat
        lb = _log_erlang_b(load, n)
        gen = (lam > 0) & (pat < _INF)
        regular = bool(gen.all())
        if not regular:  # keep the kernels on finite, positive arguments
            a, x = np.where(gen, a, 1.0), np.where(gen, x, 1.0)
        ls = _log_kummer(a, x)
        p_wait = special.expit(lb + ls - np.log1p(-np.exp(lb)))
        tail = a * np.exp(-ls)
        m = x - a + tail
        ill = ~(100 * m >= tail)  # x < a with heavy cancellation: sum the law instead
        if ill.any():
            m[ill] = _queue_moments(a[ill], x[ill], 1.0 / pat[ill])[0]
        p_ab = np.minimum(p_wait * m / x, 1.0)
        wait = p_wait * m / lam
        lq = p_wait * m
        if not regular:
            idle = lam == 0
            p_wait[idle] = p_ab[idle] = wait[idle] = lq[idle] = ls[idle] = 0.0
            inf = (lam > 0) & (pat == _INF)
            if inf.any():
                c = erlang_c(arrival_rate=lam[inf], aht=h[inf], servers=n[inf])
                p_wait[inf], wait[inf], lq[inf], p_ab[inf] = (
                    c.p_wait,
                    c.asa,
                    c.mean_queue_length,
                    0.0,
                )
        occ = np.minimum(load * (1.0 - p_ab) / n, 1.0)
        occ[n == 0] = np.nan
    out = _shaped(shape, lam, h, pat, n, load, p_wait, p_ab, wait, lq, occ, ls)
    return ErlangAResult(*out)
