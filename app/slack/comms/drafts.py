"""Stakeholder communications in Slack: `/incident comms` drafts the plan's template in the incident
channel with Edit and Approve; approval by the Communications Lead or the IC publishes it (status page,
e-mail posted for sending, internal message). Nothing leaves before approval."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from jinja2 import Environment, StrictUndefined

from app.comms import drafts
from app.comms import service as comms
from app.comms.models import Audience, CommsDraft, Phase
from app.duework import service as duework
from app.duework.models import WorkKind
from app.incidents import service
from app.incidents.models import Incident
from app.slack.toolkit import command_line
from app.slack.toolkit.acting import Acting, Actor
from app.slack.toolkit.calls import StepFailure, run_step, run_steps
from app.slack.toolkit.deps import Deps
from app.slack.toolkit.forms import form_metadata
from app.slack.toolkit.messages import Message, Messages
from app.template_cache import compiled

EDIT_CALLBACK = "edit_comms_draft"


def plain_text_environment(messages: Messages) -> Environment:
    """The same templates and filters without Slack's escaping: e-mails and status pages leave Slack."""
    env = Environment(loader=messages.env.loader, undefined=StrictUndefined, trim_blocks=True,
                      lstrip_blocks=True, autoescape=False, finalize=lambda value: "" if value is None else value,
                      bytecode_cache=compiled("plain"))
    env.filters.update(messages.env.filters)
    env.globals.update(messages.env.globals)
    return env


