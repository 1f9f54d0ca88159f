"""Deliveries from outside (Slack's Events API) that must take effect once, however often they arrive."""
