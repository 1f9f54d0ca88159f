"""A newcomer tries the bot in the sandbox, in a real browser: declares, presses the kickoff's buttons, fills
a modal, updates, acts as other people, resolves and reads the review. Screenshots go to a temporary folder, or to docs/screenshots with --update-screenshots."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from app.sandbox.drills.model import load_drill
from app.sandbox.drills.play import DrillRun
from app.sandbox.run import Sandbox, start_sandbox
from app.settings import PROJECT_ROOT
from tests.browser import Page
from tests.support import ManualClock


@pytest.fixture
async def sandbox(tmp_path: Path, database_url: str) -> AsyncIterator[Sandbox]:
    running = await start_sandbox(tmp_path, database_url=database_url, sweep_seconds=0.2)
    yield running
    await running.stop()
    assert running.fake.violations == [], "calls Slack's API would reject"


class Browser:
    """The steps a person takes on the page, each waiting (up to 10 s) for what it needs to appear."""

    def __init__(self, page: Page) -> None:
        self.page = page
        from selenium.webdriver.common.by import By
        self.by = By

    async def find(self, css: str, text: str = "", timeout: float = 10.0) -> Any:
        """The last element shown that matches `css` and contains `text` (the page redraws what changed
        every second, so an element found a moment ago may be gone: then look again)."""
        from selenium.common.exceptions import StaleElementReferenceException
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            try:
                found = [e for e in await self.page.run(self.page.driver.find_elements, self.by.CSS_SELECTOR, css)
                         if await self.page.run(lambda e=e: e.is_displayed() and text in e.text)]
            except StaleElementReferenceException:
                found = []
            if found:
                return found[-1]
            if asyncio.get_running_loop().time() > deadline:
                await self.page.screenshot("failed-sandbox-test")  # beside the others; never committed
                raise AssertionError(f"nothing matching {css!r} with {text!r} on the page")
            await asyncio.sleep(0.2)

    async def click(self, css: str, text: str = "") -> None:
        from selenium.common.exceptions import StaleElementReferenceException
        for _ in range(5):
            try:
                return await self.page.run((await self.find(css, text)).click)
            except StaleElementReferenceException:
                await asyncio.sleep(0.2)
        raise AssertionError(f"{css!r} with {text!r} kept being redrawn")

    async def say(self, text: str) -> None:
        box = await self.find("#say")
        await self.page.run(box.send_keys, text)
        await self.click("#composer button")

    async def act_as(self, real_name: str) -> None:
        from selenium.webdriver.support.ui import Select
        select = Select(await self.find("#act-as"))
        label = next(o.text for o in select.options if o.text.startswith(real_name))
        await self.page.run(select.select_by_visible_text, label)
        await self.find("#part", real_name)

    async def fill(self, block_id: str, value: str) -> None:
        field = await self.find(f'#modal [data-block-id="{block_id}"] input, '
                                f'#modal [data-block-id="{block_id}"] textarea')
        await self.page.run(field.send_keys, value)

    async def choose(self, block_id: str, label: str) -> None:
        from selenium.webdriver.support.ui import Select
        select = Select(await self.find(f'#modal [data-block-id="{block_id}"] select'))
        await self.page.run(select.select_by_visible_text, label)

    async def modal_closed(self) -> None:
        for _ in range(50):
            if not await self.page.run(lambda: self.page.driver.find_element(self.by.ID, "modal").is_displayed()):
                return
            await asyncio.sleep(0.2)
        raise AssertionError("the modal stayed open")


async def test_a_newcomer_runs_an_incident_in_the_browser(page: Page, sandbox: Sandbox) -> None:
    me = Browser(page)
    await page.open(sandbox.url)
    await me.find("#title", "incidents")

    await me.say("/incident declare outage P1 Checkout errors | Some customers see 500s at payment")
    await me.find(".message.private", "Declared")
    await me.click("#channels a", "incident-")
    await me.find(".message.pinned", "Incident: Checkout errors")
    await me.find(".message.pinned", "Started: today")  # a <!date^...> token, in the browser's time zone
    await me.find(".message", "checklist")
    await page.screenshot("sandbox-kickoff")

    await me.click('.message.pinned button[data-action-id="acknowledge"]')
    await me.find(".message", "acknowledged the incident")
    await me.click('.message.pinned button[data-action-id="post_update"]')
    await me.find("#modal form", "Status update")
    await me.choose("status", "Identified")
    await me.fill("findings", "A bad config push on the payment service")
    await me.fill("action", "Rolling it back")
    await page.screenshot("sandbox-modal")
    await me.click("#modal button.primary")
    await me.modal_closed()
    await me.find(".message", "INCIDENT UPDATE")
    await me.click(".message .checkboxes label", "Check recent deployments")
    await me.find(".message", "1 of 9 done")

    await me.act_as("Carol Chen")  # the primary on-call, paged into the channel, takes a role
    await me.click("#channels a", "incident-")
    await me.click('.message.pinned button[data-action-id="take_role"]')
    await me.choose("role", "Technical Lead")
    await me.click("#modal button.primary")
    await me.modal_closed()
    await me.find(".message.pinned", "Technical Lead: @Carol Chen")  # the kickoff, edited live

    await me.act_as("Erin Evans")  # a bystander finds the public channel and joins it
    await me.click("#channels a", "incident-")
    await me.click("#join")
    await me.find(".message.private", "Checkout errors")
    await page.screenshot("sandbox-newcomer")

    await me.act_as("Alice Adams")
    await me.click("#channels a", "incident-")
    await me.say("/incident resolve Bad config push | Rolled back the config")
    await me.find(".message", "INCIDENT RESOLVED")
    await me.say("/incident review")
    await me.find("#modal form")
    for block_id in ("users_affected", "failed_requests", "went_well", "could_improve", "lessons_learned"):
        await me.fill(block_id, f"Answer for {block_id.replace('_', ' ')}")
    await me.click("#modal button.primary")
    await me.modal_closed()
    await me.click(".message .file a")
    await page.run(lambda: page.driver.switch_to.window(page.driver.window_handles[-1]))
    assert "Checkout errors" in await page.run(lambda: page.driver.find_element(me.by.TAG_NAME, "body").text)
    await page.run(page.driver.close)
    await page.run(lambda: page.driver.switch_to.window(page.driver.window_handles[0]))
    await me.find(".message", "INCIDENT RESOLVED")
    await page.screenshot("sandbox-resolved")


async def test_a_drill_played_in_the_browser_ends_with_its_report(page: Page, tmp_path: Path, database_url: str,
                                                                   clock: ManualClock) -> None:
    sandbox = await start_sandbox(tmp_path, database_url=database_url, clock=clock, sweep_seconds=0.2)
    drill = load_drill(PROJECT_ROOT / "playbooks", "data-breach", set(sandbox.runtime.policy.playbooks))
    run = DrillRun(sandbox, drill, "data-breach", clock)
    me = Browser(page)
    try:
        await run.declare()
        await page.open(sandbox.url)
        await me.click("#channels a", "incident-")  # private: Alice, who declared, is in it
        await me.click('.message.pinned button[data-action-id="acknowledge"]')
        for _ in range(12):
            clock.advance(minutes=1)
            await run.tick()
        await me.find(".message", "Security scanner")  # Monitoring's post at 2m, and at 10m:
        await me.find(".message", "bulk export")
        await me.say("/incident update identified Leaked through an API key | Revoking it")
        await me.find(".message", "INCIDENT UPDATE")
        clock.advance(minutes=20)
        await me.say("/incident resolve A leaked API key | Revoked it and rotated every key")
        await me.find(".message", "INCIDENT RESOLVED")
        while await run.tick():
            await asyncio.sleep(0.1)
        await me.find(".message", "Drill report: data-breach")
        await page.screenshot("sandbox-drill-report")
    finally:
        await sandbox.stop()
