"""Waiting for people: approval with escalation, approval that is rejected automatically on
timeout, and approval by polling an approval system."""
