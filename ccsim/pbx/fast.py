"""``engine="fast"``: a compiled (numba) simulation of one agent pool, FCFS or by priority.

Which scenarios: one pool of identical agents (every group has the same skills
and levels, all logged on all run long: no shifts, breaks, supervisor actions
or ring-no-answer), services queued straight to a skill (or through a routing
point whose script is a single unconditional ``queue`` step), no IVR and the
default policies. Services may have any priorities, handle-time, wrap-up,
patience and redial-delay distributions, piecewise-constant arrivals with
daily over-dispersion, redials and a trunk limit. Anything else is refused
with a ``ValueError`` naming the feature, before any work is done.

Why this is exact, and how (the algorithm):

* With the default policies the ACD delivers a waiting call to the agent who
  has been idle longest and a freed agent takes the call that has waited
  longest among the heads of its skills' queues (``Fifo`` call selection,
  ``PriorityFifo`` inside a queue). With one priority per queue and one agent
  pool that is first come, first served over *all* calls.
* Under FCFS a call's fate depends only on the calls that arrived before it.
  So calls are processed once each, in arrival order, keeping a heap of the
  N agents' next free times (keyed (time, agent index), so the minimum is the
  longest-idle agent): call k is delivered at ``d = max(a_k, earliest free
  time)``; it is answered at ``d + ring_time`` unless its patience runs out
  first (``a_k + patience < d + ring_time``). A caller who abandons before
  delivery leaves the heap untouched (abandoners consume no agent); one who
  abandons while ringing frees the agent at the abandonment; an answered call
  frees it at answer + talk + wrap-up. Delivery times are non-decreasing, so
  the heap is exactly the agents' state seen by the next call.
* Trunks: a call holds a trunk from arrival to the end of talk (or its
  abandonment); its release time is known once the call is processed. A
  second heap holds the release times of admitted calls; at each arrival the
  releases up to then are popped, and the call is blocked if all trunks are
  still held.
* Redials: a blocked or abandoning caller redials with the service's
  probability after a sampled delay (if that is before the horizon). The
  redial is an arrival later than the call that caused it, so it goes into a
  third heap merged with the sorted first attempts: calls are still processed
  in arrival order, and the recursion stays exact.
* Calls whose outcome falls after ``horizon + drain`` (4 h, as in the full
  model) are ``open``, as when the full model stops.
* Priorities: when services of different priorities share a skill, a later
  call can overtake an earlier one, so a call's fate is no longer settled on
  arrival. ``_priority_kernel`` then runs a compiled event loop instead: one
  heap of timed events (agent free, abandonment, trunk release, redial), one
  FIFO linked list per (skill, priority level), abandoned callers unlinked
  lazily when they reach a head; a freed agent takes, among each skill's
  head, the call enqueued first — exactly the ACD's ``PriorityFifo`` queues
  under its ``Fifo`` selector. Without priorities it yields the same rows as
  the recursion, bit for bit (tested), a few times more slowly; so it runs
  only when some skill mixes priorities.

Random variates are drawn up front with numpy from the replication's
``Streams`` (arrivals from ``arrivals``, handle and wrap-up times from
``service``, patience from ``patience``, redial decisions and delays from
``redial``, daily factors from ``daily``) and passed to the kernel as arrays,
so a run repeats exactly for a seed. The sample path is not the full engine's
(the draws are ordered differently), only its law: compare engines by
confidence intervals, not call by call. Arrival instants within an interval are
Poisson counts placed as sorted uniforms, drawn in O(n) from exponential
spacings (the order statistics of uniforms) instead of a sort.

Results are ``SimulationResult`` objects with the full engine's KPI names,
interval counters, levels (agents per state, trunks, queue lengths: interval
means and maxima, recomputed from the rows) and CDR columns. There is no
agent-state timeline: ``agent_states`` raises; ``agent_occupancy()`` is exact
(from each agent's ringing, talk and wrap-up time).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numba
import numpy as np
import numpy.typing as npt
import pandas as pd

from ccsim.events import AgentState
from ccsim.pbx.model import DAY
from ccsim.pbx.records import COUNTER_FIELDS, COUNTER_INDEX, OUTCOME_CODE, CdrStore
from ccsim.pbx.run import ReplicationResult, SimulationResult, derive_kpis
from ccsim.pbx.streams import Streams
from ccsim.scenario import NoPatience, QueueStep, Scenario

__all__ = ["FastSimulationResult", "fcfs_queue", "simulate_fast"]

#: seconds the full model keeps serving after the horizon (``Center(drain=...)``)
DRAIN = 4 * 3600.0

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_ANSWERED = OUTCOME_CODE["answered"]
_ABANDONED = OUTCOME_CODE["abandoned"]
_BLOCKED = OUTCOME_CODE["blocked"]
_OPEN = OUTCOME_CODE["open"]

# counter columns, as plain ints for the kernels
_F_ARRIVED = COUNTER_INDEX["arrived"]
_F_OFFERED = COUNTER_INDEX["offered"]
_F_ANSWERED = COUNTER_INDEX["answered"]
_F_ABANDONED = COUNTER_INDEX["abandoned"]
_F_BLOCKED = COUNTER_INDEX["blocked"]
_F_IN_SL = COUNTER_INDEX["answered_in_sl"]
_F_AB_IN_SL = COUNTER_INDEX["abandoned_in_sl"]
_F_WAITED = COUNTER_INDEX["waited"]
_F_WAIT_ANS = COUNTER_INDEX["wait_answered_sum"]
_F_WAIT_AB = COUNTER_INDEX["wait_abandoned_sum"]
_F_TALK = COUNTER_INDEX["talk_sum"]
_F_WRAP = COUNTER_INDEX["wrap_sum"]
_N_FIELDS = len(COUNTER_FIELDS)

_OK, _NO_ROWS, _NO_DRAWS = 0, 1, 2


def _inline(fn: Callable[..., Any]) -> Any:
    """A small helper compiled into its callers (numba IR inlining).

    A call to a separately compiled function that takes arrays costs
    reference-count updates; inlined, ``_add_area`` runs about five times faster.
    """
    return numba.njit(inline="always")(fn)


def _jit(fn: Callable[..., Any]) -> Any:
    """``numba.njit(cache=True)``, or without the on-disk cache where none can be kept.

    Numba refuses ``cache=True`` at decoration time when neither the package
    directory nor its user-wide fallback (``NUMBA_CACHE_DIR``) is writable (a
    read-only install in CI); the kernels then compile on first use in every
    process instead of failing the import.
    """
    try:
        return numba.njit(cache=True, nogil=True)(fn)
    except RuntimeError as exc:  # pragma: no cover - depends on the file system
        if not _NO_CACHE:
            _NO_CACHE.append(str(exc))
            warnings.warn(
                f"numba cannot cache ccsim's fast kernels ({exc}); they compile in every"
                " process (set NUMBA_CACHE_DIR to a writable directory)",
                stacklevel=2,
            )
        return numba.njit(nogil=True)(fn)


#: why the on-disk cache is off, once known (one warning per process, not one per kernel)
_NO_CACHE: list[str] = []


# =========================================================================== heaps


@_inline
def _sift_down(key: FloatArray, val: IntArray, n: int, i: int) -> None:
    """Restore the heap below ``i``; order (key, val), smallest first."""
    k, v = key[i], val[i]
    while True:
        c = 2 * i + 1
        if c >= n:
            break
        r = c + 1
        if r < n and (key[r] < key[c] or (key[r] == key[c] and val[r] < val[c])):
            c = r
        if key[c] < k or (key[c] == k and val[c] < v):
            key[i], val[i] = key[c], val[c]
            i = c
        else:
            break
    key[i], val[i] = k, v


@_inline
def _push(key: FloatArray, val: IntArray, n: int, k: float, v: int) -> int:
    """Insert (k, v) into the heap of size ``n``; returns the new size."""
    i = n
    while i > 0:
        p = (i - 1) // 2
        if key[p] < k or (key[p] == k and val[p] < v):
            break
        key[i], val[i] = key[p], val[p]
        i = p
    key[i], val[i] = k, v
    return n + 1


@_inline
def _pop(key: FloatArray, val: IntArray, n: int) -> int:
    """Remove the minimum of the heap of size ``n``; returns the new size."""
    n -= 1
    if n > 0:
        key[0], val[0] = key[n], val[n]
        _sift_down(key, val, n, 0)
    return n


# =========================================================================== the FCFS kernel


@_inline
def _open_row(
    row: int,
    t: float,
    s: int,
    customer: int,
    attempt: int,
    prev: int,
    o_arrival: FloatArray,
    o_service: IntArray,
    o_customer: IntArray,
    o_attempt: IntArray,
    o_redial_of: IntArray,
    o_offered: FloatArray,
    o_deliv: FloatArray,
    o_answer: FloatArray,
    o_wrap: FloatArray,
    o_agent: IntArray,
) -> None:
    """A new attempt's row: who and when; every later time NaN until it happens."""
    o_arrival[row] = t
    o_service[row] = s
    o_customer[row] = customer
    o_attempt[row] = attempt
    o_redial_of[row] = prev
    o_offered[row] = np.nan
    o_deliv[row] = np.nan
    o_answer[row] = np.nan
    o_wrap[row] = np.nan
    o_agent[row] = -1


