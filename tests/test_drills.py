"""Drills (playbooks/drills/*.yml) run end to end in the sandbox on a clock the test moves: Monitoring's posts
and Slack's faults at their offsets, the team's answers, and the drill report against the plan at the end."""

from __future__ import annotations

import asyncio
import re
import shutil
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from app.incidents.models import ChecklistItem
from app.incidents.policy import Policy
from app.oncall.models import PageRecord
from app.policy_files import PolicyError
from app.sandbox.drills.model import Drill, load_drill
from app.sandbox.drills.play import CompressedClock, DrillRun
from app.sandbox.run import Sandbox, start_sandbox
from app.settings import PROJECT_ROOT
from tests.support import START, ManualClock, eventually

PLAYBOOKS = PROJECT_ROOT / "playbooks"


@pytest.fixture
async def sandbox(tmp_path: Path, database_url: str, clock: ManualClock) -> AsyncIterator[Sandbox]:
    running = await start_sandbox(tmp_path, database_url=database_url, clock=clock, sweep_seconds=0.1)
    yield running
    await running.stop()
    assert running.fake.violations == [], "calls Slack's API would reject"


def test_there_is_a_drill_for_each_incident_type_and_each_drill_is_of_a_type() -> None:
    kinds = set(Policy.load(PLAYBOOKS).playbooks)
    drills = {path.stem: load_drill(PLAYBOOKS, path.stem, kinds)
              for path in sorted((PLAYBOOKS / "drills").glob("*.yml"))}

    # drills/<type>.yml drills each type; the others (the pages answered or not) drill one type's incident too
    assert {kind: drills[kind].type for kind in kinds} == {kind: kind for kind in kinds}
    assert {drill.type for drill in drills.values()} == kinds


def test_a_typo_in_a_drill_names_the_file_and_the_key(tmp_path: Path) -> None:
    shutil.copytree(PLAYBOOKS / "drills", tmp_path / "drills")
    path = tmp_path / "drills" / "outage.yml"
    path.write_text(path.read_text().replace("declared_by:", "declared_bye:"))

    with pytest.raises(PolicyError, match=r"outage.yml: unknown key 'declared_bye' \(did you mean 'declared_by'\?\)"):
        load_drill(tmp_path, "outage", {"outage"})
    with pytest.raises(PolicyError, match="no such drill"):
        load_drill(tmp_path, "fire", {"outage"})


def test_the_compressed_clock_plays_a_minute_in_a_second() -> None:
    seconds = [100.0]
    clock = CompressedClock(60, start=START, monotonic=lambda: seconds[0])
    seconds[0] += 2.5

    assert clock.now() - START == timedelta(seconds=150)


