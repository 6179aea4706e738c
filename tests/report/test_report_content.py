"""The capacity report: sections, figures, numbers equal to the study's, PDF pages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ccsim.pbx.run import simulate
from ccsim.report import capacity_report
from ccsim.scenario import Scenario
from ccsim.studies import overflow_study

SCENARIO = """
name = "小型热线"
skills = ["general", "billing"]
trunks = 40
[[services]]
name = "general"
description = "综合查询"
arrivals = { rate_per_hour = 240 }
aht = { kind = "exponential", mean = 180 }
patience = { kind = "exponential", mean = 120 }
[[services]]
name = "billing"
description = "账务"
arrivals = { rate_per_hour = 60 }
aht = { kind = "exponential", mean = 240 }
[[agent_groups]]
name = "team"
size = 12
skills = { general = 1, billing = 2 }
[[agent_groups]]
name = "billing_team"
size = 4
skills = ["billing"]
"""


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[object, object, object, Path]:
    sc = Scenario.from_toml_string(SCENARIO)
    res = simulate(sc, seed=3, replications=3, horizon=3 * 3600, record=False)
    ovf = overflow_study(sc, (0.8, 1.2), seed=3, replications=2, horizon=3 * 3600, processes=1)
    out = tmp_path_factory.mktemp("report")
    content = capacity_report(res, out, overflow=ovf)
    return content, res, ovf, out


def test_files_and_sections(report: tuple[object, object, object, Path]) -> None:
    content, _, _, out = report
    page = (out / "index.html").read_text(encoding="utf-8")
    for section in ("id='summary'", "id='figures'", "id='assumptions'", "Overflow study"):
        assert section in page
    assert "<script" not in page  # self-contained and inert
    assert "综合查询" in page  # Chinese content survives, escaped as text
    imgs = re.findall(r"src='data:image/png;base64,([A-Za-z0-9+/=]+)'", page)
    assert len(imgs) == len(content.figures) == 5  # type: ignore[attr-defined]
    assert all(len(i) > 5000 for i in imgs)  # every figure is a real picture, not empty
    pdf = (out / "report.pdf").read_bytes()
    assert pdf.startswith(b"%PDF")
    # summary page + one page per figure + assumptions page
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 1 + 5 + 1 == content.pdf_pages  # type: ignore[attr-defined]


def test_summary_numbers_equal_the_results(report: tuple[object, object, object, Path]) -> None:
    content, res, ovf, _ = report
    summary = res.summary()  # type: ignore[attr-defined]
    head = content.headline.set_index("service")  # type: ignore[attr-defined]
    for svc in ("general", "billing", "all"):
        assert head.loc[svc, "sl"] == summary.loc[f"{svc}.sl", "mean"]
        pct = f"{100 * min(head.loc[svc, 'sl'], 1.0):.1f}%"
        assert any(line.startswith(f"{svc}: {pct} answered") for line in content.summary)  # type: ignore[attr-defined]
    bp = ovf.breaking_point("all.sl", 0.8)  # type: ignore[attr-defined]
    text = " ".join(content.summary)  # type: ignore[attr-defined]
    if bp is None:
        assert "holds up to 1.2x" in text
    else:
        assert f"from {bp:g}x" in text


def test_interval_series_consistent_with_totals(
    report: tuple[object, object, object, Path],
) -> None:
    content, res, _, _ = report
    series = content.intervals  # type: ignore[attr-defined]
    assert len(series) == 6  # 3 h of 30-min intervals
    offered = res.summary().loc["all.offered", "mean"]  # type: ignore[attr-defined]
    assert series["offered"].sum() == pytest.approx(offered)
    assert (
        (series["sl_lo"] <= series["sl"] + 1e-12) & (series["sl"] <= series["sl_hi"] + 1e-12)
    ).all()
