"""Side effects of the ported workflows: the work their steps do (HTTP calls, database writes, AI)."""
