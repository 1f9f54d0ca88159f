"""Slack incident coordinator: makes the Incident Response Plan executable in Slack."""
