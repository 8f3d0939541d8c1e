"""The HTTP stand-in server of the tests; it lives in :mod:`activities._demo.http`, shared with
the main job's demo."""

from activities._demo.http import Fault, HTTPService, Reply, Request

__all__ = ["Fault", "HTTPService", "Reply", "Request"]
