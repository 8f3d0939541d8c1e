"""The Workers AI binding (``env.AI``) behind a small interface, with two implementations.

Step bodies call it as a Worker would::

    out = await env.AI.run("@cf/meta/llama-3-8b-instruct", {"prompt": f"Summarize: {bio}"})
    summary = out["response"]
    out = await env.AI.run("@cf/llava-hf/llava-1.5-7b-hf",
                           {"image": list(image_bytes), "prompt": "Describe this image"})
    caption = out["description"]

Inputs follow Workers AI: ``prompt`` or ``messages`` (``[{"role", "content"}]``, roles
``system``/``user``/``assistant``), optional ``image`` (bytes or a list of byte values),
``max_tokens``, ``temperature`` and ``response_format`` (``{"type": "json_object"}`` or
``{"type": "json_schema", "json_schema": {...}}``). Outputs: ``{"response": str}`` for text,
``{"response": <parsed JSON>}`` in JSON mode, ``{"description": str}`` when an image is given.

* :class:`OfflineAI` answers deterministically without a network, for tests and local runs.
* :class:`AnthropicAI` sends the request to Claude through the ``anthropic`` SDK.
* :func:`default_ai` picks AnthropicAI when ``ANTHROPIC_API_KEY`` is set, else OfflineAI.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import inspect
import json
import os
import random
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from .._shared.errors import InvalidValueError, WrongTypeError

_JSON_WORD = re.compile(r"\bjson\b", re.IGNORECASE)
_FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.DOTALL)
_WORDS = (
    "adaptive",
    "balanced",
    "concise",
    "durable",
    "efficient",
    "focused",
    "modular",
    "reliable",
    "robust",
    "scalable",
    "structured",
    "timely",
)
_ROLES = ("system", "user", "assistant")


@runtime_checkable
class AI(Protocol):
    """What a step body may call on ``env.AI``: Workers AI's ``run``."""

    async def run(self, model: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
        """Runs a model.

        Args:
            model: A Workers AI model id such as ``"@cf/meta/llama-3-8b-instruct"``.
            inputs: The model inputs (``prompt`` or ``messages``, ``image``, ...).

        Returns:
            The model output, e.g. ``{"response": "..."}``.
        """
        ...


@dataclass(slots=True)
class _Request:
    system: str | None
    messages: list[tuple[str, str]]
    image: bytes | None = None
    max_tokens: int | None = None
    temperature: float | None = None
    json_mode: bool = False
    schema: dict[str, Any] | None = None

    @property
    def text(self) -> str:
        return "\n".join([self.system or "", *(content for _, content in self.messages)])

    @property
    def last_user(self) -> str:
        for role, content in reversed(self.messages):
            if role == "user":
                return content
        return ""


def _content_text(index: int, content: object) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts: list[str] = []
        for part in content:
            if isinstance(part, Mapping) and part.get("type") == "text":
                parts.append(str(part.get("text", "")))
            else:
                raise InvalidValueError(f"AI messages[{index}] content parts must be text parts")
        return "".join(parts)
    raise InvalidValueError(
        f"AI messages[{index}].content must be a str, got {type(content).__name__}"
    )


def _image_bytes(image: object) -> bytes:
    if isinstance(image, bytes | bytearray | memoryview):
        return bytes(image)
    if isinstance(image, list | tuple) and all(
        isinstance(b, int) and not isinstance(b, bool) and 0 <= b <= 255 for b in image
    ):
        return bytes(image)
    raise InvalidValueError("AI input 'image' must be bytes or a list of byte values (0-255)")


def _parse_inputs(inputs: Mapping[str, Any]) -> _Request:
    if not isinstance(inputs, Mapping):
        raise WrongTypeError(f"AI inputs must be a dict, got {type(inputs).__name__}")
    prompt = inputs.get("prompt")
    raw_messages = inputs.get("messages")
    if prompt is not None and raw_messages is not None:
        raise InvalidValueError("AI inputs take either 'prompt' or 'messages', not both")
    system_parts: list[str] = []
    messages: list[tuple[str, str]] = []
    if raw_messages is not None:
        if not isinstance(raw_messages, list) or not raw_messages:
            raise InvalidValueError("AI input 'messages' must be a non-empty list")
        for index, message in enumerate(raw_messages):
            if not isinstance(message, Mapping) or message.get("role") not in _ROLES:
                raise InvalidValueError(
                    f"AI messages[{index}] must be a dict with role system, user or assistant"
                )
            text = _content_text(index, message.get("content"))
            if message["role"] == "system":
                system_parts.append(text)
            else:
                messages.append((str(message["role"]), text))
    image = _image_bytes(inputs["image"]) if inputs.get("image") is not None else None
    if prompt is not None:
        if not isinstance(prompt, str):
            raise InvalidValueError(f"AI input 'prompt' must be a str, got {type(prompt).__name__}")
        messages.append(("user", prompt))
    elif image is not None and not messages:
        messages.append(("user", "Describe this image."))
    if not messages:
        raise InvalidValueError("AI inputs need a 'prompt', user 'messages' or an 'image'")

    fmt = inputs.get("response_format")
    json_mode = False
    schema: dict[str, Any] | None = None
    if fmt is not None:
        if not isinstance(fmt, Mapping) or fmt.get("type") not in ("json_object", "json_schema"):
            raise InvalidValueError(
                "AI input 'response_format' must be {'type': 'json_object'} or "
                "{'type': 'json_schema', 'json_schema': {...}}"
            )
        json_mode = True
        if fmt.get("type") == "json_schema":
            found = fmt.get("json_schema")
            if not isinstance(found, Mapping):
                raise InvalidValueError("AI response_format json_schema must be a JSON Schema dict")
            schema = dict(found)
    max_tokens = inputs.get("max_tokens")
    temperature = inputs.get("temperature")
    return _Request(
        system="\n\n".join(system_parts) or None,
        messages=messages,
        image=image,
        max_tokens=int(max_tokens) if max_tokens is not None else None,
        temperature=float(temperature) if temperature is not None else None,
        json_mode=json_mode,
        schema=schema,
    )


def _embedded_schema(text: str) -> dict[str, Any] | None:
    """Finds the first JSON Schema-looking object written into a prompt."""
    decoder = json.JSONDecoder()
    for match in re.finditer(r"\{", text):
        try:
            value, _ = decoder.raw_decode(text, match.start())
        except ValueError:
            continue
        if isinstance(value, dict) and (
            "properties" in value or "$ref" in value or value.get("type") == "object"
        ):
            return value
    return None


def _strip_fences(text: str) -> str:
    cleaned = text.strip()
    match = _FENCE.match(cleaned)
    return match.group(1).strip() if match else cleaned


class _SchemaFaker:
    """Builds a deterministic value that conforms to (the common subset of) a JSON Schema."""

    def __init__(self, root: Mapping[str, Any], rng: random.Random) -> None:
        self._root = root
        self._rng = rng

    def _resolve(self, schema: Mapping[str, Any]) -> Mapping[str, Any]:
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/"):
            target: Any = self._root
            for part in ref[2:].split("/"):
                target = target.get(part, {}) if isinstance(target, Mapping) else {}
            return target if isinstance(target, Mapping) else {}
        return schema

    def _phrase(self, name: str) -> str:
        words = [self._rng.choice(_WORDS) for _ in range(2)]
        label = name.replace("_", " ").strip() or "value"
        return f"{words[0]} {label} {words[1]}"

    def value(self, schema: Any, name: str = "", depth: int = 0) -> Any:
        if not isinstance(schema, Mapping) or depth > 8:
            return self._phrase(name)
        schema = self._resolve(schema)
        if "const" in schema:
            return schema["const"]
        enum = schema.get("enum")
        if isinstance(enum, list) and enum:
            return self._rng.choice(enum)
        for combinator in ("anyOf", "oneOf"):
            options = schema.get(combinator)
            if isinstance(options, list) and options:
                non_null = [
                    o for o in options if not (isinstance(o, Mapping) and o.get("type") == "null")
                ]
                return self.value((non_null or options)[0], name, depth + 1)
        all_of = schema.get("allOf")
        if isinstance(all_of, list) and all_of:
            merged: dict[str, Any] = {"type": "object", "properties": {}}
            for part in all_of:
                part = self._resolve(part) if isinstance(part, Mapping) else {}
                merged["properties"].update(part.get("properties", {}))
            return self.value(merged, name, depth + 1)
        kind = schema.get("type")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), "null")
        if kind is None:
            kind = (
                "object" if "properties" in schema else "array" if "items" in schema else "string"
            )
        if kind == "object":
            props = schema.get("properties", {})
            if not isinstance(props, Mapping):
                return {}
            return {str(k): self.value(v, str(k), depth + 1) for k, v in props.items()}
        if kind == "array":
            low = int(schema.get("minItems", 0))
            high = int(schema.get("maxItems", max(low, 3)))
            count = min(max(low, 3), high)
            singular = name[:-1] if name.endswith("s") else name
            return [self.value(schema.get("items", {}), singular, depth + 1) for _ in range(count)]
        if kind == "integer":
            low = int(schema.get("minimum", 0))
            high = int(schema.get("maximum", max(low, 100)))
            return self._rng.randint(low, high)
        if kind == "number":
            low_f = float(schema.get("minimum", 0.0))
            high_f = float(schema.get("maximum", max(low_f, 1.0)))
            return round(self._rng.uniform(low_f, high_f), 3)
        if kind == "boolean":
            return self._rng.random() < 0.5
        if kind == "null":
            return None
        fmt = schema.get("format")
        if fmt == "date-time":
            return f"2024-01-{self._rng.randint(1, 28):02d}T12:00:00Z"
        if fmt == "date":
            return f"2024-01-{self._rng.randint(1, 28):02d}"
        if fmt == "email":
            return f"{self._rng.choice(_WORDS)}@example.com"
        if fmt in ("uri", "url"):
            return f"https://example.com/{self._rng.choice(_WORDS)}"
        return self._phrase(name)


