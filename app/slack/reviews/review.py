"""The post-incident review in Slack: the form, the generated Markdown document uploaded to the
incident's channel, and the reminders to the IC while it is due."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from app.duework.attempt import Attempt
from app.duework.models import WorkKind
from app.duework.sweeper import Fired
from app.incidents import archiving, bookmarks, service
from app.incidents.errors import UsageError
from app.incidents.models import Incident
from app.reviews import action_items, meetings
from app.reviews import service as reviews
from app.reviews.document import people_in, review_document
from app.reviews.models import PostIncidentReview
from app.slack.toolkit import interactions
from app.slack.toolkit.acting import Acting, Actor
from app.slack.toolkit.calls import run_step, run_steps
from app.slack.toolkit.deps import Deps
from app.slack.toolkit.forms import form_metadata
from app.slack.toolkit.posting import post_once
from app.slack.toolkit.review_commands import SubmitReview

REVIEW_CALLBACK = "post_incident_review"
REQUIRED = ("users_affected", "failed_requests", "went_well", "could_improve", "lessons_learned")
OPTIONAL = ("revenue_impact",)


async def names_of(client: AsyncWebClient, user_ids: Iterable[str]) -> dict[str, str]:
    """People's names as Slack shows them (real name, else handle); anyone unknown is left out."""
    steps = await run_steps({user: client.users_info(user=user) for user in sorted(set(user_ids))})
    names = {}
    for user, response in steps.results.items():
        person = response["user"]
        names[user] = person.get("real_name") or person.get("profile", {}).get("real_name") or person["name"]
    return names


def review_form_metadata(channel_id: str | None, saved: PostIncidentReview | None) -> str:
    """Where the form was opened (its submitter is answered there: toolkit/forms.py FormMetadata), and which
    answers it showed (so submitting replaces exactly those)."""
    return form_metadata(channel=channel_id or "", seen=saved.answered_at.isoformat() if saved else None)


def read_review_form_metadata(metadata: str) -> datetime | None:
    """The answers' time that review_form_metadata wrote. A form opened before forms carried the time holds
    only its channel: it is taken as showing no answers, so it cannot overwrite any."""
    if not metadata.startswith("{"):
        return None
    try:
        data = json.loads(metadata)
        return datetime.fromisoformat(data["seen"]) if data.get("seen") else None
    except (ValueError, KeyError, TypeError, AttributeError):
        raise interactions.StaleInteraction() from None


def read_review_form(values: dict[str, dict[str, Any]]) -> SubmitReview:
    """The form's answers (see views.form_values); a required one left empty goes back to the form."""
    answers = values

    def answer(block: str) -> str:
        return interactions.typed(answers, block)

    problems = {block: "missing_text" for block in REQUIRED if not answer(block)}
    if problems:
        raise UsageError(subcommand="review", problems=problems)
    return SubmitReview(reviews.ReviewAnswers(
        users_affected=answer("users_affected"), failed_requests=answer("failed_requests"),
        revenue_impact=answer("revenue_impact") or None, went_well=answer("went_well"),
        could_improve=answer("could_improve"), lessons_learned=answer("lessons_learned")))


class Reviews:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.acting = Acting(deps)

    async def open_form(self, actor: Actor) -> None:
        """/incident review: the form, with whatever was answered before."""
        async with self.deps.db.transaction() as session:
            incident = await self.acting.incident_here(session, actor)
            reviews.require_resolved(incident)
            saved = await reviews.saved_review(session, incident)
        view = self.deps.messages.view("views/review.yml.j2", incident=incident, review=saved)
        view["callback_id"] = REVIEW_CALLBACK
        view["private_metadata"] = review_form_metadata(incident.channel_id, saved)
        await self.deps.client.views_open(trigger_id=actor.trigger_id, view=view)

    async def submit(self, command: SubmitReview, actor: Actor) -> None:
        """Store the answers, generate the document, keep it, then upload it to the channel."""
        now = self.deps.clock.now()
        async with self.deps.db.transaction() as session:
            incident = await self.acting.incident_here(session, actor)
            await reviews.answer_review(session, incident, command.answers, seen=command.seen, by=actor.user_id,
                                        now=now)
        incident, document = await self.document(incident.id, by=actor.user_id)
        filename = reviews.review_filename(incident)
        async with self.deps.db.transaction() as session:
            stored = await service.get_incident(session, incident.id)
            await reviews.publish_review(session, stored, document=document, filename=filename, by=actor.user_id,
                                         now=now)
            await archiving.plan_archive(session, stored, self.deps.policy.channel, now=now)
            bookmark = await bookmarks.plan_review_bookmark(session, stored, now=now)
        if bookmark:
            await self.deps.fire_now(incident.id, [WorkKind.BOOKMARK])
        if not incident.channel_id:
            return
        links = self.deps.links.reviews
        # A private incident's review is never served over HTTP (app/reviews/web.py), signed or not.
        url = links.url(incident.id, now) if links is not None and not incident.is_private else None
        comment = self.deps.messages.text("review_published.j2", incident=incident, actor=actor.user_id,
                                           review_url=url, public_url_set=bool(links and links.public_url))
        steps = await run_step("upload review", self.deps.client.files_upload_v2(
            channel=incident.channel_id, content=document, filename=filename,
            title=document.splitlines()[0].lstrip("# "), initial_comment=comment))
        await self.acting.record_failures(incident, steps.failures)
        if steps.failures:
            await actor.reply(self.deps.messages.render("steps_failed.j2", incident=incident,
                                                         failures=steps.failures))

    async def document(self, incident_id: int, *, by: str) -> tuple[Incident, str]:
        """The review as Markdown, from the plan's template and what is recorded now."""
        async with self.deps.db.transaction() as session:
            incident = await service.get_incident(session, incident_id)
            review = await reviews.saved_review(session, incident)
            events = await service.timeline(session, incident)
            items = await action_items.action_items(session, incident)
            meeting = await meetings.meeting_of(session, incident.id)
        assert review is not None
        names = await names_of(self.deps.client, people_in(incident, events, items, meeting) | {by})
        document = review_document(incident, review, events, items, names=names, by=by, now=self.deps.clock.now(),
                                   meeting=meeting, catalog=self.deps.policy.services)
        return incident, self.deps.messages.text("review.md.j2", doc=document) + "\n"

    async def refresh(self, incident_id: int) -> None:
        """Keep a published review's action items current (the served document follows; no new upload)."""
        async with self.deps.db.transaction() as session:
            review = await reviews.published_review(session, incident_id, private_too=True)
        if review is None:
            return
        _, document = await self.document(incident_id, by=review.published_by or review.answered_by)
        async with self.deps.db.transaction() as session:
            await reviews.keep_document(session, incident_id, document)


class ReviewReminders:
    """What a review row does when it falls due: remind the IC in the channel (guarded against repeats)."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.acting = Acting(deps)

    async def fire(self, attempt: Attempt, incident: Incident, now: datetime) -> Fired:
        work = attempt.work
        if not incident.channel_id:
            return Fired(outcome="skipped")
        who = incident.commander or incident.declared_by
        message = self.deps.messages.render(
            "review_reminder.j2", incident=incident, who=who, now=now,
            review_due_at=reviews.review_due_at(incident, self.deps.policy.followup.review),
            review_overdue=work.key == reviews.DEADLINE)
        if await post_once(self.deps.client, attempt, "post", incident.channel_id, message) is None:
            return Fired()  # the failure is on the attempt
        what = "is due now" if work.key == reviews.DEADLINE else "reminder"
        return Fired(events=[("review_reminder", f"Post-incident review {what}: told {who}")])

