"""The sandbox's workspace: its people, channels and user groups in the fake Slack, and the playbooks with them on
call and owning a small service catalog."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import yaml

from app.sandbox.fakeslack import FakeSlack
from app.sandbox.runbooks import runbook_url
from app.sandbox.sealed import seal_playbooks
from app.settings import PROJECT_ROOT


@dataclass(frozen=True)
class Person:
    name: str
    real_name: str
    tz: str
    part: str  # what they are in the sandbox, shown beside "act as"


PEOPLE = (
    Person("alice", "Alice Adams", "Europe/Paris", "engineer: declares and leads"),
    Person("carol", "Carol Chen", "Asia/Tokyo", "primary on-call"),
    Person("bob", "Bob Brown", "America/New_York", "backup on-call, on call for Stripe (@payments)"),
    Person("erin", "Erin Evans", "Europe/Berlin", "bystander"),
    Person("dana", "Dana Director", "Europe/London", "manager (@management)"),
)
# The sandbox's user groups: the owning teams of its catalog (below), and management.
GROUPS = {"engineering": ("alice", "erin"), "payments": ("bob",), "management": ("dana",)}


def sandbox_catalog(people: dict[str, str], url: str) -> dict[str, object]:
    """A small catalog (playbooks/services.yml) owned by the sandbox's people: the API (of @engineering) needs
    its database and Stripe (of @payments, and Dana listed by name), so naming the database puts the API at
    risk; each named service brings its team into the channel, pages its on-call (Carol, the primary; for
    Stripe, Bob of @payments, the backup) and marks its status-page component. The API's runbook is the
    sandbox's own page at `url` (app/sandbox/runbooks.py), which opens offline."""
    return {"services": {
        "api": {"name": "AgentGuard API", "description": "The public API.", "owner": "engineering",
                "status_page": "API", "depends_on": ["postgres", "stripe"],
                "runbooks": [{"title": "Complete service outage",
                              "url": runbook_url(url, "outage")}]},
        "postgres": {"name": "AgentGuard database", "description": "The API's PostgreSQL database.",
                     "owner": "engineering", "status_page": "Database"},
        "stripe": {"name": "Stripe", "description": "Payments; an external provider.",
                   "owner": {"usergroup": "payments", "users": [people["dana"]]}, "oncall": "backup",
                   "status_page": "Billing"},
    }}


@dataclass(frozen=True)
class Workspace:
    fake: FakeSlack
    people: dict[str, str]  # name -> user id
    incidents: str  # the channel where declarations are announced
    general: str
    monitoring: str  # who posts what the "system" reports in a drill

    def part(self, user_id: str) -> str:
        return next((p.part for p in PEOPLE if self.people[p.name] == user_id), "")


def build_workspace(fake: FakeSlack) -> Workspace:
    people = {p.name: fake.add_user(p.name, real_name=p.real_name, tz=p.tz, email=f"{p.name}@example.com")
              for p in PEOPLE}
    everyone = [*people.values(), fake.bot_user_id]
    incidents = fake.add_channel("incidents", members=everyone)
    general = fake.add_channel("general", members=everyone)
    for handle, members in GROUPS.items():
        fake.add_usergroup(handle, users=[people[name] for name in members])
    monitoring = fake.add_user("monitoring", real_name="Monitoring", is_bot=True)
    return Workspace(fake, people, incidents, general, monitoring)


def sandbox_playbooks(source: Path, directory: Path, workspace: Workspace, url: str) -> Path:
    """A copy of the playbooks with the sandbox's people on call (Carol, then Bob) and Dana as management, the
    sandbox's small catalog in place of the shipped example (a catalog of your own is kept), and every
    integration off (sealed.seal_playbooks)."""
    target = directory / "playbooks"
    shutil.copytree(source, target, dirs_exist_ok=True)
    services = target / "services.yml"
    shipped = PROJECT_ROOT / "playbooks" / "services.yml"
    if not services.exists() or services.read_bytes() == shipped.read_bytes():
        services.write_text(yaml.safe_dump(sandbox_catalog(workspace.people, url), sort_keys=False), encoding="utf-8")
    roster = yaml.safe_load((target / "oncall.yml").read_text(encoding="utf-8"))
    roster["rotation"]["primary"] = [workspace.people["carol"]]
    roster["rotation"]["backup"] = [workspace.people["bob"]]
    roster["management"]["users"] = [workspace.people["dana"]]
    (target / "oncall.yml").write_text(yaml.safe_dump(roster), encoding="utf-8")
    seal_playbooks(target)
    return target
