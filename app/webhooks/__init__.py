"""Webhooks from the world outside Slack (monitoring tools, trackers): reading what arrives without trusting
it, and taking each delivery once, across replicas and restarts. Knows nothing of Slack."""
