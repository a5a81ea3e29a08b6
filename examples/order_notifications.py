"""A worked example of a business system on wagate: a shop that tells customers their order
shipped (a template: allowed at any time) and answers what they write back (free-form: allowed
while their 24-hour window is open), printing what became of every message.

    python examples/order_notifications.py notify --from 106540352242922 --to 16505551234
    python examples/order_notifications.py answer --from 106540352242922

`notify` tells the customer free-form inside their window, and with the starter template
`shipping_update` outside it (`make run` creates the starter templates in the sandbox);
`answer` replies to every customer message as it arrives.
"""

from __future__ import annotations

import argparse
import asyncio
import uuid

from aiokafka import AIOKafkaConsumer

from wagate_client import codec
from wagate_client.client import WagateClient
from wagate_client.events.intents import OutboundIntentSubmitted, TemplateContent, TextContent
from wagate_client.events.webhooks import InboundMessageReceived
from wagate_client.settings import KafkaSettings
from wagate_client.topics import INBOUND_MESSAGES


def shipped(phone_number_id: str, to: str, order: str, name: str) -> OutboundIntentSubmitted:
    """A friendly free-form note when the customer's window is open; the approved starter
    template `shipping_update` when it is not (policy picks, and says which)."""
    return OutboundIntentSubmitted(
        intent_id=f"order-{order}-shipped",  # the same order never notifies twice
        phone_number_id=phone_number_id,
        to=to,
        content=TextContent(body=f"Good news {name}: order {order} is on its way!"),
        fallback_template=TemplateContent(
            name="shipping_update",
            language="en_US",
            components=[
                {"type": "header", "parameters": [{"type": "text", "text": order}]},
                {
                    "type": "body",
                    "parameters": [
                        {"type": "text", "text": name},
                        {"type": "text", "text": order},
                        {"type": "text", "text": "in 3 days"},
                    ],
                },
                {
                    "type": "button",
                    "sub_type": "url",
                    "index": "0",
                    "parameters": [{"type": "text", "text": order}],
                },
            ],
        ),
        metadata={"order_id": order},
    )


async def notify(settings: KafkaSettings, intent: OutboundIntentSubmitted) -> str:
    """Send and react to the delivery updates; returns the final state."""
    state = "unknown"
    async with WagateClient(settings, "shop") as client:
        for update in await client.send_and_wait(intent, timeout_s=60):
            state = update.state
            print(
                f"order {intent.metadata['order_id']}: {state} {' '.join(update.reasons)}",
                flush=True,
            )
            if state == "failed":
                print("  -> the courier will phone the customer instead", flush=True)
    return state


async def answer(settings: KafkaSettings, phone_number_id: str) -> None:
    # At least once: commit after answering; a redelivered message gets the same intent id,
    # so the customer is never answered twice.
    consumer = AIOKafkaConsumer(
        settings.topic(INBOUND_MESSAGES.name),
        bootstrap_servers=settings.bootstrap,
        group_id="shop-answers",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        async with WagateClient(settings, "shop") as client:
            async for record in consumer:
                message = codec.decode(InboundMessageReceived, record.value)
                if message.phone_number_id != phone_number_id or message.message_type != "text":
                    continue
                reply = OutboundIntentSubmitted(
                    intent_id=f"answer-{message.message_id}",  # one answer per message
                    phone_number_id=phone_number_id,
                    to=message.wa_id,
                    priority="reply",
                    reply_to=message.message_id,
                    content=TextContent(
                        body=f"Thanks {message.contact_name or ''}! "
                        "A person will answer within the hour."
                    ),
                )
                await client.send(reply)
                await consumer.commit()
                print(f"answered {message.message_id} as {reply.intent_id}", flush=True)
    finally:
        await consumer.stop()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--bootstrap", default="localhost:9092")
    parser.add_argument("--topic-prefix", default="", help=argparse.SUPPRESS)
    commands = parser.add_subparsers(dest="command", required=True)
    n = commands.add_parser("notify", help="tell a customer their order shipped")
    n.add_argument("--from", dest="phone_number_id", required=True)
    n.add_argument("--to", required=True)
    n.add_argument("--order", default=str(uuid.uuid4())[:8])
    n.add_argument("--name", default="there")
    a = commands.add_parser("answer", help="answer customers' messages as they arrive")
    a.add_argument("--from", dest="phone_number_id", required=True)
    args = parser.parse_args()
    settings = KafkaSettings(
        bootstrap=args.bootstrap, client_id="shop", topic_prefix=args.topic_prefix
    )
    if args.command == "notify":
        intent = shipped(args.phone_number_id, args.to, args.order, args.name)
        asyncio.run(notify(settings, intent))
    else:
        asyncio.run(answer(settings, args.phone_number_id))


if __name__ == "__main__":
    main()
