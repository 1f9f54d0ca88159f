"""The sandbox's workspace: its people and channels in the fake Slack, and the playbooks with them on call."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import yaml

from app.sandbox.fakeslack import FakeSlack
from app.sandbox.sealed import seal_playbooks


@dataclass(frozen=True)
class Person:
    name: str
    real_name: str
    tz: str
    part: str  # what they are in the sandbox, shown beside "act as"


PEOPLE = (
    Person("alice", "Alice Adams", "Europe/Paris", "engineer: declares and leads"),
    Person("carol", "Carol Chen", "Asia/Tokyo", "primary on-call"),
    Person("bob", "Bob Brown", "America/New_York", "backup on-call"),
    Person("erin", "Erin Evans", "Europe/Berlin", "bystander"),
    Person("dana", "Dana Director", "Europe/London", "manager (@management)"),
)


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
    fake.add_usergroup("management", users=[people["dana"]])
    monitoring = fake.add_user("monitoring", real_name="Monitoring", is_bot=True)
    return Workspace(fake, people, incidents, general, monitoring)


def sandbox_playbooks(source: Path, directory: Path, workspace: Workspace) -> Path:
    """A copy of the playbooks with the sandbox's people on call (Carol, then Bob) and Dana as management, and
    every integration off (sealed.seal_playbooks)."""
    target = directory / "playbooks"
    shutil.copytree(source, target, dirs_exist_ok=True)
    roster = yaml.safe_load((target / "oncall.yml").read_text(encoding="utf-8"))
    roster["rotation"]["primary"] = [workspace.people["carol"]]
    roster["rotation"]["backup"] = [workspace.people["bob"]]
    roster["management"]["users"] = [workspace.people["dana"]]
    (target / "oncall.yml").write_text(yaml.safe_dump(roster), encoding="utf-8")
    seal_playbooks(target)
    return target
