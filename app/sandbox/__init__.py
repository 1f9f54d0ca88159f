"""The sandbox: the bot against a fake Slack workspace, shown as a small Slack in the browser."""
