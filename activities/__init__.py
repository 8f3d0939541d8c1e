"""Side effects of the ported workflows: the work their steps do (HTTP, databases, AI)."""