@_inline
def _draw(cursor: IntArray, s: int, pool_off: IntArray, pool_len: IntArray) -> int:
    """Index of service ``s``'s next variate in the pools, or -1 when its pool ran out."""
    c = cursor[s]
    if c >= pool_len[s]:
        return -1
    cursor[s] = c + 1
    return int(pool_off[s] + c)


@_jit
def _fcfs_kernel(
    arr_t: FloatArray,
    arr_s: IntArray,
    n_agents: int,
    trunks: int,
    ring: float,
    horizon: float,
    t_end: float,
    talk_factor: FloatArray,
    redial_p: FloatArray,
    pool_off: IntArray,
    pool_len: IntArray,
    handle: FloatArray,
    patience: FloatArray,
    wrap: FloatArray,
    redial_u: FloatArray,
    redial_delay: FloatArray,
    o_arrival: FloatArray,
    o_service: IntArray,
    o_offered: FloatArray,
    o_deliv: FloatArray,
    o_answer: FloatArray,
    o_ended: FloatArray,
    o_wrap: FloatArray,
    o_agent: IntArray,
    o_outcome: IntArray,
    o_customer: IntArray,
    o_attempt: IntArray,
    o_redial_of: IntArray,
) -> tuple[int, int]:
    """Every attempt in arrival order (see the module docstring); returns (rows, status).

    ``trunks`` < 0: no trunk limit. ``o_*`` are preallocated rows; status
    ``_NO_ROWS`` / ``_NO_DRAWS`` means they or a service's pool of variates ran
    out (the caller retries with more).
    """
    cap = o_arrival.shape[0]
    n_services = talk_factor.shape[0]
    # agents: next free time, keyed (time, index) so ties go to the first logged on
    a_key = np.zeros(n_agents)
    a_val = np.arange(n_agents).astype(np.int64)
    # trunks: release times of admitted calls
    t_key = np.empty(max(trunks, 1))
    t_val = np.zeros(max(trunks, 1), dtype=np.int64)
    t_n = 0
    # redials: (arrival time, row of the attempt they repeat)
    r_key = np.empty(cap)
    r_val = np.empty(cap, dtype=np.int64)
    r_n = 0
    cursor = np.zeros(n_services, dtype=np.int64)
    r_cursor = np.zeros(n_services, dtype=np.int64)
    n_first = arr_t.shape[0]
    i = 0
    n = 0
    customers = 0
    while True:
        if i < n_first and (r_n == 0 or arr_t[i] <= r_key[0]):
            t = arr_t[i]
            s = arr_s[i]
            i += 1
            customers += 1
            customer = customers
            attempt = 1
            prev = -1
        elif r_n > 0:
            t = r_key[0]
            prev = r_val[0]
            r_n = _pop(r_key, r_val, r_n)
            s = o_service[prev]
            customer = o_customer[prev]
            attempt = o_attempt[prev] + 1
        else:
            break
        if n >= cap:
            return n, _NO_ROWS
        row = n
        n += 1
        _open_row(
            row, t, s, customer, attempt, prev, o_arrival, o_service, o_customer,
            o_attempt, o_redial_of, o_offered, o_deliv, o_answer, o_wrap, o_agent,
        )  # fmt: skip
        left = np.nan  # time the caller hung up (blocked / abandoned), for a redial
        p = redial_p[s]
        redial_j = -1
        if p > 0.0:  # drawn on arrival, so both kernels use the pool in arrival order
            redial_j = _draw(r_cursor, s, pool_off, pool_len)
            if redial_j < 0:
                return n, _NO_DRAWS
        if trunks >= 0:
            while t_n > 0 and t_key[0] <= t:
                t_n = _pop(t_key, t_val, t_n)
        if trunks >= 0 and t_n >= trunks:
            o_outcome[row] = _BLOCKED
            o_ended[row] = t
            left = t
        else:
            j = _draw(cursor, s, pool_off, pool_len)
            if j < 0:
                return n, _NO_DRAWS
            o_offered[row] = t
            deadline = t + patience[j]
            free = a_key[0]
            deliv = t if free <= t else free
            answer = deliv + ring
            if deadline < deliv:  # hangs up in the queue: no agent is used
                release = deadline
                if deadline < t_end:
                    o_outcome[row] = _ABANDONED
                    o_ended[row] = deadline
                    left = deadline
                else:
                    o_outcome[row] = _OPEN
                    o_ended[row] = t_end
            elif deadline < answer:  # hangs up while ringing: the agent is free again
                agent = a_val[0]
                a_key[0] = deadline
                _sift_down(a_key, a_val, n_agents, 0)
                o_agent[row] = agent
                release = deadline
                if deliv < t_end:
                    o_deliv[row] = deliv
                if deadline < t_end:
                    o_outcome[row] = _ABANDONED
                    o_ended[row] = deadline
                    left = deadline
                else:
                    o_outcome[row] = _OPEN
                    o_ended[row] = t_end
            else:
                agent = a_val[0]
                end = answer + handle[j] * talk_factor[s]
                a_key[0] = end + wrap[j]
                _sift_down(a_key, a_val, n_agents, 0)
                o_agent[row] = agent
                release = end
                if deliv < t_end:
                    o_deliv[row] = deliv
                if answer < t_end:
                    o_answer[row] = answer
                if end < t_end:
                    o_outcome[row] = _ANSWERED
                    o_ended[row] = end
                    o_wrap[row] = wrap[j]
                else:
                    o_outcome[row] = _OPEN
                    o_ended[row] = t_end
            if trunks >= 0:
                t_n = _push(t_key, t_val, t_n, release, row)
        if redial_j >= 0 and not np.isnan(left):
            at = left + redial_delay[redial_j]
            if redial_u[redial_j] < p and at < horizon:
                r_n = _push(r_key, r_val, r_n, at, row)
    return n, _OK


