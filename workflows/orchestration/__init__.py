"""Several steps or workflows at once: parallel and sequential fan-out, a race, and parent
workflows that wait for their child or leave it running."""
