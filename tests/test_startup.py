"""Start-up refuses bad configuration, broken playbooks and broken templates, with one clear line."""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from app.incidents.models import Severity
from app.incidents.policy import Policy, PolicyError
from app.main import load_plan, start_runtime
from app.samples import sample_context
from app.settings import ConfigError, Settings
from app.slack.toolkit.messages import Messages, TemplateProblem
from tests.support import ManualClock

ROOT = Path(__file__).resolve().parent.parent
PLAYBOOKS = ROOT / "playbooks"
MESSAGES = ROOT / "messages"
GOOD_ENV = {
    "SLACK_BOT_TOKEN": "xoxb-123-456-abc",
    "SLACK_SIGNING_SECRET": "8f742231b10e8888abcd99yyyzzz85a5",
    "PORT": "3000",
    "INCIDENTS_CHANNEL": "C0123ABCD",
}


def settings(playbooks: Path = PLAYBOOKS, messages: Path = MESSAGES) -> Settings:
    return Settings(slack_bot_token="xoxb-test", slack_signing_secret=GOOD_ENV["SLACK_SIGNING_SECRET"],
                    playbooks_dir=playbooks, messages_dir=messages)


# -- the environment ------------------------------------------------------------------------------


def test_a_good_environment_gives_settings() -> None:
    loaded = Settings.from_env(GOOD_ENV)

    assert loaded.slack_bot_token == "xoxb-123-456-abc"
    assert loaded.port == 3000 and loaded.incidents_channel == "C0123ABCD"


@pytest.mark.parametrize("changes, named", [
    ({"SLACK_BOT_TOKEN": None}, "SLACK_BOT_TOKEN"),
    ({"SLACK_BOT_TOKEN": "   "}, "SLACK_BOT_TOKEN"),
    ({"SLACK_BOT_TOKEN": "xoxp-a-user-token"}, "SLACK_BOT_TOKEN"),
    ({"SLACK_SIGNING_SECRET": None}, "SLACK_SIGNING_SECRET"),
    ({"SLACK_SIGNING_SECRET": "not a secret!"}, "SLACK_SIGNING_SECRET"),
    ({"PORT": "http"}, "PORT"),
    ({"PORT": "70000"}, "PORT"),
    ({"PORT": "0"}, "PORT"),
    ({"INCIDENTS_CHANNEL": "#incidents"}, "INCIDENTS_CHANNEL"),
    ({"SLACK_APP_TOKEN": "xoxb-not-an-app-token"}, "SLACK_APP_TOKEN"),
    ({"DATABASE_URL": "mysql://db/incidents"}, "DATABASE_URL"),
])
def test_a_missing_or_malformed_setting_is_named(changes: dict[str, str | None], named: str) -> None:
    env = {**GOOD_ENV, **changes}
    env = {name: value for name, value in env.items() if value is not None}

    with pytest.raises(ConfigError) as raised:
        Settings.from_env(env)

    assert named in str(raised.value)
    assert "\n" not in str(raised.value)


@pytest.mark.processes
def test_python_m_app_without_a_token_says_so_in_one_line() -> None:
    env = {name: value for name, value in os.environ.items()
           if not name.startswith("SLACK_") and name not in ("DATABASE_URL", "PORT", "INCIDENTS_CHANNEL")}
    env["SLACK_SIGNING_SECRET"] = GOOD_ENV["SLACK_SIGNING_SECRET"]

    finished = subprocess.run([sys.executable, "-m", "app"], cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=60)

    assert finished.returncode == 2
    lines = finished.stderr.strip().splitlines()
    assert len(lines) == 1, finished.stderr
    assert lines[0].startswith("Cannot start: SLACK_BOT_TOKEN is not set")
    assert lines[0].endswith("to try the bot without Slack, run: python -m app sandbox")  # which needs no settings
    assert "Traceback" not in finished.stderr


