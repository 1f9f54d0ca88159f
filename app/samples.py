"""A complete sample incident for checking every template at start-up (StrictUndefined catches typos)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from app.alerts.alert import Alert, AlertStatus
from app.comms.samples import sample_comms
from app.duework.attempt import Problem, StepFailed
from app.duework.models import DueWork, WorkKind
from app.incidents.errors import UsageError
from app.incidents.models import AffectedService, ChecklistItem, Incident, Role, RoleAssignment, Severity, Status
from app.incidents.playbooks import ComplianceClock, Playbook
from app.incidents.policy import Policy
from app.incidents.service import StatusUpdate
from app.insights.samples import insights_samples
from app.oncall.pagers import Page
from app.oncall.roster import Shift
from app.reviews.models import ActionItem, ActionStatus, Priority
from app.reviews.samples import review_samples
from app.sandbox.drills.report import sample_drill_report
from app.slack.timeline.pins import ChosenMessage
from app.slack.toolkit.calls import StepFailure
from app.slack.toolkit.command_line import SUBCOMMANDS, Declare
from app.slack.toolkit.owners import Owners
from app.slack.toolkit.people import Group


def started_sample() -> datetime:
    return datetime(2025, 10, 24, 14, 30, tzinfo=UTC)


def sample_incident() -> Incident:
    started = datetime(2025, 10, 24, 14, 30, tzinfo=UTC)
    incident = Incident(
        id=42, kind="outage", is_private=False, title="Complete API Outage", severity=Severity.P0,
        status=Status.RESOLVED,
        impact="All API endpoints returning 503", declared_by="U0SAMPLE1", started_at=started,
        resolved_at=started + timedelta(minutes=45), last_update_at=started + timedelta(minutes=30),
        latest_update="Database connection pool exhausted", root_cause="Database connection pool exhaustion",
        resolution="Increased pool size from 10 to 50 connections", channel_id="C0SAMPLE1",
        channel_name="incident-20251024-1430", kickoff_ts="1.1", announcement_channel_id="C0SAMPLE2",
        announcement_ts="1.2", roles=[],
    )
    incident.roles = [RoleAssignment(role=Role.IC, user_id="U0SAMPLE1", assigned_at=started),
                      RoleAssignment(role=Role.TECH, user_id="U0SAMPLE2", assigned_at=started)]
    # One the catalog may have, and one it has not (a service removed from playbooks/services.yml).
    incident.services = [AffectedService(incident_id=42, service="api", named_at=started, named_by="U0SAMPLE1"),
                         AffectedService(incident_id=42, service="retired-service", named_at=started, named_by=None)]
    return incident


SAMPLE_PLAYBOOK = Playbook(
    key="outage", name="Complete Service Outage", default_severity=Severity.P0, private=False,
    roles=(Role.IC, Role.TECH), symptoms=("Health check failing",), immediate_actions=("Check recent deployments",),
    resolution_steps=("Roll back",), communication=("Update status page immediately",),
    compliance=(ComplianceClock(key="gdpr", name="Notify the supervisory authority (GDPR)",
                                within=timedelta(hours=72), remind_before=(timedelta(hours=24),)),),
)


def sample_context(policy: Policy) -> dict[str, Any]:
    incident = sample_incident()
    # The union of every error's details, so each error template can be checked with one context.
    error = UsageError(subcommand="declare", problem="bad_severity", given="P9", limit=200, title=incident.title,
                       resolved_at=incident.resolved_at, commander="U0SAMPLE1",
                       user="U0SAMPLE3", role="tech", inactive=False, reason="same_severity", severity="P0",
                       problems={"title": "missing_title"}, kinds=["outage"], deadlines=["gdpr"],
                       deadline="Notify the supervisory authority (GDPR)", what="acknowledged", by="U0SAMPLE2",
                       at=incident.started_at, holder="U0SAMPLE2", text="Roll back", number=3,
                       windows=["30d", "90d"], default="30d", channel="C0SAMPLE1", pages=["U0SAMPLE2"],
                       subject="Service Disruption - AgentGuard API", body="We are investigating an issue.")
    return {
        "incident": incident,
        "incidents": [incident],
        "drill": sample_drill_report(),
        "policy": policy.for_severity(incident.severity),
        "plan": policy,
        "severities": list(Severity),
        "roles": policy.roles,
        "catalog": policy.services,
        "service": "api",
        "services_added": ["api"],
        "services_removed": ["retired-service"],
        "role": policy.roles[Role.TECH],
        "holder": "U0SAMPLE2",
        "previous_severity": Severity.P1,
        "previous_holder": "U0SAMPLE3",
        "failure": "ratelimited",
        "actor": "U0SAMPLE1",
        "answered": "U0SAMPLE1",  # declared.j2: whoever declared or reopened it
        "reopened": False,
        "update": StatusUpdate(Status.IDENTIFIED, "Database connection pool exhausted",
                               "Increasing pool size and restarting", "15 minutes"),
        "note": "Rolled back deploy 1234",
        "author": "U0SAMPLE2",
        "link": "https://example.slack.com/archives/C0SAMPLE1/p1700000000000100",
        "command": Declare(severity=Severity.P0, title="Complete API Outage"),
        "failures": [StepFailure("invite", "ratelimited"),
                     StepFailed("read group management", Problem("plan_upgrade_required", transient=False))],
        "owners": [Owners("api", members=["U0SAMPLE2", "U0SAMPLE3"]),
                   Owners("stripe", missing="plan_upgrade_required"), Owners("postgres", missing="private")],
        "group": Group("management", mention_id="S0SAMPLE1", members=["U0SAMPLE4"]),
        "configured": "oncall@example.com",
        "retrying": True,
        "work": DueWork(id=7, incident_id=42, kind=WorkKind.ESCALATION, key="management", due_at=started_sample(),
                        created_at=started_sample(), attempts=7),
        "error": error,
        "alert": Alert(source="alertmanager", fingerprint='{}:{alertname="APIDown"}', status=AlertStatus.FIRING,
                       summary="The AgentGuard API is not answering", fields={"alertname": "APIDown"},
                       url="http://prometheus.internal:9090/graph?g0.expr=up", severity="critical"),
        "how": "grouped",  # alert_line.txt.j2
        "rule": "critical-infrastructure",
        "group_key": "alertname=APIDown",
        "details": error.details,
        "subcommands": SUBCOMMANDS,
        "problem": "missing_title",
        "reference": "abc12345",
        "what": "update",
        "playbook": SAMPLE_PLAYBOOK,
        "kinds": ["outage", "data-breach"],
        "items": [ChecklistItem(id=1, incident_id=42, position=1, section="immediate", text="Check recent deployments",
                                done_at=incident.started_at, done_by="U0SAMPLE1"),
                  ChecklistItem(id=2, incident_id=42, position=2, section="resolution", text="Roll back",
                                done_at=None, done_by=None)],
        "clock": SAMPLE_PLAYBOOK.compliance[0],
        "due": incident.started_at + timedelta(hours=72),
        "overdue": False,
        "now": incident.started_at + timedelta(hours=1),
        "who": "U0SAMPLE1",
        "until": incident.started_at + timedelta(minutes=45),
        "archive_at": incident.started_at + timedelta(days=7),
        "added": True,
        "open_count": 41,
        "mine": [(incident, ["Incident Commander"])],
        "mine_count": 21,
        "owned": [(incident, ["AgentGuard API"])],  # the Home tab: my team's services' incidents
        "owned_count": 11,
        "my_items": [(ActionItem(id=1, incident_id=42, number=1, text="Canary config changes", owner="U0SAMPLE1",
                                 priority=Priority.P1, due_on=date(2025, 11, 1), status=ActionStatus.OPEN,
                                 created_by="U0SAMPLE1", created_at=started_sample()), incident)],
        "my_items_count": 21,
        "message": ChosenMessage(channel="C0SAMPLE3", ts="1700000000.000100", author="U0SAMPLE2",
                                 text="Rolling back the config now",
                                 link="https://example.slack.com/archives/C0SAMPLE3/p1700000000000100"),
        "managers": ["U0SAMPLE4"],
        "backup": "U0SAMPLE5",
        "response_time": timedelta(minutes=15),
        "unanswered": [{"who": "U0SAMPLE2", "service": None, "roles": ["ic", "tech"], "for_service": None,
                        "sent_at": started_sample()},
                       {"who": None, "service": "agentguard-tech", "roles": ["tech"], "for_service": None,
                        "sent_at": started_sample()},
                       {"who": "U0SAMPLE3", "service": None, "roles": [""], "for_service": "api",
                        "sent_at": started_sample()}],
        "acknowledged_pages": [{"who": "U0SAMPLE2", "roles": ["ic", "tech"], "via": "slack", "how": "page button",
                                "for_service": None},
                               {"who": "U0SAMPLE2", "roles": [""], "via": "slack", "how": "page button",
                                "for_service": "api"}],
        "for_service": "api",  # a service's on-call's page (service_page.txt.j2, ack_missed.j2)
        "not_paged": None,
        "page": Page(incident_id=42, severity="P0", title=incident.title, summary="summary",
                     reason="P0 declared", people=("U0SAMPLE2",), channel_id="C0SAMPLE1"),
        "current": Shift(primary="U0SAMPLE1", backup="oncall@example.com", starts=incident.started_at,
                         ends=incident.started_at + timedelta(days=7)),
        "upcoming": Shift(primary=None, backup=None, starts=incident.started_at + timedelta(days=7),
                          ends=incident.started_at + timedelta(days=14)),
        **sample_comms(incident),
        **review_samples(incident, policy.followup),
        **insights_samples(incident, policy.insights),
    }
