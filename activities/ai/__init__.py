"""Side effects of the AI examples: model calls through the ``AI`` binding, repositories,
notifications."""