@pytest.mark.parametrize("changes, said", [
    ({"SLACK_BOT_TOKEN": "xoxp-1-2-a-user-token"},
     "SLACK_BOT_TOKEN is malformed: this is a user token (xoxp-), which the bot does not use; SLACK_BOT_TOKEN takes "
     "the bot token (OAuth & Permissions → Bot User OAuth Token), starting 'xoxb-'"),
    ({"SLACK_BOT_TOKEN": "xapp-1-A1-an-app-token"},
     "SLACK_BOT_TOKEN is malformed: this is the app-level token for Socket Mode (Basic Information → App-Level "
     "Tokens) and belongs in SLACK_APP_TOKEN; SLACK_BOT_TOKEN takes the bot token (OAuth & Permissions → Bot User "
     "OAuth Token), starting 'xoxb-'"),
    ({"SLACK_BOT_TOKEN": '"xoxb-1-2-abc"'},
     "SLACK_BOT_TOKEN is malformed: its value includes quotes; remove them (set SLACK_BOT_TOKEN=xoxb-..., without "
     "quotes)"),
    ({"SLACK_BOT_TOKEN": "'xoxb-1-2-abc'"},
     "SLACK_BOT_TOKEN is malformed: its value includes quotes; remove them (set SLACK_BOT_TOKEN=xoxb-..., without "
     "quotes)"),
    ({"SLACK_BOT_TOKEN": "abcdefgh-not-a-token"}, "SLACK_BOT_TOKEN is malformed: it should start with 'xoxb-'"),
    ({"SLACK_APP_TOKEN": "xoxb-1-2-the-bot-token"},
     "SLACK_APP_TOKEN is malformed: this is the bot token (OAuth & Permissions → Bot User OAuth Token) and belongs "
     "in SLACK_BOT_TOKEN; SLACK_APP_TOKEN takes the app-level token for Socket Mode (Basic Information → App-Level "
     "Tokens), starting 'xapp-'"),
    ({"SLACK_APP_TOKEN": "xoxp-1-2-a-user-token"},
     "SLACK_APP_TOKEN is malformed: this is a user token (xoxp-), which the bot does not use; SLACK_APP_TOKEN takes "
     "the app-level token for Socket Mode (Basic Information → App-Level Tokens), starting 'xapp-'"),
    ({"SLACK_APP_TOKEN": '"xapp-1-A1-abc"'},
     "SLACK_APP_TOKEN is malformed: its value includes quotes; remove them (set SLACK_APP_TOKEN=xapp-..., without "
     "quotes)"),
])
def test_a_token_of_another_kind_is_named_and_never_shown(changes: dict[str, str], said: str) -> None:
    with pytest.raises(ConfigError) as raised:
        Settings.from_env({**GOOD_ENV, **changes})

    assert str(raised.value) == said
    assert all(token.strip("'\"")[5:] not in said for token in changes.values())


@pytest.mark.processes
def test_python_m_app_with_a_user_token_says_which_token_it_is_in_one_line() -> None:
    env = {name: value for name, value in os.environ.items()
           if not name.startswith("SLACK_") and name not in ("DATABASE_URL", "PORT", "INCIDENTS_CHANNEL")}
    env.update(SLACK_BOT_TOKEN="xoxp-1-2-a-user-token", SLACK_SIGNING_SECRET=GOOD_ENV["SLACK_SIGNING_SECRET"])

    finished = subprocess.run([sys.executable, "-m", "app"], cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=60)

    assert finished.returncode == 2
    assert finished.stderr.splitlines() == [
        "Cannot start: SLACK_BOT_TOKEN is malformed: this is a user token (xoxp-), which the bot does not use; "
        "SLACK_BOT_TOKEN takes the bot token (OAuth & Permissions → Bot User OAuth Token), starting 'xoxb-'"]


# -- the playbooks --------------------------------------------------------------------------------


def playbooks_copy(tmp_path: Path) -> Path:
    return Path(shutil.copytree(PLAYBOOKS, tmp_path / "playbooks"))


def test_the_shipped_playbooks_load() -> None:
    policy = Policy.load(PLAYBOOKS)

    assert [s.value for s in policy.severities] == ["P0", "P1", "P2", "P3"]
    assert [p.update_every for p in policy.severities.values()][:2] == [timedelta(minutes=15), timedelta(minutes=30)]
    assert [r.value for r in policy.roles] == ["ic", "tech", "comms", "security"]


@pytest.mark.parametrize("breakage, problem", [
    (lambda text: text.replace("update_every: 15m", "update_every: 15 minutes", 1), "15 minutes"),
    (lambda text: text.replace("\nP2:", "\nP9:", 1), "P2"),
])
def test_a_broken_severity_table_stops_start_up_naming_the_file(tmp_path: Path, breakage: Callable[[str], str],
                                                                  problem: str) -> None:
    playbooks = playbooks_copy(tmp_path)
    table = playbooks / "severities.yml"
    broken = breakage(table.read_text())
    assert broken != table.read_text()
    table.write_text(broken)

    with pytest.raises(PolicyError) as raised:
        load_plan(settings(playbooks=playbooks))

    assert "severities.yml" in str(raised.value)
    assert problem in str(raised.value)


