"""Detection: health URLs probed on a schedule; after N consecutive failures an incident is declared
(once, while it is open). Configured in playbooks/detection.yml; knows nothing of Slack."""
