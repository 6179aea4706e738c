"""The shipped hotline example in the emulator: shifts, trunks, IVR, routing points."""

from __future__ import annotations

import pytest
from rawcsta import EmulatorThread, RawClient

from ccsim.live.emulator import SwitchOptions
from ccsim.scenario import example

INFO = "agentStateList/agentStateEntry/agentInfo/agentInfoItem/agentState"


def test_hotline_devices_shifts_and_ivr_path() -> None:
    options = SwitchOptions(start=8 * 3600.0)  # 08:00, the morning ramp
    with EmulatorThread(example("hotline"), speed=600.0, options=options) as emu:
        client = RawClient(emu.port)
        assert client.receive().name == "SystemStatus"
        # 07:00 shift on duty, 09:00 shift not yet; VIP stations 8001-8009 work from 08:00
        early = client.request("GetAgentState", "<device>general_team-001</device>")
        assert early.get(INFO) in ("agentReady", "agentBusy", "agentWorkingAfterCall")
        late = client.request("GetAgentState", "<device>general_team-029</device>")
        assert late.get(INFO) == "agentNull"
        assert client.request("GetAgentState", "<device>8009</device>").get(INFO) != "agentNull"
        assert client.request("GetAgentState", "<device>8010</device>").get(INFO) == "agentNull"
        assert client.request("GetAgentState", "<device>8016</device>").name == "CSTAErrorCode"
        for device in ("trunk-001", "ivr-001", "general", "billing", "vip"):
            client.monitor(device)
        # a caller to the hotline number seizes a trunk, is answered by the IVR ...
        delivered = client.wait_for("DeliveredEvent", match={"connection/deviceID": "ivr-001"})
        call_id = delivered.get("connection/callID")
        assert delivered.get("calledDevice") == "hotline"
        assert (delivered.get("callingDevice") or "").startswith("139")
        established = client.wait_for(
            "EstablishedEvent", match={"establishedConnection/callID": call_id or ""}
        )
        assert established.get("answeringDevice") == "ivr-001"
        # ... and every caller who asks for an agent enters a routing point from an IVR port
        entering = client.wait_for("DeliveredEvent", timeout=15, cause="enteringDistribution")
        assert entering.get("connection/deviceID") in ("general", "billing", "roaming", "vip")
        redirected = entering.get("lastRedirectionDevice")
        vip = entering.get("connection/deviceID") == "vip"
        assert vip or (redirected or "").startswith("ivr-")
        client.close()
        kpis = emu.call(lambda e: e.switch.kpis())
        assert kpis["all.offered"] >= 1


def test_unknown_scenario_service_in_trace_is_refused() -> None:
    options = SwitchOptions(arrivals=((10.0, "no_such_service"),))
    emulator = EmulatorThread(example("single_skill"), speed=100.0, options=options)
    with pytest.raises(ValueError, match="no_such_service"), emulator:
        pass
