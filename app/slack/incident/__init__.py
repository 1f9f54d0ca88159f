"""Running an incident once it is declared: the kickoff's buttons and forms, the /incident commands that
change it or say where it stands, the playbook's checklist, someone given a role, someone joining its channel.

- `changes.py`: update, severity, role, note, resolve, acknowledge; status, list, on-call, help
- `kickoff.py` and `forms.py`: the kickoff's buttons and the forms they open
- `checklist.py`: `/incident checklist` and the checklist's ticks
- `role_duties.py`: a new role holder invited and sent their duties (due work)
- `newcomers.py`: a private summary for someone who joins the channel
"""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from app.duework.models import WorkKind
from app.slack.incident import kickoff, newcomers
from app.slack.incident.changes import IncidentChanges
from app.slack.incident.checklist import Checklists
from app.slack.incident.role_duties import RoleDuties
from app.slack.toolkit import command_line
from app.slack.toolkit.deps import Deps
from app.slack.toolkit.feature import Feature


def register(app: AsyncApp, deps: Deps) -> Feature:
    changes = IncidentChanges(deps)
    kickoff.register(app, deps, changes)
    checklists = Checklists(deps)
    checklists.register(app)
    newcomers.register(app, deps)
    return Feature(
        commands={**changes.commands(),
                  command_line.ShowChecklist: lambda command, actor: checklists.show(actor)},
        due_work={WorkKind.ROLE_DUTIES: RoleDuties(deps).fire})
