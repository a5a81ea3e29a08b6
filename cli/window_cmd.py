"""`wagate window PHONE_NUMBER_ID WA_ID`: the customer service window as policy sees it."""

from __future__ import annotations

import sys
from typing import Any

import aiohttp
import click

from cli.output import EXIT_FAILED, echo_json, run_http


@click.command()
@click.argument("phone_number_id")
@click.argument("wa_id")
@click.option(
    "--policy-url",
    envvar="WAGATE_POLICY_URL",
    default="http://127.0.0.1:8083",
    show_default=True,
    help="Policy's base URL (env WAGATE_POLICY_URL).",
)
@click.option("--consent", "with_consent", is_flag=True, help="Also show the customer's consent.")
def window(phone_number_id: str, wa_id: str, policy_url: str, with_consent: bool) -> None:
    """Show the window between a business number and a customer (exit 1 when closed)."""
    base = policy_url.rstrip("/")
    paths = {"window": f"/windows/{phone_number_id}/{wa_id}"}
    if with_consent:
        paths["consent"] = f"/consent/{phone_number_id}/{wa_id}"
    result = run_http(_get(base, paths), "policy", base)
    echo_json(result if with_consent else result["window"])
    if not result["window"].get("is_open"):
        sys.exit(EXIT_FAILED)


async def _get(base: str, paths: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        for name, path in paths.items():
            async with session.get(base + path) as resp:
                if resp.status != 200:
                    raise click.ClickException(f"policy answered {resp.status} for {path}")
                out[name] = await resp.json()
    return out
