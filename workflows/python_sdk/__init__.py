"""Cloudflare's Python Workflows SDK examples, ported with only their import lines changed
(``from workers import ...`` becomes ``from adapter.workers import ...``)."""
