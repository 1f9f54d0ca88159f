"""The Slack adapter: listeners, Block Kit messages and the calls that keep Slack in step with incidents."""
