"""Stand-ins for the external services of seed 000, as real HTTP servers on 127.0.0.1.

Each fake is an :class:`~activities._demo.http.HTTPService` with the seed's routes and knobs for
the branches the tests need:

* :class:`PaymentGateway` (``POST /charge``): charges once per ``Idempotency-Key`` and answers a
  repeated key with the original transaction; can decline orders, or charge and then fail or
  answer late (the failures idempotency keys exist for).
* :class:`ApiService` (``GET /data``, ``GET /users/<id>/preferences``).
* :class:`ExternalApi` (``GET /data``), the service behind the circuit breaker.
* :class:`JobProcessor` (``POST /jobs``, ``GET /jobs/<id>/status``): follows a script of states.
* :class:`Notifier` (``POST /notify``): the approval notification webhook.

:class:`SharedServices` starts all five. The main job's demo env
(:func:`workflows._shared_env.make_demo_env`) and the seed 000 tests use them; a production
worker never does::

    with SharedServices() as services:
        env = services.build_env(client=client, task_queue="shared", data_dir="data")
"""

from __future__ import annotations

import itertools
import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .http import HTTPService, Reply, Request

if TYPE_CHECKING:
    from temporalio.client import Client

    from workflows._shared_env import SharedEnv


class PaymentGateway(HTTPService):
    """``POST /charge`` with ``Idempotency-Key``: one charge per key.

    Attributes:
        charges: idempotency key -> the charge result (``transactionId``, ``status``...).
        declined_orders: order ids whose charge is refused with 402.
    """

    def __init__(self) -> None:
        super().__init__("payment-gateway")
        self.charges: dict[str, dict[str, Any]] = {}
        self.declined_orders: set[str] = set()
        self._fail_after_charge = 0
        self._late_after_charge: list[float] = []
        self._ids = itertools.count(1)
        self._charge_lock = threading.Lock()
        self.route("POST", "/charge", self._charge)

    def fail_after_charge(self, times: int = 1) -> None:
        """The next ``times`` charges are made, then answered with a 500 (lost response)."""
        self._fail_after_charge += times

    def answer_late_after_charge(self, seconds: float) -> None:
        """The next charge is made, then answered only after ``seconds``."""
        self._late_after_charge.append(seconds)

    def _charge(self, request: Request) -> Reply:
        key = request.header("Idempotency-Key")
        body = request.json() or {}
        if not key:
            return Reply(400, {"error": "Idempotency-Key header required"})
        if body.get("orderId") in self.declined_orders:
            return Reply(402, {"status": "declined", "error": "card_declined"})
        with self._charge_lock:
            result = self.charges.get(key)
            if result is None:
                result = {
                    "transactionId": f"TXN-{next(self._ids)}",
                    "status": "success",
                    "orderId": body.get("orderId"),
                    "amount": body.get("amount"),
                }
                self.charges[key] = result
            if self._fail_after_charge:
                self._fail_after_charge -= 1
                return Reply(500, {"error": "internal error after charge"})
            delay = self._late_after_charge.pop(0) if self._late_after_charge else 0.0
        return Reply(200, result, delay=delay)


class ApiService(HTTPService):
    """``api.example.com``: ``GET /data`` and ``GET /users/<id>/preferences``."""

    DATA: dict[str, Any] = {"items": [1, 2, 3], "source": "api"}

    def __init__(self) -> None:
        super().__init__("api")
        #: user id -> preferences, or a :class:`Reply` to answer as is (e.g. a body not JSON)
        self.preferences: dict[str, dict[str, Any] | Reply] = {}
        self.route("GET", "/data", lambda _: self.DATA)
        self.route("GET", "/users/{user_id}/preferences", self._preferences)

    def _preferences(self, request: Request) -> Reply:
        prefs = self.preferences.get(request.params["user_id"])
        if prefs is None:
            return Reply(404, {"error": "not found"})
        return prefs if isinstance(prefs, Reply) else Reply(200, prefs)


class ExternalApi(HTTPService):
    """``external-api.example.com``: ``GET /data``."""

    DATA: dict[str, Any] = {"value": 42, "source": "external-api"}

    def __init__(self) -> None:
        super().__init__("external-api")
        self.route("GET", "/data", lambda _: self.DATA)


@dataclass
class Job:
    job_id: str
    video_id: str
    polls: int = 0


class JobProcessor(HTTPService):
    """``processor.example.com``: jobs whose status follows :attr:`script`.

    Attributes:
        script: The state answered on the 1st, 2nd... poll of a job; the last one repeats.
        error: The ``error`` reported with a ``failed`` state.
    """

    def __init__(self) -> None:
        super().__init__("processor")
        self.jobs: dict[str, Job] = {}
        self.script: list[str] = ["pending", "complete"]
        self.error = "codec not supported"
        self._ids = itertools.count(1)
        self._jobs_lock = threading.Lock()
        self.route("POST", "/jobs", self._submit)
        self.route("GET", "/jobs/{job_id}/status", self._status)

    def _submit(self, request: Request) -> Reply:
        with self._jobs_lock:
            job = Job(f"job-{next(self._ids)}", (request.json() or {})["videoId"])
            self.jobs[job.job_id] = job
        return Reply(201, {"jobId": job.job_id})

    def _status(self, request: Request) -> Reply:
        with self._jobs_lock:
            job = self.jobs.get(request.params["job_id"])
            if job is None:
                return Reply(404, {"error": "unknown job"})
            state = self.script[min(job.polls, len(self.script) - 1)]
            job.polls += 1
        body: dict[str, Any] = {"jobId": job.job_id, "state": state}
        if state == "failed":
            body["error"] = self.error
        return Reply(200, body)


class Notifier(HTTPService):
    """The approval notification webhook: ``POST /notify`` with ``{to, requestId}``."""

    def __init__(self) -> None:
        super().__init__("notifier")
        self.route("POST", "/notify", lambda _: {"ok": True})

    def recipients(self) -> list[str]:
        return [str(json.loads(r.body)["to"]) for r in self.requests("POST", "/notify")]


class SharedServices:
    """All five fake services, started and stopped together."""

    def __init__(self) -> None:
        self.gateway = PaymentGateway()
        self.api = ApiService()
        self.external = ExternalApi()
        self.processor = JobProcessor()
        self.notifier = Notifier()
        self._all: list[HTTPService] = [
            self.gateway,
            self.api,
            self.external,
            self.processor,
            self.notifier,
        ]

    def __enter__(self) -> SharedServices:
        for service in self._all:
            service.start()
        return self

    def __exit__(self, *exc: object) -> None:
        for service in self._all:
            service.stop()

    def build_env(
        self, *, client: Client, task_queue: str, data_dir: str | Path, **options: Any
    ) -> SharedEnv:
        """The seed 000 env with every service binding pointing at these servers."""
        from workflows._shared_env import build_env

        return build_env(
            client=client,
            task_queue=task_queue,
            data_dir=data_dir,
            payment_gateway_url=self.gateway.base_url,
            api_url=self.api.base_url,
            external_api_url=self.external.base_url,
            processor_url=self.processor.base_url,
            notifier_url=self.notifier.base_url,
            **options,
        )
