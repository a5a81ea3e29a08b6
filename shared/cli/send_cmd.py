"""`wagate send ...`: produce an outbound intent and optionally wait for its outcome."""

from __future__ import annotations

import sys

import click

from shared.client import WagateClient
from shared.events.delivery import DeliveryUpdated
from shared.events.envelope import new_id
from shared.events.intents import OutboundIntentSubmitted, TextContent
from shared.settings import KafkaSettings


@click.group()
def send() -> None:
    """Ask wagate to send a message (produces an outbound intent)."""


@send.command("text")
@click.option("--from", "phone_number_id", required=True, help="Business phone number id.")
@click.option("--to", required=True, help="Customer phone number or WhatsApp id.")
@click.option("--body", required=True, help="The message text (at most 4096 characters).")
@click.option("--intent-id", default=None, help="Idempotency key (default: a new UUID).")
@click.option("--preview-url", is_flag=True, help="Render a preview of the first URL.")
@click.option(
    "--wait",
    "wait_s",
    type=float,
    default=0,
    show_default=True,
    help="Seconds to wait for the outcome, printing every delivery update.",
)
@click.pass_obj
def send_text(
    settings: KafkaSettings,
    phone_number_id: str,
    to: str,
    body: str,
    intent_id: str | None,
    preview_url: bool,
    wait_s: float,
) -> None:
    """Send a free-form text (allowed only inside the customer service window)."""
    from shared.cli.main import echo_json, run_async

    intent = OutboundIntentSubmitted(
        intent_id=intent_id or new_id(),
        phone_number_id=phone_number_id,
        to=to,
        content=TextContent(body=body, preview_url=preview_url),
        priority="reply",
        producer="wagate-cli",
    )
    updates = run_async(_send(settings, intent, wait_s))
    echo_json({"intent_id": intent.intent_id})
    for update in updates:
        echo_json(
            update.model_dump(
                mode="json", include={"intent_id", "state", "wamid", "reasons", "detail", "errors"}
            )
        )
    if wait_s and (not updates or updates[-1].state in ("rejected", "failed", "expired")):
        sys.exit(1)


async def _send(
    settings: KafkaSettings, intent: OutboundIntentSubmitted, wait_s: float
) -> list[DeliveryUpdated]:
    async with WagateClient(settings, "wagate-cli") as client:
        if wait_s > 0:
            return await client.send_and_wait(intent, wait_s)
        await client.send(intent)
        return []
