"""`wagate sandbox ...`: drive the local Cloud API stand-in (customers by phone or BSUID,
templates, numbers and portfolios, faults) and inspect what it saw."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import quote

import aiohttp
import click

from cli.output import echo_json, run_http, show
from cli.params import Number, Url, json_value, pairs
from services.sandbox.rules.identity import LOOKS_SCOPED
from shared.events import message_types


@click.group()
@click.option(
    "--url",
    envvar="WAGATE_SANDBOX_URL",
    type=Url(),
    default="http://127.0.0.1:8090",
    show_default=True,
    help="The sandbox's base URL (env WAGATE_SANDBOX_URL).",
)
@click.pass_context
def sandbox(ctx: click.Context, url: str) -> None:
    """Act as a customer or as Meta, inspect the sandbox, inject faults."""
    ctx.obj = url.rstrip("/")


@sandbox.command("customer-message")
@click.option("--to", "phone_number_id", required=True, help="Business phone number id.")
@click.option("--from", "wa_id", help="The customer's phone (WhatsApp id).")
@click.option("--from-user-id", "user_id", help="Or the customer's BSUID (an added customer).")
@click.option("--text", help="What the customer writes (type text).")
@click.option(
    "--type",
    "kind",
    type=click.Choice(sorted(message_types.INBOUND)),
    default="text",
    show_default=True,
)
@click.option(
    "--content", help='The object of that type as JSON, e.g. \'{"payload":"STOP","text":"Stop"}\'.'
)
@click.option("--context", "context_id", help="The business message (wamid) this answers.")
@click.option("--referral", help="Click-to-WhatsApp referral object as JSON.")
@click.option(
    "--ago", type=Number(), help="Written this many seconds ago (negative: in the future)."
)
@click.option("--name", help="The profile name (default: the customer's, else Sandbox Customer).")
@click.pass_obj
def customer_message(
    url: str,
    phone_number_id: str,
    wa_id: str | None,
    user_id: str | None,
    text: str | None,
    kind: str,
    content: str | None,
    context_id: str | None,
    referral: str | None,
    ago: float | None,
    name: str | None,
) -> None:
    """A customer writes to a business number (any type; text opens the 24-hour window)."""
    body: dict[str, Any] = {"phone_number_id": phone_number_id, **_sender(wa_id, user_id)}
    if name is not None:
        body["name"] = name
    body["type"] = kind
    if content is not None:
        body[kind] = json_value(content, "--content")
    elif kind == "text":
        if text is None:
            raise click.UsageError("--text or --content is required")
        body["text"] = text
    if context_id:
        body["context"] = {"id": context_id}
    if referral:
        body["referral"] = json_value(referral, "--referral")
    if ago is not None:
        body["timestamp"] = int(time.time() - ago)
    show(_call("POST", f"{url}/_sandbox/customer-messages", body))


def _sender(wa_id: str | None, user_id: str | None) -> dict[str, str]:
    """The customer a command names: exactly one of --from (a phone) and --from-user-id."""
    if (wa_id is None) == (user_id is None):
        raise click.UsageError("give one of --from (a phone) and --from-user-id (a BSUID)")
    return {"from": wa_id} if wa_id is not None else {"from_user_id": str(user_id)}


@sandbox.command("read")
@click.argument("wamid")
@click.pass_obj
def read(url: str, wamid: str) -> None:
    """The customer reads a message the business sent (a `read` status follows)."""
    show(_call("POST", f"{url}/_sandbox/customer-reads", {"wamid": wamid}))


@sandbox.command("marketing")
@click.argument("value", type=click.Choice(["stop", "resume"]))
@click.option("--to", "phone_number_id", required=True, help="Business phone number id.")
@click.option("--from", "wa_id", help="The customer's phone (WhatsApp id).")
@click.option("--from-user-id", "user_id", help="Or the customer's BSUID.")
@click.pass_obj
def marketing(
    url: str, value: str, phone_number_id: str, wa_id: str | None, user_id: str | None
) -> None:
    """The customer stops or resumes marketing messages (a user_preferences webhook)."""
    named = _sender(wa_id, user_id)
    field = "wa_id" if "from" in named else "user_id"
    body = {"phone_number_id": phone_number_id, "value": value, field: next(iter(named.values()))}
    show(_call("POST", f"{url}/_sandbox/user-preferences", body))


@sandbox.command("reachable")
@click.argument("customer")
@click.option("--no", "unreachable", is_flag=True, help="Not on WhatsApp: sends fail 131026.")
@click.pass_obj
def reachable(url: str, customer: str, unreachable: bool) -> None:
    """Whether a customer (a phone or a BSUID) can receive messages at all."""
    field = "user_id" if LOOKS_SCOPED.match(customer) else "wa_id"
    body = {field: customer, "reachable": not unreachable}
    show(_call("POST", f"{url}/_sandbox/reachability", body))


@sandbox.group("customer")
def customer() -> None:
    """Customers as Meta knows them in 2026: phones, BSUIDs, usernames, number changes."""


@customer.command("add")
@click.option("--phone", help="The customer's phone number.")
@click.option("--bsuid", "user_id", help="Their BSUID in the sandbox's portfolio (else made).")
@click.option("--parent-bsuid", "parent_user_id", help="Their parent BSUID (linked portfolios).")
@click.option("--username", help="A username (a username adopter); '' drops it.")
@click.option(
    "--no-phone/--show-phone",
    "withheld",
    default=None,
    help="Withhold the phone from webhooks until the business messages it (needs a username).",
)
@click.option("--name", help="The profile name.")
@click.option("--country", help="The BSUID's country when there is no phone (default US).")
@click.pass_obj
def customer_add(
    url: str,
    phone: str | None,
    user_id: str | None,
    parent_user_id: str | None,
    username: str | None,
    withheld: bool | None,
    name: str | None,
    country: str | None,
) -> None:
    """Add a customer, or change one named by --phone or --bsuid (the BSUIDs stay)."""
    given = {
        "phone": phone,
        "user_id": user_id,
        "parent_user_id": parent_user_id,
        "username": username,
        "phone_withheld": withheld,
        "name": name,
        "country": country,
    }
    body = {k: v for k, v in given.items() if v is not None}
    show(_call("POST", f"{url}/_sandbox/customers", body))


@customer.command("show")
@click.argument("identifier")
@click.pass_obj
def customer_show(url: str, identifier: str) -> None:
    """One customer, by phone or BSUID, with its BSUID in every portfolio."""
    show(_call("GET", f"{url}/_sandbox/customers/{quote(identifier, safe='')}", None))


@customer.command("list")
@click.pass_obj
def customer_list(url: str) -> None:
    """Every customer the sandbox knows."""
    show(_call("GET", f"{url}/_sandbox/customers", None))


@customer.command("change-number")
@click.option("--from", "wa_id", help="The customer's phone now.")
@click.option("--from-user-id", "user_id", help="Or their BSUID now.")
@click.option("--to", "new_phone", help="The new phone (optional for a customer with none).")
@click.option(
    "--number",
    "numbers",
    multiple=True,
    help="Business number id to notify (default: every number the customer talked with).",
)
@click.pass_obj
def customer_change_number(
    url: str,
    wa_id: str | None,
    user_id: str | None,
    new_phone: str | None,
    numbers: tuple[str, ...],
) -> None:
    """The customer changes phone number: their BSUIDs are made anew and each business number
    gets user_changed_number, or user_changed_user_id when the phone may not be shown."""
    body: dict[str, Any] = dict(_sender(wa_id, user_id))
    if new_phone is not None:
        body["to"] = new_phone
    if numbers:
        body["phone_number_ids"] = list(numbers)
    show(_call("POST", f"{url}/_sandbox/number-changes", body))


@sandbox.command("portfolio")
@click.argument("portfolio_id")
@click.option("--number", "numbers", multiple=True, required=True, help="Business number id.")
@click.option("--linked", is_flag=True, help="Linked with the sandbox's portfolio (parent BSUIDs).")
@click.pass_obj
def portfolio(url: str, portfolio_id: str, numbers: tuple[str, ...], linked: bool) -> None:
    """Put business numbers in another business portfolio: BSUIDs differ per portfolio."""
    body = {"portfolio_id": portfolio_id, "phone_number_ids": list(numbers), "linked": linked}
    show(_call("POST", f"{url}/_sandbox/portfolios", body))


@sandbox.command("throughput")
@click.option("--number", "phone_number_id", required=True, help="Business phone number id.")
@click.option("--mps", type=Number(minimum=0), required=True, help="Messages per second allowed.")
@click.pass_obj
def throughput(url: str, phone_number_id: str, mps: float) -> None:
    """Set a number's throughput; sends above it get 130429."""
    body = {"phone_number_id": phone_number_id, "mps": mps}
    show(_call("POST", f"{url}/_sandbox/throughput", body))


