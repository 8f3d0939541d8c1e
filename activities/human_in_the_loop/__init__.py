"""Side effects of the human-in-the-loop examples."""
