"""Keeping secrets out of history: a step whose output is sensitive."""
