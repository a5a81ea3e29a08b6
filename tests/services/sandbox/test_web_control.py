"""The control API: reset with a seed, the kept webhooks, and the faults shown and changed."""

from __future__ import annotations

from tests.services.sandbox.conftest import (
    OTHER,
    StackFactory,
    customer_writes,
    set_faults,
    text_message,
    violations_of,
)


async def test_reset_forgets_everything_and_a_seed_repeats_ids(make_stack: StackFactory) -> None:
    first = await make_stack(seed=7)
    second = await make_stack(seed=7)
    ids_first = [await customer_writes(first) for _ in range(3)]
    ids_second = [await customer_writes(second) for _ in range(3)]
    assert ids_first == ids_second
    await first.send(text_message(to=OTHER))

    status, _ = await first.call("POST", "/_sandbox/reset", {"seed": 7})
    assert status == 200
    assert await violations_of(first) == []
    assert await first.call("GET", "/_sandbox/messages") == (
        200,
        {"sent": [], "received": [], "read_receipts": []},
    )
    assert [await customer_writes(first) for _ in range(3)] == ids_first


async def test_the_last_webhooks_are_kept_for_inspection(make_stack: StackFactory) -> None:
    stack = await make_stack()
    inbound = await customer_writes(stack)
    await stack.settle()

    status, kept = await stack.call("GET", "/_sandbox/webhooks")
    assert status == 200 and kept["count"] == 1
    assert kept["webhooks"][0]["entry"][0]["changes"][0]["value"]["messages"][0]["id"] == inbound
    await stack.call("POST", "/_sandbox/reset", {})
    assert (await stack.call("GET", "/_sandbox/webhooks"))[1]["count"] == 0


async def test_faults_are_shown_and_cleared(make_stack: StackFactory) -> None:
    stack = await make_stack()
    shown = await set_faults(stack, drop_rate=0.25, seed=11)
    assert (shown["drop_rate"], shown["seed"]) == (0.25, 11)
    assert (await stack.call("GET", "/_sandbox/faults"))[1] == shown
    status, body = await stack.call("PUT", "/_sandbox/faults", {"drop_rate": 2})
    assert status == 400 and "drop_rate" in body["error"]
    status, body = await stack.call("PUT", "/_sandbox/faults", {"no_such_fault": 1})
    assert status == 400
    cleared = await set_faults(stack)
    assert cleared["drop_rate"] == 0
