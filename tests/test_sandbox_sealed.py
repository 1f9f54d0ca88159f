"""The sandbox is sealed (issue 17): whatever the shell exports and whatever the playbooks connect to, it reads
no credential, calls nothing beyond this machine, and answers only its own page."""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import AsyncIterator
from dataclasses import fields
from pathlib import Path

import httpx
import pytest
import yaml

from app.oncall.pagers import PagerDutyPager
from app.sandbox.run import Sandbox, start_sandbox
from app.sandbox.sealed import LeavesTheMachine, LoopbackOnly
from app.sandbox.web import STATIC
from app.settings import PROJECT_ROOT

SECRETS = {
    "SLACK_BOT_TOKEN": "xoxb-real-0123456789-abcdefghij",
    "SLACK_SIGNING_SECRET": "0123456789abcdef0123456789abcdef",
    "SLACK_APP_TOKEN": "xapp-real-0123456789",
    "GITHUB_TOKEN": "ghp_real0123456789abcdefghij",
    "GITHUB_WEBHOOK_SECRET": "github-real-webhook-secret-0123",
    "JIRA_EMAIL": "real@example.com",
    "JIRA_API_TOKEN": "jira-real-token-0123456789",
    "PAGERDUTY_ROUTING_KEY": "R0123456789abcdef0123456789abcdef",
    "PAGERDUTY_KEY_ONCALL": "Oncall0123456789abcdef0123456789",
    "PAGERDUTY_WEBHOOK_SECRET": "pagerduty-real-secret-0123456789",
    "STATUSPAGE_API_KEY": "statuspage-real-key-0123456789",
    "STATUSPAGE_PAGE_ID": "realpage0123",
    "SENTRY_CLIENT_SECRET": "sentry-real-secret-0123456789",
    "ALERTMANAGER_WEBHOOK_TOKEN": "alertmanager-real-token-0123456789",
    "LINK_SECRET": "link-real-secret-0123456789abcdef0123456789",
    "DATABASE_URL": "postgresql://real:password@db.example.com/incidents",
    "SLACK_API_URL": "https://slack.example.com/api/",
}


def connected_playbooks(path: Path, *, paging: bool = False) -> Path:
    """The project's playbooks with integrations on: GitHub issues and a health check on a real host; with
    `paging`, the incident commander paged through a PagerDuty service of its own too."""
    shutil.copytree(PROJECT_ROOT / "playbooks", path)
    (path / "trackers.yml").write_text(yaml.safe_dump({"tracker": "github", "github": {
        "repo": "acme/incidents", "token_env": "GITHUB_TOKEN", "webhook_secret_env": "GITHUB_WEBHOOK_SECRET"}}))
    (path / "detection.yml").write_text(yaml.safe_dump({"checks": [
        {"name": "api", "url": "https://api.example.com/health", "severity": "P1"}]}))
    if not paging:
        return path
    oncall = yaml.safe_load((path / "oncall.yml").read_text())
    oncall["paging"] = {"ic": {"service": "acme-oncall", "routing_key_env": "PAGERDUTY_KEY_ONCALL"}}
    (path / "oncall.yml").write_text(yaml.safe_dump(oncall))
    return path


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
async def sandbox(tmp_path: Path, environment: None) -> AsyncIterator[Sandbox]:
    running = await start_sandbox(tmp_path / "sandbox", playbooks=connected_playbooks(tmp_path / "mine"),
                                  sweep_seconds=0.2)
    yield running
    await running.stop()


def port_of(sandbox: Sandbox) -> int:
    return int(sandbox.url.rsplit(":", 1)[1])


