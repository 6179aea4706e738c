"""Quality control: scorecards, evaluations, review queue, calibration, appeals,
typical cases, supervisor interventions, reports and CSV export (see docs/qc.md)."""

from __future__ import annotations

from ccsim.services.qc import models as models  # the tables join Base.metadata on import
from ccsim.services.qc.api import QcSettings, build_router

__all__ = ["QcSettings", "build_router"]
