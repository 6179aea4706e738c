"""Robustness: clients that vanish mid-call, send garbage or flood requests do not
disturb the other clients or the simulation; and the real ``ccsim pbx`` command."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from rawcsta import FLOWS, SPEED, EmulatorThread, RawClient, frame, scenario

from ccsim import cli
from ccsim.live.emulator import SwitchOptions


@pytest.fixture
def emulator() -> Iterator[EmulatorThread]:
    options = SwitchOptions(ring_time=2.0, route_timeout=100.0)
    with EmulatorThread(scenario(), speed=SPEED, options=options) as emu:
        yield emu


def connect(port: int) -> RawClient:
    c = RawClient(port)
    assert c.receive().name == "SystemStatus"
    return c


def test_router_disconnecting_mid_call_hands_calls_back(emulator: EmulatorThread) -> None:
    watcher = connect(emulator.port)
    router = connect(emulator.port)
    watcher.monitor("sales")
    req = router.register("sales")
    first = emulator.inject("sales")
    route = router.wait_for("RouteRequest")
    router.route_select(route.get("crossRefIdentifier") or "", req, "301")
    watcher.wait_for("DivertedEvent", newDestination="301")
    second = emulator.inject("sales")
    router.wait_for("RouteRequest", match={"routedCall/callID": second})
    router.sock.close()  # gone without a word, one call talking, one awaiting a route
    diverted = watcher.wait_for("DivertedEvent", match={"connection/callID": second})
    assert diverted.get("newDestination") == "302"  # internal distribution took it over
    watcher.monitor("301")
    snap = watcher.request("SnapshotDevice", "<snapshotObject>301</snapshotObject>")
    assert snap.get("snapshotData/snapshotDeviceResponseInfo/connectionIdentifier/callID") == first
    watcher.close()


def test_garbage_closes_only_that_client(emulator: EmulatorThread) -> None:
    good = connect(emulator.port)
    good.monitor("301")
    bad = connect(emulator.port)
    # a well-framed but malformed request gets a CSTA error and the link stays up
    bad.send_raw(frame(12, "<MonitorStart><monitorObject>"))
    reply = bad.receive()
    assert reply.name == "CSTAErrorCode" and reply.invoke_id == 12
    assert bad.request("GetAgentState", "<device>301</device>").name == "GetAgentStateResponse"
    # bytes that are not CSTA framing at all end that link only
    bad.send_raw(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" + os.urandom(64))
    with pytest.raises((ConnectionError, TimeoutError)):
        while True:
            bad.receive(timeout=3)
    call_id = emulator.inject("sales")
    delivered = good.wait_for("DeliveredEvent")
    assert delivered.get("connection/callID") == call_id
    good.close()


def test_flood_does_not_starve_others(emulator: EmulatorThread) -> None:
    good = connect(emulator.port)
    good.monitor("301")
    flood = connect(emulator.port)
    flood.monitor("302")
    burst = b"".join(
        frame(i % 9000 + 1, f"<GetAgentState><device>30{i % 3 + 1}</device></GetAgentState>")
        for i in range(3000)
    )
    flood.send_raw(burst)  # 3,000 requests, not read for now
    started = time.monotonic()
    call_id = emulator.inject("sales")
    delivered = good.wait_for("DeliveredEvent")
    assert delivered.get("connection/callID") == call_id
    good.expect("EstablishedEvent", "AgentBusyEvent")
    assert time.monotonic() - started < 5.0
    # the flooder gets every answer in the end, in order
    answers = [m for m in flood.drain(1.0) if m.name == "GetAgentStateResponse"]
    assert len(answers) == 3000
    assert [a.invoke_id for a in answers[:3]] == [1, 2, 3]
    # and the simulation kept time meanwhile
    lag = emulator.call(lambda e: e.clock.lag.max)
    assert lag < 2.0
    # the call goes on to its end (40 s of talk) as if nothing happened
    cleared = good.wait_for("ConnectionClearedEvent", timeout=5)
    assert cleared.get("droppedConnection/callID") == call_id
    good.close()
    flood.close()


def test_cli_listens_serves_and_stops_on_sigterm(tmp_path: Path) -> None:
    path = tmp_path / "flows.toml"
    path.write_text(FLOWS, encoding="utf-8")
    trace = tmp_path / "trace.jsonl"
    ccsim = Path(sys.executable).with_name("ccsim")  # the installed console script
    command = [str(ccsim), "pbx", "--scenario", str(path)]
    command += ["--port", "0", "--speed", str(SPEED), "--trace", str(trace)]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # imports can be slow on a busy machine
        found = re.fullmatch(r"listening on 127\.0\.0\.1:(\d+)\n", line)
        assert found, line
        client = connect(int(found.group(1)))
        client.monitor("301")
        assert client.set_agent_state("301", "notReady").name == "SetAgentStateResponse"
        assert client.receive().name == "AgentNotReadyEvent"
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err
        assert "stopped at simulated" in out
        with pytest.raises((ConnectionError, TimeoutError, OSError)):
            client.receive(timeout=5)
        client.close()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "<SetAgentState" in trace.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--scenario", "no/such/file.toml"], "no file 'no/such/file.toml'"),
        (["--scenario", "single_skill", "--speed", "0"], "--speed must be > 0"),
        (["--scenario", "single_skill", "--port", "70000"], "--port must be 0..65535"),
        (["--scenario", "single_skill", "--start", "25:99"], "--start"),
        (["--scenario", "single_skill", "--edition", "9"], "--edition must be 2..6"),
    ],
)
def test_cli_rejects_bad_arguments_clearly(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["pbx", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ccsim: error:") and message in err, err


def test_cli_names_the_file_of_a_bad_scenario(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(FLOWS.replace("size = 2", 'size = "two"'), encoding="utf-8")
    assert cli.main(["pbx", "--scenario", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.toml" in err and "size" in err, err
