"""`wagate send ...`: produce an outbound intent of any type and optionally follow its fate,
printing each delivery update as it arrives.

Exit codes (`cli.output`): 0 produced (with --wait: the Cloud API took it), 1 failed at Meta
or expired, 2 bad usage, 3 refused by policy, 4 no outcome within --wait, 69 Kafka unreachable.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click
from pydantic import ValidationError

from cli.config import pass_kafka
from cli.follow import outcome, print_intent, print_update
from cli.output import EXIT_CODES, EXIT_OK, as_json, run_async
from cli.params import Instant, Seconds, json_arg, pairs
from shared.client import WagateClient
from shared.events import message_types
from shared.events.delivery import DeliveryUpdated
from shared.events.envelope import new_id
from shared.events.intents import (
    ContactsContent,
    InteractiveContent,
    LocationContent,
    MediaContent,
    MessageContent,
    OutboundIntentSubmitted,
    ReactionContent,
    TemplateContent,
    TextContent,
)
from shared.settings import KafkaSettings

F = TypeVar("F", bound=Callable[..., Any])
_PARAMETER_NAME = re.compile(r"[a-z_][a-z0-9_]*")
_BUTTON_INDEX = re.compile(r"[0-9]{1,2}")


def common(fn: F) -> F:
    """Options every `send` command shares."""
    options = [
        click.option("--from", "phone_number_id", required=True, help="Business phone number id."),
        click.option(
            "--to", default=None, help="Customer phone number or WhatsApp id (or --recipient)."
        ),
        click.option(
            "--recipient",
            default=None,
            help="Customer business-scoped user ID, e.g. US.13491208655302741918 (or --to).",
        ),
        click.option("--intent-id", default=None, help="Idempotency key (default: a new UUID)."),
        click.option(
            "--priority",
            type=click.Choice(["reply", "notification", "marketing"]),
            default="notification",
            show_default=True,
        ),
        click.option(
            "--category",
            type=click.Choice(["service", "utility", "marketing"]),
            default=None,
            help="What a free-form message is (marketing is capped).",
        ),
        click.option("--reply-to", default=None, help="wamid to quote."),
        click.option(
            "--not-after",
            type=Instant(),
            default=None,
            help="Give up after this time (ISO 8601, e.g. 2026-03-05T18:00:00+01:00; UTC when "
            "it has no offset).",
        ),
        click.option(
            "--meta",
            "metadata",
            multiple=True,
            metavar="KEY=VALUE",
            help="Metadata echoed in every delivery update (repeatable).",
        ),
        click.option(
            "--wait",
            "wait_s",
            type=Seconds(),
            default=0,
            is_flag=False,
            flag_value=60.0,
            help="Follow the intent for this many seconds (60 when no value is given), "
            "printing each delivery update as it arrives, until its outcome.",
        ),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def submit(settings: KafkaSettings, content: Callable[[], MessageContent], **opts: Any) -> None:
    """Build the intent (usage errors exit 2), produce it, print its id and its updates."""
    try:
        intent = OutboundIntentSubmitted(
            intent_id=opts["intent_id"] or new_id(),
            phone_number_id=opts["phone_number_id"],
            to=opts["to"],
            recipient=opts["recipient"],
            content=content(),
            priority=opts["priority"],
            category=opts["category"],
            reply_to=opts["reply_to"],
            not_after=opts["not_after"],
            metadata=pairs(opts["metadata"], "KEY=VALUE", "--meta"),
            producer="wagate-cli",
        )
    except ValidationError as exc:
        raise click.UsageError(_first_error(exc)) from exc
    wait_s: float = opts["wait_s"]
    last = run_async(_send(settings, intent, wait_s))
    code = outcome(last) if wait_s else EXIT_OK
    if code != EXIT_OK and not as_json():
        click.echo(f"exit {code}: {EXIT_CODES[code]}", err=True)
    sys.exit(code)


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(p) for p in error["loc"])
    return f"invalid {where}: {error['msg']}" if where else f"invalid intent: {error['msg']}"


async def _send(
    settings: KafkaSettings, intent: OutboundIntentSubmitted, wait_s: float
) -> DeliveryUpdated | None:
    """Produce, print the intent id once Kafka has it, then each update as it arrives."""
    last = None
    async with WagateClient(settings, "wagate-cli") as client:
        if not wait_s:
            await client.send(intent)
            print_intent(intent.intent_id)
            return None
        async with client.follow([intent.intent_id]) as updates:
            await client.send(intent)
            print_intent(intent.intent_id)
            async for update in updates.until_terminal(wait_s):
                print_update(update)
                last = update
    return last


@click.group()
def send() -> None:
    """Ask wagate to send a message (produces an outbound intent)."""


@send.command("text")
@common
@click.option("--body", required=True, help="The message text (at most 4096 characters).")
@click.option("--preview-url", is_flag=True, help="Render a preview of the first URL.")
@pass_kafka
def send_text(settings: KafkaSettings, /, body: str, preview_url: bool, **opts: Any) -> None:
    """A free-form text (allowed only inside the customer service window)."""
    submit(settings, lambda: TextContent(body=body, preview_url=preview_url), **opts)


@send.command("media")
@common
@click.option(
    "--type",
    "kind",
    required=True,
    type=click.Choice(sorted(message_types.MEDIA)),
)
@click.option("--id", "media_id", default=None, help="A media id uploaded to the Cloud API.")
@click.option("--link", default=None, help="An HTTPS link to the media.")
@click.option("--caption", default=None, help="Image, video and document only.")
@click.option("--filename", default=None, help="Document only.")
@pass_kafka
def send_media(
    settings: KafkaSettings,
    /,
    kind: str,
    media_id: str | None,
    link: str | None,
    caption: str | None,
    filename: str | None,
    **opts: Any,
) -> None:
    """An image, video, audio, document or sticker, by id or link."""
    submit(
        settings,
        lambda: MediaContent(
            type=kind,
            id=media_id,
            link=link,
            caption=caption,
            filename=filename,
        ),
        **opts,
    )


@send.command("location")
@common
@click.option("--latitude", type=float, required=True)
@click.option("--longitude", type=float, required=True)
@click.option("--name", default=None)
@click.option("--address", default=None)
@pass_kafka
def send_location(
    settings: KafkaSettings,
    /,
    latitude: float,
    longitude: float,
    name: str | None,
    address: str | None,
    **opts: Any,
) -> None:
    """A location pin."""
    submit(
        settings,
        lambda: LocationContent(latitude=latitude, longitude=longitude, name=name, address=address),
        **opts,
    )


@send.command("reaction")
@common
@click.option("--message-id", required=True, help="The wamid reacted to.")
@click.option("--emoji", default="", help="The emoji (empty removes the reaction).")
@pass_kafka
def send_reaction(settings: KafkaSettings, /, message_id: str, emoji: str, **opts: Any) -> None:
    """A reaction to a customer's message."""
    submit(settings, lambda: ReactionContent(message_id=message_id, emoji=emoji), **opts)


