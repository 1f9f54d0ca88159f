"""The incident domain: what an incident is and what people can do to it. Knows nothing of Slack."""
