"""playbooks/services.yml read onto a strict model: a typo stops start-up naming the file and the key.

A service's key is what people type (`/incident declare P1 api ...`, `/incident services add api`) and what an
incident stores, as text: a service later removed from the file stays named on the incidents that named it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, model_validator

from app.policy_files import PolicyError, StrictModel, load

KEY = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
MAX_KEY = 40
RESERVED = {"private", "p0", "p1", "p2", "p3"}  # words `/incident declare` reads before the title


def _text_or_mapping(key: str) -> Callable[[object], object]:
    """`owner: platform` is `owner: {usergroup: platform}`; a runbook given as a URL is `{url: ...}`."""
    def before(value: object) -> object:
        return {key: value} if isinstance(value, str) else value
    return before


class Owner(StrictModel):
    """The owning team: a Slack user group (its handle, or its ID S0123ABCD), and/or people (user IDs or
    the e-mail addresses they use in Slack)."""

    usergroup: str | None = None
    users: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _someone(self) -> Owner:
        if not self.usergroup and not self.users:
            raise ValueError("an owner is a usergroup, users, or both")
        return self


class OnCall(StrictModel):
    """Who is on call for the service: an entry of playbooks/oncall.yml's roster (the rotation's primary or
    backup, or one of its leads), or a PagerDuty service of its own through the variable holding its
    Events API v2 integration key, as oncall.yml's `paging` does for roles."""

    roster: Literal["primary", "backup", "ic", "tech", "comms", "security"] | None = None
    pagerduty_service: str | None = None  # its name as people know it (agentguard-api), for the timeline
    routing_key_env: str | None = Field(None, pattern=r"^[A-Z][A-Z0-9_]*$")

    @model_validator(mode="after")
    def _one_way(self) -> OnCall:
        if (self.roster is None) == (self.routing_key_env is None):
            raise ValueError("give either roster (primary, backup or a lead's role) or routing_key_env")
        if self.pagerduty_service and self.routing_key_env is None:
            raise ValueError("pagerduty_service goes with routing_key_env")
        return self


class StatusComponent(StrictModel):
    """How the service shows on the status page: the bot's own page by `component`, Statuspage.io by its id."""

    component: str
    statuspage_id: str | None = None


class Runbook(StrictModel):
    url: str = Field(pattern=r"^https?://\S+$")
    title: str = ""

    @property
    def shown(self) -> str:
        return self.title or self.url


class ServiceEntry(StrictModel):
    """One service of playbooks/services.yml (the file's comments document each key)."""

    name: str = Field(min_length=1)
    description: str = ""
    owner: Annotated[Owner, BeforeValidator(_text_or_mapping("usergroup"))]
    oncall: Annotated[OnCall, BeforeValidator(_text_or_mapping("roster"))] = OnCall(roster="primary")
    status_page: Annotated[StatusComponent | None, BeforeValidator(_text_or_mapping("component"))] = None
    runbooks: tuple[Annotated[Runbook, BeforeValidator(_text_or_mapping("url"))], ...] = ()
    depends_on: Annotated[tuple[str, ...], BeforeValidator(lambda v: [v] if isinstance(v, str) else v)] = ()


class ServicesFile(StrictModel):
    services: dict[str, ServiceEntry] = {}  # noqa: RUF012 - pydantic copies a field's default for each instance


@dataclass(frozen=True)
class Service:
    key: str
    name: str
    description: str
    owner: Owner
    oncall: OnCall
    component: str  # on the status page (the service's name unless the file says otherwise)
    statuspage_id: str | None
    runbooks: tuple[Runbook, ...]
    depends_on: tuple[str, ...]


@dataclass(frozen=True)
class Catalog:
    services: Mapping[str, Service]

    def __contains__(self, key: object) -> bool:
        return key in self.services

    def __iter__(self) -> Iterator[Service]:
        return iter(self.services.values())

    def __bool__(self) -> bool:
        return bool(self.services)

    def keys(self) -> Collection[str]:
        return self.services.keys()

    def get(self, key: str) -> Service | None:
        return self.services.get(key)

    def unknown(self, keys: Iterable[str]) -> list[str]:
        """The keys the catalog no longer (or never) had."""
        return [key for key in keys if key not in self.services]

    def dependents(self, key: str) -> list[Service]:
        """The services that depend on this one, directly or through others."""
        found: dict[str, Service] = {}
        todo = [key]
        while todo:
            current = todo.pop()
            for service in self.services.values():
                if current in service.depends_on and service.key not in found and service.key != key:
                    found[service.key] = service
                    todo.append(service.key)
        return list(found.values())


    def at_risk(self, keys: Iterable[str]) -> list[Service]:
        """The services that depend, directly or through others, on any of these (affected) ones and are not
        affected themselves, in the catalog's order."""
        affected = set(keys)
        risky = {service.key for key in affected for service in self.dependents(key)} - affected
        return [service for service in self.services.values() if service.key in risky]


def split_keys(text: str) -> list[str]:
    """`api, db` or `api,db` → ['api', 'db'], in order, each once."""
    keys: list[str] = []
    for part in re.split(r"[,\s]+", text.strip().lower()):
        if part and part not in keys:
            keys.append(part)
    return keys


def load_catalog(path: Path, *, kinds: Collection[str] = ()) -> Catalog:
    """The services in the file; no file means an empty catalog. `kinds` are the playbook types, which
    `/incident declare` reads from the same place as service keys, so none may be both."""
    loaded = load(path, ServicesFile, missing={})
    for key in loaded.services:
        where = f"services.{key}"
        if not KEY.match(key):
            raise PolicyError(f"{path}: {where}: a key is lower-case letters, digits, '-' or '_', starting "
                              f"with a letter (at most {MAX_KEY})")
        if key in RESERVED or key in kinds:
            raise PolicyError(f"{path}: {where}: {key!r} is also "
                              f"{'an incident type' if key in kinds else 'a word of /incident declare'}; "
                              "choose another key")
    for key, entry in loaded.services.items():
        for other in entry.depends_on:
            if other not in loaded.services:
                raise PolicyError(f"{path}: services.{key}.depends_on: {other!r} is not a service "
                                  f"(known: {', '.join(sorted(loaded.services))})")
    cycle = _cycle({key: entry.depends_on for key, entry in loaded.services.items()})
    if cycle:
        raise PolicyError(f"{path}: services.{cycle[0]}.depends_on: a cycle ({' → '.join(cycle)})")
    return Catalog({key: Service(key=key, name=entry.name, description=entry.description, owner=entry.owner,
                                 oncall=entry.oncall,
                                 component=entry.status_page.component if entry.status_page else entry.name,
                                 statuspage_id=entry.status_page.statuspage_id if entry.status_page else None,
                                 runbooks=entry.runbooks, depends_on=entry.depends_on)
                    for key, entry in loaded.services.items()})


def _cycle(edges: Mapping[str, Collection[str]]) -> list[str]:
    """A dependency cycle, as the keys around it (the first repeated at the end); [] if there is none."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(key: str) -> list[str]:
        state[key] = 1
        path.append(key)
        for other in edges.get(key, ()):
            if state.get(other) == 1:
                return [*path[path.index(other):], other]
            if other not in state:
                found = visit(other)
                if found:
                    return found
        path.pop()
        state[key] = 2
        return []

    for key in edges:
        if key not in state:
            found = visit(key)
            if found:
                return found
    return []
