"""Pure types and rules every side shares: errors, statuses, durations, step config, validation,
result encoding, history naming. No Temporal calls and no I/O; imports nothing else in adapter."""