# =========================================================================== the priority kernel

_EV_FREE, _EV_ABANDON, _EV_TRUNK, _EV_REDIAL = 0, 1, 2, 3


@_inline
def _leave(
    row: int,
    at: float,
    horizon: float,
    redial_p: float,
    redial_j: IntArray,
    redial_u: FloatArray,
    redial_delay: FloatArray,
    e_key: FloatArray,
    e_val: IntArray,
    e_n: int,
) -> int:
    """A caller hung up at ``at``: schedule the redial if one is drawn; returns the heap size."""
    j = redial_j[row]
    if j >= 0:
        when = at + redial_delay[j]
        if redial_u[j] < redial_p and when < horizon:
            e_n = _push(e_key, e_val, e_n, when, row * 4 + _EV_REDIAL)
    return e_n


@_inline
def _serve(
    row: int,
    agent: int,
    t: float,
    ring: float,
    t_end: float,
    horizon: float,
    trunks: int,
    deadline: FloatArray,
    talk: FloatArray,
    wrap_time: FloatArray,
    redial_p: float,
    redial_j: IntArray,
    redial_u: FloatArray,
    redial_delay: FloatArray,
    o_deliv: FloatArray,
    o_answer: FloatArray,
    o_ended: FloatArray,
    o_wrap: FloatArray,
    o_agent: IntArray,
    o_outcome: IntArray,
    e_key: FloatArray,
    e_val: IntArray,
    e_n: int,
) -> int:
    """Deliver call ``row`` to ``agent`` at ``t``; schedules what follows; returns the heap size."""
    o_agent[row] = agent
    if t < t_end:
        o_deliv[row] = t
    answer = t + ring
    d = deadline[row]
    if d < answer:  # hangs up while ringing: the agent is free at once
        e_n = _push(e_key, e_val, e_n, d, agent * 4 + _EV_FREE)
        release = d
        if d < t_end:
            o_outcome[row] = _ABANDONED
            o_ended[row] = d
            e_n = _leave(
                row, d, horizon, redial_p, redial_j, redial_u, redial_delay, e_key, e_val, e_n
            )
        else:
            o_outcome[row] = _OPEN
            o_ended[row] = t_end
    else:
        end = answer + talk[row]
        e_n = _push(e_key, e_val, e_n, end + wrap_time[row], agent * 4 + _EV_FREE)
        release = end
        if answer < t_end:
            o_answer[row] = answer
        if end < t_end:
            o_outcome[row] = _ANSWERED
            o_ended[row] = end
            o_wrap[row] = wrap_time[row]
        else:
            o_outcome[row] = _OPEN
            o_ended[row] = t_end
    if trunks >= 0:
        e_n = _push(e_key, e_val, e_n, release, row * 4 + _EV_TRUNK)
    return e_n


@_jit
def _priority_kernel(
    arr_t: FloatArray,
    arr_s: IntArray,
    n_agents: int,
    trunks: int,
    ring: float,
    horizon: float,
    t_end: float,
    talk_factor: FloatArray,
    redial_p: FloatArray,
    pool_off: IntArray,
    pool_len: IntArray,
    handle: FloatArray,
    patience: FloatArray,
    wrap: FloatArray,
    redial_u: FloatArray,
    redial_delay: FloatArray,
    queue_of: IntArray,
    level_of: IntArray,
    n_queues: int,
    n_levels: int,
    queue_rank: IntArray,
    o_arrival: FloatArray,
    o_service: IntArray,
    o_offered: FloatArray,
    o_deliv: FloatArray,
    o_answer: FloatArray,
    o_ended: FloatArray,
    o_wrap: FloatArray,
    o_agent: IntArray,
    o_outcome: IntArray,
    o_customer: IntArray,
    o_attempt: IntArray,
    o_redial_of: IntArray,
) -> tuple[int, int]:
    """The same model with priorities: a real event order (see the module docstring).

    Events (agent free, abandonment, trunk release, redial) sit in one heap
    keyed by time; first attempts come from the sorted array. Each (skill,
    priority level) is a FIFO linked list of waiting calls; a freed agent takes,
    among each skill's head (highest level first), the call enqueued earliest
    (the ACD's ``Fifo`` selector over ``PriorityFifo`` queues). Abandoned calls
    are unlinked lazily, when they reach a head. Same rows and status as
    ``_fcfs_kernel``.
    """
    cap = o_arrival.shape[0]
    n_services = talk_factor.shape[0]
    size = 3 * cap + n_agents + 16
    e_key = np.empty(size)
    e_val = np.empty(size, dtype=np.int64)
    e_n = 0
    idle = np.arange(n_agents).astype(np.int64)  # FIFO ring: longest idle at the front
    idle_front = 0
    idle_count = n_agents
    n_lists = n_queues * n_levels
    head = np.full(n_lists, -1, dtype=np.int64)
    tail = np.full(n_lists, -1, dtype=np.int64)
    nxt = np.full(cap, -1, dtype=np.int64)
    waiting = np.zeros(cap, dtype=np.bool_)
    deadline = np.empty(cap)
    talk = np.empty(cap)
    wrap_time = np.empty(cap)
    redial_j = np.full(cap, -1, dtype=np.int64)
    cursor = np.zeros(n_services, dtype=np.int64)
    r_cursor = np.zeros(n_services, dtype=np.int64)
    trunks_busy = 0
    n_first = arr_t.shape[0]
    i = 0
    n = 0
    customers = 0
    while True:
        if i < n_first and (e_n == 0 or arr_t[i] < e_key[0]):
            t = arr_t[i]
            s = arr_s[i]
            i += 1
            customers += 1
            customer = customers
            attempt = 1
            prev = -1
        elif e_n > 0:
            t = e_key[0]
            v = e_val[0]
            e_n = _pop(e_key, e_val, e_n)
            kind = v & 3
            ident = v >> 2
            if kind == _EV_TRUNK:
                trunks_busy -= 1
                continue
            if kind == _EV_ABANDON:
                if waiting[ident]:
                    waiting[ident] = False
                    if trunks >= 0:
                        trunks_busy -= 1
                    if t < t_end:
                        o_outcome[ident] = _ABANDONED
                        o_ended[ident] = t
                        e_n = _leave(
                            ident,
                            t,
                            horizon,
                            redial_p[o_service[ident]],
                            redial_j,
                            redial_u,
                            redial_delay,
                            e_key,
                            e_val,
                            e_n,
                        )
                    else:
                        o_outcome[ident] = _OPEN
                        o_ended[ident] = t_end
                continue
            if kind == _EV_FREE:
                best = -1
                best_list = -1
                best_t = np.inf
                best_level = n_levels
                best_rank = n_queues
                for q in range(n_queues):
                    for lv in range(n_levels):
                        li = q * n_levels + lv
                        h = head[li]
                        while h >= 0 and not waiting[h]:
                            h = nxt[h]
                        head[li] = h
                        if h < 0:
                            tail[li] = -1
                            continue
                        off = o_offered[h]
                        if off < best_t or (
                            off == best_t
                            and (
                                lv < best_level or (lv == best_level and queue_rank[q] < best_rank)
                            )
                        ):
                            best, best_list, best_t = h, li, off
                            best_level, best_rank = lv, queue_rank[q]
                        break
                if best < 0:
                    idle[(idle_front + idle_count) % n_agents] = ident
                    idle_count += 1
                else:
                    head[best_list] = nxt[best]
                    if head[best_list] < 0:
                        tail[best_list] = -1
                    waiting[best] = False
                    e_n = _serve(
                        best,
                        ident,
                        t,
                        ring,
                        t_end,
                        horizon,
                        trunks,
                        deadline,
                        talk,
                        wrap_time,
                        redial_p[o_service[best]],
                        redial_j,
                        redial_u,
                        redial_delay,
                        o_deliv,
                        o_answer,
                        o_ended,
                        o_wrap,
                        o_agent,
                        o_outcome,
                        e_key,
                        e_val,
                        e_n,
                    )
                continue
            prev = ident  # a redial
            s = o_service[prev]
            customer = o_customer[prev]
            attempt = o_attempt[prev] + 1
        else:
            break
        # ---- an arrival (first attempt or redial)
        if n >= cap:
            return n, _NO_ROWS
        row = n
        n += 1
        _open_row(
            row, t, s, customer, attempt, prev, o_arrival, o_service, o_customer,
            o_attempt, o_redial_of, o_offered, o_deliv, o_answer, o_wrap, o_agent,
        )  # fmt: skip
        if redial_p[s] > 0.0:
            redial_j[row] = _draw(r_cursor, s, pool_off, pool_len)
            if redial_j[row] < 0:
                return n, _NO_DRAWS
        if trunks >= 0 and trunks_busy >= trunks:
            o_outcome[row] = _BLOCKED
            o_ended[row] = t
            e_n = _leave(
                row, t, horizon, redial_p[s], redial_j, redial_u, redial_delay, e_key, e_val, e_n
            )
            continue
        if trunks >= 0:
            trunks_busy += 1
        j = _draw(cursor, s, pool_off, pool_len)
        if j < 0:
            return n, _NO_DRAWS
        o_offered[row] = t
        deadline[row] = t + patience[j]
        talk[row] = handle[j] * talk_factor[s]
        wrap_time[row] = wrap[j]
        if idle_count > 0:
            agent = idle[idle_front]
            idle_front = (idle_front + 1) % n_agents
            idle_count -= 1
            e_n = _serve(
                row,
                agent,
                t,
                ring,
                t_end,
                horizon,
                trunks,
                deadline,
                talk,
                wrap_time,
                redial_p[s],
                redial_j,
                redial_u,
                redial_delay,
                o_deliv,
                o_answer,
                o_ended,
                o_wrap,
                o_agent,
                o_outcome,
                e_key,
                e_val,
                e_n,
            )
        else:
            li = queue_of[s] * n_levels + level_of[s]
            if tail[li] >= 0:
                nxt[tail[li]] = row
            else:
                head[li] = row
            tail[li] = row
            nxt[row] = -1
            waiting[row] = True
            if deadline[row] < np.inf:
                e_n = _push(e_key, e_val, e_n, deadline[row], row * 4 + _EV_ABANDON)
    return n, _OK


