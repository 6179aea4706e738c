"""The trace log records a session completely: replaying its incoming frames against a
fresh emulator reproduces every outgoing frame, byte for byte."""

from __future__ import annotations

from pathlib import Path

from rawcsta import EmulatorThread, RawClient, connection, scenario

from ccsim.live.emulator import SwitchOptions, read_trace


def session(client: RawClient) -> None:
    """Requests whose effects are immediate, so the outcome does not depend on timing."""
    assert client.receive().name == "SystemStatus"
    for device in ("9001", "9002", "301"):
        client.monitor(device)
    made = client.request(
        "MakeCall",
        "<callingDevice>9001</callingDevice><calledDirectoryNumber>9002</calledDirectoryNumber>",
    )
    call_id = made.get("callingDevice/callID") or ""

    def at(tag: str, device: str) -> str:
        return f"<{tag}>{connection(call_id, device)}</{tag}>"

    client.request("AnswerCall", at("callToBeAnswered", "9002"))
    client.request("HoldCall", at("callToBeHeld", "9001"))
    client.request("RetrieveCall", at("callToBeRetrieved", "9001"))
    client.request("SnapshotDevice", "<snapshotObject>9002</snapshotObject>")
    client.set_agent_state("301", "notReady", reason="7")
    client.request("GetAgentState", "<device>301</device>")
    client.request("AnswerCall", at("callToBeAnswered", "9002"))
    client.request("ClearConnection", at("connectionToBeCleared", "9002"))
    client.drain(0.2)


def run(tmp: Path, name: str, replay: list[dict[str, object]] | None = None) -> list[str]:
    options = SwitchOptions(ring_time=2.0)
    path = tmp / name
    with EmulatorThread(scenario(), speed=1.0, options=options, trace=path) as emu:
        client = RawClient(emu.port)
        if replay is None:
            session(client)
        else:
            assert client.receive().name == "SystemStatus"
            for entry in replay:
                xml = str(entry["xml"])
                if entry["dir"] == "in" and "SystemStatusResponse" not in xml:
                    client.request_xml(xml, int(str(entry["invoke_id"])))
            client.drain(0.2)
        client.close()
    return [str(e["xml"]) for e in read_trace(path) if e["dir"] == "out"]


def test_replaying_a_trace_reproduces_the_session(tmp_path: Path) -> None:
    first = run(tmp_path, "first.jsonl")
    entries = read_trace(tmp_path / "first.jsonl")
    assert len(first) >= 20  # responses and events of the session above
    assert any("CSTAErrorCode" in x for x in first)  # the second AnswerCall: nothing rings
    second = run(tmp_path, "second.jsonl", replay=entries)
    assert second == first
