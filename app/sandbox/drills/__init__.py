"""Drills: a scripted incident played in the sandbox, with the policy's durations compressed, and a report."""
