"""Time: sleeping for days before a follow-up, and a cron schedule that starts a workflow every
day."""