async def test_the_outage_drill_runs_end_to_end(sandbox: Sandbox, clock: ManualClock) -> None:
    fake, people, client = sandbox.fake, sandbox.workspace.people, sandbox.client
    drill = load_drill(PLAYBOOKS, "outage", set(sandbox.runtime.policy.playbooks))
    run = DrillRun(sandbox, drill, "outage", clock)

    async def at(minutes: int) -> None:
        while clock.now() < START + timedelta(minutes=minutes):
            clock.advance(minutes=1)
            await run.tick()

    await run.declare()
    channel = (await fake.wait_for(lambda: [c for c in fake.channels.values() if c.name.startswith("incident-")]))[0]
    await fake.wait_for(lambda: channel.pins and channel.message(next(iter(channel.pins))))
    assert await run.tick()
    assert "health check failing" in fake.messages_in(sandbox.workspace.incidents)[-1].text  # at 0m, in #incidents

    # Alice declared it and is its IC: she has it already. Carol, the primary on-call, is paged as Technical
    # Lead, at declaration: she answers her page from its DM (issue 20: acknowledgement is per page, by the
    # person paged).
    async def paged() -> bool:  # written down just before the DM goes out
        async with sandbox.runtime.db.transaction() as session:
            return bool(await session.scalar(select(func.count()).select_from(PageRecord)))

    await eventually(paged)
    await fake.wait_for(lambda: fake.dms_to(people["carol"]))
    await at(3)
    assert "5xx rate 97%" in fake.messages_in(channel.id)[-1].text
    [page] = fake.dms_to(people["carol"])
    await client.press(people["carol"], page.channel, page.ts,
                       {"type": "button", "action_id": "acknowledge", "block_id": "b", "value": "1"})
    await fake.wait_for(lambda: any(f"<@{people['carol']}> acknowledged their page" in m.text
                                    for m in fake.messages_in(channel.id)))

    def updates() -> int:
        return sum("INCIDENT UPDATE" in m.text for m in fake.messages_in(channel.id))

    await at(5)
    await client.command(people["alice"], channel.id, "update identified Bad config in deploy 4812 | Rolling back")
    await fake.wait_for(lambda: updates() == 1)
    await at(12)  # Slack fails chat.postMessage twice from 10m: the update still gets through
    await client.command(people["alice"], channel.id, "update monitoring Rolled back | Watching error rates")
    await fake.wait_for(lambda: updates() == 2)
    assert [c.status for c in fake.calls_to("chat.postMessage")].count(500) == 2
    checklist = next(m for m in fake.messages_in(channel.id) if m.text.startswith("Checklist for"))
    first = next(b for b in checklist.blocks if b["type"] == "actions")
    await client.press(people["carol"], channel.id, checklist.ts,
                       {"type": "checkboxes", "action_id": "checklist_tick", "block_id": first["block_id"],
                        "selected_options": first["elements"][0]["options"][:1]})

    async def ticked() -> bool:  # the press's work runs after its answer: recorded before the clock moves on
        async with sandbox.runtime.db.transaction() as session:
            return bool(await session.scalar(select(func.count()).select_from(ChecklistItem)
                                             .where(ChecklistItem.done_at.is_not(None))))

    await eventually(ticked)
    await at(30)
    assert any("[RESOLVED] api health check" in m.text for m in fake.messages_in(channel.id))  # at 25m
    await client.command(people["alice"], channel.id, "update monitoring Error rate normal | Watching")
    await fake.wait_for(lambda: updates() == 3)
    await at(35)
    await client.command(people["alice"], channel.id, "resolve Bad payments config | Rolled back deploy 4812")
    await fake.wait_for(lambda: any("INCIDENT RESOLVED" in m.text for m in fake.messages_in(channel.id)))

    async def ended() -> bool:
        return not await run.tick()
    await fake.wait_for(ended)

    report = fake.messages_in(channel.id)[-1].text
    assert "Drill report: outage" in report
    # The report reads the page records: Carol's page, sent at declaration, acknowledged at 3 minutes.
    assert "*Time to acknowledge:* 3 minutes (the plan: within 15 minutes) :white_check_mark:" in report
    assert f"• <@{people['carol']}> (tech, comms), paged 0 seconds in: acknowledged by <@{people['carol']}> " \
           "3 minutes after the page" in report
    assert "*Updates:* 3 posted; the longest time without one was 18 minutes (the plan: every 15 minutes), " \
           "1 gap longer than that :x:" in report
    assert "*Playbook steps done:* 1 of 9; not done: Check recent deployments" in report
    assert "*Resolved:* 35 minutes" in report
    # the fault it injected at 10m, and how the bot came through it; and why its times run ahead of the wall
    assert re.search(r"• At 10 minutes: Slack failed the next 2 calls to `chat.postMessage` \(HTTP 500\)\. "
                     r"The bot retried: 2 failed, and the next went through [\w ]+ later :white_check_mark:", report)
    assert "*Drill time:* the drill played 35 minutes of incident time in about 35 seconds of yours: one real " \
           "second played 60 seconds" in report
    assert not await run.tick()


async def play_to_the_end(sandbox: Sandbox, name: str, clock: ManualClock) -> tuple[str, str]:
    """Play a drill from its file a drill minute at a time, the clock's due work done each minute; the
    incident channel and the drill report."""
    fake = sandbox.fake
    run = DrillRun(sandbox, load_drill(PLAYBOOKS, name, set(sandbox.runtime.policy.playbooks)), name, clock)
    await run.declare()
    channel = (await fake.wait_for(lambda: [c for c in fake.channels.values() if c.name.startswith("incident-")]))[0]
    await fake.wait_for(lambda: channel.pins)
    await sandbox.runtime.sweeper.sweep_all()  # the pages due at declaration
    while await run.tick():
        clock.advance(minutes=1)
        await sandbox.runtime.sweeper.sweep_all()
        await asyncio.sleep(0.05)  # a press's work runs after its answer
    [report] = [m.text for m in fake.messages_in(channel.id) if "Drill report" in m.text]
    return channel.id, report


