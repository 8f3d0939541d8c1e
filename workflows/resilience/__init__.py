"""Error handling: retrying by error category, a circuit breaker, falling back to defaults or to a
second service, and partial failures."""
