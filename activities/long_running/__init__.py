"""Side effects of the long-running examples."""
