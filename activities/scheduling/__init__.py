"""Side effects of the scheduling examples."""
