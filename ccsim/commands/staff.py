"""``ccsim staff`` (placeholder until implemented)."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser("staff", help="staff")
    p.set_defaults(func=lambda args: 0)
