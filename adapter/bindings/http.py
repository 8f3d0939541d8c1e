"""Outbound HTTP with a small Fetch-API-shaped surface, on httpx.

Ports ``fetch`` calls line by line::

    # const r = await fetch(url, { method: "POST", body: JSON.stringify(x) });
    r = await fetch(url, {"method": "POST", "body": json.dumps(x)})
    # if (!r.ok) throw new Error(`API error: ${r.status}`);
    if not r.ok:
        raise RuntimeError(f"API error: {r.status}")
    data = await r.json()

:class:`Fetcher` is also the local stand-in for a service binding (``env.SERVICE.fetch(...)``):
give it the service's ``base_url`` and call it with paths.

No state is bound to an event loop (each call uses its own client unless a transport is
injected), so the same object works from async step bodies and from sync step bodies that
drive their own loop in a worker thread.

Errors::

    Exception
     └── FetchError       the request could not be completed (DNS, connect, timeout, ...)
"""

from __future__ import annotations

import builtins
import json as _json
from collections.abc import Mapping, Sequence
from typing import Any, Final, Literal, TypeAlias

try:
    import httpx
except ImportError as missing:  # pragma: no cover - exercised in a subprocess by the wheel test
    raise ImportError(
        "adapter.bindings needs httpx: pip install 'tempflare[bindings]'"
    ) from missing

from .._shared.errors import InvalidValueError, TempflareError, WrongTypeError

#: Request bodies: text is sent as UTF-8 with ``text/plain;charset=UTF-8`` unless a
#: ``Content-Type`` is given, as the Fetch API does.
Body: TypeAlias = str | bytes | bytearray | memoryview | None
HeadersInit: TypeAlias = Mapping[str, str] | Sequence[tuple[str, str]] | httpx.Headers

_INIT_KEYS: Final = frozenset({"method", "headers", "body", "json", "redirect"})
_UNSET: Final[Any] = object()


class FetchError(TempflareError):
    """The request failed before a response arrived (DNS, connection, timeout, redirect).

    An HTTP error status is *not* a FetchError: check :attr:`Response.ok`, as with ``fetch``.

    Attributes:
        method: The request method.
        url: The request URL.
    """

    def __init__(self, message: str, *, method: str, url: str) -> None:
        super().__init__(message)
        self.method = method
        self.url = url


class Response:
    """A completed HTTP response, shaped like the Fetch API's ``Response``.

    The body is read in full before :meth:`Fetcher.fetch` returns, so the body methods may be
    called any number of times.

    Attributes:
        status: The status code, e.g. 200.
        status_text: The reason phrase, e.g. ``"OK"``.
        headers: Case-insensitive response headers (``headers.get("content-type")``).
        url: The final URL, after redirects.
        redirected: Whether a redirect was followed.
    """

    __slots__ = ("_content", "headers", "redirected", "status", "status_text", "url")

    def __init__(
        self,
        status: int,
        content: builtins.bytes = b"",
        *,
        headers: HeadersInit | None = None,
        status_text: str = "",
        url: str = "",
        redirected: bool = False,
    ) -> None:
        """Builds a response (mostly useful in tests; :meth:`Fetcher.fetch` creates them).

        Args:
            status: The status code.
            content: The raw body.
            headers: Response headers.
            status_text: The reason phrase.
            url: The response URL.
            redirected: Whether a redirect was followed.
        """
        self.status = status
        self._content = content
        self.headers = httpx.Headers(headers)
        self.status_text = status_text
        self.url = url
        self.redirected = redirected

    @property
    def ok(self) -> bool:
        """True for a 2xx status."""
        return 200 <= self.status <= 299

    async def bytes(self) -> builtins.bytes:
        """Returns the body as bytes."""
        return self._content

    async def array_buffer(self) -> builtins.bytes:
        """Returns the body as bytes (Fetch's ``arrayBuffer()``)."""
        return self._content

    async def arrayBuffer(self) -> builtins.bytes:
        """Alias of :meth:`array_buffer`, so ported code keeps the Fetch API's name."""
        return self._content

    async def text(self) -> str:
        """Returns the body decoded as UTF-8 (as Fetch's ``text()``; bad bytes become U+FFFD)."""
        return self._content.decode("utf-8", errors="replace")

    async def json(self) -> Any:
        """Returns the body parsed as JSON.

        Raises:
            json.JSONDecodeError: if the body is not JSON (a ``ValueError``).
        """
        return _json.loads(self._content.decode("utf-8", errors="replace"))

    def __repr__(self) -> str:
        return f"<Response [{self.status}] {self.url}>"


