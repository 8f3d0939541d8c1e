"""The first examples: a starter workflow, two steps passing data, env bindings (D1, KV, AI), and
an HTTP front door that creates instances."""
