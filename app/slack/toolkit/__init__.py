"""What every Slack feature uses, and no feature owns:

- `deps.py` (the frozen dependencies), `feature.py` (the tables a feature returns), `acting.py` (the person who
  acted, the incident they mean, the one private answer), `who_acted.py` (that person resolved once per request,
  by a Bolt middleware: every listener's `actor`), `command_line.py` and `review_commands.py` (what
  people type after /incident), `summary.py` (the kickoff, topic and announcement every change updates)
- `acks.py` (Slack's answer first), `signatures.py` (requests verified at the door), `deliveries.py` (each
  event once), `pacing.py` (Slack's rate tiers), `startup.py` (start-up checks)
- `messages.py` (templates to Block Kit), `text.py`, `mentions.py`, `interactions.py` (what a button or form
  sends), `forms.py` (with what a form carries to answer whoever submits it), `people.py`
- `calls.py` (Slack calls as named steps), `posting.py` (a due-work post made once), `failures.py` (how a failed
  step failed), `due_work.py` (the one worker the sweeper calls), `bookmarks.py`
- `paging.py` (a page built and written down before it goes out, for the roles' pages and a service's
  on-call's), `owners.py` (a service's owning team read)
"""
