"""The HTML report in a real browser: headless Chromium loads it, every image decodes,
and the console stays clean (a report that only looks right to a unit test is not enough).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from ccsim.pbx.run import simulate
from ccsim.report import capacity_report
from ccsim.scenario import example

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

# Appended to a *copy* of the report (the report itself carries no script): after the
# page's load event, record how many images decoded to a non-empty bitmap.
PROBE = """
<script>
window.addEventListener('load', () => {
  const imgs = Array.from(document.images);
  const ok = imgs.filter(i => i.complete && i.naturalWidth > 0).length;
  document.body.setAttribute('data-images', imgs.length + '/' + ok);
});
</script>
"""


@pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("CI"),
    reason="Debian chromium is not installed (make test installs it)",
)
def test_report_renders_in_headless_chromium(tmp_path: Path) -> None:
    assert CHROMIUM is not None, "chromium missing: `make test` installs Debian's chromium"
    res = simulate(example("single_skill"), seed=1, replications=2, horizon=2 * 3600, record=False)
    content = capacity_report(res, tmp_path / "report")
    page = (tmp_path / "report" / "index.html").read_text(encoding="utf-8")
    probe = tmp_path / "report" / "probe.html"
    probe.write_text(page.replace("</body>", PROBE + "</body>"), encoding="utf-8")
    proc = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=5000",
            "--dump-dom",
            probe.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    n = len(content.figures)
    assert f'data-images="{n}/{n}"' in proc.stdout, proc.stdout[-500:]
    console = [line for line in proc.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]
    assert not console, console
