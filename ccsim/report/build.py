"""Build the capacity report: numbers from the results, figures with matplotlib, HTML and PDF.

The numbers in the executive summary are read from the same DataFrames the
figures are drawn from (``ReportContent``), so a test can check that what the
manager reads equals what the study computed.
"""

from __future__ import annotations

import base64
import html
import io
import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib import font_manager
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from ccsim.pbx.records import t_interval
from ccsim.pbx.run import SimulationResult
from ccsim.planning.staffing import ServiceLevelTarget, required_agents
from ccsim.studies import ExpansionStudy, OverflowStudy

__all__ = ["ReportContent", "capacity_report", "interval_series"]

_CJK_HINTS = ("Noto Sans CJK", "Noto Serif CJK", "WenQuanYi", "Droid Sans Fallback", "AR PL")
_WORKING = ("reserved", "busy", "workingAfterCall")


def _setup_fonts() -> str | None:
    """Use a font with CJK glyphs when one is installed (service names are often Chinese)."""
    for f in font_manager.fontManager.ttflist:
        if any(h in f.name for h in _CJK_HINTS):
            plt.rcParams["font.sans-serif"] = [f.name, "DejaVu Sans"]
            plt.rcParams["font.family"] = "sans-serif"
            return f.name
    # no CJK font: Chinese characters render as boxes; say nothing on every glyph
    warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from font")
    return None


@dataclass
class ReportFigure:
    key: str
    title: str
    caption: str
    figure: Figure


@dataclass
class ReportContent:
    """Everything the report shows, as data (also what tests check)."""

    title: str
    summary: list[str]
    headline: pd.DataFrame
    intervals: pd.DataFrame
    figures: list[ReportFigure] = field(default_factory=list)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    assumptions: list[str] = field(default_factory=list)
    html_path: Path | None = None
    pdf_path: Path | None = None
    pdf_pages: int = 0


def interval_series(result: SimulationResult) -> pd.DataFrame:
    """Per interval of [warmup, horizon): SL, volumes, occupancy, utilisation, with CIs."""
    iv = result.interval
    first = math.floor(result.warmup / iv)
    last = math.ceil(result.horizon / iv)
    sc = result.scenario
    per_rep = []
    for r in result.replications:
        c = r.intervals
        c = c[(c["interval"] >= first) & (c["interval"] < last)]
        g = c.groupby("interval")[
            [
                "arrived",
                "offered",
                "answered",
                "abandoned",
                "blocked",
                "answered_in_sl",
                "talk_sum",
                "wrap_sum",
            ]
        ].sum()
        lv = r.levels[(r.levels["interval"] >= first) & (r.levels["interval"] < last)]
        piv = lv.pivot_table(index="interval", columns="key", values="mean", aggfunc="sum")
        piv = piv.reindex(g.index.union(piv.index)).fillna(0.0)
        g = g.reindex(piv.index).fillna(0.0)
        working = sum(piv.get("agents:" + s, 0.0) for s in _WORKING)
        staffed = working + piv.get("agents:ready", 0.0)
        g["sl"] = g["answered_in_sl"] / g["offered"].where(g["offered"] > 0)
        g["abandon_rate"] = g["abandoned"] / g["offered"].where(g["offered"] > 0)
        g["occupancy"] = working / staffed.where(staffed > 0)
        g["agents"] = staffed
        g["aht"] = (g["talk_sum"] + g["wrap_sum"]) / g["answered"].where(g["answered"] > 0)
        if sc.trunks is not None:
            g["trunk_utilisation"] = piv.get("trunks", 0.0) / sc.trunks.count
        if sc.ivr is not None:
            g["ivr_utilisation"] = piv.get("ivr_ports", 0.0) / sc.ivr.ports
        per_rep.append(g.assign(replication=r.replication))
    df = pd.concat(per_rep).reset_index()
    rows = []
    for interval, grp in df.groupby("interval"):
        row: dict[str, Any] = {"interval": int(interval), "start": float(interval) * iv}
        for col in grp.columns:
            if col in ("interval", "replication"):
                continue
            mean, lo, hi = t_interval(grp[col].to_numpy(dtype=float))
            row[col] = mean
            if col in ("sl", "occupancy", "abandon_rate"):
                row[col + "_lo"], row[col + "_hi"] = lo, hi
        rows.append(row)
    return pd.DataFrame(rows)