class Fetcher:
    """Makes HTTP requests with the Fetch API's shape.

    Args:
        base_url: Resolve relative URLs against this (a service binding's address).
        timeout: Seconds allowed for connecting, and for each read/write; None for no limit.
        transport: An httpx transport to send requests through (e.g. ``httpx.MockTransport``
            in tests). It is shared by all calls and never closed by the Fetcher.
        headers: Headers added to every request (per-request headers win).
    """

    def __init__(
        self,
        base_url: str | None = None,
        *,
        timeout: float | None = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self._base_url = base_url
        self._timeout = timeout
        self._transport = transport
        self._headers = dict(headers or {})

    @property
    def base_url(self) -> str | None:
        """The base URL relative requests resolve against, if any."""
        return self._base_url

    async def fetch(
        self,
        url: str | httpx.URL,
        init: Mapping[str, Any] | None = None,
        *,
        method: str | None = None,
        headers: HeadersInit | None = None,
        body: Body = None,
        json: Any = _UNSET,
        redirect: Literal["follow", "manual", "error"] | None = None,
    ) -> Response:
        """Sends a request and returns the response; HTTP error statuses do not raise.

        Options can be given Fetch-style in ``init`` (``{"method": "POST", "headers": {...},
        "body": "..."}``) or as keywords, which take precedence.

        Args:
            url: Absolute URL, or a path when the Fetcher has a ``base_url``.
            init: Fetch's ``RequestInit``: ``method``, ``headers``, ``body``, ``redirect``, plus
                ``json`` (Python convenience).
            method: HTTP method; defaults to GET.
            headers: Request headers.
            body: Text or bytes to send. Use ``json.dumps`` for objects, or ``json=``.
            json: A value to send as JSON with ``Content-Type: application/json``.
            redirect: ``"follow"`` (default), ``"manual"`` (return the 3xx response) or
                ``"error"`` (raise on a redirect).

        Returns:
            The response, with its body already read.

        Raises:
            FetchError: if no response could be obtained (including ``redirect="error"``).
            TypeError: for an unknown ``init`` key or a body that is not text/bytes.
            ValueError: for a body with GET/HEAD, both ``body`` and ``json``, or a relative
                URL without ``base_url``.
        """
        options: dict[str, Any] = dict(init or {})
        unknown = set(options) - _INIT_KEYS
        if unknown:
            raise WrongTypeError(
                f"fetch() init has unsupported keys {sorted(unknown)}; "
                f"supported: {sorted(_INIT_KEYS)}"
            )
        for name, value in (
            ("method", method),
            ("headers", headers),
            ("body", body),
            ("redirect", redirect),
        ):
            if value is not None:
                options[name] = value
        if json is not _UNSET:
            options["json"] = json

        verb = str(options.get("method") or "GET").upper()
        request_headers = httpx.Headers(self._headers)
        request_headers.update(httpx.Headers(options.get("headers")))
        content = self._content(verb, options, request_headers)
        mode = options.get("redirect") or "follow"
        if mode not in ("follow", "manual", "error"):
            raise InvalidValueError(
                f"fetch() redirect must be follow, manual or error, got {mode!r}"
            )

        target = str(url)
        if self._base_url is None and not httpx.URL(target).is_absolute_url:
            raise InvalidValueError(
                f"fetch() needs an absolute URL, got {target!r} (no base_url set)"
            )

        client = httpx.AsyncClient(
            base_url=self._base_url or "",
            timeout=self._timeout,
            transport=self._transport,
            follow_redirects=mode == "follow",
        )
        try:
            response = await client.request(verb, target, headers=request_headers, content=content)
        except httpx.HTTPError as exc:
            raise FetchError(
                f"fetch {verb} {target} failed: {type(exc).__name__}: {exc}",
                method=verb,
                url=target,
            ) from exc
        finally:
            if self._transport is None:
                # Closing the client would also close an injected, shared transport.
                await client.aclose()
        if mode == "error" and response.is_redirect:
            raise FetchError(
                f"fetch {verb} {target} was redirected ({response.status_code}) "
                "and redirect is 'error'",
                method=verb,
                url=target,
            )
        return Response(
            response.status_code,
            response.content,
            headers=response.headers,
            status_text=response.reason_phrase,
            url=str(response.url),
            redirected=bool(response.history),
        )

    @staticmethod
    def _content(
        verb: str, options: Mapping[str, Any], headers: httpx.Headers
    ) -> builtins.bytes | None:
        has_body = options.get("body") is not None
        has_json = "json" in options
        if has_body and has_json:
            raise InvalidValueError("fetch() takes body or json, not both")
        if (has_body or has_json) and verb in ("GET", "HEAD"):
            raise InvalidValueError(f"fetch() cannot send a body with a {verb} request")
        if has_json:
            headers.setdefault("content-type", "application/json")
            return _json.dumps(options["json"]).encode("utf-8")
        payload = options.get("body")
        if payload is None:
            return None
        if isinstance(payload, str):
            headers.setdefault("content-type", "text/plain;charset=UTF-8")
            return payload.encode("utf-8")
        if isinstance(payload, builtins.bytes | bytearray | memoryview):
            return builtins.bytes(payload)
        raise WrongTypeError(
            f"fetch() body must be str or bytes, got {type(payload).__name__}; "
            "use json.dumps(...) (as JSON.stringify) or pass json=..."
        )


_default_fetcher = Fetcher()


async def fetch(url: str | httpx.URL, init: Mapping[str, Any] | None = None, **kw: Any) -> Response:
    """The global ``fetch``: :meth:`Fetcher.fetch` on a shared default :class:`Fetcher`.

    Args:
        url: An absolute URL.
        init: Fetch's ``RequestInit`` (``method``, ``headers``, ``body``, ``redirect``).
        **kw: Keyword options of :meth:`Fetcher.fetch` (``method=``, ``json=``, ...).

    Returns:
        The response, with its body already read.

    Raises:
        FetchError: if no response could be obtained.
    """
    return await _default_fetcher.fetch(url, init, **kw)
