"""Side effects of the resilience examples."""
