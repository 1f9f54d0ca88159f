"""On-call: who is on call when (the roster) and how people are paged (pagers)."""
