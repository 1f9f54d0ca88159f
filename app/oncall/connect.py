"""From playbooks/oncall.yml (and services.yml) and the environment to the pagers: the pager selector. A role
(or a catalog service's on-call) with a PagerDuty service of its own is paged with the integration key in the
variable its `routing_key_env` names; every other the default way: PagerDuty with PAGERDUTY_ROUTING_KEY when it is
set, else Slack."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import httpx

from app.catalog.services import Catalog
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


def service_routing_keys(catalog: Catalog, path: Path, environ: Mapping[str, str]) -> dict[str, str]:
    """The integration key of each service whose on-call is a PagerDuty service of its own (playbooks/services.yml
    `oncall: {routing_key_env: ...}`), by service key; checked as the roles' are."""
    return {service.key: check_routing_key(name, secret(path, f"{service.key}.oncall.routing_key_env", name, environ))
            for service in catalog if (name := service.oncall.routing_key_env) is not None}


def service_pagers(catalog: Catalog, keys: Mapping[str, str], *, http: httpx.AsyncClient,
                   events_url: str) -> dict[str, Pager]:
    """Each such service's own PagerDuty pager, by service key (the others' on-call is paged as the roster's)."""
    return {key: PagerDutyPager(http, routing_key, url=events_url, service=service.oncall.pagerduty_service,
                                routing_key_name=service.oncall.routing_key_env)
            for key, routing_key in keys.items() if (service := catalog.get(key)) is not None}


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