async def test_no_credential_from_the_environment_reaches_the_sandbox(sandbox: Sandbox) -> None:
    runtime = sandbox.runtime
    settings = runtime.settings
    held = " ".join(repr(getattr(settings, f.name)) for f in fields(settings))

    assert not [name for name, value in SECRETS.items() if value in held]
    assert dict(settings.environment) == {"ALERTMANAGER_WEBHOOK_TOKEN": sandbox.alert_token}  # its own, made up
    assert settings.slack_api_url == sandbox.fake.api_url and settings.slack_bot_token == sandbox.fake.bot_token
    assert settings.database_url.startswith("sqlite+aiosqlite:///") and "sandbox" in settings.database_url
    assert runtime.slack.integrations.tracker is None  # trackers.yml said github, with GITHUB_TOKEN set
    assert runtime.detector.checks == []  # detection.yml probed api.example.com
    pagers = runtime.sweeper.worker.pagers  # type: ignore[attr-defined]
    assert not isinstance(pagers.default, PagerDutyPager)  # PAGERDUTY_ROUTING_KEY was set
    sealed = yaml.safe_load((settings.playbooks_dir / "trackers.yml").read_text())
    assert sealed == {"tracker": "none"}


async def test_roles_paged_through_pagerduty_are_paged_in_slack_in_the_sandbox(tmp_path: Path,
                                                                                environment: None) -> None:
    sandbox = await start_sandbox(tmp_path / "sandbox", playbooks=connected_playbooks(tmp_path / "mine", paging=True))
    try:
        pagers = sandbox.runtime.sweeper.worker.pagers  # type: ignore[attr-defined]
        assert pagers.own == {} and not isinstance(pagers.default, PagerDutyPager)
        assert "paging" not in yaml.safe_load((sandbox.runtime.settings.playbooks_dir / "oncall.yml").read_text())
    finally:
        await sandbox.stop()


async def test_an_alert_signed_with_the_environments_secret_is_refused(sandbox: Sandbox) -> None:
    async with httpx.AsyncClient(base_url=sandbox.url) as http:
        answer = await http.post("/alerts/alertmanager", json={"version": "4", "status": "firing", "alerts": []},
                                 headers={"Authorization": f"Bearer {SECRETS['ALERTMANAGER_WEBHOOK_TOKEN']}"})

    assert answer.status_code == 401


async def test_the_sandboxs_outgoing_http_never_leaves_the_machine(sandbox: Sandbox) -> None:
    outgoing = sandbox.runtime._httpx  # what trackers, the pager, health checks and Statuspage.io call through

    with pytest.raises(LeavesTheMachine):
        await outgoing.get("https://api.github.com/repos/acme/incidents/issues")
    answer = await outgoing.get(f"{sandbox.url}/health")  # this machine: allowed
    assert answer.status_code == 200


@pytest.mark.parametrize("url", ["https://api.github.com/", "http://10.0.0.1/", "http://localhost.example.com/",
                                 "http://127.0.0.1.nip.io/", "http://0.0.0.0:80/", "http://[2001:db8::1]/"])
async def test_loopback_only_refuses_other_hosts_before_connecting(url: str) -> None:
    seen: list[httpx.Request] = []
    inner = httpx.MockTransport(lambda request: seen.append(request) or httpx.Response(200))

    async with httpx.AsyncClient(transport=LoopbackOnly(inner)) as http:
        with pytest.raises(httpx.ConnectError):
            await http.get(url)
        for here in ("http://127.0.0.1:9/", "http://localhost:9/", "http://[::1]:9/"):
            assert (await http.get(here)).status_code == 200

    assert [r.url.host for r in seen] == ["127.0.0.1", "localhost", "::1"]


async def test_the_page_script_works_from_its_own_origin_by_either_name(sandbox: Sandbox) -> None:
    port, erin, general = port_of(sandbox), sandbox.workspace.people["erin"], sandbox.workspace.general
    for name in ("127.0.0.1", "localhost"):
        async with httpx.AsyncClient(base_url=f"http://{name}:{port}") as http:
            said = await http.post("/sandbox/say", json={"user": erin, "channel": general, "text": f"via {name}"},
                                   headers={"Origin": f"http://{name}:{port}"})
            assert said.status_code == 200
            assert (await http.get("/")).status_code == 200

    assert [m.text for m in sandbox.fake.messages_in(general)] == ["via 127.0.0.1", "via localhost"]


