"""Background jobs on Huey: SQLite queue in instance/ by default, Redis when REDIS_URL is set."""