def test_a_missing_role_stops_start_up_naming_the_file(tmp_path: Path) -> None:
    playbooks = playbooks_copy(tmp_path)
    roles = playbooks / "roles.yml"
    roles.write_text(roles.read_text().replace("\ncomms:", "\ncommunications:", 1))

    with pytest.raises(PolicyError) as raised:
        load_plan(settings(playbooks=playbooks))

    assert "roles.yml" in str(raised.value) and "comms" in str(raised.value)


# -- the templates --------------------------------------------------------------------------------


def messages_copy(tmp_path: Path) -> Path:
    return Path(shutil.copytree(MESSAGES, tmp_path / "messages"))


@pytest.mark.parametrize("name, addition", [
    ("status_update.j2", "{{ next_update_due_at }}"),
    ("kickoff.j2", "{{ incident.titel }}"),
    ("errors/usage.j2", "{% if d.problem == 'x' %}{% endif %}{{ details.no_such_detail }}"),
    ("views/declare.yml.j2", "# {{ plan.no_such_thing }}"),
])
def test_a_template_using_an_undefined_name_stops_start_up_naming_the_file(tmp_path: Path, name: str,
                                                                            addition: str) -> None:
    messages = messages_copy(tmp_path)
    template = messages / name
    template.write_text(template.read_text() + "\n" + addition + "\n")

    with pytest.raises(TemplateProblem) as raised:
        load_plan(settings(messages=messages))

    assert name in str(raised.value)


def test_a_template_with_a_syntax_error_stops_start_up_naming_the_file(tmp_path: Path) -> None:
    messages = messages_copy(tmp_path)
    (messages / "resolved.j2").write_text("{% if incident.is_resolved %}never closed\n")

    with pytest.raises(TemplateProblem) as raised:
        load_plan(settings(messages=messages))

    assert "resolved.j2" in str(raised.value)


def test_templates_are_checked_again_when_their_text_or_the_policy_changes(tmp_path: Path) -> None:
    """A process that starts the bot many times renders the templates once for the same text and policy
    (Messages.check_once); any change is checked at the next start."""
    directory = messages_copy(tmp_path)
    policy = Policy.load(PLAYBOOKS)
    checked: list[Policy] = []

    def sample(made_from: Policy) -> dict[str, object]:
        checked.append(made_from)
        return sample_context(made_from)

    def start(made_from: Policy) -> None:
        rules = {"followup": made_from.followup, "insights": made_from.insights}
        Messages(directory, rules=rules).check_once(made_from, sample)

    start(policy)
    start(Policy.load(PLAYBOOKS))  # read again, the same
    assert len(checked) == 1
    p1 = policy.severities[Severity.P1]
    renamed = dataclasses.replace(policy, severities={**policy.severities,
                                                      Severity.P1: dataclasses.replace(p1, name="Very high")})
    start(renamed)
    assert checked[-1] is renamed
    (directory / "resolved.j2").write_text((directory / "resolved.j2").read_text() + "\n{# edited #}\n")
    start(policy)
    assert len(checked) == 3
    (directory / "resolved.j2").write_text("{% if incident.is_resolved %}never closed\n")
    with pytest.raises(TemplateProblem, match=r"resolved\.j2"):
        start(policy)


def test_every_shipped_template_renders_with_the_sample_incident() -> None:
    plan = load_plan(settings())
    policy, messages = plan[0], plan[-1]  # the policy first, the checked templates last

    shipped = sorted(str(p.relative_to(MESSAGES)) for p in MESSAGES.rglob("*.j2"))
    assert messages.names() == shipped
    context = sample_context(policy)
    for name in shipped:
        if name.startswith("_"):
            continue  # macros only
        if name.startswith("views/"):
            view = messages.view(name, **context)
            assert view["type"] in ("modal", "home") and view["blocks"], name
        else:
            rendered = messages.render(name, **context)
            assert rendered.text.strip() and rendered.blocks, name
            assert "None" not in rendered.text, name



async def test_building_the_bot_with_slack_bot_token_exported_logs_no_bolt_warning(
        settings: Settings, clock: ManualClock, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    # Bolt reads SLACK_BOT_TOKEN itself and warns that the client given wins: every real start had that line.
    monkeypatch.setenv("SLACK_BOT_TOKEN", settings.slack_bot_token)
    with caplog.at_level("INFO"):
        runtime = await start_runtime(settings, clock=clock)
        await runtime.close()

    assert not [r for r in caplog.records if r.name.startswith("slack_bolt") and r.levelname == "WARNING"]
