"""Due work: every reminder, escalation and page is a row with a due time, swept by each replica.

The database is the source of truth, so restarts lose nothing and several replicas share the
work: on PostgreSQL a sweep claims rows with SELECT ... FOR UPDATE SKIP LOCKED.
"""
