"""Side effects of the security examples."""
