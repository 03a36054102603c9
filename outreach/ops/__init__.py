"""Running it: health and readiness, Prometheus metrics, JSON logs with request ids, the trusted proxies,
fingerprinted static files, the scheduler's heartbeat, and backups (``flask --app outreach ops``)."""
