"""docs/scenario.md runs: its complete example loads and its Python snippets pass as doctests."""

from __future__ import annotations

import doctest
import re
import tomllib
from pathlib import Path

from pydantic import TypeAdapter

import ccsim.scenario
from ccsim.scenario import Scenario

DOC = Path(__file__).resolve().parents[2] / "docs" / "scenario.md"


def blocks(info: str) -> list[str]:
    text = DOC.read_text(encoding="utf-8")
    return re.findall(rf"^```{re.escape(info)}\n(.*?)^```", text, flags=re.S | re.M)


def test_complete_example_loads() -> None:
    (example,) = blocks("toml center.toml")
    scenario = Scenario.from_toml_string(example, "center.toml")
    config = scenario.acd_config()
    assert set(config.queues) == {"general", "billing"}
    assert scenario.description.startswith("两个技能")


def test_fragments_validate_against_their_sections() -> None:
    """Each partial example must still be right for the sections it shows."""
    fragments = blocks("toml")
    assert len(fragments) >= 4
    for fragment in fragments:
        for key, value in tomllib.loads(fragment).items():
            TypeAdapter(Scenario.model_fields[key].annotation).validate_python(value)


def test_python_snippets() -> None:
    result = doctest.testfile(
        str(DOC), module_relative=False, globs={"ccsim": ccsim}, optionflags=doctest.ELLIPSIS
    )
    assert result.attempted > 0
    assert result.failed == 0


def test_documented_error_format_is_real() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert "center.toml: services[2].aht.mean: must be > 0, got -3" in text
    assert ccsim.scenario.ScenarioError.__doc__ is not None