@sandbox.command("messages")
@click.option("--number", "phone_number_id", help="Only this business phone number id.")
@click.pass_obj
def messages(url: str, phone_number_id: str | None) -> None:
    """What each number sent and received."""
    query = f"?phone_number_id={quote(phone_number_id, safe='')}" if phone_number_id else ""
    show(_call("GET", f"{url}/_sandbox/messages{query}", None))


@sandbox.command("violations")
@click.option("--code", type=int, help="Only violations with this Meta error code.")
@click.pass_obj
def violations(url: str, code: int | None) -> None:
    """Every request the sandbox refused for breaking one of Meta's rules."""
    query = f"?code={code}" if code is not None else ""
    show(_call("GET", f"{url}/sandbox/violations{query}", None))


@sandbox.command("webhooks")
@click.option(
    "--last",
    type=click.IntRange(min=0),
    default=20,
    show_default=True,
    help="How many, newest last.",
)
@click.pass_obj
def webhooks(url: str, last: int) -> None:
    """The last webhooks the sandbox sent (one JSON body a line)."""
    answer = _call("GET", f"{url}/_sandbox/webhooks", None)
    kept = answer.get("webhooks") if isinstance(answer, dict) else None
    if not isinstance(kept, list):
        raise click.ClickException(f"the sandbox answered no webhook list: {answer!r:.200}")
    for payload in kept[-last:] if last > 0 else []:
        echo_json(payload)