def _clock(seconds: float) -> str:
    s = round(seconds) % 86_400
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}"


def _pct(x: float) -> str:
    """A proportion as a percentage (clipped to 0..100: CI ends of a proportion can overshoot)."""
    if x is None or math.isnan(x):
        return "n/a"
    return f"{100 * min(max(x, 0.0), 1.0):.1f}%"


def _headline(result: SimulationResult) -> pd.DataFrame:
    summary = result.summary()
    rows = []
    names = [s.name for s in result.scenario.services if s.reaches_agents] + ["all"]
    for name in names:

        def get(k: str, name: str = name) -> tuple[float, float, float]:
            key = f"{name}.{k}"
            if key not in summary.index:
                return (math.nan, math.nan, math.nan)
            r = summary.loc[key]
            return (float(r["mean"]), float(r["ci_low"]), float(r["ci_high"]))

        offered = get("offered")[0]
        if not offered or math.isnan(offered):
            continue
        sl = get("sl")
        if name == "all":
            goal = result.scenario.service_level
        else:
            svc = result.scenario.service(name)
            goal = svc.service_level or result.scenario.service_level
        rows.append(
            {
                "service": name,
                "offered": offered,
                "answered": get("answered")[0],
                "abandon_rate": get("abandon_rate")[0],
                "sl": sl[0],
                "sl_ci_low": sl[1],
                "sl_ci_high": sl[2],
                "goal": goal.fraction,
                "goal_seconds": goal.seconds,
                "meets_goal": bool(sl[0] >= goal.fraction),
                "asa": get("asa")[0],
            }
        )
    return pd.DataFrame(rows)


def _fig_sl(series: pd.DataFrame, goal: float, seconds: float) -> Figure:
    fig, ax = plt.subplots(figsize=(9, 4))
    x = series["start"] / 3600.0
    ax.fill_between(
        x,
        series["sl_lo"].clip(0, 1),
        series["sl_hi"].clip(0, 1),
        alpha=0.25,
        step="post",
        label="95% CI",
    )
    ax.step(x, series["sl"], where="post", label=f"service level ({seconds:g} s)")
    ax.axhline(goal, color="tab:red", linestyle="--", label=f"goal {goal:.0%}")
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("time of day (h)")
    ax.set_ylabel("share answered in time")
    ax.set_title("Service level per interval")
    ax.legend(loc="lower left")
    fig.tight_layout()
    return fig


def _fig_volumes(series: pd.DataFrame) -> Figure:
    fig, ax = plt.subplots(figsize=(9, 4))
    x = series["start"] / 3600.0
    for col, label in (
        ("arrived", "arrived"),
        ("offered", "offered to agents"),
        ("answered", "answered"),
        ("abandoned", "abandoned"),
        ("blocked", "blocked"),
    ):
        if series[col].sum() > 0:
            ax.step(x, series[col], where="post", label=label)
    ax.set_xlabel("time of day (h)")
    ax.set_ylabel("calls per interval")
    ax.set_title("Offered, handled and lost calls")
    ax.legend()
    fig.tight_layout()
    return fig


def _fig_utilisation(series: pd.DataFrame) -> Figure:
    fig, ax = plt.subplots(figsize=(9, 4))
    x = series["start"] / 3600.0
    ax.step(x, series["occupancy"], where="post", label="agent occupancy")
    for col, label in (
        ("trunk_utilisation", "trunk utilisation"),
        ("ivr_utilisation", "IVR port utilisation"),
    ):
        if col in series:
            ax.step(x, series[col], where="post", label=label)
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("time of day (h)")
    ax.set_ylabel("share of capacity in use")
    ax.set_title("Occupancy and utilisation")
    ax.legend()
    fig.tight_layout()
    return fig


