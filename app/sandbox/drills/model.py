"""A drill file, playbooks/drills/<name>.yml, on a strict model (unknown keys refused, as every policy file).

    type: outage                  # playbooks/types/outage.yml
    title: API answers 502 for every request
    impact: Every customer
    declared_by: alice            # one of the sandbox's people
    speed: 60                     # one real second plays one minute
    ends_after: 2h                # the drill's own time; it ends earlier when the incident is resolved
    script:
      - at: 2m
        post: ":red_circle: [FIRING] api 5xx rate 97%"   # what the "system" (Monitoring) reports
      - at: 5m
        fault: {fail: chat.postMessage, times: 2}       # what goes wrong in Slack
      - at: 4m
        acknowledge: carol                              # carol presses Acknowledge on the page she was sent
      - at: 6m
        command: {by: carol, text: comms statuspage}    # someone types /incident ... in the incident's channel
      - at: 7m
        approve: carol                                  # carol presses Approve on the newest draft there

    declared_by: alert            # or: the drill's first alert declares it, as alerts.yml's rules say
    script:
      - at: 0m
        alert:                                          # what Alertmanager sends (its webhook, version 4)
          labels: {alertname: StripeChargesFailing, severity: critical, service: stripe}
          annotations: {summary: Stripe refuses charges}
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Literal

from pydantic import Field, PositiveFloat, PositiveInt, field_validator, model_validator

from app.incidents.models import Severity
from app.policy_files import Duration, PolicyError, PositiveDuration, StrictModel, load
from app.sandbox.workspace import PEOPLE


class Fault(StrictModel):
    """One thing that goes wrong in the fake Slack; exactly one key."""

    fail: str | None = None  # the next `times` calls to this Web API method answer `error`, or HTTP 500
    times: PositiveInt = 1
    error: str | None = None
    rate_limits: bool | None = None  # Slack's rate-limit tiers on (true) or off (false)
    latency: float | None = Field(default=None, ge=0)  # seconds Slack takes to answer each call
    revoke: bool | None = None  # the bot's token stops working (true) or works again (false)
    hold: str | None = None  # the next call to this method takes effect, but its answer comes `for` later
    hold_for: Duration = Field(default=timedelta(minutes=1), alias="for")

    @model_validator(mode="after")
    def _one_fault(self) -> Fault:
        chosen = [k for k in ("fail", "rate_limits", "latency", "revoke", "hold") if getattr(self, k) is not None]
        if len(chosen) != 1:
            raise ValueError("a fault is exactly one of fail, rate_limits, latency, revoke, hold")
        return self


class AlertSent(StrictModel):
    """One alert as Alertmanager notifies it (a group of one): its labels name what fires, and a rule of
    playbooks/alerts.yml may read the affected services from one (`service_field`)."""

    labels: dict[str, str] = Field(min_length=1)
    annotations: dict[str, str] = {}  # noqa: RUF012 - pydantic copies a field's default for each instance
    status: Literal["firing", "resolved"] = "firing"

    @field_validator("labels")
    @classmethod
    def _named(cls, labels: dict[str, str]) -> dict[str, str]:
        if "alertname" not in labels:
            raise ValueError("an alert's labels name it: give alertname")
        return labels


class Typed(StrictModel):
    by: str  # one of the sandbox's people
    text: str = Field(min_length=1)  # what follows /incident, typed in the incident's channel


class Step(StrictModel):
    at: Duration  # after the declaration, in the drill's time
    post: str | None = None  # what Monitoring posts
    to: Literal["incident", "incidents"] = "incident"  # the incident's channel, or #incidents
    fault: Fault | None = None
    acknowledge: str | None = None  # one of the sandbox's people, answering the page DM they were sent
    alert: AlertSent | None = None  # what Alertmanager sends the bot
    command: Typed | None = None
    approve: str | None = None  # one of the sandbox's people, approving the newest draft in the incident's channel

    @model_validator(mode="after")
    def _does_something(self) -> Step:
        if all(getattr(self, k) is None for k in ("post", "fault", "acknowledge", "alert", "command", "approve")):
            raise ValueError("a step needs a post, a fault, an acknowledge, an alert, a command or an approve")
        names = [p.name for p in PEOPLE]
        for what, who in (("acknowledge", self.acknowledge), ("command.by", self.command and self.command.by),
                          ("approve", self.approve)):
            if who is not None and who not in names:
                raise ValueError(f"{what}: {who!r} is not one of the sandbox's people ({', '.join(names)})")
        return self


DECLARED_BY_ALERT = "alert"


class Drill(StrictModel):
    type: str
    severity: Severity | None = None  # omitted: the type's default severity
    title: str = ""  # the incident's; declared by an alert, the alert's rule titles it
    impact: str = ""
    # One of the sandbox's people, typing /incident declare; or `alert`: the script's first alert declares it, as
    # the bot does by the rules of playbooks/alerts.yml (its type, severity and title are the rule's).
    declared_by: str = "alice"
    speed: PositiveFloat = 60.0
    ends_after: PositiveDuration = timedelta(hours=2)
    script: list[Step] = []  # noqa: RUF012 - pydantic copies a field's default for each instance

    @field_validator("declared_by")
    @classmethod
    def _a_sandbox_person(cls, name: str) -> str:
        names = [p.name for p in PEOPLE]
        if name not in names and name != DECLARED_BY_ALERT:
            raise ValueError(f"{name!r} is not one of the sandbox's people ({', '.join(names)}) nor "
                             f"{DECLARED_BY_ALERT!r}")
        return name

    @model_validator(mode="after")
    def _declared(self) -> Drill:
        if self.by_alert and not any(step.alert is not None for step in self.script):
            raise ValueError("declared_by: alert needs an alert in the script to declare it")
        if not self.by_alert and not self.title:
            raise ValueError("title is missing (only an incident an alert declares is titled by its rule)")
        return self

    @property
    def by_alert(self) -> bool:
        return self.declared_by == DECLARED_BY_ALERT


def load_drill(directory: Path, name: str, kinds: set[str]) -> Drill:
    """playbooks/drills/<name>.yml; a PolicyError names the file and what is wrong with it."""
    path = directory / "drills" / f"{name}.yml"
    if not path.exists():
        known = ", ".join(sorted(p.stem for p in (directory / "drills").glob("*.yml"))) or "none"
        raise PolicyError(f"{path}: no such drill (drills: {known})")
    drill = load(path, Drill)
    if drill.type not in kinds:
        raise PolicyError(f"{path}: type {drill.type!r} is not a playbook in types/ ({', '.join(sorted(kinds))})")
    return drill
