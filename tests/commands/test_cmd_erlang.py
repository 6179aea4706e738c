"""``ccsim erlang b|c|a``: numbers on screen, unstable systems, user errors."""

from __future__ import annotations

import pytest

from ccsim import cli


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_erlang_c_published_example(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "erlang", "c", "--calls", "100", "--interval", "1800", "--aht", "180",
        "--agents", "14", "--sl-time", "20",
    )  # fmt: skip
    assert code == 0
    row = next(line for line in out.splitlines() if line.strip().startswith("14 "))
    assert row.split()[:5] == ["14", "17.41", "88.84", "7.84", "0.435"]
    assert "71.4" in row and "ok" in row


def test_erlang_c_rate_form_and_several_agents(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "erlang", "c", "--rate", "0.2", "--aht", "240", "--agents", "55", "48",
        "--sl-time", "15",
    )  # fmt: skip
    assert code == 0
    assert "23.87" in out and "84.59" in out and "8.18" in out
    assert "UNSTABLE" in out  # 48 agents for 48 erlangs


def test_erlang_c_finds_agents_for_a_target(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "erlang", "c", "--calls", "100", "--interval", "1800", "--aht", "180",
        "--target", "80/20",
    )  # fmt: skip
    assert code == 0
    assert "smallest staffing meeting the targets: 14 agents" in out


def test_erlang_a_published_example(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "erlang", "a", "--rate", str(3.5 / 60), "--aht", "180", "--patience", "300",
        "--agents", "13",
    )  # fmt: skip
    assert code == 0
    assert "9.91" in out  # mean wait of all callers
    assert "9.18" in out  # ASA: mean wait of answered callers


def test_erlang_b_lines_for_blocking(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "erlang", "b", "--load", "8.108", "--max-blocking", "1%")
    assert code == 0
    assert "15 lines keep blocking at or below 1%" in out
    code, out, _ = run(capsys, "erlang", "b", "--load", "8.108", "--lines", "15")
    assert "1.000" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["erlang", "c", "--aht", "180", "--agents", "3"], "--rate"),
        (["erlang", "c", "--rate", "1", "--aht", "180"], "--agents"),
        (["erlang", "c", "--rate", "1", "--calls", "5", "--interval", "60", "--aht", "9",
          "--agents", "3"], "not both"),
        (["erlang", "b", "--load", "5"], "--max-blocking"),
        (["erlang", "b", "--load", "5", "--max-blocking", "2"], "between 0 and 1"),
        (["erlang", "c", "--rate", "1", "--aht", "10", "--target", "80-20"], "80/20"),
        (["erlang", "c", "--rate", "1", "--aht", "10", "--max-asa", "-3"], "--max-asa"),
    ],
)  # fmt: skip
def test_user_errors_exit_2_with_a_message(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert message in err
    assert "Traceback" not in err


def test_argument_type_errors_are_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(["erlang", "c", "--rate", "-1", "--aht", "10", "--agents", "3"])
    assert exc.value.code == 2
    assert ">= 0" in capsys.readouterr().err