# =========================================================================== statistics


@_inline
def _bucket(t: float, iv: float) -> int:
    """``int(t // iv)`` for t >= 0, without numba's slow float floor division (fmod)."""
    b = int(t / iv)
    if b * iv > t:
        b -= 1
    elif (b + 1) * iv <= t:
        b += 1
    return b


@_inline
def _add_area(area: FloatArray, k: int, start: float, end: float, iv: float) -> None:
    """Add the segment [start, end) to the per-interval time integrals ``area[k]``."""
    if not end > start:
        return
    b = _bucket(start, iv)
    nb = area.shape[1]
    if end <= (b + 1) * iv and b < nb:  # the common case: within one interval
        area[k, b] += end - start
        return
    while start < end and b < nb:
        stop = min(end, (b + 1) * iv)
        area[k, b] += stop - start
        start = stop
        b += 1


@_inline
def _overlap(start: float, end: float, lo: float, hi: float) -> float:
    return max(0.0, min(end, hi) - max(start, lo))


@_jit
def _stats_kernel(
    n: int,
    arrival: FloatArray,
    service: IntArray,
    offered: FloatArray,
    deliv: FloatArray,
    answer: FloatArray,
    ended: FloatArray,
    wrap: FloatArray,
    agent: IntArray,
    outcome: IntArray,
    sl: FloatArray,
    queue_of: IntArray,
    has_trunks: bool,
    warmup: float,
    horizon: float,
    t_end: float,
    iv: float,
    counters: FloatArray,
    areas: FloatArray,
    agent_secs: FloatArray,
    window: FloatArray,
) -> None:
    """Interval counters, level integrals and per-agent state seconds from the attempt rows.

    ``areas`` rows: reserved, busy, wrap-up, trunks, then one per queue;
    ``agent_secs`` columns: reserved, busy, wrap-up over [warmup, horizon);
    ``window``: working agent-seconds and trunk-seconds over [warmup, horizon).
    """
    for r in range(n):
        a = arrival[r]
        s = service[r]
        oc = outcome[r]
        off = offered[r]
        # ---- counters (the full model's Center._count)
        if a >= warmup:
            b = _bucket(a, iv)
            counters[b, s, _F_ARRIVED] += 1.0
            if oc == _ANSWERED:
                counters[b, s, _F_ANSWERED] += 1.0
            elif oc == _ABANDONED:
                counters[b, s, _F_ABANDONED] += 1.0
            elif oc == _BLOCKED:
                counters[b, s, _F_BLOCKED] += 1.0
            if not np.isnan(off):
                counters[b, s, _F_OFFERED] += 1.0
                if oc == _ANSWERED:
                    w = answer[r] - off
                    counters[b, s, _F_WAIT_ANS] += w
                    counters[b, s, _F_TALK] += ended[r] - answer[r]
                    counters[b, s, _F_WRAP] += wrap[r]
                    if w <= sl[s]:
                        counters[b, s, _F_IN_SL] += 1.0
                    if w > 0.0:
                        counters[b, s, _F_WAITED] += 1.0
                elif oc == _ABANDONED:
                    w = ended[r] - off
                    counters[b, s, _F_WAIT_AB] += w
                    counters[b, s, _F_WAITED] += 1.0
                    if w <= sl[s]:
                        counters[b, s, _F_AB_IN_SL] += 1.0
        if oc == _BLOCKED:
            continue
        end = ended[r]
        if has_trunks:  # a trunk is held from arrival to the end of talk or the hang-up
            _add_area(areas, 3, a, end, iv)
            window[1] += _overlap(a, end, warmup, horizon)
        # ---- queue: from the offer to the delivery (or hang-up) for calls that waited
        d = deliv[r]
        q_end = d if not np.isnan(d) else end
        if q_end > off:
            _add_area(areas, 4 + queue_of[s], off, q_end, iv)
        # ---- the agent: ringing, talking, wrap-up
        g = agent[r]
        if g < 0 or np.isnan(d):
            continue
        ans = answer[r]
        ring_end = ans if not np.isnan(ans) else end
        busy_end = end if not np.isnan(ans) else ans
        wr = wrap[r]
        wrap_end = end + wr if not np.isnan(wr) else end
        wrap_end = min(wrap_end, t_end)
        _add_area(areas, 0, d, ring_end, iv)
        x = _overlap(d, ring_end, warmup, horizon)
        agent_secs[g, 0] += x
        window[0] += x
        if not np.isnan(ans):
            _add_area(areas, 1, ans, busy_end, iv)
            x = _overlap(ans, busy_end, warmup, horizon)
            agent_secs[g, 1] += x
            window[0] += x
            _add_area(areas, 2, end, wrap_end, iv)
            x = _overlap(end, wrap_end, warmup, horizon)
            agent_secs[g, 2] += x
            window[0] += x