class CommsDrafts:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.acting = Acting(deps)
        self.statuspage = deps.integrations.statuspage
        self.plain = plain_text_environment(deps.messages)

    # -- drafting and editing -----------------------------------------------------------------

    def write(self, incident: Incident, audience: Audience, phase: Phase) -> tuple[str | None, str]:
        """The plan's template for this audience and phase, filled in: (subject for e-mails, body)."""
        name = drafts.template_for(audience, phase)
        context = self.deps.summary.context(incident, update=drafts.latest_update(incident))
        if audience is Audience.INTERNAL:
            return None, self.deps.messages.text(name, **context)
        module = self.plain.get_template(name).make_module(context)
        return getattr(module, "subject", None), str(module).strip()

    def draft_message(self, incident: Incident, draft: CommsDraft) -> Message:
        return self.deps.messages.render("comms/draft.j2", incident=incident, draft=draft)

    async def draft(self, command: command_line.DraftComms, actor: Actor) -> None:
        """Draft the template that fits the incident now and post it in its channel for approval."""
        deps = self.deps
        async with deps.db.transaction() as session:
            incident = await service.incident_in_channel(session, actor.channel_id or "")
            comms.check_audience(incident, command.audience)
            phase = drafts.phase_for(incident, command.audience)
            subject, body = self.write(incident, command.audience, phase)
            draft = await comms.create_draft(session, incident, audience=command.audience, phase=phase,
                                             subject=subject, body=body, by=actor.user_id, now=deps.clock.now())
        steps = await run_step("post draft", deps.summary.post(incident.channel_id or "",
                                                                 self.draft_message(incident, draft)))
        posted = steps.ok("post draft")
        if posted:
            async with deps.db.transaction() as session:
                (await comms.get_draft(session, draft.id)).message_ts = posted["ts"]
        await self._report(incident, actor, steps.failures)

    async def open_editor(self, actor: Actor, draft_id: int, trigger_id: str) -> None:
        async with self.deps.db.transaction() as session:
            draft = await comms.get_draft(session, draft_id)
            incident = await service.get_incident(session, draft.incident_id)
        comms.refuse_approved(draft)
        comms.check_editor(incident, actor.user_id)
        view = self.deps.messages.view("views/comms_edit.yml.j2", draft=draft, incident=incident)
        view["callback_id"] = EDIT_CALLBACK
        # The draft's last edit as the form shows it: saving replaces exactly those words, or nothing.
        view["private_metadata"] = form_metadata(channel=incident.channel_id, draft=draft.id,
                                                 edited_at=draft.edited_at.isoformat() if draft.edited_at else None)
        await self.deps.client.views_open(trigger_id=trigger_id, view=view)

    async def save_edit(self, actor: Actor, draft_id: int, *, seen_edit: datetime | None, subject: str | None,
                        body: str) -> None:
        """The edit form was submitted: new words for the draft, shown in place of the old ones."""
        async with self.deps.db.transaction() as session:
            draft = await comms.get_draft(session, draft_id)
            incident = await service.get_incident(session, draft.incident_id)
            await comms.edit_draft(session, incident, draft, seen_edit=seen_edit, subject=subject, body=body,
                                   by=actor.user_id, now=self.deps.clock.now())
        await self._refresh_draft(incident, draft, actor)

    # -- approving and publishing -------------------------------------------------------------

    async def approve(self, actor: Actor, draft_id: int, *, seen_edit: datetime | None) -> None:
        """Approval by the Communications Lead or the IC publishes the draft where its audience reads it, in
        the words the Approve button was shown with (`seen_edit`: the draft's last edit then), or nothing."""
        deps = self.deps
        async with deps.db.transaction() as session:
            draft = await comms.get_draft(session, draft_id)
            incident = await service.get_incident(session, draft.incident_id)
            now = deps.clock.now()
            await comms.approve_draft(session, incident, draft, seen_edit=seen_edit, by=actor.user_id, now=now)
            to_statuspage = draft.audience is Audience.STATUSPAGE and self.statuspage is not None
            if to_statuspage:
                # Durable: published by due work, retried while Statuspage.io is down, never lost.
                await duework.plan(session, incident.id, WorkKind.STATUSPAGE_PUBLISH, now, now=now, key=str(draft.id),
                                   payload={"approver": actor.user_id})
        calls: dict[str, Any] = {}
        if draft.audience is Audience.EMAIL and incident.channel_id:
            calls["post e-mail for sending"] = deps.summary.post(
                incident.channel_id, deps.messages.render("comms/email_approved.j2", incident=incident, draft=draft))
        elif draft.audience is Audience.INTERNAL:
            calls["post internal message"] = self._post_internal(incident, draft)
        await self._refresh_draft(incident, draft, actor, **calls)
        if to_statuspage:
            await deps.fire_now(incident.id, [WorkKind.STATUSPAGE_PUBLISH])

    def _post_internal(self, incident: Incident, draft: CommsDraft) -> Any:
        """Under the incident's announcement for everyone following incidents; a private incident's
        words stay in its own channel."""
        message = self.deps.messages.render("comms/internal_published.j2", incident=incident, draft=draft)
        if not incident.is_private and incident.announcement_channel_id and incident.announcement_ts:
            return self.deps.client.chat_postMessage(
                channel=incident.announcement_channel_id, thread_ts=incident.announcement_ts, unfurl_links=False,
                **message.as_kwargs())
        return self.deps.summary.post(incident.channel_id, message) if incident.channel_id else None

    # -- showing it ---------------------------------------------------------------------------

    async def _refresh_draft(self, incident: Incident, draft: CommsDraft, actor: Actor, **more: Any) -> None:
        """Show the draft's current words and state in place of the posted ones, with any other calls."""
        calls: dict[str, Any] = dict(more)
        if incident.channel_id and draft.message_ts:
            calls["update draft"] = self.deps.client.chat_update(
                channel=incident.channel_id, ts=draft.message_ts, **self.draft_message(incident, draft).as_kwargs())
        steps = await run_steps(calls)
        await self._report(incident, actor, steps.failures)

    async def _report(self, incident: Incident, actor: Actor, failures: list[StepFailure]) -> None:
        if failures:
            await self._record(incident, [("slack_step_failed", f"{f.step}: {f.error}") for f in failures])
            await actor.reply(self.deps.messages.render("steps_failed.j2", incident=incident, failures=failures))

    async def _record(self, incident: Incident, events: list[tuple[str, str]]) -> None:
        async with self.deps.db.transaction() as session:
            stored = await service.get_incident(session, incident.id)
            for kind, text in events:
                service.record(session, stored, kind=kind, actor=None, now=self.deps.clock.now(), text=text)