@sandbox.command("faults")
@click.option("--set", "settings", multiple=True, metavar="NAME=VALUE", help="e.g. drop_rate=0.1")
@click.option("--seed", type=int, help="Seed the fault (and nothing else) random source.")
@click.option("--clear", is_flag=True, help="Back to no faults.")
@click.pass_obj
def faults(url: str, settings: tuple[str, ...], seed: int | None, clear: bool) -> None:
    """Show or change the injected faults (rates in [0, 1])."""
    if not settings and seed is None and not clear:
        show(_call("GET", f"{url}/_sandbox/faults", None))
        return
    changes = fault_settings(settings)
    current: dict[str, Any] = {} if clear else _call("GET", f"{url}/_sandbox/faults", None)
    if not isinstance(current, dict):
        raise click.ClickException(f"the sandbox answered no faults object: {current!r:.200}")
    current.update(changes)
    if seed is not None:
        current["seed"] = seed
    show(_call("PUT", f"{url}/_sandbox/faults", current))


@sandbox.command("reset")
@click.option("--seed", type=int, help="Restart ids and faults from this seed.")
@click.pass_obj
def reset(url: str, seed: int | None) -> None:
    """Forget every message, template, window and violation."""
    show(_call("POST", f"{url}/_sandbox/reset", {"seed": seed}))


@sandbox.group("template")
def template() -> None:
    """Act as Meta on message templates."""


@template.command("list")
@click.pass_obj
def template_list(url: str) -> None:
    """Every template, whatever its status."""
    show(_call("GET", f"{url}/_sandbox/templates", None))


def _template_action(name: str, help_text: str) -> None:
    @template.command(name, help=help_text)
    @click.argument("template_id")
    @click.pass_obj
    def action(url: str, template_id: str) -> None:
        show(_call("POST", f"{url}/_sandbox/templates/{quote(template_id, safe='')}/{name}", {}))


_template_action("review", "Decide a PENDING template now.")
_template_action("pause", "Pause for low quality (the third pause disables).")
_template_action("unpause", "Unpause a paused template.")
_template_action("disable", "Disable a template for good.")


@template.command("category")
@click.argument("template_id")
@click.argument("category", type=click.Choice(["MARKETING", "UTILITY", "AUTHENTICATION"]))
@click.option("--notice", is_flag=True, help="Only announce the change, 24 h ahead.")
@click.pass_obj
def template_category(url: str, template_id: str, category: str, notice: bool) -> None:
    """Re-categorise a template."""
    body = {"category": category, "notice": notice}
    show(_call("POST", f"{url}/_sandbox/templates/{quote(template_id, safe='')}/category", body))


@template.command("pacing")
@click.argument("template_id")
@click.option("--off", is_flag=True, help="Stop pacing.")
@click.pass_obj
def template_pacing(url: str, template_id: str, off: bool) -> None:
    """Pace a template: its messages are held, then released or dropped (132015)."""
    body = {"paced": not off}
    show(_call("POST", f"{url}/_sandbox/templates/{quote(template_id, safe='')}/pacing", body))


@template.command("quality")
@click.argument("template_id")
@click.argument("score", type=click.Choice(["GREEN", "YELLOW", "RED", "UNKNOWN"]))
@click.pass_obj
def template_quality(url: str, template_id: str, score: str) -> None:
    """Change a template's quality score."""
    show(
        _call(
            "POST",
            f"{url}/_sandbox/templates/{quote(template_id, safe='')}/quality",
            {"score": score},
        )
    )


def fault_settings(items: tuple[str, ...]) -> dict[str, int | float]:
    """`--set NAME=VALUE` pairs with finite numbers as values (whole numbers stay whole)."""
    out: dict[str, int | float] = {}
    for name, value in pairs(items, "NAME=VALUE", "--set").items():
        try:
            number: int | float = int(value)
        except ValueError:
            try:
                number = Number().convert(value, None, None)
            except click.BadParameter as exc:
                raise click.BadParameter(f"{name}: {exc.message}", param_hint="--set") from exc
        out[name.strip()] = number
    return out


def _call(method: str, url: str, body: dict[str, Any] | None) -> Any:
    return run_http(_request(method, url, body), "the sandbox", url)


async def _request(method: str, url: str, body: dict[str, Any] | None) -> Any:
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, url, json=body, timeout=aiohttp.ClientTimeout(total=10)) as resp,
    ):
        raw = await resp.read()
        try:
            payload = json.loads(raw)
        except ValueError as exc:
            raise click.ClickException(f"sandbox answered {resp.status} with no JSON") from exc
        if resp.status >= 400:
            raise click.ClickException(f"sandbox answered {resp.status}: {payload}")
        return payload