@_jit
def _peaks(ups: FloatArray, downs: FloatArray, iv: float, peak: FloatArray) -> None:
    """Per-interval maximum of a level that rises at ``ups`` (sorted) and falls at ``downs``.

    ``downs[k]`` ends the stay that began at ``ups[k]``. Like ``LevelTimes``, an
    interval's maximum includes the level it starts with.
    """
    m = ups.shape[0]
    nb = peak.shape[0]
    key = np.empty(m)
    val = np.zeros(m, dtype=np.int64)
    h = 0
    cur = -1
    for k in range(m):
        t = ups[k]
        b = min(_bucket(t, iv), nb - 1)
        while cur < b:
            cur += 1
            edge = cur * iv
            while h > 0 and key[0] < edge:
                h = _pop(key, val, h)
            peak[cur] = max(peak[cur], h)
        while h > 0 and key[0] <= t:
            h = _pop(key, val, h)
        h = _push(key, val, h, downs[k], k)
        peak[b] = max(peak[b], h)
    while cur < nb - 1:
        cur += 1
        edge = cur * iv
        while h > 0 and key[0] < edge:
            h = _pop(key, val, h)
        peak[cur] = max(peak[cur], h)


@_jit
def _ready_peaks(
    ups: FloatArray, downs: FloatArray, n_agents: int, iv: float, peak: FloatArray
) -> None:
    """Per-interval maximum of ready agents, ``n_agents`` minus those working.

    Work starts at ``ups`` and ends at ``downs`` (both sorted). An end is taken
    before a start at the same instant: an agent who finishes and takes the
    next waiting call is ready for that instant, as the full model records it.
    """
    nb = peak.shape[0]
    m = ups.shape[0]
    k = downs.shape[0]
    i = 0
    j = 0
    level = 0
    cur = -1
    while i < m or j < k:
        down = j < k and (i >= m or downs[j] <= ups[i])
        t = downs[j] if down else ups[i]
        b = min(_bucket(t, iv), nb - 1)
        while cur < b:
            cur += 1
            peak[cur] = max(peak[cur], n_agents - level)
        if down:
            level -= 1
            j += 1
            peak[b] = max(peak[b], n_agents - level)
        else:
            level += 1
            i += 1
    while cur < nb - 1:
        cur += 1
        peak[cur] = max(peak[cur], n_agents - level)


def _segment_peaks(starts: FloatArray, stops: FloatArray, iv: float, nb: int) -> FloatArray:
    """Per-interval maximum of how many segments [start, stop) overlap (empty ones ignored)."""
    keep = stops > starts  # NaN compares False
    s, e = starts[keep], stops[keep]
    if s.size > 1 and bool(np.any(s[1:] < s[:-1])):
        order = np.argsort(s, kind="stable")
        s, e = s[order], e[order]
    peak = np.zeros(nb)
    _peaks(s, e, iv, peak)
    return peak


# =========================================================================== the model


@dataclass(frozen=True)
class _Plan:
    """What the kernel needs from a scenario, checked once."""

    services: list[str]
    queues: list[str]
    agents: list[str]
    queue_of: IntArray
    talk_factor: FloatArray
    redial_p: FloatArray
    sl: FloatArray
    priority: IntArray
    trunks: int
    #: priority level of each service (0 = highest), and whether any skill mixes levels
    level_of: IntArray
    n_levels: int
    queue_rank: IntArray
    mixed_priorities: bool


def _refuse(scenario: Scenario, what: str) -> ValueError:
    return ValueError(f"engine='fast' {what} (scenario {scenario.name!r}) - use engine='full'")


def make_plan(scenario: Scenario, policies: dict[str, Any] | None = None) -> _Plan:
    """Check that the fast engine is exact for ``scenario``; ``ValueError`` naming the feature."""
    sc = scenario
    if sc.ivr is not None or any(s.ivr is not None for s in sc.services):
        raise _refuse(sc, "has no IVR; the scenario has an [ivr] section")
    if sc.supervisor:
        raise _refuse(sc, "has no supervisor actions; the scenario has supervisor[0]")
    if policies:
        raise _refuse(sc, f"runs the default policies only; got policies={sorted(policies)}")
    for slot in ("agent_selector", "call_selector", "queue_discipline", "ewt"):
        if getattr(sc.policies, slot) is not None:
            raise _refuse(sc, f"runs the default policies only; the scenario sets policies.{slot}")
    groups = sc.agent_groups
    for i, g in enumerate(groups):
        if g.shifts:
            raise _refuse(
                sc, f"keeps every agent logged on (no shifts); agent_groups[{i}] has shifts"
            )
        if g.no_answer_probability > 0:
            raise _refuse(
                sc,
                f"has no ring-no-answer (RONA); agent_groups[{i}].no_answer_probability"
                f" is {g.no_answer_probability}",
            )
        if dict(g.skills) != dict(groups[0].skills):
            raise _refuse(
                sc,
                f"supports one agent pool; scenario {sc.name!r} routes by skill"
                f" (agent_groups[{i}] has other skills or levels than agent_groups[0])",
            )
    pool_skills = dict(groups[0].skills)
    queues = [s.name for s in sc.skills]
    services = [s.name for s in sc.services]
    queue_of = np.zeros(len(services), dtype=np.int64)
    talk = np.ones(len(services))
    redial = np.zeros(len(services))
    sl = np.zeros(len(services))
    prio = np.zeros(len(services), dtype=np.int64)
    ranks = np.zeros(len(services), dtype=np.int64)
    queue_prio: dict[str, tuple[int, str]] = {}
    mixed = False
    for i, s in enumerate(sc.services):
        if s.arrivals is None:
            raise _refuse(sc, f"needs arrivals for every service; services[{i}] has none")
        rank = s.priority  # the call's priority in its queue (a queue step may raise it)
        if s.routing_point is None:
            skill = s.name
        else:
            steps = sc.routing_point(s.routing_point).steps
            if len(steps) != 1 or not isinstance(steps[0], QueueStep) or steps[0].when is not None:
                raise _refuse(
                    sc,
                    f"supports routing points with one unconditional queue step only;"
                    f" services[{i}] uses routing point {s.routing_point!r}",
                )
            skill = steps[0].queue
            if steps[0].priority is not None:
                rank = max(rank, steps[0].priority)
        if skill not in pool_skills:
            raise _refuse(
                sc, f"needs every service's skill in the agent pool; {skill!r} has no agents"
            )
        other = queue_prio.setdefault(skill, (rank, s.name))
        mixed = mixed or other[0] != rank
        queue_of[i] = queues.index(skill)
        talk[i] = s.aht_factor(pool_skills[skill]) if s.aht_level_factors else 1.0
        redial[i] = s.redial_probability if s.redial_delay is not None else 0.0
        sl[i] = (s.service_level or sc.service_level).seconds
        prio[i] = s.priority
        ranks[i] = rank
    levels = sorted({int(x) for x in ranks}, reverse=True)
    return _Plan(
        services=services,
        queues=queues,
        agents=list(sc.agent_ids()),
        queue_of=queue_of,
        talk_factor=talk,
        redial_p=redial,
        sl=sl,
        priority=prio,
        trunks=sc.trunks.count if sc.trunks is not None else -1,
        level_of=np.array([levels.index(int(x)) for x in ranks], dtype=np.int64),
        n_levels=len(levels),
        queue_rank=np.argsort(np.argsort(queues, kind="stable"), kind="stable").astype(np.int64),
        mixed_priorities=mixed,
    )


