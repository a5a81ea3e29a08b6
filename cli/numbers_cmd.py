"""`wagate numbers`: each business number's live state as dispatch holds it (throughput tier,
quality rating, restrictions, the portfolio's messaging limit, and whether Meta reported it or
the settings still give it), and with `--limits` each portfolio's messaging limit as policy
decides with it."""

from __future__ import annotations

from typing import Any

import aiohttp
import click

from cli.output import run_http, show
from cli.params import service_address


@click.command()
@service_address("dispatch", 8084)
@service_address("policy", 8083)
@click.option("--limits", is_flag=True, help="Also show each portfolio's messaging limit.")
def numbers(dispatch_url: str, policy_url: str, limits: bool) -> None:
    """Show each business number's live state (and, with --limits, the portfolios')."""
    base = dispatch_url.rstrip("/")
    found = run_http(_get(base, "/numbers", "dispatch"), "dispatch", base)
    if not limits:
        show(found)
        return
    policy = policy_url.rstrip("/")
    portfolios = run_http(_get(policy, "/accounts", "policy"), "policy", policy)
    show({**found, **portfolios})


async def _get(base: str, path: str, server: str) -> dict[str, Any]:
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session,
        session.get(base + path) as resp,
    ):
        if resp.status != 200:
            raise click.ClickException(f"{server} answered {resp.status} for {path}")
        try:
            body = await resp.json(content_type=None)
        except ValueError as exc:
            raise click.ClickException(f"{server} answered {path} with no JSON") from exc
    if not isinstance(body, dict):
        raise click.ClickException(f"{server} answered {path} with no JSON object")
    return body