async def test_the_primary_on_call_acknowledges_from_the_page(sandbox: Sandbox, clock: ManualClock) -> None:
    fake, people = sandbox.fake, sandbox.workspace.people
    channel, report = await play_to_the_end(sandbox, "page-answered", clock)

    assert any(f"<@{people['carol']}> acknowledged their page" in m.text for m in fake.messages_in(channel))
    assert [m for m in fake.dms_to(people["bob"]) if "You are paged" in m.text] == []  # the backup slept
    assert not any("Not acknowledged within" in m.text for m in fake.messages_in(channel))
    kickoff = fake.conversation(channel).message(next(iter(fake.conversation(channel).pins)))
    assert re.search(rf"• <@{people['carol']}> \(tech, comms\), paged at <!date\^\d+\^{{time}}\|[^>]+>: "
                     r"acknowledged at <!date", kickoff.text), kickoff.text
    # Her page went out as the drill's clock came round (within its first minute); she answered it at 2m.
    assert re.search(r"\*Time to acknowledge:\* (1|2) minutes? \(the plan: within 15 minutes\) :white_check_mark:",
                     report), report
    assert re.search(rf"• <@{people['carol']}> \(tech, comms\), paged (0 seconds|1 minute) in: acknowledged by "
                     rf"<@{people['carol']}> (1|2) minutes? after the page", report), report


async def test_nobody_answers_the_page_and_the_backup_is_paged(sandbox: Sandbox, clock: ManualClock) -> None:
    fake, people = sandbox.fake, sandbox.workspace.people
    channel, report = await play_to_the_end(sandbox, "page-unanswered", clock)

    [missed] = [m.text for m in fake.messages_in(channel) if "Not acknowledged within" in m.text]
    assert f"<@{people['carol']}>'s page (tech, comms" in missed and f"<@{people['bob']}>" in missed
    assert len([m for m in fake.dms_to(people["bob"]) if "You are paged" in m.text]) == 1
    assert "*Time to acknowledge:* not every page was acknowledged (the plan: within 15 minutes) :x:" in report
    assert f"<@{people['carol']}> did not press *Acknowledge* on the page: the backup on-call was paged " \
           "instead." in report
    assert re.search(rf"• <@{people['carol']}> \(tech, comms\), paged (0 seconds|1 minute) in: nobody "
                     r"acknowledged it", report), report
    # Bob, paged at the response time, answers his page at 17m.
    assert re.search(rf"• <@{people['bob']}> \(backup\), paged 1[56] minutes in: acknowledged by "
                     rf"<@{people['bob']}> [12] minutes? after the page", report), report


async def test_an_alert_naming_a_service_pages_its_on_call_who_acknowledges_and_the_status_page_shows_it(
        sandbox: Sandbox, clock: ManualClock) -> None:
    """The alert's label names Stripe: its rule declares, Stripe's on-call (Bob, of @payments) is paged for it and
    acknowledges from the page, and once Carol approves the status page update, Billing shows a partial outage."""
    fake, people = sandbox.fake, sandbox.workspace.people
    run = DrillRun(sandbox, load_drill(PLAYBOOKS, "service-alert", set(sandbox.runtime.policy.playbooks)),
                   "service-alert", clock)
    await run.declare()
    assert await run.tick()  # at 0m: Alertmanager's notification, which declares
    channel = (await fake.wait_for(lambda: [c for c in fake.channels.values() if c.name.startswith("incident-")]))[0]
    await fake.wait_for(lambda: channel.pins)
    await sandbox.runtime.sweeper.sweep_all()  # the pages due at declaration

    def said(text: str) -> Callable[[], bool]:
        return lambda: any(text in m.text for m in fake.messages_in(channel.id))

    # What each minute's step does is waited for before the clock moves on (a press's work runs after its answer).
    done_by = {2: said(f"<@{people['bob']}> acknowledged their page (on call for Stripe)"),
               3: said(f"<@{people['carol']}> acknowledged their page (ic, tech)"),
               5: said("*Draft status page update*"), 6: said("*Approved status page update*")}
    minute = 0
    while await run.tick():
        if minute in done_by:
            await fake.wait_for(done_by[minute])
        clock.advance(minutes=1)
        minute += 1
        await sandbox.runtime.sweeper.sweep_all()
    [report] = [m.text for m in fake.messages_in(channel.id) if "Drill report" in m.text]

    assert {people["bob"], people["dana"]} <= channel.members  # Stripe's owning team, brought in
    [page] = [m.text for m in fake.dms_to(people["bob"]) if "You are paged" in m.text]
    assert "(on call for Stripe, an affected service)" in page
    kickoff = channel.message(next(iter(channel.pins)))
    assert re.search(rf"• <@{people['bob']}> \(on call for Stripe\), paged at <!date[^>]+>: acknowledged at",
                     kickoff.text), kickoff.text
    # The slowest answer to a page: Carol's, at 3m, to hers sent as the drill's clock came round (its first minute).
    assert re.search(r"\*Time to acknowledge:\* (2|3) minutes \(the plan: within 30 minutes\) :white_check_mark:",
                     report), report
    assert re.search(rf"• <@{people['bob']}> \(on call for Stripe\), paged (0 seconds|1 minute) in: acknowledged by "
                     rf"<@{people['bob']}> (1|2) minutes? after the page", report), report
    assert "*Status page:* Billing: partial outage :white_check_mark:" in report
    async with httpx.AsyncClient(base_url=sandbox.url) as http:
        status = (await http.get("/status.json")).json()
    assert {"name": "Billing", "status": "partial_outage"} in status["components"]


