"""`wagate sandbox ...`: drive the local Cloud API stand-in."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

import aiohttp
import click

from shared.runtime import EXIT_UNAVAILABLE


@click.group()
@click.option(
    "--url",
    envvar="WAGATE_SANDBOX_URL",
    default="http://127.0.0.1:8090",
    show_default=True,
    help="The sandbox's base URL (env WAGATE_SANDBOX_URL).",
)
@click.pass_context
def sandbox(ctx: click.Context, url: str) -> None:
    """Act as a customer or inspect the sandbox."""
    ctx.obj = url.rstrip("/")


@sandbox.command("customer-message")
@click.option("--to", "phone_number_id", required=True, help="Business phone number id.")
@click.option("--from", "wa_id", required=True, help="The customer's WhatsApp id.")
@click.option("--text", required=True, help="What the customer writes.")
@click.option("--name", default="Sandbox Customer", show_default=True)
@click.pass_obj
def customer_message(url: str, phone_number_id: str, wa_id: str, text: str, name: str) -> None:
    """A customer writes to a business number (opens the 24-hour window)."""
    body = {"phone_number_id": phone_number_id, "from": wa_id, "text": text, "name": name}
    click.echo(json.dumps(_call("POST", f"{url}/sandbox/customer-messages", body)))


@sandbox.command("violations")
@click.pass_obj
def violations(url: str) -> None:
    """Every request the sandbox refused for breaking one of Meta's rules."""
    click.echo(json.dumps(_call("GET", f"{url}/sandbox/violations", None)))


def _call(method: str, url: str, body: dict[str, Any] | None) -> Any:
    async def go() -> Any:
        async with (
            aiohttp.ClientSession() as session,
            session.request(
                method, url, json=body, timeout=aiohttp.ClientTimeout(total=10)
            ) as resp,
        ):
            payload = await resp.json(content_type=None)
            if resp.status >= 400:
                raise click.ClickException(f"sandbox answered {resp.status}: {payload}")
            return payload

    try:
        return asyncio.run(go())
    except aiohttp.ClientConnectionError as exc:
        click.echo(f"error: the sandbox is unreachable at {url}: {exc}", err=True)
        sys.exit(EXIT_UNAVAILABLE)
