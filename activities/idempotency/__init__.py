"""Side effects of the idempotency examples: a payment gateway charge with an idempotency key, an
order upsert."""
