"""A lost database becomes a retryable error naming what was unavailable; other errors pass."""

from __future__ import annotations

import pytest

from shared.db import DatabaseUnavailable, reachable
from shared.errors import RetryableError


class LedgerDown(RetryableError):
    pass


def test_a_lost_connection_is_retryable_and_named() -> None:
    expected = pytest.raises(DatabaseUnavailable, match="ledger unavailable: refused")
    with expected as caught, reachable("ledger"):
        raise ConnectionRefusedError("refused")
    assert caught.value.retryable


def test_the_caller_chooses_the_error() -> None:
    with pytest.raises(LedgerDown), reachable("ledger", LedgerDown):
        raise TimeoutError


def test_a_statement_error_is_not_turned_into_a_retry() -> None:
    with pytest.raises(ValueError), reachable("ledger"):
        raise ValueError("bad input")
