# %% [markdown]
# # 2. Simulate a day at the hotline
#
# `ccsim.simulate` runs the built-in operator hotline (IVR, four skills, VIP
# priority, overflow between teams) through the SimPy model, with independent
# replications. This notebook reads what a run produces: the KPI summary with 95 %
# confidence intervals, the call detail records (CDRs), interval KPIs and agent
# occupancy.
#
# Size: `CCSIM_NB_SMALL=1` (used by the test suite) runs 3 replications of the
# first 10 hours; otherwise 10 replications of the full day on 2 processes.

# %%
import matplotlib

matplotlib.use("Agg")  # headless and deterministic; figures are shown as PNG below
import io
import os

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import Image, display
from scipy import stats

import ccsim

SMALL = os.environ.get("CCSIM_NB_SMALL", "") == "1"
REPLICATIONS = 3 if SMALL else 10
HORIZON = (10 if SMALL else 24) * 3600.0
PROCESSES = 1 if SMALL else 2


def show(fig: plt.Figure) -> Image:
    """Render a figure to PNG (works the same with any backend) and close it."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=96, bbox_inches="tight")
    plt.close(fig)
    return Image(buf.getvalue())


# %% [markdown]
# ## The scenario

# %%
hotline = ccsim.example("hotline")
print(hotline.description)
pd.DataFrame(
    {
        "service": [s.name for s in hotline.services],
        "calls per day": [
            s.arrivals.daily_volume if s.arrivals else None for s in hotline.services
        ],
    }
)

# %%
pd.DataFrame(
    {
        "group": [g.name for g in hotline.agent_groups],
        "agents": [g.size for g in hotline.agent_groups],
    }
)

# %% [markdown]
# ## Run it
#
# One seed drives every random stream; replication *k* gets its own streams, so
# the replications are independent and the run is reproducible.

# %%
result = ccsim.simulate(
    hotline, seed=2026, replications=REPLICATIONS, horizon=HORIZON, processes=PROCESSES
)
summary = result.summary()
keys = ["offered", "answered", "abandon_rate", "sl", "asa"]


def with_ci(name: str) -> str:
    """``mean ± half-width`` of one KPI of the summary."""
    mean, high = summary.loc[name, "mean"], summary.loc[name, "ci_high"]
    return f"{mean:.3g} ± {high - mean:.2g}"


table = pd.DataFrame(
    {
        svc: [with_ci(f"{svc}.{k}") for k in keys]
        for svc in ("general", "billing", "roaming", "vip", "all")
    },
    index=keys,
)
display(table)

# %% [markdown]
# ## Call detail records
#
# One row per call attempt, all replications together (column `replication`).
# Outcomes: self-service in the IVR, answered, abandoned, callback offered,
# blocked (no trunk or IVR port)...

# %%
cdr = result.cdr
print(f"{len(cdr):,} attempts; columns: {', '.join(cdr.columns)}")
pd.crosstab(cdr["service"], cdr["outcome"]).loc[:, lambda t: t.sum() > 0]

# %% [markdown]
# The summary's service level is computed from the same calls: for each
# replication, answered within 20 s over calls offered to the ACD.

# %%
offered = cdr[cdr["offered"].notna()]
in_sl = (offered["outcome"] == "answered") & (offered["wait"] <= 20.0)
per_rep = in_sl.groupby(offered["replication"]).mean()
from_summary = [r.kpis["all.sl"] for r in result.replications]
print(pd.DataFrame({"from CDR": per_rep, "from KPIs": from_summary}).round(4))
assert np.allclose(per_rep.to_numpy(), from_summary)

# %%
answered = cdr[cdr["outcome"] == "answered"]
fig, ax = plt.subplots(figsize=(8, 3.5))
for svc in ("general", "billing", "roaming", "vip"):
    w = answered.loc[answered["service"] == svc, "wait"]
    ax.hist(
        w, bins=np.arange(0, 185, 5), histtype="step", density=True, label=f"{svc} ({len(w):,})"
    )
ax.axvline(20, color="k", ls=":", lw=1, label="20 s target")
ax.set_xlabel("wait before answer (s)")
ax.set_ylabel("density")
ax.set_title("Waiting time of answered calls")
ax.legend(fontsize=8)
show(fig)

# %% [markdown]
# ## Interval service level with confidence intervals
#
# `interval_kpis()` pools the replications per interval. For a confidence interval
# we need the spread *between* replications, so we compute each replication's
# interval SL from its interval counters and take a Student-t interval across
# replications.

# %%
frames = [r.intervals.assign(replication=r.replication) for r in result.replications]
counts = pd.concat(frames).groupby(["replication", "interval"])[["offered", "answered_in_sl"]].sum()
sl_rep = (counts["answered_in_sl"] / counts["offered"].where(counts["offered"] > 0)).unstack(
    "replication"
)
n = sl_rep.notna().sum(axis=1)
mean = sl_rep.mean(axis=1)
half = stats.t.ppf(0.975, (n - 1).clip(lower=1)) * sl_rep.std(axis=1, ddof=1) / np.sqrt(n)
hours = mean.index * result.interval / 3600
target = hotline.service_level.fraction

fig, ax = plt.subplots(figsize=(10, 4))
ax.fill_between(
    hours,
    (mean - half).clip(0, 1),
    (mean + half).clip(0, 1),
    step="post",
    alpha=0.3,
    label="95 % CI",
)
ax.step(hours, mean, where="post", label="service level (mean of replications)")
ax.axhline(target, color="r", ls="--", lw=1, label=f"target {target:.0%} in 20 s")
ax.set_xlabel("time of day (h)")
ax.set_ylabel("answered within 20 s / offered")
ax.set_ylim(0, 1.05)
ax.set_title(f"Hotline service level per half hour ({REPLICATIONS} replications)")
ax.legend(fontsize=8, loc="lower right")
show(fig)

# %% [markdown]
# The pooled view (`interval_kpis`) for comparison: offered, answered and abandoned
# calls per interval, averaged over replications.

# %%
ik = result.interval_kpis()
pooled = ik.groupby("interval")[["offered", "answered", "abandoned", "callback"]].sum()
pooled.index = pooled.index * result.interval / 3600
fig, ax = plt.subplots(figsize=(10, 3.5))
for col in pooled.columns:
    ax.step(pooled.index, pooled[col], where="post", label=col)
ax.set_xlabel("time of day (h)")
ax.set_ylabel("calls per half hour")
ax.set_title("Offered vs handled at the ACD")
ax.legend(fontsize=8)
show(fig)

# %% [markdown]
# ## Agent occupancy
#
# From the agent-state timeline: time ringing, talking or in wrap-up over time
# logged on and not "not ready".

# %%
occ = result.agent_occupancy()["occupancy"].dropna()
fig, ax = plt.subplots(figsize=(7, 3))
ax.hist(occ, bins=20)
ax.set_xlabel("occupancy")
ax.set_ylabel("agents x replications")
ax.set_title(f"Agent occupancy (all.occupancy = {summary.loc['all.occupancy', 'mean']:.2f})")
show(fig)
