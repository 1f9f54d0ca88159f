"""Every signing, link and webhook secret clears one floor at start-up (app.settings.check_secret): 16
characters or more, no spaces, 8 or more different characters. A weak one stops start-up with one line naming
the variable, never showing the value."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import settings as examples
from hypothesis import strategies as st

from app.alerts.connect import connect as connect_alert_sources
from app.main import start_runtime
from app.settings import SECRET_MIN_DISTINCT, ConfigError, Settings, check_secret
from tests.support import SIGNING_SECRET, ManualClock
from tests.test_startup import GOOD_ENV, ROOT

SETTINGS_SECRETS = ("SLACK_SIGNING_SECRET", "LINK_SECRET")
# The alert senders' secrets, in the variables playbooks/alerts.yml reads them from by default (app/alerts/connect.py).
ALERT_SECRETS = ("SENTRY_CLIENT_SECRET", "ALERTMANAGER_WEBHOOK_TOKEN", "PAGERDUTY_WEBHOOK_SECRET")
ENV_SECRETS = SETTINGS_SECRETS + ALERT_SECRETS
# Placeholders that pass a length check alone: a run of one character, two alternating, seven cycled.
WEAK = ["a" * 16, "a" * 32, "ab" * 16, "abcdefg" * 5, "x", "0" * 64]
GOOD = "8f742231b10e8888abcd99yyyzzz85a5"  # the shape of Slack's signing secrets: 32 hex-like characters


def refusal(env: dict[str, str]) -> str:
    """What start-up says: the settings, then the alert senders (whose secrets alerts.yml names)."""
    with pytest.raises(ConfigError) as raised:
        settings = Settings.from_env(env)
        connect_alert_sources(None, Path("playbooks/alerts.yml"), settings.environment)
    return str(raised.value)


def test_the_test_signing_secret_clears_the_floor() -> None:
    assert check_secret("SLACK_SIGNING_SECRET", SIGNING_SECRET) == SIGNING_SECRET


def test_good_secrets_are_accepted_everywhere() -> None:
    loaded = Settings.from_env({**GOOD_ENV, **{name: GOOD for name in ENV_SECRETS}})

    assert loaded.slack_signing_secret == loaded.link_secret == GOOD
    accepted = connect_alert_sources(None, Path("playbooks/alerts.yml"), loaded.environment)
    assert sorted(accepted) == ["alertmanager", "pagerduty", "sentry"]


@pytest.mark.parametrize("name", ENV_SECRETS)
@pytest.mark.parametrize("weak", WEAK)
def test_a_weak_secret_stops_start_up_naming_the_variable(name: str, weak: str) -> None:
    message = refusal({**GOOD_ENV, name: weak})

    assert message.startswith(f"{name} is malformed")
    assert (len(weak) < 4 or weak not in message) and "\n" not in message


@examples(max_examples=80, deadline=None)
@given(st.text(min_size=1, max_size=SECRET_MIN_DISTINCT - 1).flatmap(
    lambda chars: st.lists(st.sampled_from(chars), min_size=16, max_size=80).map("".join)))
def test_too_few_different_characters_are_refused_whatever_the_length(value: str) -> None:
    with pytest.raises(ConfigError, match=r"^PAGERDUTY_WEBHOOK_SECRET is malformed"):
        check_secret("PAGERDUTY_WEBHOOK_SECRET", value)


@pytest.mark.parametrize("tracker, variable", [("jira", "JIRA_WEBHOOK_SECRET"),
                                               ("github", "GITHUB_WEBHOOK_SECRET")])
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_weak_tracker_webhook_secret_stops_start_up_naming_it(settings: Settings, clock: ManualClock,
                                                                      tracker: str, variable: str) -> None:
    rules = {"jira": {"base_url": "https://acme.atlassian.net", "project": "OPS"},
             "github": {"repo": "acme/incidents"}}
    (settings.playbooks_dir / "trackers.yml").write_text(yaml.safe_dump({"tracker": tracker,
                                                                         tracker: rules[tracker]}))
    environ = {"JIRA_EMAIL": "bot@acme.example", "JIRA_API_TOKEN": "jira-token", "GITHUB_TOKEN": "ghp_token",
               variable: "x"}

    with pytest.raises(ConfigError) as raised:
        await start_runtime(dataclasses.replace(settings, environment=environ), clock=clock)

    assert str(raised.value).startswith(f"{variable} is malformed") and "\n" not in str(raised.value)


@pytest.mark.processes
def test_python_m_app_with_a_weak_link_secret_says_so_in_one_line() -> None:
    env = {name: value for name, value in os.environ.items()
           if not name.startswith("SLACK_") and name not in ("DATABASE_URL", "PORT", "INCIDENTS_CHANNEL")}
    env.update(GOOD_ENV, LINK_SECRET="a" * 32)

    finished = subprocess.run([sys.executable, "-m", "app"], cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=60)

    assert finished.returncode != 0
    lines = finished.stderr.strip().splitlines()
    assert len(lines) == 1, finished.stderr
    assert "LINK_SECRET is malformed" in lines[0] and "a" * 32 not in finished.stderr
    assert "Traceback" not in finished.stderr
