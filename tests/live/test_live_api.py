"""The supervisor / wallboard API end to end: HTTP in, the emulator's switch proves the effect.

Reads are compared with the switch's own devices and calls; each action's
effect is read from the switch (conference participants, station states,
monitors), never from the ACD's view of itself. Refused requests leave the
switch and the ACD as they were and leave an audit record.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import httpx
import pytest
from apihelp import CENTER, NAMES, QUIET, TOKENS, ApiPair, api_pair, auth, center, token_store
from sqlalchemy import create_engine, text

from ccsim.cli import main
from ccsim.csta import ConnectionID, DeviceID
from ccsim.events import AgentSkillsChanged, AgentState, CallAnswered, Deliver
from ccsim.live.acd import LiveACD, live_acd, roster
from ccsim.live.api import ApiServer, TokenStore, create_api, is_loopback
from ccsim.live.calllog import CallLog, save_roster_entry
from ccsim.live.emulator import Emulator
from ccsim.live.emulator.switch import AgentStation

SUP = "9001"  # plain stations of the emulator: supervisors' phones
SUP2 = "9002"


def run(coro: Coroutine[Any, Any, None]) -> None:
    asyncio.run(asyncio.wait_for(coro, 30))


async def answered(p: ApiPair, service: str, n: int) -> tuple[str, str]:
    """Offer one call of ``service``; (call id, agent) once the ``n``-th answer is seen."""
    p.pbx.inject_call(service)
    await p.until(lambda: len([e for e, _ in p.log if isinstance(e, CallAnswered)]) >= n)
    e = [e for e, _ in p.log if isinstance(e, CallAnswered)][n - 1]
    return e.call_id, e.agent_id


def hang_up(p: ApiPair, call_id: str, station: str) -> None:
    p.pbx.switch.clear_call_connection(ConnectionID(call_id, DeviceID(station)))
    p.pbx.clock.poke()


def test_reads_show_the_switch(tmp_path: Path) -> None:
    async def go() -> None:
        async with api_pair(tmp_path) as p:
            c = p.client
            agents = (await c.get("/agents", headers=auth("viewer"))).json()
            assert [a["agent_id"] for a in agents] == ["301", "302", "303"]
            assert all(a["state"] == "ready" for a in agents)
            assert agents[2]["skills"] == {"vip": 1}
            call1, a1 = await answered(p, "sales", 1)
            call2, a2 = await answered(p, "sales", 2)
            p.pbx.inject_call("sales")  # nobody left for sales: it waits
            await p.until(lambda: p.live.acd.queue("sales").length == 1)
            await asyncio.sleep(0.05)  # 10 simulated seconds of waiting
            agents = {
                a["agent_id"]: a for a in (await c.get("/agents", headers=auth("viewer"))).json()
            }
            for agent, call in ((a1, call1), (a2, call2)):
                assert agents[agent]["state"] == "busy"
                assert agents[agent]["call_id"] == call
                # the switch agrees: that station talks in that call
                assert p.pbx.switch.calls[call].conns[agent] == "connected"
                assert 0 < agents[agent]["occupancy"] <= 1
            queues = {
                q["queue"]: q for q in (await c.get("/queues", headers=auth("viewer"))).json()
            }
            (waiting,) = queues["sales"]["calls"]
            assert waiting["call_id"] in p.pbx.switch.calls  # a real call at the switch
            assert waiting["position"] == 1 and waiting["service"] == "sales"
            assert waiting["wait"] >= 10 and waiting["ewt"] > 0
            assert queues["sales"]["staffed"] == 2 and queues["sales"]["available"] == 0
            assert queues["vip"]["calls"] == [] and queues["vip"]["available"] == 1
            services = {
                s["service"]: s for s in (await c.get("/services", headers=auth("viewer"))).json()
            }
            today = services["sales"]["today"]
            assert (today["offered"], today["answered"], today["abandoned"]) == (3, 2, 0)
            assert services["sales"]["last_15min"]["offered"] == 3
            assert (today["target_fraction"], today["target_seconds"]) == (0.9, 15.0)
            assert services["sales"]["longest_wait"] >= 10
            link = (await c.get("/link", headers=auth("viewer"))).json()
            assert link["connected"] is True and link["reconnections"] == 0
            assert link["route_requests"] == 3
            snap = (await c.get("/snapshot", headers=auth("viewer"))).json()
            assert set(snap["calls"]) == {call1, call2, waiting["call_id"]}
            one = (await c.get(f"/agents/{a1}", headers=auth("viewer"))).json()
            assert one["call_id"] == call1

    run(go())


def test_supervisor_functions_reach_the_switch(tmp_path: Path) -> None:
    async def go() -> None:
        async with api_pair(tmp_path) as p:
            c, h = p.client, auth("supervisor")
            call1, a1 = await answered(p, "sales", 1)
            r = await c.post(f"/agents/{a1}/monitor", json={"station": SUP}, headers=h)
            assert r.status_code == 200 and r.json()["call_id"] == call1
            await p.until(lambda: SUP in p.pbx.switch.calls[call1].silent)
            # barge-in on the second call
            call2, a2 = await answered(p, "sales", 2)
            r = await c.post(f"/agents/{a2}/barge-in", json={"station": SUP2}, headers=h)
            assert r.status_code == 200
            await p.until(lambda: p.pbx.switch.calls[call2].conns.get(SUP2) == "connected")
            assert SUP2 not in p.pbx.switch.calls[call2].silent
            # intercept the first call from a third phone: the agent's connection goes
            r = await c.post(f"/agents/{a1}/intercept", json={"station": "9003"}, headers=h)
            assert r.status_code == 200 and r.json()["state"] == "workingAfterCall"
            await p.until(lambda: a1 not in p.pbx.switch.calls[call1].conns)
            assert p.pbx.switch.calls[call1].conns["9003"] == "connected"
            # force not ready with a reason, then ready: the switch's station follows
            r = await c.post("/agents/303/not-ready", json={"reason": "coaching"}, headers=h)
            assert r.status_code == 200 and r.json()["state"] == "notReady"
            await p.until(lambda: p.station("303").state == "agentNotReady")
            r = await c.post("/agents/303/ready", headers=h)
            assert r.status_code == 200
            await p.until(lambda: p.station("303").state == "agentReady")
            # force logout of a talking agent is pending until the call ends
            r = await c.post(f"/agents/{a2}/logout", headers=h)
            assert (r.json()["state"], r.json()["pending"]) == ("busy", "loggedOff")
            await asyncio.sleep(0.05)
            assert p.station(a2).state == "agentBusy"
            hang_up(p, call2, a2)
            await p.until(lambda: p.station(a2).state == "agentNull")
            # every action is in the audit, by the token's name, with the target
            done = [(r["action"], r["target"], r["who"], r["result"]) for r in p.audit_lines()]
            assert done == [
                ("monitor", a1, "lead", "ok"),
                ("barge-in", a2, "lead", "ok"),
                ("intercept", a1, "lead", "ok"),
                ("force not ready", "303", "lead", "ok"),
                ("force ready", "303", "lead", "ok"),
                ("force logout", a2, "lead", "ok"),
            ]
            assert all(r["client"] == "127.0.0.1:40000" for r in p.audit_lines())

    run(go())


def test_permission_refusals_change_nothing(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'acd.sqlite'}"

    async def go() -> None:
        async with api_pair(tmp_path, db=db) as p:
            c = p.client
            call1, a1 = await answered(p, "sales", 1)
            before = p.live.acd.snapshot()["agents"]
            conns = dict(p.pbx.switch.calls[call1].conns)
            attempts = [
                ("post", f"/agents/{a1}/monitor", {"station": SUP}, {}, 401),
                ("post", f"/agents/{a1}/monitor", {"station": SUP}, auth("viewer"), 403),
                (
                    "post",
                    "/agents/303/not-ready",
                    {"reason": "x"},
                    {"Authorization": "Bearer nope"},
                    401,
                ),
                ("post", "/agents/303/logout", None, {"Authorization": "Basic YWRtaW4="}, 401),
                (
                    "post",
                    "/agents",
                    {"agent_id": "304", "skills": {"sales": 1}},
                    auth("supervisor"),
                    403,
                ),
                ("put", "/agents/303/skills", {"skills": {"sales": 1}}, auth("viewer"), 403),
                ("delete", "/agents/303", None, auth("supervisor"), 403),
                ("get", "/agents", None, {}, 401),
                ("get", "/stream", None, {"Authorization": "Bearer " + TOKENS["admin"][:-1]}, 401),
            ]
            for method, url, body, headers, status in attempts:
                r = await c.request(method, url, json=body, headers=headers)
                assert r.status_code == status, (url, r.text)
                assert set(r.json()) == {"error", "detail"}
                if status == 401:
                    assert r.headers["www-authenticate"] == "Bearer"
            await asyncio.sleep(0.05)
            # nothing happened: the switch's call, its stations and the ACD are as they were
            assert p.pbx.switch.calls[call1].conns == conns
            assert not p.pbx.switch.calls[call1].silent
            assert p.station("303").state == "agentReady"
            assert p.live.acd.snapshot()["agents"] == before
            assert "304" not in p.live.binding.agents
            # ... and every refusal is audited with its status and who (when known)
            lines = p.audit_lines()
            assert [(r["status"], r["result"]) for r in lines] == [
                (s, "denied") for *_, s in attempts
            ]
            assert lines[1]["who"] == NAMES["viewer"] and lines[0]["who"] == "?"
            assert lines[4]["action"] == "add agent" and lines[4]["detail"] == "needs role admin"
            attempted = len(attempts)
        # the call log's audit table has the same records
        engine = create_engine(db)
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT who, status, action FROM acd_audit ORDER BY id")).all()
        engine.dispose()
        assert [tuple(r) for r in rows][:2] == [("?", 401, "monitor"), ("wall", 403, "monitor")]
        assert len(rows) == attempted

    run(go())


def test_bad_input_is_4xx(tmp_path: Path) -> None:
    async def go() -> None:
        async with api_pair(tmp_path) as p:
            c, sup, admin = p.client, auth("supervisor"), auth("admin")
            cases: list[tuple[str, str, Any, dict[str, str], int]] = [
                ("post", "/agents/999/monitor", {"station": SUP}, sup, 404),
                ("post", "/agents/999/ready", None, sup, 404),
                ("get", "/agents/999", None, sup, 404),
                ("post", "/agents/301/monitor", {"station": SUP}, sup, 409),  # not on a call
                ("post", "/agents/301/monitor", {}, sup, 422),  # no station
                ("post", "/agents/301/monitor", {"station": SUP, "x": 1}, sup, 422),
                ("post", "/agents/301/not-ready", {"reason": ""}, sup, 422),
                ("put", "/agents/301/skills", {"skills": {"gold": 1}}, admin, 422),
                ("put", "/agents/301/skills", {"skills": {"sales": 17}}, admin, 422),
                ("put", "/agents/301/skills", {"skills": {}}, admin, 422),
                ("put", "/agents/999/skills", {"skills": {"sales": 1}}, admin, 404),
                ("post", "/agents", {"agent_id": "301", "skills": {"sales": 1}}, admin, 409),
                ("post", "/agents", {"agent_id": "", "skills": {"sales": 1}}, admin, 422),
                ("delete", "/agents/301", None, admin, 409),  # logged on
                ("get", "/stream?interval=0", None, sup, 422),
                ("get", "/stream?interval=abc", None, sup, 422),
                ("get", "/nowhere", None, sup, 404),
                ("patch", "/agents", None, sup, 405),
            ]
            for method, url, body, headers, status in cases:
                r = await c.request(method, url, json=body, headers=headers)
                assert r.status_code == status, (method, url, r.text)
                assert "error" in r.json()
            r = await c.post(
                "/agents/301/ready",
                content=b"{not json",
                headers={**sup, "Content-Type": "application/json"},
            )
            assert r.status_code == 422 and r.json()["error"] == "invalid JSON body"
            # a station the switch does not have: the switch's refusal is a 502 with the reason
            _, agent = await answered(p, "sales", 1)
            r = await c.post(f"/agents/{agent}/monitor", json={"station": "nowhere"}, headers=sup)
            assert r.status_code == 502 and "nowhere" in r.json()["detail"]
            r = await c.post(f"/agents/{agent}/monitor", json={"station": "<&'>"}, headers=sup)
            assert r.status_code == 502  # escaped on the way to the switch, refused there
            r = await c.post(f"/agents/{agent}/monitor", json={"station": "90\n01"}, headers=sup)
            assert r.status_code == 422  # a control character never reaches the switch
            # skills and roster untouched by the refused changes
            assert dict(p.live.binding.agents["301"].skills) == {"sales": 1}
            assert p.live.binding.stats.rejected == 0
            # a target with a line break cannot forge an audit line
            r = await c.post("/agents/30%0Afake/ready", headers=sup)
            assert r.status_code == 404
            # every refused action is audited (13 cases above + bad JSON + 502 + 502 + 422 + this;
            # reads, unknown routes and methods are not actions), one JSON object a line
            records = [json.loads(line) for line in p.audit_path.read_text("utf-8").splitlines()]
            assert len(records) == 18
            assert all(r["result"] in ("refused", "failed") for r in records)
            assert records[-1]["target"] == "30\nfake" and records[-1]["status"] == 404
            assert [r["status"] for r in records if r["result"] == "failed"] == [502, 502]

    run(go())


def test_skill_change_routes_the_new_skill(tmp_path: Path) -> None:
    async def go() -> None:
        async with api_pair(tmp_path) as p:
            c, admin = p.client, auth("admin")
            # the vip agent pauses: a vip call waits (staffed, nobody available)
            r = await c.post("/agents/303/not-ready", json={"reason": "break"}, headers=admin)
            assert r.status_code == 200
            p.pbx.inject_call("vip")
            await p.until(lambda: p.live.acd.queue("vip").length == 1)
            r = await c.put(
                "/agents/301/skills", json={"skills": {"sales": 1, "vip": 2}}, headers=admin
            )
            assert r.status_code == 200 and r.json()["skills"] == {"sales": 1, "vip": 2}
            # 301 is ready: the waiting vip call is delivered to it and answered at the switch
            await p.until(lambda: any(isinstance(e, CallAnswered) for e, _ in p.log))
            answer = next(e for e, _ in p.log if isinstance(e, CallAnswered))
            assert answer.agent_id == "301"
            assert p.pbx.switch.calls[answer.call_id].conns["301"] == "connected"
            assert next(e for e, _ in p.log if isinstance(e, AgentSkillsChanged)).skills == {
                "sales": 1,
                "vip": 2,
            }
            # the roster keeps the change for the next logon; a logged-off agent's change
            # only touches the roster
            assert dict(p.live.binding.agents["301"].skills) == {"sales": 1, "vip": 2}
            p.pbx.switch.set_agent(p.station("302"), "agentNull")
            p.pbx.clock.poke()
            await p.until(lambda: p.state("302") is AgentState.LOGGED_OFF)
            fed = len(p.log)
            r = await c.put("/agents/302/skills", json={"skills": {"vip": 1}}, headers=admin)
            assert r.status_code == 200 and len(p.log) == fed
            p.pbx.switch.set_agent(p.station("302"), "agentReady")
            p.pbx.clock.poke()
            await p.until(lambda: p.state("302") is AgentState.READY)
            assert dict(p.live.acd.agent("302").skills) == {"vip": 1}

    run(go())


def test_add_and_remove_an_agent(tmp_path: Path) -> None:
    async def go() -> None:
        async with api_pair(tmp_path) as p:
            c, admin = p.client, auth("admin")
            assert not p.pbx.switch.devices["304"].monitors
            body = {"agent_id": "304", "skills": {"sales": 3}}
            r = await c.post("/agents", json=body, headers=admin)
            assert r.status_code == 201, r.text
            assert r.json() == {"agent_id": "304", "station": "304", "skills": {"sales": 3}}
            # the ACD monitors the station and learned from GetAgentState that 304 is ready
            assert p.pbx.switch.devices["304"].monitors
            await p.until(lambda: p.state("304") is AgentState.READY)
            assert dict(p.live.acd.agent("304").skills) == {"sales": 3}
            # and routes to it: with 301 and 302 paused, a sales call rings at 304
            for a in ("301", "302"):
                await c.post(f"/agents/{a}/not-ready", json={"reason": "lunch"}, headers=admin)
            p.pbx.inject_call("sales")
            await p.until(lambda: any(isinstance(e, CallAnswered) for e, _ in p.log))
            assert [d.agent_id for _, cs in p.log for d in cs if isinstance(d, Deliver)] == ["304"]
            assert (await c.post("/agents", json=body, headers=admin)).status_code == 409
            # removal waits for a logoff
            assert (await c.delete("/agents/304", headers=admin)).status_code == 409
            p.pbx.switch.set_agent(p.station("301"), "agentNull")
            p.pbx.clock.poke()
            await p.until(lambda: p.state("301") is AgentState.LOGGED_OFF)
            assert p.pbx.switch.devices["301"].monitors
            r = await c.delete("/agents/301", headers=admin)
            assert r.status_code == 200 and r.json()["removed"] is True
            # the ACD stops watching the removed agent's station (MonitorStop)
            await p.until(lambda: not p.pbx.switch.devices["301"].monitors)
            agents = (await c.get("/agents", headers=admin)).json()
            assert [a["agent_id"] for a in agents] == ["302", "303", "304"]
            # the removed station's later logon is ignored by the ACD
            p.pbx.switch.set_agent(p.station("301"), "agentReady")
            p.pbx.clock.poke()
            await asyncio.sleep(0.05)
            assert p.state("301") is AgentState.LOGGED_OFF

    run(go())


def test_stream_and_actions_over_tcp(tmp_path: Path) -> None:
    async def go() -> None:
        async with api_pair(tmp_path) as p:
            app = create_api(p.live, tokens=token_store(), audit=p.audit, open_reads=True)
            async with (
                ApiServer(app, "127.0.0.1", 0) as server,
                httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as c,
            ):
                assert server.port > 0
                # open reads: a wallboard needs no token, an action still does
                assert (await c.get("/agents")).status_code == 200
                r = await c.post("/agents/303/not-ready", json={"reason": "x"})
                assert r.status_code == 401
                events: list[dict[str, Any]] = []
                async with c.stream("GET", "/stream", params={"interval": 0.1}) as resp:
                    assert resp.headers["content-type"].startswith("text/event-stream")
                    async for line in resp.aiter_lines():
                        if line.startswith("data: "):
                            events.append(json.loads(line[6:]))
                            if len(events) == 1:
                                p.pbx.inject_call("sales")
                            if len(events) == 3:
                                break
                assert events[0]["now"] < events[-1]["now"]
                assert {a["agent_id"] for a in events[0]["agents"]} == {"301", "302", "303"}
                assert events[-1]["services"][0]["today"]["offered"] == 1
                r = await c.post(
                    "/agents/303/not-ready", json={"reason": "x"}, headers=auth("supervisor")
                )
                assert r.status_code == 200
                assert p.audit_lines()[-1]["client"].startswith("127.0.0.1:")

    run(go())


def test_token_files_and_environment(tmp_path: Path) -> None:
    toml = tmp_path / "tokens.toml"
    digest = "e3" * 32
    toml.write_text(
        '[[tokens]]\ntoken = "a-very-long-token-1"\nname = "班长"\nrole = "supervisor"\n'
        f'[[tokens]]\nsha256 = "{digest}"\nname = "wall"\nrole = "viewer"\n',
        encoding="utf-8",
    )
    store = TokenStore.from_file(toml)
    assert store.lookup("a-very-long-token-1") == store.lookup("a-very-long-token-1")
    who = store.lookup("a-very-long-token-1")
    assert who is not None and (who.name, who.role) == ("班长", "supervisor")
    assert store.lookup("a-very-long-token-2") is None
    js = tmp_path / "tokens.json"
    js.write_text(json.dumps({"tokens": [{"token": "x" * 20, "name": "ops", "role": "admin"}]}))
    env = {"CCSIM_API_TOKENS": "wall:viewer:wallboard-secret-0001, ops2:admin:admin-secret-00001"}
    both = TokenStore.configured(js, env)
    assert len(both) == 3
    who = both.lookup("wallboard-secret-0001")
    assert who is not None and who.role == "viewer"
    bad = [
        ('[[tokens]]\ntoken = "short"\nname = "a"\nrole = "admin"\n', r"tokens\[0\].*at least 16"),
        ('[[tokens]]\ntoken = "a-very-long-token-1"\nname = "a"\nrole = "root"\n', "role must be"),
        ('[[tokens]]\nname = "a"\nrole = "admin"\n', "exactly one of token or sha256"),
        ("tokens = 3\n", "field 'tokens'"),
        ("tokens = [\n", "not valid"),
    ]
    for content, match in bad:
        toml.write_text(content, encoding="utf-8")
        with pytest.raises(ValueError, match=match) as exc:
            TokenStore.from_file(toml)
        assert str(toml) in str(exc.value) and "a-very-long" not in str(exc.value)
    with pytest.raises(ValueError, match=r"CCSIM_API_TOKENS item 0"):
        TokenStore.configured(None, {"CCSIM_API_TOKENS": "just-a-token"})
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("10.1.2.3")


def test_command_refuses_an_open_api(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = ["acd", "--pbx", "127.0.0.1:1", "--scenario", "single_skill"]
    assert main([*base, "--api", "0.0.0.0:8080"]) == 2
    assert "without --api-tokens" in capsys.readouterr().err
    assert main([*base, "--api", "127.0.0.1:http"]) == 2
    assert "--api must be HOST:PORT" in capsys.readouterr().err
    missing = tmp_path / "none.toml"
    assert main([*base, "--api", "0.0.0.0:8080", "--api-tokens", str(missing)]) == 2
    assert "none.toml" in capsys.readouterr().err


def test_ccsim_acd_process_serves_the_api(tmp_path: Path) -> None:
    """``ccsim acd --api`` as its own process against the in-process emulator; SIGINT stops both."""
    scenario = tmp_path / "api-desk.toml"
    scenario.write_text(CENTER, encoding="utf-8")
    tokens = tmp_path / "tokens.json"
    tokens.write_text(
        json.dumps(
            {"tokens": [{"token": TOKENS["supervisor"], "name": "lead", "role": "supervisor"}]}
        )
    )
    audit = tmp_path / "audit.jsonl"

    async def go() -> None:
        async with Emulator(center(), speed=200.0, options=QUIET) as pbx:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "ccsim", "acd", "--pbx", f"127.0.0.1:{pbx.port}",
                "--scenario", str(scenario), "--speed", "200", "--api", "0",
                "--api-tokens", str(tokens), "--api-audit", str(audit),
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )  # fmt: skip
            try:
                assert proc.stdout is not None and proc.stderr is not None
                port = 0
                while not port:
                    line = (await proc.stderr.readline()).decode()
                    assert line, "ccsim acd ended before serving the API"
                    if line.startswith("API on http://127.0.0.1:"):
                        port = int(line.rsplit(":", 1)[1])
                assert (await proc.stdout.readline()).startswith(b"routing for ")
                async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as c:
                    h = auth("supervisor")
                    agents = (await c.get("/agents", headers=h)).json()
                    assert [a["agent_id"] for a in agents] == ["301", "302", "303", "304"]
                    r = await c.post("/agents/303/not-ready", json={"reason": "x"}, headers=h)
                    assert r.status_code == 200
                    station = pbx.switch.devices["303"]
                    assert isinstance(station, AgentStation)
                    while station.state != "agentNotReady":
                        await asyncio.sleep(0.01)
                    assert (await c.get("/agents")).status_code == 401
                proc.send_signal(signal.SIGINT)
                assert await asyncio.wait_for(proc.wait(), 10) == 0
            finally:
                if proc.returncode is None:
                    proc.kill()
                    await proc.wait()
        records = [json.loads(line) for line in audit.read_text(encoding="utf-8").splitlines()]
        assert [(r["who"], r["action"], r["status"]) for r in records] == [
            ("lead", "force not ready", 200),
            ("?", "read agents", 401),
        ]

    run(go())


def test_roster_changes_survive_a_restart(tmp_path: Path) -> None:
    """Run-time roster changes are kept in the call log and applied on the next start."""
    db = f"sqlite:///{tmp_path / 'acd.sqlite'}"

    async def restarted() -> dict[str, tuple[str, dict[str, int]]]:
        live = LiveACD(center(), "127.0.0.1", 1, reconnect=False, db=db)
        try:
            return {a: (i.station, dict(i.skills)) for a, i in live.binding.agents.items()}
        finally:
            await live.close()

    async def go() -> None:
        async with api_pair(tmp_path, db=db) as p:
            c, admin = p.client, auth("admin")
            body = {"agent_id": "304", "skills": {"sales": 3}}
            assert (await c.post("/agents", json=body, headers=admin)).status_code == 201
            r = await c.put("/agents/302/skills", json={"skills": {"vip": 2}}, headers=admin)
            assert r.status_code == 200, r.text
            p.pbx.switch.set_agent(p.station("301"), "agentNull")
            p.pbx.clock.poke()
            await p.until(lambda: p.state("301") is AgentState.LOGGED_OFF)
            assert (await c.delete("/agents/301", headers=admin)).status_code == 200
        scenario = {a.agent_id: a for a in roster(center())}
        assert await restarted() == {
            "302": ("302", {"vip": 2}),
            "303": (scenario["303"].station, dict(scenario["303"].skills)),
            "304": ("304", {"sales": 3}),
        }
        # an entry that no longer fits the scenario (a skill it dropped) is skipped
        log = CallLog(db, live_acd(center()), scenario="api-desk")
        save_roster_entry(log, "303", "303", {"gone": 1})
        await log.close()
        assert (await restarted())["303"] == (scenario["303"].station, dict(scenario["303"].skills))

    run(go())
