"""Running an incident from Slack: the /incident commands that change it or say where it stands (update,
severity, role, note, resolve; status, list, on-call, help) and Acknowledge on the kickoff. One domain call,
one transaction, then the Slack calls that show it."""

from __future__ import annotations

from typing import Any

from slack_sdk.errors import SlackApiError

from app.duework import service as duework
from app.duework.models import WorkKind
from app.incidents import affected, deadlines, service
from app.incidents.errors import IncidentResolved, NoChange, NotPaged, UnknownUser
from app.incidents.models import Incident, Role
from app.oncall import pages
from app.slack.toolkit import command_line
from app.slack.toolkit.acting import Acting, Actor
from app.slack.toolkit.deps import Deps
from app.slack.toolkit.paging import acknowledged_page


class IncidentChanges:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.acting = Acting(deps)

    def commands(self) -> dict[type, Any]:
        """The /incident subcommands this feature carries out, by command type."""
        return {
            command_line.Help: self.help,
            command_line.ListOpen: self.list_open,
            command_line.ChangeServices: self.change_services,
            command_line.ShowStatus: self.status,
            command_line.Update: self.post_update,
            command_line.ChangeSeverity: self.change_severity,
            command_line.AssignRole: self.assign_role,
            command_line.Note: self.note,
            command_line.Resolve: self.resolve,
            command_line.OnCall: self.on_call,
        }

    # -- where it stands ----------------------------------------------------------------------

    async def help(self, command: command_line.Help, actor: Actor) -> None:
        await actor.reply(self.deps.messages.render("help.j2", plan=self.deps.policy,
                                                    subcommands=command_line.SUBCOMMANDS))

    async def list_open(self, command: command_line.ListOpen, actor: Actor) -> None:
        async with self.deps.db.transaction() as session:
            incidents = await service.open_incidents(session)
        if command.service is not None:
            incidents = [incident for incident in incidents if command.service in incident.service_keys]
        visible = await self.acting.visible_to(actor, incidents)
        await actor.reply(self.deps.messages.render("list.j2", incidents=visible, service=command.service))

    async def status(self, command: command_line.ShowStatus, actor: Actor) -> None:
        async with self.deps.db.transaction() as session:
            incident = await self.acting.incident_here(session, actor)
        await actor.reply(self.deps.messages.render("status.j2", **self.deps.summary.context(incident)))

    async def on_call(self, command: command_line.OnCall, actor: Actor) -> None:
        current, upcoming = self.deps.roster.now_and_next(self.deps.clock.now())
        await actor.reply(self.deps.messages.render("oncall.j2", current=current, upcoming=upcoming))

    # -- changing it --------------------------------------------------------------------------

    async def note(self, command: command_line.Note, actor: Actor) -> None:
        async with self.deps.db.transaction() as session:
            incident = await self.acting.incident_here(session, actor)
            service.add_note(session, incident, command.text, author=actor.user_id, now=self.deps.clock.now())
        await actor.reply(self.deps.messages.render("note_added.j2", incident=incident, note=command.text))

    async def post_update(self, command: command_line.Update, actor: Actor) -> None:
        async with self.deps.db.transaction() as session:
            incident = await self.acting.incident_here(session, actor)
            service.post_status_update(session, incident, command.update, author=actor.user_id,
                                       now=self.deps.clock.now())
            await deadlines.update_posted(session, incident, self.deps.policy, by=actor.user_id,
                                          now=self.deps.clock.now())
            answered_reminder, incident.reminder_ts = incident.reminder_ts, None
        post = self.deps.messages.render("status_update.j2",
                                         **self.deps.summary.context(incident, update=command.update))
        await self.acting.show_change(incident, actor, post,
                                      **self._settle_reminder(incident, answered_reminder, "reminder_answered.j2"))

    def _settle_reminder(self, incident: Incident, reminder_ts: str | None, template: str) -> dict[str, Any]:
        """The live update reminder edited to say it was answered (or that no more will come), its buttons gone."""
        if not (reminder_ts and incident.channel_id):
            return {}
        settled = self.deps.messages.render(template, **self.deps.summary.context(incident))
        return {"settle reminder": self.deps.client.chat_update(channel=incident.channel_id, ts=reminder_ts,
                                                                 **settled.as_kwargs())}

    async def change_services(self, command: command_line.ChangeServices, actor: Actor) -> None:
        async with self.deps.db.transaction() as session:
            incident = await self.acting.incident_here(session, actor)
            if command.add:
                changed = await affected.add_services(session, incident, command.keys, by=actor.user_id,
                                                      now=self.deps.clock.now(),
                                                      rules=self.deps.policy.for_severity(incident.severity))
            else:
                changed = await affected.remove_services(session, incident, command.keys, by=actor.user_id,
                                                         now=self.deps.clock.now())
        post = self.deps.messages.render("services_changed.j2", **self.deps.summary.context(
            incident, services_added=changed if command.add else [], services_removed=[] if command.add else changed,
            actor=actor.user_id))
        await self.acting.show_change(incident, actor, post)
        # Their owning teams invited, their on-call paged
        await self.deps.fire_now(incident.id, [WorkKind.SERVICE_OWNERS, WorkKind.SERVICE_PAGE])

    async def change_severity(self, command: command_line.ChangeSeverity, actor: Actor) -> None:
        async with self.deps.db.transaction() as session:
            incident = await self.acting.incident_here(session, actor)
            previous = await service.change_severity(session, incident, command.severity, actor=actor.user_id,
                                                     now=self.deps.clock.now())
            await deadlines.plan_clock(session, incident, self.deps.policy, now=self.deps.clock.now(),
                                       page=command.severity < previous)
        post = self.deps.messages.render("severity_changed.j2", **self.deps.summary.context(
            incident, previous_severity=previous, actor=actor.user_id))
        await self.acting.show_change(incident, actor, post)

    async def assign_role(self, command: command_line.AssignRole, actor: Actor) -> None:
        async with self.deps.db.transaction() as session:
            incident = await self.acting.incident_here(session, actor)
        await self._check_person(command.user_id, command.role)
        async with self.deps.db.transaction() as session:
            incident = await self.acting.incident_here(session, actor)
            previous = await service.hand_over_role(session, incident, command.role, command.user_id,
                                                    actor=actor.user_id, now=self.deps.clock.now())
            if command.role is Role.IC and command.user_id == actor.user_id:
                await deadlines.acknowledge(session, incident, by=actor.user_id, now=self.deps.clock.now(),
                                            how="took the IC role")
            # The invitation and the duties DM are due work: a Slack outage delays them, never loses them.
            await duework.plan(session, incident.id, WorkKind.ROLE_DUTIES, self.deps.clock.now(),
                               now=self.deps.clock.now(),
                               key=f"{command.role.value}:{command.user_id}",
                               payload={"role": command.role.value, "holder": command.user_id,
                                        "previous": previous, "actor": actor.user_id})
        context = self.deps.summary.context(incident, role=self.deps.policy.roles[command.role], holder=command.user_id,
                                        previous_holder=previous, actor=actor.user_id)
        await self.acting.show_change(incident, actor, self.deps.messages.render("role_assigned.j2", **context))
        await self.deps.fire_now(incident.id, [WorkKind.ROLE_DUTIES])

    async def resolve(self, command: command_line.Resolve, actor: Actor) -> None:
        async with self.deps.db.transaction() as session:
            incident = await self.acting.incident_here(session, actor)
            await service.resolve_incident(session, incident, root_cause=command.root_cause,
                                           resolution=command.resolution, actor=actor.user_id,
                                           now=self.deps.clock.now())
            await deadlines.stop_clock(session, incident, self.deps.policy, now=self.deps.clock.now())
            live_reminder, incident.reminder_ts = incident.reminder_ts, None
        resolved = self.deps.messages.render("resolved.j2", **self.deps.summary.context(incident))
        await self.acting.show_change(incident, actor, resolved,
                                      **self._settle_reminder(incident, live_reminder, "reminder_closed.j2"))

    async def acknowledge(self, actor: Actor) -> None:
        """Acknowledge pressed, on the page's DM or the kickoff: the person paged has it
        (playbooks/acknowledgement.yml). The IC acknowledges an incident nobody was paged for, as before."""
        rules = self.deps.policy.acknowledgement
        now = self.deps.clock.now()
        async with self.deps.db.transaction() as session:
            incident = await self.acting.incident_here(session, actor)
            if incident.is_resolved:
                raise IncidentResolved(title=incident.title, resolved_at=incident.resolved_at)
            acknowledged = await deadlines.acknowledge_page(session, incident, rules, by=actor.user_id, now=now,
                                                            how="pressed Acknowledge")
            if not acknowledged:
                sent = await pages.pages_of(session, incident.id)
                if any(page.recipient == actor.user_id for page in sent) or (
                        incident.commander == actor.user_id and incident.is_acknowledged):
                    await session.refresh(incident)  # whoever was first may have committed since it was read
                    raise NoChange(reason="already_acknowledged", by=incident.acknowledged_by,
                                   at=incident.acknowledged_at)
                if incident.commander != actor.user_id or sent:
                    raise NotPaged(pages=list(dict.fromkeys(page.recipient for page in sent
                                                            if not page.is_acknowledged and page.recipient)))
                await deadlines.acknowledge(session, incident, by=actor.user_id, now=now,
                                            how="pressed Acknowledge", refuse=True)
        await self.acting.show_change(incident, actor, self.deps.messages.render(
            "acknowledged.j2", **self.deps.summary.context(incident, actor=actor.user_id, acknowledged_pages=[
                acknowledged_page(page) for page in acknowledged])))

    async def _check_person(self, user_id: str, role: Role) -> None:
        """A role goes to a real, active person in this workspace."""
        try:
            response = await self.deps.client.users_info(user=user_id)
        except SlackApiError as error:
            if error.response.get("error") in ("user_not_found", "users_not_found"):
                raise UnknownUser(user=user_id, role=role.value, inactive=False) from None
            raise
        person = response["user"]
        if person.get("deleted") or person.get("is_bot"):
            raise UnknownUser(user=user_id, role=role.value, inactive=True)
