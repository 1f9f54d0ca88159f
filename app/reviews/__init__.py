"""Phase 4 of the plan: the post-incident review and its action items. Imports nothing from Slack."""
