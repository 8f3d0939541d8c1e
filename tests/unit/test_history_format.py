"""Unit tests for the step-identity format shared by the workflow, restart and introspection."""

import pytest

from adapter._shared.history_format import (
    attempt_id,
    parse_attempt_id,
    parse_timer_label,
    timer_label,
)


@pytest.mark.parametrize(("name", "count", "attempt"), [("charge", 1, 1), ("a#b@c #2", 3, 12)])
def test_attempt_id_round_trips(name: str, count: int, attempt: int) -> None:
    assert parse_attempt_id(attempt_id(name, count, attempt)) == (name, count, attempt)


@pytest.mark.parametrize("foreign", ["1", "resize", "x#y", "x#1", "x#1@", "x#a@1"])
def test_ids_tempflare_did_not_make_are_ignored(foreign: str) -> None:
    assert parse_attempt_id(foreign) is None


@pytest.mark.parametrize(("name", "count"), [("nap", 1), ("nap", 2), ("wait #x", 7)])
def test_timer_label_round_trips(name: str, count: int) -> None:
    assert parse_timer_label(timer_label(name, count)) == (name, count)
    assert timer_label("nap", 1) == "nap"
