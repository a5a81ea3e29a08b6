"""The Cloud API client against a local fake: answers parsed, an unreached host told apart
from a request that may have left."""

from __future__ import annotations

import aiohttp
import pytest

from services.dispatch.cloudapi import CloudApi, UnreadableAnswer, _parse
from services.dispatch.settings import DispatchCloudApi
from shared.meta_errors import NO_RESPONSE
from tests.conftest import free_port
from tests.services.dispatch.fake_cloudapi import FakeCloudApi

PAYLOAD = {"to": "1", "type": "text", "biz_opaque_callback_data": "i-1"}


async def test_a_wamid_an_error_and_a_per_number_token() -> None:
    api = await FakeCloudApi().start()
    api.fail("i-1", ("error", 131050, 400))
    api.tokens_refused.add("old")
    settings = DispatchCloudApi(base_url=api.base_url, tokens={"pn-old": "old"})  # type: ignore[dict-item]
    try:
        async with aiohttp.ClientSession() as session:
            client = CloudApi(session, settings)
            failed = await client.send("pn", PAYLOAD)
            sent = await client.send("pn", PAYLOAD)
            refused = await client.send("pn-old", PAYLOAD)
    finally:
        await api.stop()
    assert failed.wamid is None and failed.error is not None and failed.http_status == 400
    assert (failed.error.code, failed.error.details) == (131050, "scripted")
    assert sent.wamid == api.wamids["i-1"][0] and sent.error is None
    assert refused.error is not None and refused.error.code == 190


async def test_an_unreachable_host_never_received_the_request() -> None:
    settings = DispatchCloudApi(base_url=f"http://127.0.0.1:{free_port()}")
    async with aiohttp.ClientSession() as session:
        outcome = await CloudApi(session, settings).send("pn", PAYLOAD)
    assert outcome.http_status == NO_RESPONSE and not outcome.request_left


async def test_no_answer_in_time_raises_as_the_outcome_is_unknown() -> None:
    api = await FakeCloudApi().start()
    api.fail("i-1", ("hang", 1.0))
    settings = DispatchCloudApi(base_url=api.base_url, read_timeout_s=0.1)
    try:
        async with aiohttp.ClientSession() as session:
            with pytest.raises(TimeoutError):
                await CloudApi(session, settings).send("pn", PAYLOAD)
    finally:
        await api.stop()


@pytest.mark.parametrize(
    ("status", "text"),
    [
        (200, ""),
        (200, "<html>gateway</html>"),
        (200, "{}"),
        (200, '{"messages": []}'),
        (200, '{"messages": {}}'),
        (200, '{"messages": [{}]}'),
        (200, '{"messages": ["wamid.X"]}'),
        (200, '{"messages": [{"id": 7}]}'),
        (200, '{"messages": [{"id": ""}]}'),
        (200, "[1, 2]"),
        (201, '{"contacts": []}'),
    ],
)
def test_a_2xx_answer_without_a_wamid_is_an_unknown_outcome(status: int, text: str) -> None:
    with pytest.raises(UnreadableAnswer):
        _parse(status, text)


def test_a_well_formed_answer_and_an_error_without_messages_are_read() -> None:
    assert _parse(200, '{"messages": [{"id": "wamid.A"}]}').wamid == "wamid.A"
    refused = _parse(400, '{"error": {"code": 131026, "message": "undeliverable"}}')
    assert refused.error is not None and refused.error.code == 131026
    assert _parse(500, "").error is None and _parse(500, "").http_status == 500