def _sorted_uniform(rng: np.random.Generator, n: int) -> FloatArray:
    """``n`` sorted uniforms on [0, 1) in O(n): normalised partial sums of exponentials."""
    if n == 0:
        return np.empty(0)
    e = rng.standard_exponential(n + 1)
    c = np.cumsum(e)
    out: FloatArray = c[:-1] / c[-1]
    return out


def _arrivals(scenario: Scenario, streams: Streams, horizon: float) -> tuple[FloatArray, IntArray]:
    """First attempts in time order: per day and service, Poisson counts per interval."""
    times: list[FloatArray] = []
    codes: list[IntArray] = []
    for day in range(math.ceil(horizon / DAY)):
        base = day * DAY
        for code, svc in enumerate(scenario.services):
            arr = svc.arrivals
            if arr is None:
                continue
            factor = arr.daily_factor(streams.daily)
            rng = streams.arrivals
            if arr.calls is None:
                assert arr.rate_per_hour is not None
                k = int(rng.poisson(arr.rate_per_hour / 3600.0 * DAY * factor))
                t = base + _sorted_uniform(rng, k) * DAY
            else:
                counts = rng.poisson(np.asarray(arr.calls, dtype=float) * factor)
                parts = [
                    base + arr.start + arr.interval * (j + _sorted_uniform(rng, int(c)))
                    for j, c in enumerate(counts)
                    if c
                ]
                t = np.concatenate(parts) if parts else np.empty(0)
            t = t[t < horizon]
            times.append(t)
            codes.append(np.full(t.size, code, dtype=np.int64))
    if not times:
        return np.empty(0), np.empty(0, dtype=np.int64)
    t_all = np.concatenate(times)
    c_all = np.concatenate(codes)
    if len(times) > 1 and bool(np.any(t_all[1:] < t_all[:-1])):  # days come in order
        order = np.argsort(t_all, kind="stable")
        t_all, c_all = t_all[order], c_all[order]
    return t_all, c_all


def _pools(
    scenario: Scenario, streams: Streams, sizes: list[int]
) -> tuple[IntArray, IntArray, list[FloatArray]]:
    """Per-service pools of handle, patience, wrap-up, redial coin and delay draws."""
    off = np.cumsum([0, *sizes[:-1]]).astype(np.int64)
    handle, patience, wrap, coin, delay = [], [], [], [], []
    default_wrap = scenario.timing.wrap_up
    for svc, k in zip(scenario.services, sizes, strict=True):
        assert svc.aht is not None
        handle.append(svc.aht.sample(streams.service, k))
        w = svc.wrap_up if svc.wrap_up is not None else default_wrap
        wrap.append(w.sample(streams.service, k))
        if isinstance(svc.patience, NoPatience):
            patience.append(np.full(k, np.inf))
        else:
            patience.append(svc.patience.sample(streams.patience, k))
        if svc.redial_probability > 0 and svc.redial_delay is not None:
            coin.append(streams.redial.random(k))
            delay.append(svc.redial_delay.sample(streams.redial, k))
        else:
            coin.append(np.ones(k))
            delay.append(np.zeros(k))
    arrays = [np.concatenate(x).astype(np.float64) for x in (handle, patience, wrap, coin, delay)]
    return off, np.asarray(sizes, dtype=np.int64), arrays


@dataclass
class _Rows:
    """The kernel's attempt rows (first ``n`` valid)."""

    n: int
    arrival: FloatArray
    service: IntArray
    offered: FloatArray
    deliv: FloatArray
    answer: FloatArray
    ended: FloatArray
    wrap: FloatArray
    agent: IntArray
    outcome: IntArray
    customer: IntArray
    attempt: IntArray
    redial_of: IntArray


def _run_kernel(
    scenario: Scenario,
    p: _Plan,
    seed: int,
    rep: int,
    horizon: float,
    ring_time: float,
    kernel: str = "auto",
) -> _Rows:
    """Draw the variates and run a kernel, with more room if a redial-heavy run needs it.

    ``kernel``: ``"fcfs"``, ``"priority"``, or ``"auto"`` — the FCFS recursion
    unless a skill mixes priorities (the tests run both on FCFS scenarios).
    """
    use_priority = kernel == "priority" or (kernel == "auto" and p.mixed_priorities)
    slack = 1.25
    while True:
        streams = Streams(seed, rep)
        arr_t, arr_s = _arrivals(scenario, streams, horizon)
        first = np.bincount(arr_s, minlength=len(p.services))
        sizes = []
        for k, pr in zip(first, p.redial_p, strict=True):
            extra = k * pr / (1.0 - pr) if pr < 1.0 else 4.0 * k
            sizes.append(int(k + slack * extra + 64))
        off, lens, (handle, patience, wrap, coin, delay) = _pools(scenario, streams, sizes)
        cap = int(sum(sizes)) + 1
        out_f = [np.empty(cap) for _ in range(7)]
        out_i = [np.empty(cap, dtype=np.int64) for _ in range(6)]
        arrival, offered, deliv, answer, ended, wrap_o = (
            out_f[0],
            out_f[1],
            out_f[2],
            out_f[3],
            out_f[4],
            out_f[5],
        )
        service, agent, outcome, customer, attempt, redial_of = out_i
        common: tuple[Any, ...] = (
            arr_t,
            arr_s,
            len(p.agents),
            p.trunks,
            float(ring_time),
            float(horizon),
            float(horizon + DRAIN),
            p.talk_factor,
            p.redial_p,
            off,
            lens,
            handle,
            patience,
            wrap,
            coin,
            delay,
        )
        if use_priority:
            common = (*common, p.queue_of, p.level_of, len(p.queues), p.n_levels, p.queue_rank)
            run = _priority_kernel
        else:
            run = _fcfs_kernel
        n, status = run(
            *common,
            arrival,
            service,
            offered,
            deliv,
            answer,
            ended,
            wrap_o,
            agent,
            outcome,
            customer,
            attempt,
            redial_of,
        )
        if status == _OK:
            return _Rows(
                n,
                arrival[:n],
                service[:n],
                offered[:n],
                deliv[:n],
                answer[:n],
                ended[:n],
                wrap_o[:n],
                agent[:n],
                outcome[:n],
                customer[:n],
                attempt[:n],
                redial_of[:n],
            )
        slack *= 4.0  # a rare run with many redials: draw again with more room
        if slack > 1e4:  # redial_probability 1 with a zero delay never ends (nor would SimPy)
            raise ValueError(
                f"engine='fast': replication {rep} needs over {cap:,} attempts; do the"
                " scenario's redials ever stop (redial_probability, redial_delay)?"
            )


# =========================================================================== results


@dataclass
class FastReplicationResult(ReplicationResult):
    """A replication of the fast engine: ``agent_times`` replaces the agent-state timeline."""

    agent_times: pd.DataFrame | None = None


