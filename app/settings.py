"""Configuration from the environment, checked once at start-up."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from app.dburl import DatabaseUrlError, normalise

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SLACK_API_URL = "https://slack.com/api/"
CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{6,}$")


class ConfigError(Exception):
    """A setting is missing or malformed; the message names it."""


# The floor every signing, link and webhook secret must clear (check_secret).
SECRET_MIN_LENGTH = 16
SECRET_MIN_DISTINCT = 8


def check_secret(name: str, value: str) -> str:
    """A secret that signs or verifies requests or links, from the variable `name`: at least 16 characters,
    no whitespace, and at least 8 different characters. Whoever knows a secret can forge what it signs, so a
    placeholder (`x`, a run of one character, `abab...`) stops start-up instead. The one rule for every such
    secret; the message names the variable and never shows the value."""
    if len(value) < SECRET_MIN_LENGTH or re.search(r"\s", value) or len(set(value)) < SECRET_MIN_DISTINCT:
        raise ConfigError(f"{name} is malformed: a secret needs {SECRET_MIN_LENGTH} characters or more, no spaces, "
                          f"and at least {SECRET_MIN_DISTINCT} different characters (use the whole secret, or make "
                          "one with openssl rand -hex 32)")
    return value


@dataclass(frozen=True)
class Settings:
    slack_bot_token: str
    slack_signing_secret: str
    slack_app_token: str | None = None
    slack_api_url: str = SLACK_API_URL
    database_url: str = "sqlite+aiosqlite:///./incidents.db"
    port: int = 3000
    incidents_channel: str | None = None
    playbooks_dir: Path = PROJECT_ROOT / "playbooks"
    messages_dir: Path = PROJECT_ROOT / "messages"
    sweep_seconds: float = 5.0
    # a worker's lease on due work, renewed while it works: a dead one's work waits this long
    lease_seconds: float = 10.0
    pagerduty_routing_key: str | None = None
    pagerduty_events_url: str = "https://events.pagerduty.com/v2/enqueue"
    # signs review and insights links; unset: derived from the signing secret (app/reviews/links.py)
    link_secret: str | None = None
    public_url: str | None = None  # where people reach this bot over HTTPS, for the links it posts
    # The environment, for the secrets of integrations, which their policy files name by variable (`*_env` keys:
    # trackers.yml, oncall.yml, status_page.yml, alerts.yml; app/integrations/environment.py).
    environment: Mapping[str, str] = field(default_factory=dict, repr=False, hash=False, compare=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        def optional(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        bot_token = optional("SLACK_BOT_TOKEN")
        if bot_token is None:
            raise ConfigError("SLACK_BOT_TOKEN is not set (OAuth & Permissions → Bot User OAuth Token in your Slack "
                              "app's settings); to try the bot without Slack, run: python -m app sandbox")
        check_token("SLACK_BOT_TOKEN", bot_token)
        app_token = optional("SLACK_APP_TOKEN")
        if app_token is not None:
            check_token("SLACK_APP_TOKEN", app_token)

        # Over Socket Mode, Slack's requests come down the app token's connection: nothing to verify.
        signing_secret = env.get("SLACK_SIGNING_SECRET", "").strip()
        if not signing_secret and not app_token:
            raise ConfigError("SLACK_SIGNING_SECRET is not set (Basic Information → App Credentials)")
        if signing_secret and not re.fullmatch(r"[0-9a-zA-Z]{16,}", signing_secret):
            raise ConfigError("SLACK_SIGNING_SECRET is malformed: expected the hex string Slack shows")
        if signing_secret:
            check_secret("SLACK_SIGNING_SECRET", signing_secret)

        link_secret = optional("LINK_SECRET")
        if link_secret is not None:
            if len(link_secret) < 32:
                raise ConfigError("LINK_SECRET is malformed: use at least 32 random characters (openssl rand -hex 32)")
            check_secret("LINK_SECRET", link_secret)

        public_url = optional("PUBLIC_URL")
        if public_url is not None and not re.match(r"^https?://[^/\s]+", public_url):
            raise ConfigError("PUBLIC_URL is malformed: it should be the bot's http(s) address, like "
                              "https://incidents.example.com")

        api_url = optional("SLACK_API_URL") or SLACK_API_URL
        if not re.match(r"^https?://", api_url):
            raise ConfigError("SLACK_API_URL is malformed: it should be an http(s) URL")
        if not api_url.endswith("/"):
            api_url += "/"

        port_text = optional("PORT") or "3000"
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise ConfigError(f"PORT is malformed: {port_text!r} is not a TCP port number")

        channel = optional("INCIDENTS_CHANNEL")
        if channel is not None and not CHANNEL_ID.match(channel):
            raise ConfigError(
                "INCIDENTS_CHANNEL is malformed: use the channel ID (like C0123ABCD), "
                "shown at the bottom of the channel's details"
            )

        playbooks = Path(optional("PLAYBOOKS_DIR") or cls.playbooks_dir)
        if not playbooks.is_dir():
            raise ConfigError(f"PLAYBOOKS_DIR is malformed: {playbooks} is not a directory")

        sweep_text = optional("SWEEP_SECONDS") or "5"
        try:
            sweep_seconds = float(sweep_text)
        except ValueError:
            sweep_seconds = 0.0
        lease_text = optional("DUE_WORK_LEASE_SECONDS") or "10"
        try:
            lease_seconds = float(lease_text)
        except ValueError:
            lease_seconds = 0.0
        if not 1 <= lease_seconds <= 86400:
            raise ConfigError(f"DUE_WORK_LEASE_SECONDS is malformed: {lease_text!r} is not a number of seconds "
                              "(1-86400)")
        if not 0.1 <= sweep_seconds <= 300:
            raise ConfigError(f"SWEEP_SECONDS is malformed: {sweep_text!r} is not a number of seconds (0.1-300)")

        routing_key = optional("PAGERDUTY_ROUTING_KEY")
        if routing_key is not None:
            check_routing_key("PAGERDUTY_ROUTING_KEY", routing_key)

        if optional("STATUSPAGE_API_URL") is not None:  # read until the URL moved to the policy file
            raise ConfigError("STATUSPAGE_API_URL is no longer read: set statuspage_io.api_url in "
                              "playbooks/status_page.yml instead")

        return cls(
            sweep_seconds=sweep_seconds,
            lease_seconds=lease_seconds,
            pagerduty_routing_key=routing_key,
            pagerduty_events_url=optional("PAGERDUTY_EVENTS_URL") or cls.pagerduty_events_url,
            slack_bot_token=bot_token,
            slack_signing_secret=signing_secret,
            slack_app_token=app_token,
            slack_api_url=api_url,
            database_url=database_url(optional("DATABASE_URL")),
            port=int(port_text),
            incidents_channel=channel,
            playbooks_dir=playbooks,
            link_secret=link_secret,
            public_url=public_url.rstrip("/") if public_url else None,
            environment={name: value.strip() for name, value in env.items()},
        )


# Which token goes where, by its prefix: what a token pasted into the wrong variable is, in the words of the
# Slack app's settings pages.
TOKEN_KINDS = {
    "xoxb-": ("SLACK_BOT_TOKEN", "the bot token (OAuth & Permissions → Bot User OAuth Token)"),
    "xapp-": ("SLACK_APP_TOKEN", "the app-level token for Socket Mode (Basic Information → App-Level Tokens)"),
    "xoxp-": (None, "a user token (xoxp-), which the bot does not use"),
}


def check_token(name: str, token: str) -> str:
    """A Slack token from the variable `name` (SLACK_BOT_TOKEN or SLACK_APP_TOKEN): one that starts as that
    variable's kind must; any other is named (never shown), with where it belongs."""
    wanted, wanted_said = next((prefix, said) for prefix, (variable, said) in TOKEN_KINDS.items() if variable == name)
    if token.startswith(wanted):
        return token
    if token[:1] in "\"'" or token[-1:] in "\"'":
        raise ConfigError(f"{name} is malformed: its value includes quotes; remove them (set {name}={wanted}..., "
                          "without quotes)")
    kind = next(((variable, said) for prefix, (variable, said) in TOKEN_KINDS.items() if token.startswith(prefix)),
                None)
    if kind is None:
        raise ConfigError(f"{name} is malformed: it should start with '{wanted}'")
    variable, said = kind
    where = f" and belongs in {variable}" if variable else ""
    raise ConfigError(f"{name} is malformed: this is {said}{where}; {name} takes {wanted_said}, starting '{wanted}'")


