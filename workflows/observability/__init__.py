"""Structured logging and metrics around a workflow's steps."""