async def test_faults_come_and_go_on_time_and_an_unresolved_drill_ends_when_its_time_is_up(
        sandbox: Sandbox, clock: ManualClock) -> None:
    fake = sandbox.fake
    drill = Drill.model_validate({
        "type": "performance", "severity": "P2", "title": "Drill: slow search", "declared_by": "bob",
        "ends_after": "10m", "script": [
            {"at": "1m", "fault": {"latency": 0.01}},
            {"at": "2m", "fault": {"rate_limits": True}},
            {"at": "3m", "fault": {"hold": "chat.update", "for": "2m"}},
            {"at": "4m", "fault": {"revoke": True}},
            {"at": "6m", "fault": {"revoke": False}},
        ]})
    run = DrillRun(sandbox, drill, "slow-search", clock)
    await run.declare()
    channel = (await fake.wait_for(lambda: [c for c in fake.channels.values() if c.name.startswith("incident-")]))[0]
    await fake.wait_for(lambda: channel.pins)
    seen = []
    for _ in range(9):
        clock.advance(minutes=1)
        assert await run.tick()
        seen.append((fake.latency, fake._limiter is not None, len(run.held), fake.revoked))

    assert seen[:7] == [(0.01, False, 0, False), (0.01, True, 0, False), (0.01, True, 1, False),
                        (0.01, True, 1, True), (0.01, True, 0, True), (0.01, True, 0, False),
                        (0.01, True, 0, False)]

    clock.advance(minutes=1)
    assert not await run.tick()
    report = fake.messages_in(channel.id)[-1].text
    # Bob declared it and is its IC: acknowledged by declaring (a P2 pages nobody).
    assert "*Time to acknowledge:* 0 seconds (the plan: within 2 hours) :white_check_mark:" in report
    assert "*Updates:* 0 posted; the longest time without one was 10 minutes (the plan: every 1 hour) " \
           ":white_check_mark:" in report
    assert "*Resolved:* not within the drill" in report
    # each fault, worded, with what became of it (the bot had nothing to say to Slack meanwhile)
    assert "• At 2 minutes: Slack's rate limits came on (each method's tier, counted in drill minutes). " \
           "The bot never went over them :white_check_mark:" in report
    assert "• At 3 minutes: Slack carried out the next `chat.update` call but answered it only 2 minutes later" \
           in report
    # the sweeper may or may not call Slack while the token is off: either way the token is back at 6m
    assert re.search(r"• At 4 minutes: The bot's token stopped working, as when the app is uninstalled: Slack "
                     r"refused \d+ calls?\. (It worked again 2 minutes later|Once it worked again the bot's calls "
                     r"went through, [\w ]+ after it stopped :white_check_mark:)", report), report
    assert "*Drill time:* the drill played 10 minutes of incident time in about 10 seconds of yours" in report
    assert (fake.latency, fake._limiter, fake.revoked) == (0.0, None, False)  # Slack is itself again
