"""Production operations: health checks, request logging, shared rate limits and cache, backups."""
