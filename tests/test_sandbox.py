"""The sandbox's page state: each person sees what Slack would show them, and nothing the page needs is remote."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.sandbox.run import Sandbox, start_sandbox
from app.sandbox.web import STATIC


@pytest.fixture
async def sandbox(tmp_path: Path, database_url: str) -> AsyncIterator[Sandbox]:
    running = await start_sandbox(tmp_path, database_url=database_url, sweep_seconds=0.2)
    yield running
    await running.stop()
    assert running.fake.violations == [], "calls Slack's API would reject"


async def seen_by(sandbox: Sandbox, name: str, channel: str = "") -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=sandbox.url) as http:
        query = {"user": sandbox.workspace.people[name], "channel": channel}
        return (await http.get("/sandbox/state", params=query)).json()


async def say(sandbox: Sandbox, name: str, channel: str, text: str) -> None:
    async with httpx.AsyncClient(base_url=sandbox.url) as http:
        answer = await http.post("/sandbox/say", json={"user": sandbox.workspace.people[name], "channel": channel,
                                                       "text": text})
        assert answer.status_code == 200


async def test_a_private_incident_is_listed_only_to_its_members(sandbox: Sandbox) -> None:
    await say(sandbox, "alice", sandbox.workspace.incidents, "/incident declare data-breach Leaked e-mails")
    fake = sandbox.fake
    alice_id = sandbox.workspace.people["alice"]
    channel = await fake.wait_for(lambda: next((c for c in fake.channels.values()
                                                if c.is_private and alice_id in c.members), None))

    alice = await seen_by(sandbox, "alice", channel.id)
    erin = await seen_by(sandbox, "erin", channel.id)

    assert channel.name in [c["name"] for c in alice["channels"]] and alice["channel"]["id"] == channel.id
    assert channel.name not in [c["name"] for c in erin["channels"]]
    assert erin["channel"]["id"] == sandbox.workspace.incidents  # asking for it by id shows #incidents instead


async def test_private_answers_and_modals_are_the_actors_alone(sandbox: Sandbox) -> None:
    incidents = sandbox.workspace.incidents
    await say(sandbox, "alice", incidents, "/incident declare P2 Search is slow")
    await say(sandbox, "bob", incidents, "/incident declare")  # no arguments: the declaration form
    await sandbox.fake.wait_for(lambda: sandbox.fake.views)

    alice, bob = await seen_by(sandbox, "alice", incidents), await seen_by(sandbox, "bob", incidents)

    assert any(m.get("private") and "Declar" in m["text"] for m in alice["channel"]["messages"])
    assert not any(m.get("private") for m in bob["channel"]["messages"])
    assert alice["modal"] is None
    assert bob["modal"]["type"] == "modal" and bob["modal"]["errors"] == {}


async def test_a_plain_message_is_posted_as_the_person_and_other_commands_are_refused(sandbox: Sandbox) -> None:
    general = sandbox.workspace.general
    await say(sandbox, "erin", general, "Is the site down for anyone else?")
    await say(sandbox, "erin", general, "/remind me")

    erin = await seen_by(sandbox, "erin", general)

    said, refused = erin["channel"]["messages"]
    assert said["user"] == sandbox.workspace.people["erin"] and not said.get("private")
    assert refused["private"] and "/remind is not a command here" in refused["text"]
    assert erin["home"] is None  # nothing published by views.publish


def test_the_page_loads_nothing_from_elsewhere() -> None:
    for path in STATIC.iterdir():
        assert not re.search(r"(src|href)=[\"']?(https?:)?//", path.read_text()), path.name
        assert "@import" not in path.read_text() and "cdn" not in path.read_text().lower(), path.name


@pytest.mark.processes
def test_python_m_app_sandbox_names_a_missing_drill_in_one_line() -> None:
    done = subprocess.run([sys.executable, "-m", "app", "sandbox", "--drill", "fire"], capture_output=True,
                          text=True, timeout=60)

    assert done.returncode == 2
    assert re.fullmatch(r"Cannot start: .*drills/fire\.yml: no such drill \(drills: data-breach, .*\)\n", done.stderr)


async def test_the_home_tab_shows_what_the_bot_published_for_that_person(sandbox: Sandbox) -> None:
    home = {"type": "home", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "*Open incidents*"}}]}
    async with httpx.AsyncClient() as http:
        published = await http.post(f"{sandbox.fake.api_url}views.publish", json={
            "user_id": sandbox.workspace.people["dana"], "view": home},
            headers={"Authorization": f"Bearer {sandbox.fake.bot_token}"})
    assert published.json()["ok"]

    dana, erin = await seen_by(sandbox, "dana"), await seen_by(sandbox, "erin")

    assert dana["home"]["blocks"] == home["blocks"]
    assert erin["home"] is None


@pytest.mark.processes
def test_python_m_app_sandbox_runs_fast_on_request_and_says_which_playbooks_it_runs(tmp_path: Path) -> None:
    """--speed makes the plain sandbox's clock fast (the page is told); --playbooks is taken explicitly, and a
    PLAYBOOKS_DIR in the environment is not read."""
    import os
    import shutil
    import signal
    import time

    from app.settings import PROJECT_ROOT

    playbooks = tmp_path / "our-playbooks"
    shutil.copytree(PROJECT_ROOT / "playbooks", playbooks)
    environ = {**os.environ, "PLAYBOOKS_DIR": str(tmp_path / "nowhere")}
    process = subprocess.Popen([sys.executable, "-m", "app", "sandbox", "--port", "0", "--speed", "60",
                                "--playbooks", str(playbooks)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=environ, cwd=PROJECT_ROOT)
    try:
        said = [process.stdout.readline() for _ in range(3)]  # type: ignore[union-attr]
        url = re.search(r"open (http://127\.0\.0\.1:\d+)/", said[0]).group(1)  # type: ignore[union-attr]
        assert said[1] == f"Playbooks: a sealed copy of {playbooks} (--playbooks DIR to run others; " \
                          "PLAYBOOKS_DIR is not read here)\n"
        assert said[2] == "Clock: one real second plays 60 seconds of the sandbox's time (--speed)\n"
        clock = httpx.get(f"{url}/sandbox/state").json()["clock"]
        assert clock["speed"] == 60
        before = clock["now"]
        time.sleep(1)
        assert httpx.get(f"{url}/sandbox/state").json()["clock"]["now"] - before >= 55  # a minute a second
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)


@pytest.mark.processes
def test_a_speed_out_of_range_is_refused_by_the_command_line() -> None:
    done = subprocess.run([sys.executable, "-m", "app", "sandbox", "--speed", "0"], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2
    assert "a speed is above 0 and at most 3600" in done.stderr


async def test_a_reaction_from_the_page_shows_on_the_message_and_a_bad_one_is_refused(sandbox: Sandbox) -> None:
    """(That the bot hears it, signed, is test_sandbox_browser's: a :pushpin: puts a message on the timeline.)"""
    fake, people = sandbox.fake, sandbox.workspace.people
    channel = fake.conversation(sandbox.workspace.general)
    assert channel is not None
    message = fake.post(channel, people["bob"], text="Something to react to")
    async with httpx.AsyncClient(base_url=sandbox.url) as http:
        answer = await http.post("/sandbox/react", json={"user": people["alice"], "channel": channel.id,
                                                         "ts": message.ts, "name": "pushpin", "add": True})
        assert answer.status_code == 200
        assert message.reactions == {"pushpin": [people["alice"]]}
        state = await seen_by(sandbox, "alice", channel.id)
        shown = next(m for m in state["channel"]["messages"] if m["ts"] == message.ts)
        assert shown["reactions"] == [{"name": "pushpin", "count": 1, "mine": True}]
        assert state["shortcuts"] == [{"callback_id": "add_to_timeline", "name": "Add to incident timeline"}]

        refused = await http.post("/sandbox/react", json={"user": people["alice"], "channel": channel.id,
                                                          "ts": message.ts, "name": "<script>", "add": True})
        assert refused.status_code == 400
        assert message.reactions == {"pushpin": [people["alice"]]}
        unknown = await http.post("/sandbox/shortcut", json={"user": people["alice"], "channel": channel.id,
                                                             "ts": message.ts, "callback_id": "delete_all"})
        assert unknown.status_code == 404


async def test_a_look_alike_declaration_shows_the_question_in_place_of_declaring(sandbox: Sandbox) -> None:
    incidents = sandbox.workspace.incidents
    await say(sandbox, "alice", incidents, "/incident declare P2 Search is slow")
    await sandbox.fake.wait_for(lambda: any(c.name.startswith("incident-") for c in sandbox.fake.channels.values()))
    await say(sandbox, "bob", incidents, "/incident declare P2 Search is slow")
    await sandbox.fake.wait_for(lambda: len(sandbox.fake.responses) >= 1 and any(
        r["payload"].get("replace_original") for r in sandbox.fake.responses))

    answers = [m for m in (await seen_by(sandbox, "bob", incidents))["channel"]["messages"] if m.get("private")]

    assert not any(":hourglass_flowing_sand: Declaring" in m["text"] for m in answers)  # replaced, as Slack does
    assert len(answers) == 1


async def test_the_sandbox_has_a_small_catalog_whose_teams_are_its_people(sandbox: Sandbox) -> None:
    people = sandbox.workspace.people
    await say(sandbox, "carol", sandbox.workspace.incidents, "/incident declare P1 postgres Database slow")
    fake = sandbox.fake
    channel = await fake.wait_for(lambda: next((c for c in fake.channels.values()
                                                if c.name.startswith("incident-") and c.pins), None))
    # @engineering (Alice and Erin) owns the database: brought in; the API depends on it: at risk.
    await fake.wait_for(lambda: {people["alice"], people["erin"]} <= channel.members)
    kickoff = channel.message(next(iter(channel.pins)))
    assert kickoff is not None and "*AgentGuard database* (`postgres`)" in kickoff.text
    assert "*At risk* (they depend on an affected service): AgentGuard API (`api`)" in kickoff.text
    assert people["bob"] not in channel.members  # @payments owns Stripe, not named


def test_every_emoji_the_templates_use_is_drawn_by_the_sandbox() -> None:
    """The page draws :name: as Slack's client does; one it does not know would show as text."""
    from app.settings import PROJECT_ROOT
    used = {name for path in (PROJECT_ROOT / "messages").rglob("*.j2")
            for name in re.findall(r":([a-z0-9_+]+):", path.read_text(encoding="utf-8"))}
    script = (PROJECT_ROOT / "app" / "sandbox" / "static" / "sandbox.js").read_text(encoding="utf-8")
    table = script[script.index("const EMOJI = {"):script.index("};", script.index("const EMOJI = {"))]
    drawn = set(re.findall(r'"?([a-z0-9_+]+)"?: "', table))
    assert used - drawn == set()


async def test_the_catalogs_runbook_link_opens_in_the_sandbox(sandbox: Sandbox) -> None:
    """The kickoff of an incident naming the API links its runbook; in the sandbox that is its own page (the
    plan's playbook), which opens offline, rather than a wiki somewhere else."""
    await say(sandbox, "alice", sandbox.workspace.incidents, "/incident declare P1 api Checkout failing")
    fake = sandbox.fake
    channel = await fake.wait_for(lambda: next((c for c in fake.channels.values()
                                                if c.name.startswith("incident-") and c.pins), None))
    kickoff = channel.message(next(iter(channel.pins)))
    assert kickoff is not None
    [url] = re.findall(r"<(http[^|>]+/sandbox/runbooks/[^|>]+)\|", kickoff.text)
    assert url.startswith(sandbox.url)
    async with httpx.AsyncClient() as http:
        page = await http.get(url)
        missing = await http.get(f"{sandbox.url}/sandbox/runbooks/no-such-type")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "Runbook: Complete Service Outage" in page.text and "Check recent deployments" in page.text
    assert missing.status_code == 404


@pytest.mark.parametrize("path", ["say", "press", "submit", "dismiss", "join", "react", "shortcut", "home"])
async def test_a_malformed_request_from_the_page_is_a_400_not_a_500(sandbox: Sandbox, path: str) -> None:
    alice = sandbox.workspace.people["alice"]
    async with httpx.AsyncClient(base_url=sandbox.url) as http:
        wrong: list[object] = [{}, [alice], "hi", {"user": 7}]
        if path != "home":  # opening one's App Home needs no more than who
            wrong += [{"user": alice}, {"user": alice, "channel": 7, "text": None, "view_id": 1}]
        for body in wrong:
            answer = await http.post(f"/sandbox/{path}", json=body)
            assert answer.status_code == 400, (body, answer.status_code, answer.text)
        not_json = await http.post(f"/sandbox/{path}", content=b"{", headers={"Content-Type": "application/json"})
        assert not_json.status_code == 400
        nobody = await http.post(f"/sandbox/{path}", json={"user": "U0NOBODY", "channel": sandbox.workspace.general,
                                                          "text": "hi", "ts": "1.0", "view_id": "V1", "values": {},
                                                          "action": {}, "add": True, "callback_id": "x"})
        # someone not in the workspace (dismissing names no one: closing a form nobody has open changes nothing)
        assert nobody.status_code == (200 if path == "dismiss" else 404), nobody.text