async def test_a_post_from_another_origin_is_refused(sandbox: Sandbox, caplog: pytest.LogCaptureFixture) -> None:
    erin, general = sandbox.workspace.people["erin"], sandbox.workspace.general
    caplog.set_level(logging.WARNING, "app.refused")
    async with httpx.AsyncClient(base_url=sandbox.url) as http:
        for origin in ("https://evil.example", "null", f"http://127.0.0.1:{port_of(sandbox) + 1}"):
            answer = await http.post("/sandbox/say", json={"user": erin, "channel": general, "text": "pwned"},
                                     headers={"Origin": origin})
            assert answer.status_code == 403 and answer.json() == {"error": "forbidden"}

    assert sandbox.fake.messages_in(general) == []
    assert caplog.messages[0].startswith("Refused POST /sandbox/say: from another origin than the sandbox's page "
                                         "(403, body ")
    assert "evil" not in caplog.text and "pwned" not in caplog.text


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data",
                                          None])
async def test_a_post_that_is_not_json_is_refused(sandbox: Sandbox, content_type: str | None) -> None:
    """What another page may send without a preflight: the body is JSON, the content type is not."""
    erin, general = sandbox.workspace.people["erin"], sandbox.workspace.general
    body = json.dumps({"user": erin, "channel": general, "text": "pwned"})
    headers = {"Content-Type": content_type} if content_type else {}
    async with httpx.AsyncClient(base_url=sandbox.url) as http:
        answer = await http.post("/sandbox/say", content=body, headers=headers)

    assert answer.status_code == 415 and answer.json() == {"error": "unsupported media type"}
    assert sandbox.fake.messages_in(general) == []


@pytest.mark.parametrize("route", ["/", "/sandbox/state", "/sandbox/files/F1", "/sandbox/static/sandbox.js",
                                   "/insights"])
async def test_a_request_addressed_to_another_host_is_refused(sandbox: Sandbox, route: str,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    """DNS rebinding: a page at rebind.example, its name now pointing at 127.0.0.1, still sends its own name."""
    caplog.set_level(logging.WARNING, "app.refused")
    async with httpx.AsyncClient(base_url=sandbox.url) as http:
        answer = await http.get(route, headers={"Host": f"rebind.example:{port_of(sandbox)}"})
        said = await http.post("/sandbox/say", json={"user": sandbox.workspace.people["erin"],
                                                     "channel": sandbox.workspace.general, "text": "pwned"},
                               headers={"Host": f"rebind.example:{port_of(sandbox)}"})

    assert answer.status_code == 403 and said.status_code == 403
    assert sandbox.fake.messages_in(sandbox.workspace.general) == []
    assert "not addressed to the sandbox's own host (403" in caplog.messages[0]
    assert "rebind" not in caplog.text


def test_the_page_says_it_is_sealed() -> None:
    page = (STATIC / "index.html").read_text()

    assert "no real Slack, no credentials read, nothing leaves this machine, and only this page" in " ".join(
        page.split())


async def test_the_fake_slack_answers_only_requests_addressed_to_it(sandbox: Sandbox) -> None:
    """Its port is the sandbox's other door: a rebound name finds it refused too (and its token is no guess)."""
    fake = sandbox.fake
    post = {"channel": sandbox.workspace.general, "text": "pwned"}
    async with httpx.AsyncClient() as http:
        rebound = await http.post(f"{fake.api_url}chat.postMessage", json=post, headers={
            "Host": f"rebind.example:{fake.base_url.rsplit(':', 1)[1]}",
            "Authorization": f"Bearer {fake.bot_token}"})
        guessed = await http.post(f"{fake.api_url}chat.postMessage", json=post,
                                  headers={"Authorization": "Bearer xoxb-sandbox"})

    assert rebound.status_code == 421
    assert guessed.json() == {"ok": False, "error": "invalid_auth"}
    assert fake.messages_in(sandbox.workspace.general) == []