def check_routing_key(name: str, key: str) -> str:
    """A PagerDuty Events API v2 integration key, from the variable `name`."""
    if not re.fullmatch(r"[0-9a-zA-Z]{20,64}", key):
        raise ConfigError(f"{name} is malformed: use the 32-character integration key")
    return key


def database_url(raw: str | None) -> str:
    """Accept the URLs platforms give (postgres://, postgresql+psycopg2://, sqlite:///, libpq's ?sslmode=...)
    and pick the async driver; the parameters are translated for asyncpg when the engine is made."""
    if raw is None:
        return Settings.database_url
    try:
        return normalise(raw)
    except DatabaseUrlError as error:
        raise ConfigError(f"DATABASE_URL is malformed: {error}") from None


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def log_level(raw: str | None) -> str:
    """LOG_LEVEL in any case (debug, Info, WARNING); the default is INFO."""
    level = (raw or "").strip().upper() or "INFO"
    if level not in LOG_LEVELS:
        raise ConfigError(f"LOG_LEVEL is malformed: {raw!r} is not one of {', '.join(LOG_LEVELS)} (any case)")
    return level


LOG_FORMATS = ("text", "json")


def log_format(raw: str | None) -> str:
    """LOG_FORMAT: `text` (the default, for people) or `json` (one object per line, for log collectors)."""
    value = (raw or "").strip().lower() or "text"
    if value not in LOG_FORMATS:
        raise ConfigError(f"LOG_FORMAT is malformed: {raw!r} is not one of {', '.join(LOG_FORMATS)}")
    return value