@send.command("interactive")
@common
@click.option("--json", "payload", required=True, help="The `interactive` object: JSON or @file.")
@pass_kafka
def send_interactive(settings: KafkaSettings, /, payload: str, **opts: Any) -> None:
    """Reply buttons, a list or a call-to-action URL (Meta's `interactive` object)."""
    submit(settings, lambda: InteractiveContent(interactive=json_arg(payload, "--json")), **opts)


@send.command("contacts")
@common
@click.option("--json", "payload", required=True, help="The `contacts` array: JSON or @file.")
@pass_kafka
def send_contacts(settings: KafkaSettings, /, payload: str, **opts: Any) -> None:
    """One or more contact cards (Meta's `contacts` array)."""
    submit(settings, lambda: ContactsContent(contacts=json_arg(payload, "--json")), **opts)


@send.command("template")
@common
@click.option("--name", required=True, help="The approved template's name.")
@click.option("--language", required=True, help="e.g. en_US.")
@click.option(
    "--param",
    "params",
    multiple=True,
    help="A positional body parameter, in order (repeatable); NAME=VALUE for named.",
)
@click.option(
    "--sensitive-param",
    "secret_params",
    multiple=True,
    help="A body parameter kept out of decisions, updates and logs (e.g. a code).",
)
@click.option("--header-param", default=None, help="The variable of a text header.")
@click.option(
    "--header-media",
    default=None,
    metavar="TYPE:LINK",
    help="A media header, e.g. image:https://example.com/a.png.",
)
@click.option(
    "--button-url-param",
    "url_params",
    multiple=True,
    metavar="INDEX=VALUE",
    help="The variable part of a URL button (repeatable).",
)
@click.option("--components", default=None, help="All components as JSON or @file instead.")
@pass_kafka
def send_template(
    settings: KafkaSettings,
    /,
    name: str,
    language: str,
    params: tuple[str, ...],
    secret_params: tuple[str, ...],
    header_param: str | None,
    header_media: str | None,
    url_params: tuple[str, ...],
    components: str | None,
    **opts: Any,
) -> None:
    """An approved template, with its parameters (the only kind allowed outside the window)."""

    def content() -> TemplateContent:
        built = (
            json_arg(components, "--components")
            if components is not None
            else template_components(
                params, secret_params, header_media, url_params, header_param=header_param
            )
        )
        return TemplateContent(name=name, language=language, components=built)

    submit(settings, content, **opts)


def template_components(
    params: tuple[str, ...],
    secret_params: tuple[str, ...],
    header_media: str | None,
    url_params: tuple[str, ...],
    header_param: str | None = None,
) -> list[dict[str, Any]]:
    """Meta's send-time components from the command's flags."""
    out: list[dict[str, Any]] = []
    if header_param is not None and header_media:
        raise click.BadParameter("a header is text or media, not both", param_hint="--header-param")
    if header_param is not None:
        out.append({"type": "header", "parameters": [_text_param(header_param)]})
    if header_media:
        kind, sep, link = header_media.partition(":")
        if not sep or kind not in ("image", "video", "document"):
            raise click.BadParameter(
                "use TYPE:LINK with image, video or document", param_hint="--header-media"
            )
        out.append({"type": "header", "parameters": [{"type": kind, kind: {"link": link}}]})
    body = [_text_param(p) for p in params]
    body += [{**_text_param(p), "sensitive": True} for p in secret_params]
    if body:
        out.append({"type": "body", "parameters": body})
    for item in url_params:
        index, sep, value = item.partition("=")
        if not sep or not _BUTTON_INDEX.fullmatch(index):
            raise click.BadParameter(
                f"{item!r} is not INDEX=VALUE", param_hint="--button-url-param"
            )
        out.append(
            {
                "type": "button",
                "sub_type": "url",
                "index": index,
                "parameters": [{"type": "text", "text": value}],
            }
        )
    return out


def _text_param(value: str) -> dict[str, Any]:
    name, sep, text = value.partition("=")
    if sep and _PARAMETER_NAME.fullmatch(name):
        return {"type": "text", "parameter_name": name, "text": text}
    return {"type": "text", "text": value}
