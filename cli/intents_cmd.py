"""`wagate intents resend ID`: ask dispatch to send once more an intent whose outcome is
unknown (the request may have reached Meta, so the customer may get it twice). Dispatch
records who asked in its ledger; it refuses an intent in any other state."""

from __future__ import annotations

import getpass
import json
from typing import Any
from urllib.parse import quote

import aiohttp
import click

from cli.output import EXIT_FAILED, EXIT_USAGE, fail, run_http, show


@click.group()
@click.option(
    "--dispatch-url",
    envvar="WAGATE_DISPATCH_URL",
    default="http://127.0.0.1:8084",
    show_default=True,
    help="Dispatch's HTTP address (env WAGATE_DISPATCH_URL).",
)
@click.pass_context
def intents(ctx: click.Context, dispatch_url: str) -> None:
    """Act on intents dispatch holds."""
    ctx.obj = dispatch_url.rstrip("/")


@intents.command("resend")
@click.argument("intent_id")
@click.option(
    "--by",
    "requested_by",
    default=None,
    help="Who asks, as the ledger records it (default: $USER).",
)
@click.pass_obj
def resend(url: str, intent_id: str, requested_by: str | None) -> None:
    """Send an intent whose outcome is unknown once more (a duplicate is accepted)."""
    by = requested_by or getpass.getuser()
    target = f"{url}/intents/{quote(intent_id, safe='')}/resend"
    status, answer = run_http(_post(target, {"requested_by": by}), "dispatch", url)
    if status == 202:
        show(answer)
        return
    why = answer.get("error") if isinstance(answer, dict) else None
    code = EXIT_USAGE if status == 400 else EXIT_FAILED
    fail(f"dispatch refused the resend ({status}): {why or answer}", code)


async def _post(url: str, body: dict[str, Any]) -> tuple[int, Any]:
    timeout = aiohttp.ClientTimeout(total=10)
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, json=body, timeout=timeout) as resp,
    ):
        raw = await resp.read()
        try:
            return resp.status, json.loads(raw)
        except ValueError:
            return resp.status, raw.decode(errors="replace")[:200]
