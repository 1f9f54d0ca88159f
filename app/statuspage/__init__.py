"""Status pages: the bot's own public page (/status) and Statuspage.io."""
