"""Sample figures for checking the insights templates at start-up (nothing is drawn: see Charts' `draw`)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from markupsafe import Markup

from app.incidents.models import Incident, Severity
from app.insights.charts import Charts
from app.insights.figures import FollowUps, Insights, Nagging, ResponseTimes, Week, monday
from app.insights.policy import InsightsRules, Window
from app.slack.toolkit.messages import duration


def insights_samples(incident: Incident, rules: InsightsRules) -> dict[str, Any]:
    window = Window("30d", timedelta(days=30))
    until = incident.started_at + timedelta(days=2)
    times = ResponseTimes(incidents=3, acknowledged=3, resolved=2, mtta=timedelta(minutes=7),
                          mttr=timedelta(hours=2))
    figures = Insights(
        window=window, since=until - window.span, until=until, overall=times,
        by_severity=[ResponseTimes(severity=s, **_counts(times)) for s in Severity],
        by_type=[ResponseTimes(kind="outage", **_counts(times)), ResponseTimes(private=True, incidents=1),
                 ResponseTimes(kind=None, incidents=1, acknowledged=1, mtta=timedelta(minutes=3))],
        weeks=[Week(monday(until.date()), {s: 1 for s in Severity})],
        nagging=[Nagging(s, reminders=2, incidents_reminded=1, escalations=1, backup_pages=1) for s in Severity],
        nagging_overall=Nagging(None, reminders=8, incidents_reminded=4, escalations=4, backup_pages=4),
        follow_ups=FollowUps(total=4, done=1, open=3, overdue=1),
        by_service=[ResponseTimes(service="api", service_name="AgentGuard API", **_counts(times)),
                    ResponseTimes(service="retired-service", incidents=1)],
        by_team=[ResponseTimes(team="engineering", **_counts(times))],
    )
    return {
        "insights": figures,
        "charts": Charts(figures, say_duration=duration, draw=lambda name, title, paint: Markup("<svg></svg>")),
        "insights_url": "https://incidents.example.com/insights?window=30d&expires=1767225600&sig=ab12",
        "other_windows": {"90d": "/insights?window=90d&expires=1767225600&sig=cd34"},
        "expires": until + rules.link_valid,
        "link_valid": rules.link_valid,
        "windows": list(rules.windows),
    }


def _counts(times: ResponseTimes) -> dict[str, Any]:
    return {"incidents": times.incidents, "acknowledged": times.acknowledged, "resolved": times.resolved,
            "mtta": times.mtta, "mttr": times.mttr}
