"""Side effects of the orchestration examples."""
