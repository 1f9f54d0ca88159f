"""The Slack adapter, one folder per feature a person sees, each with one `register(app, deps)` that adds its
listeners and returns the commands and kinds of due work it handles (toolkit/feature.py):

- `declaring/`: declaring an incident and setting it up in Slack
- `incident/`: the kickoff's buttons and forms, the commands that change an incident or say where it stands
- `clock/`: update reminders, paging, escalation, legal deadlines
- `timeline/`: :pushpin: and the "Add to incident timeline" shortcut
- `comms/`: stakeholder communications and Statuspage.io
- `reviews/`: the post-incident review, action items, the post-mortem meeting, trackers
- `closing/`: archiving, reopening, the review's bookmark
- `home/`: the App Home tab
- `insights/`: `/incident stats`
- `toolkit/`: what every feature uses (dependencies, acknowledgements, pacing, text, forms, posting once, ...)

`bootstrap.py` builds the dependencies and registers every feature; `app.py` is the Bolt app and its error
handling; `commands.py` is `/incident`, routed to the feature that declared each subcommand. Feature folders
import the toolkit, never each other (pyproject.toml's import-linter contracts, tests/test_architecture.py).
"""
