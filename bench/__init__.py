"""Benchmarks of tempflare against native temporalio; run them with ``bench/run.py``."""
