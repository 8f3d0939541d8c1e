"""Steps that are safe to run more than once: idempotency keys for a payment, an upsert for an
order."""
