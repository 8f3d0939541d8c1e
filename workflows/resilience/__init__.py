"""Error handling: retrying by error category, a circuit breaker, falling back to defaults or to a
second service, partial failures, and a saga whose rollbacks undo completed steps."""