class FastSimulationResult(SimulationResult):
    """``SimulationResult`` of ``engine='fast'``: no agent-state timeline, exact occupancy."""

    engine = "fast"

    @property
    def agent_states(self) -> pd.DataFrame:
        raise ValueError(
            "engine='fast' keeps no agent-state timeline; use agent_occupancy() (exact)"
            " or engine='full'"
        )

    def agent_occupancy(self) -> pd.DataFrame:
        """Per replication and agent: seconds per state over [warmup, horizon), and occupancy."""
        frames: list[pd.DataFrame] = []
        for r in self.replications:
            times = getattr(r, "agent_times", None)
            if times is None:
                raise ValueError("agent_occupancy() needs replications of engine='fast'")
            frames.append(times.assign(replication=r.replication))
        out: pd.DataFrame = pd.concat(frames).reset_index().set_index(["replication", "agent"])
        return out


_LEVEL_STATES = (AgentState.RESERVED, AgentState.BUSY, AgentState.WORKING_AFTER_CALL)


def _replication(
    scenario: Scenario,
    p: _Plan,
    seed: int,
    rep: int,
    horizon: float,
    warmup: float,
    interval: float,
    record: bool,
    ring_time: float,
) -> FastReplicationResult:
    """One replication: the kernel's rows, then what ``run._run_one`` builds from a Center."""
    rows = _run_kernel(scenario, p, seed, rep, horizon, ring_time)
    t_end = horizon + DRAIN
    iv = interval
    nb = math.ceil(t_end / iv) + 1
    n_s, n_q, n_a = len(p.services), len(p.queues), len(p.agents)
    counters = np.zeros((nb, n_s, _N_FIELDS))
    areas = np.zeros((4 + n_q, nb))
    agent_secs = np.zeros((n_a, 3))
    window = np.zeros(2)
    _stats_kernel(
        rows.n,
        rows.arrival,
        rows.service,
        rows.offered,
        rows.deliv,
        rows.answer,
        rows.ended,
        rows.wrap,
        rows.agent,
        rows.outcome,
        p.sl,
        p.queue_of,
        p.trunks >= 0,
        warmup,
        horizon,
        t_end,
        iv,
        counters,
        areas,
        agent_secs,
        window,
    )
    # ---- interval counters, as IntervalCounters.frame
    b_idx, s_idx = np.nonzero(counters[:, :, _F_ARRIVED] > 0)
    intervals = pd.DataFrame(counters[b_idx, s_idx], columns=list(COUNTER_FIELDS))
    intervals.insert(0, "interval", b_idx.astype(np.int64))
    intervals.insert(1, "service", [p.services[k] for k in s_idx])
    # ---- levels, as LevelTimes.frame
    last = math.ceil(t_end / iv)
    span = np.array([_clip_span(b * iv, (b + 1) * iv, t_end) for b in range(nb)])
    working = areas[0] + areas[1] + areas[2]
    series: list[tuple[str, FloatArray, FloatArray]] = []
    if p.trunks >= 0:
        admitted = rows.outcome != _BLOCKED
        peak = np.zeros(nb)
        _peaks(rows.arrival[admitted], rows.ended[admitted], iv, peak)
        series.append(("trunks", areas[3], peak))
    tops = _agent_peaks(rows, t_end, iv, nb, n_a)
    for st in AgentState:
        if st is AgentState.READY:
            ready = n_a * span - working
            ready[np.abs(ready) < 1e-6] = 0.0  # rounding, not a ready agent
            series.append(("agents:" + st.value, ready, tops[st]))
        elif st in _LEVEL_STATES:
            series.append(("agents:" + st.value, areas[_LEVEL_STATES.index(st)], tops[st]))
    queue_peak = np.zeros((n_q, nb))
    waited = ~np.isnan(rows.offered) & ~(rows.deliv == rows.offered)
    q_end = np.where(np.isnan(rows.deliv), rows.ended, rows.deliv)
    for k, q in enumerate(p.queues):
        sel = waited & (p.queue_of[rows.service] == k)
        _peaks(rows.offered[sel], q_end[sel], iv, queue_peak[k])
        series.append(("queue:" + q, areas[4 + k], queue_peak[k]))
    lv_rows = []
    for name, area, top in series:
        for b in range(min(nb, last)):
            if area[b] or top[b]:
                lv_rows.append((name, b, area[b] / iv, top[b]))
    levels = pd.DataFrame(lv_rows, columns=["key", "interval", "mean", "max"])
    # ---- scalar KPIs, as run._replication_kpis
    kpis: dict[str, float] = {}
    if len(intervals):
        per_service = intervals.groupby("service")[list(COUNTER_FIELDS)].sum()
        total = per_service.sum().to_frame("all").T
        derived = derive_kpis(pd.concat([per_service, total]))
        for svc, row in derived.iterrows():
            for col, v in row.items():
                kpis[f"{svc}.{col}"] = float(v)
    length = max(horizon - warmup, 1e-9)
    kpis["all.occupancy"] = window[0] / (n_a * (horizon - warmup))
    if p.trunks >= 0:
        kpis["all.trunk_utilisation"] = window[1] / length / p.trunks
    first, stop = math.floor(warmup / iv), math.ceil(horizon / iv)
    for k, q in enumerate(p.queues):
        kpis[f"{q}.max_queue"] = float(queue_peak[k, first:stop].max(initial=0.0))
    # ---- per-agent state seconds over the window (agent_occupancy)
    length_w = horizon - warmup
    times = pd.DataFrame(
        {  # the full engine's column order when every working state occurs
            AgentState.BUSY.value: agent_secs[:, 1],
            AgentState.READY.value: length_w - agent_secs.sum(axis=1),
            AgentState.RESERVED.value: agent_secs[:, 0],
            AgentState.WORKING_AFTER_CALL.value: agent_secs[:, 2],
            AgentState.LOGGED_OFF.value: 0.0,
            AgentState.NOT_READY.value: 0.0,
        },
        index=pd.Index(p.agents, name="agent"),
    )
    times["occupancy"] = agent_secs.sum(axis=1) / length_w
    cdr = _cdr(rows, p) if record else None
    return FastReplicationResult(
        replication=rep,
        intervals=intervals,
        levels=levels,
        kpis=kpis,
        cdr=cdr,
        agent_states=None,
        rejected=0,
        calls=rows.n,
        agent_times=times,
    )


def _agent_peaks(
    rows: _Rows, t_end: float, iv: float, nb: int, n_agents: int
) -> dict[AgentState, FloatArray]:
    """Per-interval maximum of agents ringing, talking, in wrap-up and ready."""
    d, ans, end, wr = rows.deliv, rows.answer, rows.ended, rows.wrap
    served = (rows.agent >= 0) & ~np.isnan(d)
    answered = ~np.isnan(ans)
    ring_stop = np.where(answered, ans, end)
    wrap_stop = np.minimum(end + np.where(np.isnan(wr), 0.0, wr), t_end)
    with np.errstate(invalid="ignore"):
        out = {
            AgentState.RESERVED: _segment_peaks(np.where(served, d, np.nan), ring_stop, iv, nb),
            AgentState.BUSY: _segment_peaks(ans, np.where(answered, end, np.nan), iv, nb),
            AgentState.WORKING_AFTER_CALL: _segment_peaks(
                np.where(answered, end, np.nan), wrap_stop, iv, nb
            ),
        }
    work_start = d[served]
    work_stop = wrap_stop[served]
    ready = np.zeros(nb)
    _ready_peaks(np.sort(work_start), np.sort(work_stop), n_agents, iv, ready)
    out[AgentState.READY] = ready
    return out