class OfflineAI:
    """A deterministic stand-in for Workers AI: no network, same input → same output.

    The answer is derived from a SHA-256 of the model and inputs:

    * an ``image`` input gives ``{"description": ...}``;
    * ``response_format`` JSON mode gives ``{"response": <object>}``, conforming to the given
      JSON Schema when there is one;
    * a prompt that mentions JSON gives ``{"response": "<JSON text>"}``, following a JSON Schema
      embedded in the prompt if one is found (as ``zodToJsonSchema`` prompts do);
    * anything else gives ``{"response": "<text>"}`` echoing the request's gist.

    Every text result also carries ``usage`` token counts (whitespace-separated words).
    """

    async def run(self, model: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
        """Answers deterministically; see the class docstring for the output shapes.

        Args:
            model: Any model id; it is part of the hash.
            inputs: Workers AI inputs.

        Returns:
            ``{"response": ...}`` or ``{"description": ...}`` plus ``usage``.

        Raises:
            ValueError: for inputs Workers AI would reject (no prompt, bad messages, ...).
        """
        request = _parse_inputs(inputs)
        canonical = json.dumps(
            {"model": model, "inputs": dict(inputs)},
            sort_keys=True,
            default=lambda o: bytes(o).hex() if isinstance(o, bytes | bytearray) else repr(o),
        )
        digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
        rng = random.Random(int(digest[:16], 16))
        prompt_tokens = len(request.text.split()) + (1 if request.image else 0)

        if request.image is not None:
            words = [rng.choice(_WORDS) for _ in range(3)]
            text = (
                f"An image of {len(request.image)} bytes with a {words[0]}, {words[1]} "
                f"composition and a {words[2]} subject (offline {digest[:8]})."
            )
            return {"description": self._cap(text, request.max_tokens)}

        if request.json_mode or _JSON_WORD.search(request.text):
            schema = request.schema or _embedded_schema(request.text)
            value: Any
            if schema is not None:
                value = _SchemaFaker(schema, rng).value(schema)
            else:
                value = {
                    "summary": self._gist(request.last_user, digest, model),
                    "keywords": [rng.choice(_WORDS) for _ in range(3)],
                    "confidence": round(rng.uniform(0.5, 0.99), 2),
                }
            text_out = json.dumps(value)
            usage = self._usage(prompt_tokens, text_out)
            return {"response": value if request.json_mode else text_out, "usage": usage}

        text = self._cap(self._gist(request.last_user, digest, model), request.max_tokens)
        return {"response": text, "usage": self._usage(prompt_tokens, text)}

    @staticmethod
    def _gist(prompt: str, digest: str, model: str) -> str:
        words = prompt.split()
        gist = " ".join(words[:24]) + (" ..." if len(words) > 24 else "")
        return f"Offline response {digest[:8]} from {model} to: {gist}"

    @staticmethod
    def _cap(text: str, max_tokens: int | None) -> str:
        if max_tokens is None or max_tokens <= 0:
            return text
        return " ".join(text.split()[:max_tokens])

    @staticmethod
    def _usage(prompt_tokens: int, completion: str) -> dict[str, int]:
        completion_tokens = len(completion.split())
        return {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        }


def _media_type(image: bytes) -> str:
    if image.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if image.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if image.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if image[:4] == b"RIFF" and image[8:12] == b"WEBP":
        return "image/webp"
    raise InvalidValueError("AI image must be PNG, JPEG, GIF or WebP for AnthropicAI")


def _import_anthropic() -> Any:
    try:
        import anthropic
    except ImportError as exc:
        raise ImportError(
            "AnthropicAI needs the anthropic SDK: pip install 'tempflare[ai]'"
        ) from exc
    return anthropic


class AnthropicAI:
    """Workers AI's ``run`` served by Claude through the Messages API.

    Mapping: ``system`` messages become the ``system`` parameter; ``user``/``assistant``
    messages (or ``prompt``) become ``messages``; an ``image`` becomes a base64 image block
    before the text; ``max_tokens`` and ``temperature`` are passed through. In JSON mode the
    system prompt asks for bare JSON (including the schema, if any) and the reply is parsed.
    The ``model`` argument of :meth:`run` is used when it names a Claude model (starts with
    ``claude``); Workers AI ids such as ``@cf/meta/...`` fall back to this object's ``model``.

    Args:
        api_key: Anthropic API key; None lets the SDK read ``ANTHROPIC_API_KEY``.
        model: The Claude model for Workers AI model ids.
        client: A ready ``anthropic.AsyncAnthropic``-compatible client (anything with
            ``messages.create(**kwargs)``); if None a fresh client is made for each call,
            so no connection pool outlives the event loop that created it.
        max_tokens: Used when the inputs give no ``max_tokens``.

    Raises:
        ImportError: if ``client`` is None and the ``anthropic`` package is not installed.
    """

    def __init__(
        self,
        api_key: str | None = None,
        model: str = "claude-sonnet-4-5",
        *,
        client: Any = None,
        max_tokens: int = 1024,
    ) -> None:
        self._anthropic: Any = _import_anthropic() if client is None else None
        self._api_key = api_key
        self.model = model
        self._client = client
        self.max_tokens = max_tokens

    def build_request(self, model: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
        """Maps Workers AI inputs to ``messages.create`` keyword arguments.

        Args:
            model: The Workers AI model id passed to :meth:`run`.
            inputs: Workers AI inputs.

        Returns:
            The keyword arguments for ``client.messages.create``.

        Raises:
            ValueError: for inputs that cannot be mapped.
        """
        return self._build(model, _parse_inputs(inputs))

    def _build(self, model: str, request: _Request) -> dict[str, Any]:
        system = request.system
        if request.json_mode:
            instruction = "Respond with ONLY a valid JSON value: no markdown, no explanations."
            if request.schema is not None:
                instruction += " It must match this JSON Schema:\n" + json.dumps(
                    request.schema, indent=2
                )
            system = f"{system}\n\n{instruction}" if system else instruction
        messages: list[dict[str, Any]] = [
            {"role": role, "content": content} for role, content in request.messages
        ]
        if request.image is not None:
            first_user = next(i for i, m in enumerate(messages) if m["role"] == "user")
            messages[first_user]["content"] = [
                {
                    "type": "image",
                    "source": {
                        "type": "base64",
                        "media_type": _media_type(request.image),
                        "data": base64.b64encode(request.image).decode("ascii"),
                    },
                },
                {"type": "text", "text": messages[first_user]["content"]},
            ]
        kwargs: dict[str, Any] = {
            "model": model if model.startswith("claude") else self.model,
            "max_tokens": request.max_tokens or self.max_tokens,
            "messages": messages,
        }
        if system:
            kwargs["system"] = system
        if request.temperature is not None:
            kwargs["temperature"] = request.temperature
        return kwargs

    async def run(self, model: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
        """Calls Claude and returns the Workers AI output shape.

        Args:
            model: A Workers AI model id, or a Claude model name.
            inputs: Workers AI inputs.

        Returns:
            ``{"response": text}`` (``{"response": parsed}`` in JSON mode,
            ``{"description": text}`` for an image), plus ``usage`` when the SDK reports it.

        Raises:
            ValueError: for inputs that cannot be mapped, or a JSON-mode reply that is not JSON.
        """
        request = _parse_inputs(inputs)
        kwargs = self._build(model, request)
        client = self._client
        owned = client is None
        if client is None:
            client = self._anthropic.AsyncAnthropic(api_key=self._api_key)
        try:
            create = client.messages.create
            if inspect.iscoroutinefunction(create):
                message = await create(**kwargs)
            else:
                message = await asyncio.to_thread(create, **kwargs)
                if inspect.isawaitable(message):
                    message = await message
        finally:
            if owned:
                await client.close()
        text = "".join(
            str(getattr(block, "text", ""))
            for block in getattr(message, "content", [])
            if getattr(block, "type", None) == "text"
        )
        if request.image is not None:
            return {"description": text}
        result: dict[str, Any] = {"response": text}
        if request.json_mode:
            try:
                result["response"] = json.loads(_strip_fences(text))
            except ValueError as exc:
                raise InvalidValueError(
                    f"AI JSON mode: the model's reply is not valid JSON: {text[:200]!r}"
                ) from exc
        usage = getattr(message, "usage", None)
        if usage is not None:
            prompt_tokens = int(getattr(usage, "input_tokens", 0) or 0)
            completion_tokens = int(getattr(usage, "output_tokens", 0) or 0)
            result["usage"] = {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            }
        return result


def default_ai() -> AI:
    """Picks the AI binding for this environment.

    Returns:
        :class:`AnthropicAI` when ``ANTHROPIC_API_KEY`` is set and non-empty, else
        :class:`OfflineAI`.

    Raises:
        ImportError: if the key is set but the ``anthropic`` extra is not installed.
    """
    if os.environ.get("ANTHROPIC_API_KEY"):
        return AnthropicAI()
    return OfflineAI()
