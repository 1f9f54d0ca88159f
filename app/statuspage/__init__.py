"""Status pages: the bot's own public page (/status, page.py) and the hosted one approved updates are also
published to (the `HostedStatusPage` protocol, hosted.py; Statuspage.io, chosen by connect.py)."""
