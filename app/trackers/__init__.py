"""Action items filed in an issue tracker (Jira, GitHub Issues), and kept in step with it."""