def _clip_span(lo: float, hi: float, end: float) -> float:
    return max(0.0, min(hi, end) - lo)


def _cdr(rows: _Rows, p: _Plan) -> pd.DataFrame:
    """The attempt rows as the full engine's CDR frame (same columns and types)."""
    n = rows.n
    store = CdrStore(capacity=max(n, 1))
    a = store._a  # filled column by column instead of row by row (same layout)
    a["arrival"][:n] = rows.arrival
    a["ivr_start"][:n] = np.nan
    a["ivr_end"][:n] = np.nan
    a["offered"][:n] = rows.offered
    a["answered_at"][:n] = rows.answer
    a["ended"][:n] = rows.ended
    a["wrap"][:n] = rows.wrap
    a["customer"][:n] = rows.customer
    a["redial_of"][:n] = rows.redial_of
    # the full model names the agent of answered calls only
    a["agent"][:n] = np.where(np.isnan(rows.answer), -1, rows.agent)
    waited = ~np.isnan(rows.offered) & ~(rows.deliv == rows.offered)
    a["queue"][:n] = np.where(waited, p.queue_of[rows.service], -1)
    a["service"][:n] = rows.service
    a["entry_service"][:n] = rows.service
    a["attempt"][:n] = rows.attempt
    a["outcome"][:n] = rows.outcome
    a["priority"][:n] = np.where(np.isnan(rows.offered), 0, p.priority[rows.service])
    store.n = n
    return store.frame(p.services, p.agents, p.queues)


def simulate_fast(
    scenario: Scenario,
    *,
    seed: int = 0,
    replications: int = 1,
    horizon: float | None = None,
    warmup: float = 0.0,
    interval: float = 1800.0,
    record: bool = True,
    ring_time: float = 0.0,
    processes: int = 1,
    policies: dict[str, Any] | None = None,
    progress: Callable[[Iterable[Any]], Iterable[Any]] | None = None,
    executor: Any = None,
) -> FastSimulationResult:
    """``ccsim.simulate(..., engine='fast')``: the same arguments and result, compiled.

    ``processes`` and ``executor`` are accepted for a drop-in switch and
    ignored (replications run here, one after another: each takes well under a
    second); ``policies`` must be empty (the default policies).
    """
    if isinstance(replications, bool) or not isinstance(replications, int) or replications < 1:
        raise ValueError(f"replications must be an int >= 1, got {replications!r}")
    if processes < 1:
        raise ValueError(f"processes must be >= 1, got {processes!r}")
    horizon = DAY if horizon is None else float(horizon)
    if not horizon > 0:
        raise ValueError(f"horizon must be > 0 seconds, got {horizon!r}")
    if not 0 <= warmup < horizon:
        raise ValueError(f"warmup must be in [0, horizon), got {warmup!r}")
    if not interval > 0:
        raise ValueError(f"interval must be > 0 seconds, got {interval!r}")
    if not ring_time >= 0:
        raise ValueError(f"ring_time must be >= 0 seconds, got {ring_time!r}")
    Streams(seed, 0)  # validates the seed
    p = make_plan(scenario, policies)
    result = FastSimulationResult(scenario, seed, horizon, float(warmup), float(interval))
    reps: Iterable[int] = range(replications)
    if progress is not None:
        reps = progress(reps)
    result.replications = [
        _replication(
            scenario, p, seed, rep, horizon, float(warmup), float(interval), record, ring_time
        )
        for rep in reps
    ]
    return result


def fcfs_queue(
    arrivals: npt.ArrayLike,
    handle: npt.ArrayLike,
    *,
    agents: int,
    patience: npt.ArrayLike | None = None,
    wrap: npt.ArrayLike | None = None,
) -> pd.DataFrame:
    """The compiled FCFS recursion on arrays: one row per call, in arrival order.

    ``arrivals`` sorted (s), ``handle`` (talk) times, optional ``patience``
    (default: nobody abandons) and ``wrap`` (after-call work) per call; all
    ``agents`` are free at time 0. Columns: ``delivered`` (NaN for abandoned
    calls), ``wait`` (until answer or hang-up), ``abandoned``, ``agent``.

    >>> fcfs_queue([0.0, 1.0, 2.0], [10.0, 10.0, 10.0], agents=2, patience=[5, 5, 7])
       delivered  wait  abandoned  agent
    0        0.0   0.0      False      0
    1        1.0   0.0      False      1
    2        NaN   7.0       True     -1
    """
    t = np.ascontiguousarray(arrivals, dtype=np.float64)
    h = np.ascontiguousarray(handle, dtype=np.float64)
    n = t.size
    if h.shape != t.shape:
        raise ValueError(f"handle must have one time per arrival ({n}), got shape {h.shape}")
    if n and not (np.all(np.diff(t) >= 0) and t[0] >= 0):
        raise ValueError("arrivals must be sorted and >= 0")
    if isinstance(agents, bool) or not isinstance(agents, int) or agents < 1:
        raise ValueError(f"agents must be an int >= 1, got {agents!r}")
    pat = np.full(n, np.inf) if patience is None else np.ascontiguousarray(patience, np.float64)
    wr = np.zeros(n) if wrap is None else np.ascontiguousarray(wrap, dtype=np.float64)
    for name, x in (("patience", pat), ("wrap", wr)):
        if x.shape != t.shape:
            raise ValueError(f"{name} must have one value per arrival ({n}), got shape {x.shape}")
    rows = _kernel_on_arrays(t, h, pat, wr, agents)
    wait = np.where(np.isnan(rows.answer), rows.ended, rows.answer) - t
    return pd.DataFrame(
        {
            "delivered": rows.deliv,
            "wait": wait,
            "abandoned": rows.outcome == _ABANDONED,
            "agent": np.where(np.isnan(rows.answer), -1, rows.agent),
        }
    )


def _kernel_on_arrays(
    t: FloatArray, h: FloatArray, pat: FloatArray, wr: FloatArray, agents: int
) -> _Rows:
    """The kernel with one service whose pool is exactly the given arrays (no trunks, redials)."""
    n = t.size
    horizon = (float(t[-1]) if n else 0.0) + 1.0
    t_end = math.inf
    out_f = [np.empty(n) for _ in range(7)]
    out_i = [np.empty(n, dtype=np.int64) for _ in range(6)]
    service, agent, outcome, customer, attempt, redial_of = out_i
    k, status = _fcfs_kernel(
        t,
        np.zeros(n, dtype=np.int64),
        agents,
        -1,
        0.0,
        horizon,
        t_end,
        np.ones(1),
        np.zeros(1),
        np.zeros(1, dtype=np.int64),
        np.array([n], dtype=np.int64),
        h,
        pat,
        wr,
        np.ones(1),  # no redials: the redial pools are never read
        np.zeros(1),
        out_f[0],
        service,
        out_f[1],
        out_f[2],
        out_f[3],
        out_f[4],
        out_f[5],
        agent,
        outcome,
        customer,
        attempt,
        redial_of,
    )
    assert status == _OK and k == n
    return _Rows(
        n,
        out_f[0],
        service,
        out_f[1],
        out_f[2],
        out_f[3],
        out_f[4],
        out_f[5],
        agent,
        outcome,
        customer,
        attempt,
        redial_of,
    )
