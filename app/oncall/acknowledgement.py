"""Who may acknowledge a page, and what counts (playbooks/acknowledgement.yml).

The plan's reading, the default: acknowledging means "the person paged has it" (Phase 1: "Acknowledge
Alert — respond to the PagerDuty/Slack alert"), as in PagerDuty. The backup on-call exists for the page
nobody answers, so it is paged for a page still unacknowledged at the severity's response time.
"""

from __future__ import annotations

from typing import Literal

from app.policy_files import StrictModel


class AcknowledgementRules(StrictModel):
    # person_paged: only the one a page was for acknowledges it; person_paged_or_ic: the IC may too, on their behalf
    by: Literal["person_paged", "person_paged_or_ic"] = "person_paged"
    declaring_ic: bool = True  # a declarer who is the incident's IC has acknowledged by declaring
    pagerduty: bool = True  # PagerDuty's incident.acknowledged for one of our pages acknowledges it, as PagerDuty names
    status_update: bool = True  # a status update from someone paged acknowledges their page
