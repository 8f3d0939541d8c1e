"""Side effects of the observability example: an Analytics Engine stand-in in D1."""
