"""Every file in playbooks/ is read strictly: a typo stops start-up with one line naming the file, the key
and the key that was meant. The follow-up rules (review due, reminders) are data too."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest

from app.detection.config import load_checks
from app.incidents.models import Severity
from app.incidents.policy import Policy, PolicyError
from app.main import load_plan
from app.oncall.roster import Roster
from app.reviews.action_items import reminder_at
from app.reviews.models import ActionItem, ActionStatus
from app.reviews.service import review_due_at
from app.samples import sample_incident
from app.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


@pytest.fixture
def playbooks(tmp_path: Path) -> Path:
    return Path(shutil.copytree(ROOT / "playbooks", tmp_path / "playbooks"))


def load_all(directory: Path) -> None:
    load_plan(Settings(slack_bot_token="xoxb-test", slack_signing_secret=SECRET, playbooks_dir=directory))
    policy = Policy.load(directory)
    load_checks(directory / "detection.yml", kinds=policy.playbooks)


def replace(old: str, new: str) -> Callable[[str], str]:
    def change(text: str) -> str:
        assert old in text
        return text.replace(old, new, 1)
    return change


@pytest.mark.parametrize("name, change, key, meant", [
    ("types/data-breach.yml", replace("private: true", "privat: true"), "privat", "private"),
    ("severities.yml", replace("escalate_to: management", "escalate_too: management"), "escalate_too",
     "escalate_to"),
    ("roles.yml", replace("  duties:", "  duty:"), "duty", "duties"),
    ("oncall.yml", replace("  usergroup: management", "  usergroup: management\n  user: []"), "user", "users"),
    ("oncall.yml", replace("  security:", "  securty:"), "securty", "security"),
    ("oncall.yml", replace("  length: 7d", "  lenght: 7d"), "lenght", "length"),
    ("detection.yml", replace("\nchecks: []", "\nchecks:\n  - name: api\n    url: http://api/health\n    severty: P0\n"
                                            "    severity: P0"), "severty", "severity"),
    ("followup.yml", replace("  remind_after: 24h", "  remind_afer: 24h"), "remind_afer", "remind_after"),
    ("followup.yml", replace("action_items:", "action_item:"), "action_item", "action_items"),
    ("insights.yml", replace("link_valid: 24h", "link_vaild: 24h"), "link_vaild", "link_valid"),
])
def test_a_typo_names_the_file_the_key_and_the_key_meant(playbooks: Path, name: str,
                                                         change: Callable[[str], str], key: str, meant: str) -> None:
    path = playbooks / name
    path.write_text(change(path.read_text()))

    with pytest.raises(PolicyError) as raised:
        load_all(playbooks)

    message = str(raised.value)
    assert message.startswith(f"{path}: ") and "\n" not in message
    assert f"unknown key {key!r} (did you mean {meant!r}?)" in message


def test_a_key_with_no_near_miss_lists_the_valid_ones(playbooks: Path) -> None:
    path = playbooks / "severities.yml"
    path.write_text(path.read_text() + "P4:\n  name: Trivial\n")

    with pytest.raises(PolicyError) as raised:
        load_all(playbooks)

    assert "unknown key 'P4' (valid keys: P0, P1, P2, P3)" in str(raised.value)


@pytest.mark.parametrize("name, change, problem", [
    ("followup.yml", replace('remind_at: "09:00"', "remind_at: 9:00"), "write it in quotes"),
    ("followup.yml", replace("remind_after: 24h", "remind_after: 72h"), "remind_after must be shorter"),
    ("followup.yml", replace("due_within: 48h", "due_within: 2 days"), "'2 days' is not a duration"),
    ("oncall.yml", replace("length: 7d", "length: 0d"), "rotation.length: must be longer than zero"),
    ("types/outage.yml", replace("default_severity: P0", "default_severity: P7"), "default_severity"),
    ("types/data-breach.yml", replace("within: 72h", "within: 12h"), "compliance[1]: gdpr: remind_before"),
    ("channel.yml", replace("archive_notice: 1d", "archive_notice: 7d"), "archive_notice must be shorter"),
    ("channel.yml", replace('plan_url: ""', "plan_url: wiki/plan"), "bookmarks.plan_url"),
])
def test_a_wrong_value_names_the_file_and_the_key(playbooks: Path, name: str, change: Callable[[str], str],
                                                  problem: str) -> None:
    path = playbooks / name
    path.write_text(change(path.read_text()))

    with pytest.raises(PolicyError) as raised:
        load_all(playbooks)

    assert str(raised.value).startswith(f"{path}: ") and problem in str(raised.value)
    assert "\n" not in str(raised.value)


def test_the_shipped_files_load_as_before() -> None:
    policy = Policy.load(ROOT / "playbooks")
    roster = Roster.load(ROOT / "playbooks" / "oncall.yml")

    p1 = policy.for_severity(Severity.P1)
    assert (p1.response_time, p1.update_every, p1.escalate_after, p1.escalate_to, [r.value for r in p1.page]) == (
        timedelta(minutes=30), timedelta(minutes=30), timedelta(hours=1), "management", ["ic", "tech"])
    assert policy.playbooks["data-breach"].private and not policy.playbooks["outage"].private
    assert (roster.management_group, roster.management_users, roster.leads) == ("management", (), {})
    assert roster.shift_at(datetime(2026, 1, 6, tzinfo=UTC)).starts == datetime(2026, 1, 5, 9, tzinfo=UTC)
    assert (policy.followup.review.due_within, policy.followup.review.remind_after) == (timedelta(hours=48),
                                                                                       timedelta(hours=24))
    assert (policy.followup.action_items.remind_days_before, policy.followup.action_items.remind_at) == (1, time(9))


def test_the_follow_up_times_come_from_the_file(playbooks: Path) -> None:
    (playbooks / "followup.yml").write_text(
        "review:\n  due_within: 5d\n  remind_after: 3d\naction_items:\n  remind_days_before: 2\n"
        "  remind_at: '14:30'\n")
    followup = Policy.load(playbooks).followup
    incident = sample_incident()
    assert incident.resolved_at is not None
    item = ActionItem(number=1, text="Add pool monitoring", owner="U0SAMPLE2", due_on=date(2026, 12, 10),
                      status=ActionStatus.OPEN)

    assert review_due_at(incident, followup.review) == incident.resolved_at + timedelta(days=5)
    assert reminder_at(item, followup.action_items) == datetime(2026, 12, 8, 14, 30, tzinfo=UTC)


@pytest.mark.processes
def test_python_m_app_with_a_typo_in_a_playbook_says_so_in_one_line(playbooks: Path, tmp_path: Path) -> None:
    path = playbooks / "types" / "data-breach.yml"
    path.write_text(path.read_text().replace("private: true", "privat: true"))
    env = {name: value for name, value in os.environ.items() if not name.startswith("SLACK_")}
    env.update(SLACK_BOT_TOKEN="xoxb-123-456-abc", SLACK_SIGNING_SECRET=SECRET, PLAYBOOKS_DIR=str(playbooks),
               DATABASE_URL=f"sqlite:///{tmp_path / 'never.db'}")
    env.pop("INCIDENTS_CHANNEL", None)

    finished = subprocess.run([sys.executable, "-m", "app"], cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=60)

    assert finished.returncode == 2
    [line] = finished.stderr.strip().splitlines()
    assert line == f"Cannot start: {path}: unknown key 'privat' (did you mean 'private'?)"
