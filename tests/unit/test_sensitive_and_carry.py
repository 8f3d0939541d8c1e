"""No-server rules: the sensitive-output codec encrypts marked payloads only and refuses another
key; the carried state of a long instance survives its memo round trip; subscribe's filter and
cursor are checked."""

from __future__ import annotations

import base64
import os
from datetime import UTC, datetime

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter

from adapter import InvalidValueError, SensitiveOutputCodec, WrongTypeError
from adapter._client.subscribe import parse_cursor, parse_filter
from adapter._shared.sensitive import (
    KEY_ENV,
    Sealed,
    SensitiveOutputError,
    is_sensitive,
    load_key,
    mark_sensitive,
    tempflare_data_converter,
)
from adapter._workflow.carry import Carried


async def test_codec_encrypts_marked_payloads_only() -> None:
    codec = SensitiveOutputCodec(os.urandom(32))
    secret = mark_sensitive(Payload(metadata={"encoding": b"json/plain"}, data=b'"pin 1234"'))
    plain = Payload(metadata={"encoding": b"json/plain"}, data=b'"hello"')
    sealed, untouched = await codec.encode([secret, plain])
    assert untouched == plain
    assert b"1234" not in sealed.SerializeToString() and is_sensitive(sealed)
    assert (await codec.encode([sealed]))[0] == sealed  # never twice
    back, same = await codec.decode([sealed, plain])
    assert back.data == b'"pin 1234"' and same == plain
    with pytest.raises(SensitiveOutputError, match="another key"):
        await SensitiveOutputCodec(os.urandom(32)).decode([sealed])


def test_key_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    key = os.urandom(32)
    monkeypatch.setenv(KEY_ENV, base64.b64encode(key).decode())
    assert load_key() == key
    monkeypatch.setenv(KEY_ENV, "too-short")
    with pytest.raises(SensitiveOutputError, match="32 random bytes"):
        load_key()


def test_sealed_values_are_marked_by_the_converter() -> None:
    converter = tempflare_data_converter(pydantic_data_converter).payload_converter
    marked, plain = converter.to_payloads([Sealed({"a": 1}), {"a": 1}])
    assert is_sensitive(marked) and not is_sensitive(plain) and marked.data == plain.data


def test_carried_state_round_trips_through_the_memo() -> None:
    carried = Carried(
        results={("a", 1): {"x": 1}, ("b", 2): None},
        errors={("c", 1): ("ValueError", "no", False)},
        sleeps={("nap", 1)},
        waits={("go", 1), ("late", 1)},
        timeouts={("late", 1)},
        sensitive=True,
        runs=2,
    )
    carried.received("go", {"p": 1}, datetime(2026, 1, 1, tzinfo=UTC))
    back = Carried.from_memo(carried.to_memo())
    assert back.runs == 3 and back.results == carried.results and back.errors == carried.errors
    assert (back.sleeps, back.waits, back.timeouts) == (
        carried.sleeps,
        carried.waits,
        carried.timeouts,
    )
    assert back.events == [("go", {"p": 1}, "2026-01-01T00:00:00+00:00")] and back.sensitive
    assert Carried.from_memo(None).runs == 0


def test_subscribe_filter_and_cursor() -> None:
    assert parse_cursor(None) is None and parse_cursor("run-1:42") == ("run-1", 42)
    with pytest.raises(InvalidValueError, match="cursor"):
        parse_cursor("42")
    with pytest.raises(InvalidValueError, match="unknown kind"):
        parse_filter(["step", "steps"])
    with pytest.raises(WrongTypeError):
        parse_filter(42)