def _fig_staffing(series: pd.DataFrame) -> Figure:
    fig, ax = plt.subplots(figsize=(9, 4))
    x = series["start"] / 3600.0
    ax.step(x, series["erlang_required"], where="post", label="required (Erlang C, single queue)")
    ax.step(x, series["agents"], where="post", label="available in simulation")
    ax.set_xlabel("time of day (h)")
    ax.set_ylabel("agents on the phones")
    ax.set_title("Staffing required vs available")
    ax.legend()
    fig.tight_layout()
    return fig


def _fig_overflow(study: OverflowStudy, goal: float) -> Figure:
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 4))
    sl = study.curve("all.sl")
    a1.fill_between(sl.index, sl["ci_low"].clip(0, 1), sl["ci_high"].clip(0, 1), alpha=0.25)
    a1.plot(sl.index, sl["mean"], marker="o", label="service level")
    a1.axhline(goal, color="tab:red", linestyle="--", label=f"goal {goal:.0%}")
    a1.set_xlabel("traffic (x forecast)")
    a1.set_ylabel("share answered in time")
    a1.set_ylim(0, 1.05)
    a1.legend()
    ab = study.curve("all.abandon_rate")
    a2.fill_between(
        ab.index, ab["ci_low"].clip(0, 1), ab["ci_high"].clip(0, 1), alpha=0.25, color="tab:orange"
    )
    a2.plot(ab.index, ab["mean"], marker="o", color="tab:orange", label="abandonment")
    occ = study.curve("all.occupancy")
    a2.plot(occ.index, occ["mean"], marker="s", color="tab:green", label="occupancy")
    a2.set_xlabel("traffic (x forecast)")
    a2.set_ylabel("share")
    a2.set_ylim(0, 1.05)
    a2.legend()
    fig.suptitle("Overflow study: KPIs against traffic")
    fig.tight_layout()
    return fig


def _assumptions(result: SimulationResult) -> tuple[list[str], dict[str, pd.DataFrame]]:
    sc = result.scenario
    text = [
        f"Scenario '{sc.name}': {sc.description or 'no description'}.",
        f"{len(result.replications)} independent replications, seed {result.seed}, "
        f"arrivals over {result.horizon / 3600:g} h, warm-up {result.warmup:g} s; "
        "intervals are shown with 95% Student-t confidence intervals across replications.",
        f"Default goal: {sc.service_level.fraction:.0%} of calls answered within "
        f"{sc.service_level.seconds:g} s (answered in time over offered calls).",
    ]
    if sc.trunks is not None:
        text.append(f"{sc.trunks.count} trunks; a call finding all busy is blocked.")
    if sc.ivr is not None:
        text.append(f"IVR with {sc.ivr.ports} ports and {len(sc.ivr.nodes)} menu nodes.")
    services = pd.DataFrame(
        [
            {
                "service": s.name,
                "description": s.description,
                "calls/day": s.arrivals.daily_volume if s.arrivals is not None else None,
                "AHT s": s.aht.mean if s.aht is not None else None,
                "priority": s.priority,
                "patience s": s.patience.mean,
            }
            for s in sc.services
        ]
    )
    groups = pd.DataFrame(
        [
            {
                "group": g.name,
                "agents": g.size,
                "skills": ", ".join(f"{k}:{v}" for k, v in g.skills.items()),
                "shifts": len(g.shifts) or "all day",
            }
            for g in sc.agent_groups
        ]
    )
    return text, {"Services": services, "Agent groups": groups}


