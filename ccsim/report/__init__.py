"""Capacity reports for managers: one self-contained HTML page and a PDF.

``capacity_report(result, out_dir, overflow=..., expansion=...)`` writes
``index.html`` (CSS inline, figures embedded as PNG data) and ``report.pdf``
(matplotlib's PDF backend): an executive summary first — will the center meet
its targets, where does it break, what must be added and at what cost — then
the figures, then the assumptions (the scenario in words and tables).
"""

from ccsim.report.build import ReportContent, capacity_report

__all__ = ["ReportContent", "capacity_report"]
