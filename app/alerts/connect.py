"""From playbooks/alerts.yml and the environment to the senders POST /alerts/<source> accepts: the alert-source
selector, the one place that knows which senders there are. A sender not accepted is refused (401)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from app.alerts.routing import DEFAULT_SECRET_ENV, SourceName, SourceSettings
from app.alerts.sources import Alertmanager, PagerDuty, Sentry, Source
from app.integrations.environment import optional_signing_secret, signing_secret

SENDERS: dict[str, Callable[[str], Source]] = {"sentry": Sentry, "alertmanager": Alertmanager,
                                               "pagerduty": PagerDuty}


def connect(sources: Mapping[SourceName, SourceSettings | None] | None, path: Path,
            environ: Mapping[str, str]) -> dict[str, Source]:
    """With `sources:` in the file, the senders it lists, each with the secret in the variable it names (or the
    sender's default variable), which must be set; without, each sender whose default variable is set. A weak
    secret stops start-up naming its variable (app.settings.check_secret)."""
    accepted: dict[str, Source] = {}
    if sources is None:
        for name, make in SENDERS.items():
            value = optional_signing_secret(DEFAULT_SECRET_ENV[name], environ)
            if value is not None:
                accepted[name] = make(value)
        return accepted
    for name, settings in sources.items():
        variable = (settings.webhook_secret_env if settings else None) or DEFAULT_SECRET_ENV[name]
        accepted[name] = SENDERS[name](signing_secret(path, f"sources.{name}.webhook_secret_env", variable, environ))
    return accepted