def _summary_lines(
    headline: pd.DataFrame,
    series: pd.DataFrame,
    overflow: OverflowStudy | None,
    expansion: ExpansionStudy | None,
    goal: float,
) -> list[str]:
    lines = []
    misses = headline[(headline["service"] != "all") & ~headline["meets_goal"]]
    if len(misses) == 0:
        lines.append("At forecast traffic every service meets its service-level goal.")
    else:
        names = ", ".join(misses["service"])
        lines.append(f"At forecast traffic these services miss their goal: {names}.")
    for _, r in headline.iterrows():
        lines.append(
            f"{r['service']}: {_pct(r['sl'])} answered within {r['goal_seconds']:g} s "
            f"(95% CI {_pct(r['sl_ci_low'])}-{_pct(r['sl_ci_high'])}; goal {_pct(r['goal'])}), "
            f"abandonment {_pct(r['abandon_rate'])}, mean answer wait {r['asa']:.1f} s."
        )
    low = series[series["sl"] < goal]
    if len(low):
        worst = low.nsmallest(3, "sl")
        when = ", ".join(
            f"{_clock(t)} ({_pct(v)})" for t, v in zip(worst["start"], worst["sl"], strict=True)
        )
        lines.append(f"{len(low)} of {len(series)} intervals fall below the goal; worst: {when}.")
    if overflow is not None:
        bp = overflow.breaking_point("all.sl", goal)
        top = max(overflow.multipliers)
        if bp is None:
            lines.append(f"Overflow study: the goal holds up to {top:g}x forecast traffic.")
        else:
            lines.append(
                "Overflow study: the service level falls below the goal from "
                f"{bp:g}x forecast traffic."
            )
    if expansion is not None:
        for s in expansion.steps:
            adds = ", ".join(f"+{n} {g}" for g, n in s.agents_added.items() if n) or "no agents"
            state = "meets the goals" if s.meets_targets else "still misses a goal"
            lines.append(
                f"Year {s.year} ({s.multiplier:.2f}x traffic): {adds}; trunks {s.trunks}, "
                f"IVR ports {s.ivr_ports}; cost {s.cost:g}; {state}."
            )
    return lines


def _png(fig: Figure) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    return base64.b64encode(buf.getvalue()).decode("ascii")


_CSS = """
body{font-family:'Noto Sans CJK SC','Noto Sans',Arial,sans-serif;max-width:1000px;margin:2em auto;
color:#222;line-height:1.45}h1{border-bottom:3px solid #2b6cb0}h2{color:#2b6cb0;margin-top:1.6em}
table{border-collapse:collapse;margin:.8em 0}td,th{border:1px solid #ccc;padding:.3em .6em;
text-align:right}th{background:#edf2f7}td:first-child,th:first-child{text-align:left}
.summary li{margin:.3em 0}.miss{color:#c53030;font-weight:bold}figure{margin:1.5em 0}
figcaption{color:#555;font-size:.9em}img{max-width:100%}
"""


