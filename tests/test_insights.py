"""Insights: MTTA and MTTR per severity and type, incidents per week, reminders and escalations, follow-ups, as
`/incident stats [30d|90d]` answers privately and as the page behind its signed link, charted as inline SVG."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from selenium.webdriver.common.by import By
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import Database
from app.incidents import deadlines, service
from app.incidents.models import Incident, Severity
from app.incidents.policy import Policy
from app.insights.figures import FollowUps, Nagging, insights
from app.insights.policy import InsightsRules, Window
from app.oncall import pages
from app.oncall.pages import Sent
from app.policy_files import PolicyError, load
from app.reviews.action_items import ActionItemFields, add_action_item, complete_action_item
from app.sandbox.fakeslack import FakeSlack
from app.settings import PROJECT_ROOT, Settings
from tests.browser import Page
from tests.conftest import People, running_bot
from tests.support import START, ManualClock, SlackDriver
from tests.test_clock import declare, tick

pytestmark = pytest.mark.both_databases

THIRTY_DAYS = Window("30d", timedelta(days=30))
LINK = re.compile(r"`(/insights\?window=\w+&amp;expires=\d+&amp;sig=[0-9a-f]{64})`")


@dataclass
class Seeded:
    now: datetime
    since: datetime


async def seed(db: Database, now: datetime, policy: Policy) -> Seeded:
    """Incidents at known times before `now`, with what the clock recorded of each (reminders, escalations,
    backup pages) and their action items, as the domain records them."""
    since = now - THIRTY_DAYS.span
    rules = policy.followup.action_items

    async def incident(session: AsyncSession, severity: Severity, started: datetime, *, kind: str | None = None,
                       private: bool = False, acknowledged: timedelta | None = None,
                       resolved: timedelta | None = None, nags: dict[str, int] | None = None) -> Incident:
        stored = await service.declare_incident(session, title=f"{severity} at {started}", severity=severity,
                                                impact="", declared_by="U0ALICE", roles={}, now=started, kind=kind,
                                                private=private)
        for kind_of_nag, count in (nags or {}).items():
            for n in range(count):
                service.record(session, stored, kind=kind_of_nag, actor=None, now=started + timedelta(minutes=n + 1))
        if acknowledged is not None:
            await deadlines.acknowledge(session, stored, by="U0ALICE", now=started + acknowledged, how="button")
        if resolved is not None:
            await service.resolve_incident(session, stored, root_cause="x", resolution="y", actor="U0ALICE",
                                           now=started + resolved)
        return stored

    async with db.transaction() as session:
        # Declared 31 days ago: outside the window, with its nagging and an overdue item that must not count.
        old = await incident(session, Severity.P1, now - timedelta(days=31), kind="outage",
                             acknowledged=timedelta(minutes=1), nags={"reminder": 5, "escalated": 1})
        await add_action_item(session, old, ActionItemFields(text="Old", due_on=(now - timedelta(days=20)).date()),
                              rules, by="U0ALICE", now=now - timedelta(days=30, hours=23))
        # Declared exactly as the window opens: in it.
        await incident(session, Severity.P3, since, kind="database", acknowledged=timedelta(hours=1),
                       resolved=timedelta(days=2))
        ten_days_ago = now - timedelta(days=10)
        b = await incident(session, Severity.P0, ten_days_ago, kind="outage", acknowledged=timedelta(minutes=5),
                           resolved=timedelta(hours=1), nags={"reminder": 3, "escalated": 1})
        for text, due in (("Done one", None), ("Overdue", now.date() - timedelta(days=1)),
                          ("Due later", now.date() + timedelta(days=7)), ("Due today", now.date())):
            await add_action_item(session, b, ActionItemFields(text=text, due_on=due), rules, by="U0ALICE",
                                  now=ten_days_ago + timedelta(hours=2))
        await complete_action_item(session, b, 1, rules, by="U0ALICE", now=ten_days_ago + timedelta(hours=3))
        await incident(session, Severity.P0, now - timedelta(days=3), kind="outage",
                       acknowledged=timedelta(minutes=20), resolved=timedelta(hours=3),
                       nags={"reminder": 1, "ack_missed": 1})
        await incident(session, Severity.P2, now - timedelta(days=1), nags={"reminder": 2})
        await incident(session, Severity.P1, now - timedelta(hours=2), kind="data-breach", private=True,
                       acknowledged=timedelta(minutes=10))
        await incident(session, Severity.P0, now, kind="outage")  # the window ends before now: not counted
    return Seeded(now, since)


def _policy() -> Policy:
    return Policy.load(PROJECT_ROOT / "playbooks")


async def test_the_figures_of_incidents_declared_at_known_times(database_url: str) -> None:
    db = Database(database_url)
    await db.migrate()
    now = START + timedelta(days=2)  # Friday 27 November 2026, 14:30 UTC
    try:
        await seed(db, now, _policy())
        async with db.transaction() as session:
            figures = await insights(session, THIRTY_DAYS, now=now)
    finally:
        await db.close()

    assert (figures.since, figures.until) == (now - timedelta(days=30), now)
    assert (figures.incidents, figures.still_open) == (5, 2)
    overall = figures.overall
    assert (overall.acknowledged, overall.resolved) == (4, 3)
    assert overall.mtta == timedelta(minutes=(5 + 20 + 10 + 60) / 4)
    assert overall.mttr == timedelta(hours=(1 + 3 + 48) / 3)

    by_severity = {row.severity: row for row in figures.by_severity}
    assert list(by_severity) == [Severity.P0, Severity.P1, Severity.P2, Severity.P3]
    p0, p1, p2, p3 = by_severity.values()
    assert (p0.incidents, p0.mtta, p0.mttr) == (2, timedelta(minutes=12.5), timedelta(hours=2))
    assert (p1.incidents, p1.mtta, p1.resolved, p1.mttr) == (1, timedelta(minutes=10), 0, None)
    assert (p2.incidents, p2.acknowledged, p2.mtta, p2.mttr) == (1, 0, None, None)
    assert (p3.mtta, p3.mttr) == (timedelta(hours=1), timedelta(days=2))

    # Most incidents first; a private incident's type is never told, it counts among "private".
    assert [(row.kind, row.private, row.incidents) for row in figures.by_type] == [
        ("outage", False, 2), ("database", False, 1), (None, False, 1), (None, True, 1)]
    assert figures.by_type[0].mtta == timedelta(minutes=12.5)

    # The window opens on Wednesday 28 October: five weeks from Monday 26 October.
    assert [(week.starts, week.incidents) for week in figures.weeks] == [
        (date(2026, 10, 26), 1), (date(2026, 11, 2), 0), (date(2026, 11, 9), 0), (date(2026, 11, 16), 1),
        (date(2026, 11, 23), 3)]
    assert figures.weeks[-1].by_severity == {Severity.P0: 1, Severity.P1: 1, Severity.P2: 1, Severity.P3: 0}

    assert figures.nagging[0] == Nagging(Severity.P0, reminders=4, incidents_reminded=2, escalations=1,
                                         backup_pages=1)
    assert figures.nagging[2] == Nagging(Severity.P2, reminders=2, incidents_reminded=1)
    assert figures.nagging_overall == Nagging(None, reminders=6, incidents_reminded=3, escalations=1, backup_pages=1)
    # Due today is not overdue yet; the old incident's overdue item is outside the window.
    assert figures.follow_ups == FollowUps(total=4, done=1, open=3, overdue=1)


async def test_mtta_runs_from_each_page_to_its_acknowledgement_and_from_declaration_without_pages(
        database_url: str) -> None:
    """An incident that paged: each acknowledged page counts, from when it went out to when the person paged
    answered (the declarer-IC's own acknowledgement at declaration does not). One that paged nobody: from
    declaration to its acknowledgement, as before."""
    db = Database(database_url)
    await db.migrate()
    started = START - timedelta(days=1)
    try:
        async with db.transaction() as session:
            paged = await service.declare_incident(session, title="Checkout errors", severity=Severity.P1, impact="",
                                                   declared_by="U0ALICE", roles={}, now=started, kind="outage")
            await deadlines.acknowledge(session, paged, by="U0ALICE", now=started, how="declared it as IC")
            sent_at = started + timedelta(minutes=1)
            await pages.record_sent(session, paged.id, [
                Sent(page_key="roles-P1", roles=("tech",), via="slack", recipients=("U0CAROL",)),
                Sent(page_key="comms-P1", roles=("comms",), via="pagerduty", recipients=("",),
                     dedup_key="incident-1-comms-p1", routing_key_name="PAGERDUTY_KEY_COMMS"),
                Sent(page_key="security-P1", roles=("security",), via="slack", recipients=("U0DAVE",)),
            ], now=sent_at)
            await pages.acknowledge_pages(session, paged.id, by="U0CAROL", now=sent_at + timedelta(minutes=3),
                                          how="pressed Acknowledge")
            await pages.acknowledge_dedup_key(session, "incident-1-comms-p1", by="Erin", how="PagerDuty",
                                              now=sent_at + timedelta(minutes=10))
            # Dave never answers: his page adds no span (the backup is paged for it).
            quiet = await service.declare_incident(session, title="Search is slow", severity=Severity.P2,
                                                   impact="", declared_by="U0BOB", roles={}, now=started)
            await deadlines.acknowledge(session, quiet, by="U0BOB", now=started + timedelta(minutes=20), how="button")
        async with db.transaction() as session:
            figures = await insights(session, THIRTY_DAYS, now=START)
    finally:
        await db.close()

    assert (figures.overall.incidents, figures.overall.acknowledged) == (2, 2)
    assert figures.overall.mtta == timedelta(minutes=(3 + 10 + 20) / 3)
    p1, p2 = figures.by_severity[1], figures.by_severity[2]
    assert (p1.acknowledged, p1.mtta) == (1, timedelta(minutes=(3 + 10) / 2))
    assert (p2.acknowledged, p2.mtta) == (1, timedelta(minutes=20))


async def test_an_empty_window_has_no_means_and_every_week(database_url: str) -> None:
    db = Database(database_url)
    await db.migrate()
    try:
        async with db.transaction() as session:
            figures = await insights(session, Window("90d", timedelta(days=90)), now=START)
    finally:
        await db.close()

    assert figures.incidents == 0 and figures.overall.mtta is None and figures.overall.mttr is None
    assert figures.by_type == [] and len(figures.by_severity) == 4
    assert len(figures.weeks) == 14 and all(week.incidents == 0 for week in figures.weeks)
    assert figures.follow_ups == FollowUps()


# -- the windows are policy ---------------------------------------------------------------------------------


def test_windows_come_from_playbooks_insights_yml(tmp_path: Path) -> None:
    path = tmp_path / "insights.yml"
    assert load(path, InsightsRules, missing={}) == InsightsRules()  # an older playbooks directory: the defaults
    path.write_text("windows: [7d, 4w]\ndefault: 7d\nlink_valid: 1h\n")
    with pytest.raises(PolicyError, match=r"insights\.yml: windows\[2\]: '4w' is not a duration"):
        load(path, InsightsRules)
    path.write_text("windows: [7d, 14d]\ndefault: 30d\nlink_valid: 1h\n")
    with pytest.raises(PolicyError, match=r"insights\.yml: default '30d' must be one of the windows \(7d, 14d\)"):
        load(path, InsightsRules)
    path.write_text("windows: [7d, 14d]\ndefault: 14d\nlink_valid: 1h\n")
    rules = load(path, InsightsRules)
    assert rules.window(None) == Window("14d", timedelta(days=14)) and rules.window("7d") == Window("7d", timedelta(7))
    assert rules.window("30d") is None and rules.link_valid == timedelta(hours=1)


# -- /incident stats and the page, over HTTP ---------------------------------------------------------------


def stats_link(text: str) -> str:
    found = LINK.search(text)
    assert found, text
    return found.group(1).replace("&amp;", "&")


async def test_stats_answers_privately_with_what_the_clock_did_and_a_signed_link(
        slack: SlackDriver, fake: FakeSlack, people: People, clock: ManualClock) -> None:
    # Carol, the primary on-call, is IC: she is paged, and her page waits for her answer.
    channel = await declare(slack, fake, people, f"P0 Complete API outage ic:<@{people.carol}|carol>")
    await tick(slack, clock, seconds=0)  # her page goes out, and P0 escalates at once
    await tick(slack, clock, minutes=15)  # no acknowledgement in 15 minutes: backup paged
    await tick(slack, clock, minutes=15)  # and a second update reminder
    await slack.command("update identified Bad deploy | Rolling back", user=people.carol, channel=channel)
    await fake.wait_for(lambda: any("INCIDENT UPDATE" in m.text for m in fake.messages_in(channel)))
    clock.advance(minutes=10)
    await slack.command("resolve Bad deploy | Rolled back", user=people.carol, channel=channel)
    await fake.wait_for(lambda: any("INCIDENT RESOLVED" in m.text for m in fake.messages_in(channel)))
    before = {c: len(fake.messages_in(c)) for c in fake.channels}

    reply = await slack.command("stats", user=people.bob, channel=people.general)
    answer = await reply.response()

    assert answer.get("response_type") == "ephemeral"
    assert {c: len(fake.messages_in(c)) for c in fake.channels} == before  # nothing posted for others to see
    text = answer["text"]
    assert "Incident insights: the last 30 days" in text
    assert "*1 incident* (0 still open)" in text
    # Carol's page, sent at declaration, acknowledged by her update at 30 minutes.
    assert "MTTA *30 minutes*" in text and "MTTR *40 minutes*" in text
    assert "• *P0*: 1" in text and "P1" not in text.split("*By type*")[0].split("*By severity*")[1]
    assert "*Reminders that had to nag*: 2 update reminders to 1 incident" in text
    assert "*Escalations*: 1 to management · 1 backup on-call page" in text
    assert "`/incident stats 90d`" in text and "PUBLIC_URL is unset" in text

    link = stats_link(text)
    page = await slack.http.get(link, timeout=60)  # the first page a process draws imports matplotlib
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "private, no-store"
    assert '<span class="figure" id="incidents">1</span>' in page.text
    assert '<span class="figure" id="mtta">30 minutes</span>' in page.text
    assert '<span class="figure" id="reminders">2</span>' in page.text
    assert page.text.count("<svg ") == 5
    assert not re.search(r"""\bsrc=|href=["']?(https?:)?//|url\(["']?(https?:)?//|@import""", page.text)


async def test_only_a_signed_unexpired_link_opens_the_page(slack: SlackDriver, people: People,
                                                           clock: ManualClock) -> None:
    text = (await (await slack.command("stats 90d", user=people.bob, channel=people.general)).response())["text"]
    assert "the last 90 days" in text and "No incidents were declared" in text and "`/incident stats 30d`" in text
    link = stats_link(text)
    path, query = urlsplit(link).path, {k: v[0] for k, v in parse_qs(urlsplit(link).query).items()}
    expires, sig = query["expires"], query["sig"]
    flipped = sig[:-1] + ("0" if sig[-1] != "0" else "1")

    assert (await slack.http.get(link, timeout=60)).status_code == 200
    for refused in (path, f"{path}?window=90d", f"{path}?window=90d&expires={expires}",
                    f"{path}?window=90d&expires={expires}&sig={flipped}",
                    f"{path}?window=30d&expires={expires}&sig={sig}",  # the window is signed too
                    f"{path}?window=90d&expires={int(expires) + 1}&sig={sig}",
                    f"{path}?window=90d&expires=&sig={sig}"):
        assert (await slack.http.get(refused)).status_code == 404, refused
    clock.advance(hours=24, seconds=1)  # playbooks/insights.yml: link_valid 24h
    assert (await slack.http.get(link)).status_code == 404


async def test_with_public_url_stats_links_the_full_address(settings: Settings, fake: FakeSlack, people: People,
                                                             clock: ManualClock) -> None:
    async with running_bot(replace(settings, public_url="https://incidents.example.com"), fake, clock) as slack:
        text = (await (await slack.command("stats", user=people.bob, channel=people.general)).response())["text"]
        found = re.search(r"<https://incidents\.example\.com(/insights\?[^|>]+)\|The charts>", text)
        assert found and "PUBLIC_URL" not in text, text
        assert (await slack.http.get(found.group(1).replace("&amp;", "&"), timeout=60)).status_code == 200


async def test_an_unknown_window_gets_the_usage(slack: SlackDriver, people: People) -> None:
    answer = await (await slack.command("stats 7d", user=people.bob, channel=people.general)).response()
    assert "`7d` is not a window" in answer["text"] and "`30d`, `90d`" in answer["text"]
    too_many = await (await slack.command("stats 30d please", user=people.bob, channel=people.general)).response()
    assert "`30d please` is not a window" in too_many["text"] and "Usage: `/incident stats" in too_many["text"]


# -- the page in a real browser ----------------------------------------------------------------------------


async def test_the_page_draws_its_charts_in_a_real_browser(slack: SlackDriver, fake: FakeSlack, people: People,
                                                           clock: ManualClock, page: Page) -> None:
    await seed(slack.runtime.db, clock.now(), slack.runtime.policy)
    text = (await (await slack.command("stats", user=people.bob, channel=people.general)).response())["text"]
    assert "*5 incidents* (2 still open)" in text and "*Follow-ups*: 3 open of 4 action items, 1 overdue" in text

    await page.open(slack.url + stats_link(text))

    driver = page.driver
    assert driver.title == "Incident insights: the last 30 days"
    charts = await page.run(driver.find_elements, By.CSS_SELECTOR, "figure > svg.chart")
    titles = [chart.get_attribute("aria-label") for chart in charts]
    assert titles == ["Incidents declared per week, by severity",
                      "Mean time to acknowledge (MTTA) and to resolve (MTTR), by severity",
                      "Mean time to acknowledge (MTTA) and to resolve (MTTR), by incident type",
                      "What the clock had to send, by severity", "Action items of these incidents"]
    for chart in charts:
        box = chart.rect
        assert box["width"] > 400 and box["height"] > 100  # laid out and drawn, not an empty element
        assert chart.find_elements(By.CSS_SELECTOR, "path"), "no shapes drawn"
    words = await page.run(lambda: [t.text for t in driver.find_elements(By.CSS_SELECTOR, "svg.chart text")])
    assert "P0" in words and "outage" in words and "private incidents" in words and "Overdue" in words
    assert driver.find_element(By.ID, "mtta").text == "23 minutes"
    assert driver.find_element(By.ID, "follow-ups").text == "3 open"
    # Nothing was fetched from anywhere: the only resources are the page itself.
    fetched = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert fetched == []

    height = driver.execute_script("return document.documentElement.scrollHeight")
    await page.run(driver.set_window_size, 1280, height)
    try:
        shot = await page.screenshot("insights")
    finally:
        await page.run(driver.set_window_size, 1280, 900)
    assert shot.stat().st_size > 10_000
