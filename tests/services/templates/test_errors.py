"""Every templates error is rooted in shared.errors: the consume loop and the HTTP API tell a
retry from a refusal by that root alone."""

from __future__ import annotations

import pytest

from services.templates.errors import (
    CloudApiUnavailable,
    MetaApiError,
    NotFound,
    StoreUnavailable,
    TemplateExists,
    WrongState,
)
from shared.db import DatabaseUnavailable
from shared.errors import PermanentError, RetryableError, WagateError


@pytest.mark.parametrize("error", [MetaApiError, TemplateExists, NotFound, WrongState])
def test_refusals_are_permanent(error: type[WagateError]) -> None:
    assert issubclass(error, PermanentError) and not error.retryable


@pytest.mark.parametrize("error", [CloudApiUnavailable, StoreUnavailable])
def test_unavailable_dependencies_are_retryable(error: type[WagateError]) -> None:
    assert issubclass(error, RetryableError) and error.retryable


def test_a_lost_store_is_a_lost_database() -> None:
    assert issubclass(StoreUnavailable, DatabaseUnavailable)


def test_lookups_and_states_keep_their_builtin_families() -> None:
    assert issubclass(NotFound, LookupError) and issubclass(WrongState, ValueError)


def test_metas_refusal_keeps_status_code_and_message() -> None:
    refused = MetaApiError(400, 100, "Invalid parameter")
    assert (refused.http_status, refused.code, refused.message) == (400, 100, "Invalid parameter")
    assert str(refused) == "Cloud API error 100 (HTTP 400): Invalid parameter"