def _html(content: ReportContent, pngs: list[str]) -> str:
    e = html.escape
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{e(content.title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{e(content.title)}</h1>",
        "<h2 id='summary'>Executive summary</h2><ul class='summary'>",
        *[f"<li>{e(line)}</li>" for line in content.summary],
        "</ul>",
        content.headline.to_html(index=False, float_format=lambda v: f"{v:.3f}", escape=True),
        "<h2 id='figures'>Figures</h2>",
    ]
    for f, png in zip(content.figures, pngs, strict=True):
        parts.append(
            f"<figure id='fig-{e(f.key)}'><img alt='{e(f.title)}' "
            f"src='data:image/png;base64,{png}'>"
            f"<figcaption>{e(f.caption)}</figcaption></figure>"
        )
    for name, table in content.tables.items():
        if name in ("Services", "Agent groups"):
            continue
        parts.append(f"<h2>{e(name)}</h2>")
        parts.append(table.to_html(index=False, escape=True, na_rep="-"))
    parts.append("<h2 id='assumptions'>Assumptions</h2><ul>")
    parts += [f"<li>{e(a)}</li>" for a in content.assumptions]
    parts.append("</ul>")
    for name in ("Services", "Agent groups"):
        parts.append(f"<h3>{e(name)}</h3>")
        parts.append(content.tables[name].to_html(index=False, escape=True, na_rep="-"))
    parts.append("</body></html>")
    return "\n".join(parts)


def _text_page(pdf: PdfPages, title: str, lines: list[str]) -> None:
    fig = plt.figure(figsize=(8.27, 11.69))  # A4 portrait
    fig.text(0.06, 0.95, title, fontsize=16, weight="bold", va="top")
    y = 0.9
    import textwrap  # noqa: PLC0415 - only for the PDF's text pages

    for line in lines:
        for part in textwrap.wrap(line, 95) or [""]:
            fig.text(0.06, y, part, fontsize=9, va="top")
            y -= 0.022
        y -= 0.008
        if y < 0.05:
            break
    pdf.savefig(fig)
    plt.close(fig)


def capacity_report(
    result: SimulationResult,
    out_dir: str | Path,
    *,
    overflow: OverflowStudy | None = None,
    expansion: ExpansionStudy | None = None,
    title: str | None = None,
) -> ReportContent:
    """Write ``out_dir/index.html`` and ``out_dir/report.pdf``; return what they contain."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    _setup_fonts()
    sc = result.scenario
    goal = sc.service_level.fraction
    series = interval_series(result)
    aht = series["aht"].fillna(series["aht"].mean())
    required = np.zeros(len(series), dtype=float)
    ok = (series["offered"] > 0) & aht.notna()
    if ok.any():
        required[ok.to_numpy()] = required_agents(
            arrival_rate=(series.loc[ok, "offered"] / result.interval).to_numpy(),
            aht=aht[ok].to_numpy(),
            targets=ServiceLevelTarget(fraction=goal, within=sc.service_level.seconds),
        )
    series["erlang_required"] = required
    headline = _headline(result)
    content = ReportContent(
        title=title or f"Capacity report — {sc.name}",
        summary=_summary_lines(headline, series, overflow, expansion, goal),
        headline=headline,
        intervals=series,
    )
    content.figures = [
        ReportFigure(
            "sl",
            "Service level per interval",
            "Share of offered calls answered within the goal's threshold, with the 95% "
            "confidence band across replications.",
            _fig_sl(series, goal, sc.service_level.seconds),
        ),
        ReportFigure(
            "volumes",
            "Offered, handled and lost calls",
            "Mean calls per interval across replications.",
            _fig_volumes(series),
        ),
        ReportFigure(
            "utilisation",
            "Occupancy and utilisation",
            "Agent occupancy (busy over available) and trunk/IVR port utilisation.",
            _fig_utilisation(series),
        ),
        ReportFigure(
            "staffing",
            "Staffing required vs available",
            "Erlang C requirement for the offered traffic against the agents the "
            "simulation had on the phones.",
            _fig_staffing(series),
        ),
    ]
    if overflow is not None:
        content.figures.append(
            ReportFigure(
                "overflow",
                "Overflow curve",
                "Service level, abandonment and occupancy as traffic grows beyond the "
                "forecast (95% CI).",
                _fig_overflow(overflow, goal),
            )
        )
        content.tables["Overflow study"] = overflow.summary[
            overflow.summary["kpi"].isin(
                ["all.sl", "all.abandon_rate", "all.occupancy", "all.blocked"]
            )
        ].round(4)
    if expansion is not None:
        content.tables["Expansion options"] = expansion.table().round(4)
    content.assumptions, tables = _assumptions(result)
    content.tables.update(tables)

    pngs = [_png(f.figure) for f in content.figures]
    content.html_path = out / "index.html"
    content.html_path.write_text(_html(content, pngs), encoding="utf-8")

    content.pdf_path = out / "report.pdf"
    pages = 0
    with PdfPages(content.pdf_path) as pdf:
        _text_page(pdf, content.title, ["Executive summary", *content.summary])
        pages += 1
        for f in content.figures:
            pdf.savefig(f.figure)
            pages += 1
        lines = list(content.assumptions)
        for name, table in content.tables.items():
            lines.append("")
            lines.append(f"{name}:")
            lines += table.to_string(index=False, max_cols=10).splitlines()
        _text_page(pdf, "Assumptions and tables", lines)
        pages += 1
    content.pdf_pages = pages
    for f in content.figures:
        plt.close(f.figure)
    return content
