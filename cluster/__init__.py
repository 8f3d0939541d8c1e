"""A local production-shaped Temporal cluster: PostgreSQL, one process per service (local.py)."""
