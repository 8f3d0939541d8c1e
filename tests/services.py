"""The HTTP stand-in server of the tests; it lives in :mod:`activities.demo_http`, shared with
the main job's demo."""

from activities.demo_http import Fault, HTTPService, Reply, Request

__all__ = ["Fault", "HTTPService", "Reply", "Request"]
