"""The CLI skeleton: version, help, and the registry of subcommands."""

from __future__ import annotations

import subprocess
import sys

import pytest

import ccsim
from ccsim import cli


def test_version_matches_package(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"ccsim {ccsim.__version__}"


def test_help_lists_every_registered_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    out = capsys.readouterr().out
    for module in cli.COMMAND_MODULES:
        assert module.rsplit(".", 1)[-1] in out


def test_console_script_runs() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "ccsim.cli", "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0
    assert proc.stdout.startswith("ccsim ")


def test_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(["no-such-command"])
    assert exc.value.code == 2
    assert "invalid choice" in capsys.readouterr().err
