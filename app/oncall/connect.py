"""From playbooks/oncall.yml and the environment to the pagers: the pager selector. A role with a PagerDuty
service of its own (`paging`) is paged with the integration key in the variable its `routing_key_env` names; every
other role the default way: PagerDuty with PAGERDUTY_ROUTING_KEY when it is set, else Slack."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import httpx

from app.integrations.environment import secret
from app.oncall.pagers import Pager, PagerDutyPager, Pagers
from app.oncall.roster import DEFAULT_ROUTING_KEY_ENV, Roster
from app.settings import ConfigError, check_routing_key


def routing_keys(roster: Roster, path: Path, environ: Mapping[str, str]) -> dict[str, str]:
    """The integration key of each role paged through a PagerDuty service of its own; one that is not set stops
    start-up naming the file, the key and the variable, and a malformed one naming the variable."""
    return {role: check_routing_key(how.routing_key_env,
                                    secret(path, f"paging.{role}.routing_key_env", how.routing_key_env, environ))
            for role, how in roster.paging.items() if how.via == "pagerduty"}


def pagers(roster: Roster, keys: Mapping[str, str], environ: Mapping[str, str], *, slack: Pager,
           http: httpx.AsyncClient, events_url: str) -> Pagers:
    """The default pager (PagerDuty with PAGERDUTY_ROUTING_KEY, else `slack`) and each role's own."""
    default: Pager = slack
    default_key = environ.get(DEFAULT_ROUTING_KEY_ENV, "").strip()
    if default_key:
        default = PagerDutyPager(http, check_routing_key(DEFAULT_ROUTING_KEY_ENV, default_key), url=events_url,
                                 routing_key_name=DEFAULT_ROUTING_KEY_ENV)
    own: dict[str, Pager] = {}
    for role, how in roster.paging.items():
        own[role] = slack if how.via == "slack" else PagerDutyPager(
            http, keys[role], url=events_url, service=how.service, routing_key_name=how.routing_key_env)

    def by_key_name(name: str) -> Pager | None:
        """A key a page went out with that today's playbooks/oncall.yml routes nothing through: still set?"""
        key = environ.get(name, "").strip()
        if name == DEFAULT_ROUTING_KEY_ENV or not key:
            return None
        try:
            key = check_routing_key(name, key)
        except ConfigError:
            return None
        return PagerDutyPager(http, key, url=events_url, routing_key_name=name)

    return Pagers(default, own, by_key_name)
