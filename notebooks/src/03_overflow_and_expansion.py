# %% [markdown]
# # 3. Overflow and expansion studies
#
# **Overflow (话务溢出)**: scale the hotline's forecast from 80 % upwards and see
# where it breaks — service level, abandonment, occupancy, trunk and IVR-port
# utilisation — with 95 % confidence intervals over replications. Every traffic
# level uses the same seed, so the curve is drawn with common random numbers.
#
# **Expansion (扩容)**: for traffic growing 10 % a year, find the cheapest
# additions that keep the service-level target. On a single-skill center the
# answer must agree with Erlang C, which makes it a good check of the method.
#
# Size: `CCSIM_NB_SMALL=1` runs 3 traffic levels x 2 replications of the first
# 10 hours and a two-year expansion; otherwise 8 levels x 10 replications of
# the full day and three years.

# %%
import matplotlib

matplotlib.use("Agg")  # headless and deterministic; figures are shown as PNG below
import io
import os

import matplotlib.pyplot as plt
from IPython.display import Image, display

import ccsim
from ccsim.planning import ServiceLevelTarget, required_agents
from ccsim.studies import expansion_study, overflow_study

SMALL = os.environ.get("CCSIM_NB_SMALL", "") == "1"
MULTIPLIERS = (0.8, 1.2, 1.6) if SMALL else (0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4, 1.5)
REPLICATIONS = 2 if SMALL else 10
HORIZON = (10 if SMALL else 24) * 3600.0


def show(fig: plt.Figure) -> Image:
    """Render a figure to PNG (works the same with any backend) and close it."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=96, bbox_inches="tight")
    plt.close(fig)
    return Image(buf.getvalue())


# %% [markdown]
# ## Overflow study on the hotline

# %%
hotline = ccsim.example("hotline")
study = overflow_study(
    hotline, MULTIPLIERS, seed=11, replications=REPLICATIONS, horizon=HORIZON, processes=2
)
wide = study.summary.pivot(index="multiplier", columns="kpi", values="mean")
wide[
    [
        "all.offered",
        "all.blocked",
        "all.abandon_rate",
        "all.sl",
        "all.asa",
        "all.occupancy",
        "all.trunk_utilisation",
        "all.ivr_utilisation",
    ]
].round(3)

# %%
target = hotline.service_level.fraction
fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
panels = [
    ("service level", [("all.sl", "all"), ("vip.sl", "VIP"), ("billing.sl", "billing")]),
    ("abandoned / offered", [("all.abandon_rate", "all"), ("general.abandon_rate", "general")]),
    (
        "utilisation",
        [
            ("all.occupancy", "agent occupancy"),
            ("all.trunk_utilisation", "trunks"),
            ("all.ivr_utilisation", "IVR ports"),
        ],
    ),
]
for ax, (ylabel, series) in zip(axes, panels, strict=True):
    for kpi, label in series:
        c = study.curve(kpi)
        ax.plot(c.index, c["mean"], marker="o", label=label)
        ax.fill_between(c.index, c["ci_low"], c["ci_high"], alpha=0.25)
    ax.set_xlabel("traffic / forecast")
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8)
axes[0].axhline(target, color="r", ls="--", lw=1)
fig.suptitle(f"Hotline overflow curve ({REPLICATIONS} replications, 95 % CI bands)")
show(fig)

# %% [markdown]
# Where does it break? The smallest multiplier whose mean service level is under
# the 80 % goal, and the first with more than 10 % abandonment:

# %%
print("SL below target from x", study.breaking_point("all.sl", target))
print("abandonment above 10 % from x", study.breaking_point("all.abandon_rate", 0.10, above=True))

# %% [markdown]
# The day behind the curve: interval service level at (or nearest to) the
# forecast and at the heaviest level (pooled over replications).

# %%
iv = study.intervals
fig, ax = plt.subplots(figsize=(10, 3.8))
nearest = min(MULTIPLIERS, key=lambda m: abs(m - 1.0))
for m in (nearest, MULTIPLIERS[-1]):
    part = iv[iv["multiplier"] == m].groupby("interval")[["offered", "answered_in_sl"]].sum()
    sl = part["answered_in_sl"] / part["offered"].where(part["offered"] > 0)
    ax.step(sl.index * 0.5, sl, where="post", label=f"x {m}")
ax.axhline(target, color="r", ls="--", lw=1, label="target")
ax.set_xlabel("time of day (h)")
ax.set_ylabel("service level")
ax.set_ylim(0, 1.05)
ax.set_title("Interval service level at two traffic levels")
ax.legend(fontsize=8)
show(fig)

# %% [markdown]
# ## Expansion study, checked against Erlang C
#
# The single-skill example is M/M/20 at 18 erlangs. Traffic grows 10 % a year;
# each year the study adds agents one at a time (the cheapest fix that
# closes the most shortfall) until the simulated mean service level meets 80 % in
# 20 s. Erlang C gives the exact requirement for the same load.

# %%
single = ccsim.example("single_skill")
growth = 0.10
expansion = expansion_study(
    single,
    growth=growth,
    years=2 if SMALL else 3,
    agent_step=1,
    seed=5,
    replications=3 if SMALL else 8,
    horizon=(4 if SMALL else 8) * 3600.0,
    warmup=1800.0,
    costs={"agent": 45_000.0},  # yearly cost of one agent position
    processes=1 if SMALL else 2,  # each evaluation is small; a pool would cost more than it saves
)
table = expansion.table()
table["agents"] = 20 + table["+agents"]
table["Erlang C"] = [
    int(
        required_agents(
            arrival_rate=360 * m / 3600,
            aht=180.0,
            targets=ServiceLevelTarget(fraction=0.8, within=20.0),
        )
    )
    for m in table["traffic"]
]
display(table)

# %%
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(table["year"], table["agents"], marker="o", label="expansion study (simulation)")
ax.plot(table["year"], table["Erlang C"], marker="s", ls="--", label="Erlang C")
ax.set_xlabel("year")
ax.set_ylabel("agents")
ax.set_xticks(table["year"])
ax.set_title("Agents needed for 80 % in 20 s at +10 %/year")
ax.legend(fontsize=8)
show(fig)

# %% [markdown]
# With a few replications the simulated answer can differ from Erlang C by an agent
# (the mean service level of a short run is itself an estimate); more replications
# and a longer horizon close the gap.

# %%
assert (abs(table["agents"] - table["Erlang C"]) <= 1).all(), table
