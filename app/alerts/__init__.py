"""Alerts in: monitoring tools (Sentry, Alertmanager and what speaks its webhook, PagerDuty) POST their
alerts; routing rules in playbooks/alerts.yml turn a new one into an incident, and one whose fingerprint
has an open incident goes on that incident's timeline. Knows nothing of Slack."""
