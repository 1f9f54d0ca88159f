"""Arbitrary input for the bot, sent the way Slack sends it, and what counts as a good outcome.
Shared by bench/fuzz.py (thousands of examples) and tests/test_fuzz.py (a few hundred): here, as benchmarks
must not depend on the test suite."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from app.sandbox.fakeslack import FakeSlack
from app.sandbox.slack_driver import SlackDriver

UNEXPECTED = "Something went wrong on my side"
SUBCOMMANDS = ["declare", "update", "status", "list", "severity", "role", "note", "resolve", "reopen", "oncall",
               "checklist", "notified", "comms", "review", "action", "actions", "stats", "help"]
ACTION_IDS = ["acknowledge", "snooze_reminder", "checklist_tick", "post_update", "comms_edit", "comms_approve"]
CALLBACKS = ["declare_incident", "post_status_update", "edit_comms_draft", "post_incident_review"]
FORM_BLOCKS = ["title", "severity", "kind", "impact", "commander", "private", "status", "findings", "action",
               "eta", "subject", "body", "users_affected", "failed_requests", "revenue_impact", "went_well",
               "could_improve", "lessons_learned"]

ENTITIES = st.sampled_from([
    "<@U123|bob>", "<@U00000002>", "<@W9>", "<#C1|x>", "<#C00000003>", "<!subteam^S1|@g>", "<!here>", "<!channel>",
    "<https://x|y>", "<mailto:a@b.c|a>", "&amp;", "&lt;", "&gt;", "|", " | ", "||", ":", "ic:", "tech:<@U1>",
    "owner:", "owner:<@U2|x>", "priority:P1", "due:2026-13-45", "due:2027-01-01", "P0", "P1", "P3", "P9",
    "private", "outage", "data-breach", "investigating", "identified", "monitoring", "resolved", "gdpr",
    "internal", "email", "statuspage", "add", "edit", "start", "done", "30d", "90d", "0", "1", "-1",
    "99999999999999999999",
])
WORDS = st.one_of(ENTITIES, st.sampled_from(SUBCOMMANDS), st.text(max_size=12),
                  st.text(alphabet=st.characters(max_codepoint=0x1f), max_size=3))


@st.composite
def command_text(draw: st.DrawFn) -> str:
    """What someone might type after /incident: a subcommand (usually), then a jumble of words and entities."""
    words = draw(st.lists(WORDS, max_size=12))
    if draw(st.booleans()):
        words.insert(0, draw(st.sampled_from(SUBCOMMANDS)))
    text = draw(st.sampled_from([" ", "  ", "\t", "\n", ""])).join(words)
    if draw(st.integers(0, 19)) == 0:  # now and then, very long
        text += " " + draw(st.sampled_from(["x", "é", "|", "<@U1>", "🔥"])) * draw(st.integers(200, 6000))
    return text


JSONISH = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                       lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                                  max_size=3),
                       max_leaves=8)


@st.composite
def element(draw: st.DrawFn) -> Any:
    """What one input element in a submitted form might hold."""
    return draw(st.one_of(
        st.fixed_dictionaries({"type": st.just("plain_text_input"), "value": st.one_of(st.none(), command_text())}),
        st.fixed_dictionaries({"type": st.just("static_select"), "selected_option": st.one_of(
            st.none(), st.fixed_dictionaries({"value": st.one_of(ENTITIES, st.text(max_size=8), JSONISH)}))}),
        st.fixed_dictionaries({"type": st.just("users_select"), "selected_user": st.one_of(
            st.none(), st.sampled_from(["U00000002", "U999", ""]), JSONISH)}),
        st.fixed_dictionaries({"type": st.just("checkboxes"), "selected_options": JSONISH}),
        JSONISH,
    ))


@st.composite
def form_state(draw: st.DrawFn) -> Any:
    values = draw(st.dictionaries(st.one_of(st.sampled_from(FORM_BLOCKS), st.text(max_size=6)),
                                  st.one_of(st.dictionaries(st.sampled_from(["value", "x", ""]), element(),
                                                            max_size=2), JSONISH), max_size=8))
    return draw(st.sampled_from([{"values": values}, {"values": values}, {"values": values}, {}, {"values": []}]))


@dataclass
class Outcome:
    """What one example produced."""

    kind: str
    status: int
    ack_seconds: float
    answers: list[str] = field(default_factory=list)
    opened_form: bool = False
    form_errors: dict[str, Any] | None = None

    @property
    def server_error(self) -> bool:
        return self.status >= 500 or any(UNEXPECTED in answer for answer in self.answers)

    @property
    def answered(self) -> bool:
        return bool(self.opened_form or self.form_errors or any(a.strip() for a in self.answers))


class Fuzzer:
    """Sends one example at a time to a running bot, as `user` in `channel`, and collects what came back."""

    def __init__(self, slack: SlackDriver, fake: FakeSlack, *, user: str, channel: str) -> None:
        self.slack, self.fake, self.user, self.channel = slack, fake, user, channel

    def _mark(self) -> tuple[int, int, int]:
        return len(self.fake.ephemerals), len(self.fake.dms_to(self.user)), len(self.fake.views)

    def _since(self, mark: tuple[int, int, int], response_url: str | None) -> tuple[list[str], bool]:
        ephemerals, dms, views = mark
        answers = [e["text"] for e in self.fake.ephemerals[ephemerals:] if e["user"] == self.user]
        answers += [m.text for m in self.fake.dms_to(self.user)[dms:]]
        if response_url:
            answers += [str(r.get("text", "")) for r in self.fake.responses_to(response_url)]
        return answers, len(self.fake.views) > views

    async def command(self, text: str, *, wait: bool = True) -> Outcome:
        mark = self._mark()
        started = time.perf_counter()
        # Slack gives every command a trigger_id of its own, good for one form.
        reply = await self.slack.command(text, user=self.user, channel=self.channel,
                                         trigger_id=f"13345224609.{time.monotonic_ns()}.fuzz")
        outcome = Outcome("command", reply.status, time.perf_counter() - started)
        final_ack = reply.ack_text and "Declaring" not in reply.ack_text
        if wait and not final_ack:
            await self.fake.wait_for(lambda: any(self._since(mark, reply.response_url)), timeout=10)
        outcome.answers, outcome.opened_form = self._since(mark, reply.response_url)
        if reply.ack_text:
            outcome.answers.insert(0, reply.ack_text)
        return outcome

    async def press(self, action: dict[str, Any], *, wait: bool = True) -> Outcome:
        mark = self._mark()
        response_url = self.fake.new_response_url()
        payload = {
            "type": "block_actions", "team": {"id": self.fake.team_id}, "api_app_id": "A0001",
            "user": {"id": self.user, "name": "fuzz", "team_id": self.fake.team_id}, "channel": {"id": self.channel},
            "message": {"ts": "1.000001", "type": "message"}, "trigger_id": f"13345224609.{time.monotonic_ns()}.fuzz",
            "container": {"type": "message", "message_ts": "1.000001", "channel_id": self.channel},
            "response_url": response_url, "actions": [action],
        }
        started = time.perf_counter()
        response = await self.slack.interaction(payload)
        outcome = Outcome("button", response.status_code, time.perf_counter() - started)
        if wait and response.status_code == 200:
            await self.fake.wait_for(lambda: any(self._since(mark, response_url)), timeout=10)
        outcome.answers, outcome.opened_form = self._since(mark, response_url)
        return outcome

    async def submit(self, callback_id: str, state: Any, metadata: str, *, wait: bool = True) -> Outcome:
        mark = self._mark()
        payload = {
            "type": "view_submission", "team": {"id": self.fake.team_id}, "api_app_id": "A0001",
            "user": {"id": self.user, "name": "fuzz", "team_id": self.fake.team_id},
            "trigger_id": "13345224609.738474920.fuzz",
            "view": {"id": "V0FUZZ", "type": "modal", "callback_id": callback_id, "private_metadata": metadata,
                     "state": state},
        }
        started = time.perf_counter()
        response = await self.slack.interaction(payload)
        outcome = Outcome("form", response.status_code, time.perf_counter() - started)
        body = response.json() if response.content.strip() and response.status_code == 200 else {}
        outcome.form_errors = body.get("errors") if body.get("response_action") == "errors" else None
        if wait and response.status_code == 200 and not outcome.form_errors:
            await self.fake.wait_for(lambda: any(self._since(mark, None)), timeout=10)
        outcome.answers, outcome.opened_form = self._since(mark, None)
        return outcome


def button(draw: st.DrawFn) -> dict[str, Any]:
    action_id = draw(st.one_of(st.sampled_from(ACTION_IDS), st.text(min_size=1, max_size=20)))
    action: dict[str, Any] = {"type": "button", "action_id": action_id, "block_id": draw(st.text(max_size=8)),
                              "action_ts": "1.000002"}
    if draw(st.booleans()):
        action["value"] = draw(st.one_of(st.sampled_from(["15", "30", "1", "0", "-5", "1e3", " 7 ", "٣"]),
                                         st.text(max_size=10)))
    if draw(st.booleans()):
        action["selected_options"] = draw(st.lists(st.fixed_dictionaries({"value": st.text(max_size=4)}),
                                                   max_size=3))
    return action


def form(draw: st.DrawFn, channel: str) -> tuple[str, Any, str]:
    callback_id = draw(st.one_of(st.sampled_from(CALLBACKS), st.text(min_size=1, max_size=12)))
    metadata = draw(st.sampled_from([channel, "", json.dumps({"draft": 1, "channel": channel}),
                                     json.dumps({"draft": "x"}), "{", json.dumps([1])]))
    if callback_id in ("post_status_update", "post_incident_review"):
        metadata = channel  # our own forms always carry the channel they were opened from
    return callback_id, draw(form_state()), metadata


@st.composite
def interaction(draw: st.DrawFn, channel: str) -> tuple[str, Any]:
    """("command", text) | ("button", action) | ("form", (callback_id, state, metadata))."""
    kind = draw(st.sampled_from(["command", "command", "button", "form"]))
    if kind == "command":
        return kind, draw(command_text())
    if kind == "button":
        return kind, button(draw)
    return kind, form(draw, channel)


async def send(fuzzer: Fuzzer, example: tuple[str, Any], *, wait: bool = True) -> Outcome:
    kind, what = example
    if kind == "command":
        return await fuzzer.command(what, wait=wait)
    if kind == "button":
        return await fuzzer.press(what, wait=wait)
    return await fuzzer.submit(*what, wait=wait)
