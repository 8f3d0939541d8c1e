"""Side effects of the getting-started examples."""
