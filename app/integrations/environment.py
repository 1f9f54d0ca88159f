"""An integration's secrets: never in a policy file, which names the environment variable holding each
(`token_env: GITHUB_TOKEN`, `webhook_secret_env: SENTRY_CLIENT_SECRET`, `routing_key_env: PAGERDUTY_KEY_TECH`).
Each key has the variable the plan's setup uses as its default, so a file that leaves it out reads that one.

A secret a file names must be set: missing or empty, start-up stops in one line naming the file, the key and the
variable. Where an integration is on only when its variable is set (a file that does not mention it), its
selector reads it with `optional`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, BaseModel

from app.policy_files import PolicyError
from app.settings import check_secret

ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")


def _env_name(value: str) -> str:
    if not ENV_NAME.match(value):
        raise ValueError(f"{value!r} is not the name of an environment variable (like JIRA_API_TOKEN); "
                         "secrets go in the environment, never in this file")
    return value


EnvName = Annotated[str, AfterValidator(_env_name)]


def secret(path: Path, key: str, name: str, environ: Mapping[str, str]) -> str:
    """The value of the variable the file names at `key`; unset or empty stops start-up naming all three."""
    value = environ.get(name, "").strip()
    if not value:
        raise PolicyError(f"{path}: {key} names the environment variable {name}, which is not set")
    return value


def signing_secret(path: Path, key: str, name: str, environ: Mapping[str, str]) -> str:
    """A secret that verifies what a sender signs: set, and clearing app.settings.check_secret's floor."""
    return check_secret(name, secret(path, key, name, environ))


def optional(name: str, environ: Mapping[str, str]) -> str | None:
    """The variable's value, None when unset or empty: for an integration that is on only when it is set."""
    return environ.get(name, "").strip() or None


def optional_signing_secret(name: str, environ: Mapping[str, str]) -> str | None:
    """A signing secret that may be unset (then None); set, it must clear the floor."""
    value = optional(name, environ)
    return None if value is None else check_secret(name, value)


def names(section: BaseModel, key: str) -> bool:
    """The file wrote this `*_env` key itself (rather than leaving it to its default): its variable must be set."""
    return key in section.model_fields_set
