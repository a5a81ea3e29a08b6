"""`wagate window PHONE_NUMBER_ID WA_ID`: the customer service window as policy sees it."""

from __future__ import annotations

import sys
from typing import Any
from urllib.parse import quote

import aiohttp
import click

from cli.output import EXIT_FAILED, run_http, show
from cli.params import service_address


@click.command()
@click.argument("phone_number_id")
@click.argument("wa_id")
@service_address("policy", 8083)
@click.option("--consent", "with_consent", is_flag=True, help="Also show the customer's consent.")
def window(phone_number_id: str, wa_id: str, policy_url: str, with_consent: bool) -> None:
    """Show the window between a business number and a customer (exit 1 when closed)."""
    base = policy_url.rstrip("/")
    where = f"{quote(phone_number_id, safe='')}/{quote(wa_id, safe='')}"
    paths = {"window": f"/windows/{where}"}
    if with_consent:
        paths["consent"] = f"/consent/{where}"
    result = run_http(_get(base, paths), "policy", base)
    show(result if with_consent else result["window"])
    if not isinstance(result["window"], dict) or not result["window"].get("is_open"):
        sys.exit(EXIT_FAILED)


async def _get(base: str, paths: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        for name, path in paths.items():
            async with session.get(base + path) as resp:
                if resp.status != 200:
                    raise click.ClickException(f"policy answered {resp.status} for {path}")
                try:
                    out[name] = await resp.json(content_type=None)
                except ValueError as exc:
                    raise click.ClickException(f"policy answered {path} with no JSON") from exc
    return out
