"""`wagate templates ...`: author, check, submit and inspect templates through the templates
service's HTTP API (click, aiohttp and PyYAML: none of the service's own code)."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import click
import yaml

from cli import params
from cli.output import EXIT_FAILED, Progress, unavailable
from cli.output import show as print_answer
from cli.params import json_value, read_text
from shared.media_upload import MediaRefused, inline_samples
from shared.runtime import EXIT_UNAVAILABLE

COLUMNS = ("waba_id", "name", "language", "category", "status", "quality", "version")
"""What `templates list` shows a person (--json has every field)."""


def load_file(path: str) -> Any:
    """A template (or a list of them) from a .json, .yaml or .yml file; a file that cannot
    be read or parsed is a usage error."""
    text = read_text(path, "template file")
    if not path.endswith((".yaml", ".yml")):
        return json_value(text, path)
    try:
        loaded = yaml.safe_load(text)
    except (yaml.YAMLError, RecursionError) as exc:
        raise click.BadParameter(f"{path} is not YAML: {exc}") from exc
    try:  # YAML dates and the like: refuse what JSON cannot carry
        json.dumps(loaded, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise click.BadParameter(f"{path} holds a value JSON cannot carry: {exc}") from exc
    return loaded


def objects(loaded: Any, what: str) -> list[dict[str, Any]]:
    """One template object or a list of them, as a list; anything else is a usage error."""
    items = loaded if isinstance(loaded, list) else [loaded]
    if not items or not all(isinstance(item, dict) for item in items):
        raise click.BadParameter(f"{what} must hold a template object or a list of them")
    return items


class Api:
    def __init__(self, url: str, api_key: str) -> None:
        self.url = url.rstrip("/")
        self.headers = {"Authorization": f"Bearer {api_key}"}

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        columns: tuple[str, ...] | None = None,
        **query: str | None,
    ) -> Any:
        """Perform the request, print the answer; exit 1 on a refusal, 69 when unreachable."""
        status, answer = asyncio.run(self._call(method, path, body, query))
        print_answer(answer, columns=columns, ensure_ascii=False)
        if status >= 500:
            sys.exit(EXIT_UNAVAILABLE)
        if status >= 400:
            sys.exit(EXIT_FAILED)
        return answer

    async def _call(
        self, method: str, path: str, body: Any, query: dict[str, str | None]
    ) -> tuple[int, Any]:
        params = {k: v for k, v in query.items() if v is not None}
        try:
            async with (
                aiohttp.ClientSession() as session,
                session.request(
                    method, self.url + path, json=body, params=params, headers=self.headers
                ) as resp,
            ):
                raw = await resp.read()
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            unavailable(f"the templates service is unreachable: {exc}")
        try:
            return resp.status, json.loads(raw)
        except ValueError:
            text = raw.decode("utf-8", errors="replace")[:500]
            return resp.status, {"error": {"code": "NOT_JSON", "status": resp.status, "body": text}}


def _path(*parts: str) -> str:
    return "/".join(quote(p, safe="") for p in parts)


@click.group()
@params.service_url("WAGATE_TEMPLATES_URL", "http://127.0.0.1:8082", "The templates service")
@params.api_key("WAGATE_TEMPLATES_API_KEY", "Bearer API key")
@click.pass_context
def templates(ctx: click.Context, url: str, api_key: str) -> None:
    """Author, check, submit and follow message templates."""
    ctx.obj = Api(url, api_key)


@templates.command()
@click.argument("file")
@click.option("--waba", "waba_id", required=True, help="WhatsApp Business Account id.")
@click.pass_obj
def create(api: Api, file: str, waba_id: str) -> None:
    """Create and submit the template(s) in FILE (.json or .yaml; one or a list)."""
    folder = Path(file).parent
    try:  # media header samples named by path travel inline (uploaded for their handle)
        bodies = [inline_samples(body, folder) for body in objects(load_file(file), file)]
    except MediaRefused as exc:
        raise click.BadParameter(str(exc)) from exc
    with Progress("templates", len(bodies) if len(bodies) > 1 else 0) as bar:
        for body in bodies:
            api.call("POST", "/v1/templates", {**body, "waba_id": waba_id})
            bar.advance()


@templates.command()
@click.argument("file")
@click.pass_obj
def validate(api: Api, file: str) -> None:
    """Check the template in FILE against Meta's rules without storing it."""
    answer = api.call("POST", "/v1/templates/validate", load_file(file))
    if not isinstance(answer, dict) or not answer.get("valid"):
        sys.exit(EXIT_FAILED)


@templates.command("list")
@click.option("--waba", "waba_id")
@click.option("--name")
@click.option("--language")
@click.option("--category")
@click.option("--status")
@click.pass_obj
def list_(api: Api, /, **filters: str | None) -> None:
    """List templates, filtered."""
    api.call("GET", "/v1/templates", columns=COLUMNS, **filters)


@templates.command()
@click.argument("waba_id")
@click.argument("name")
@click.argument("language")
@click.option("--history", is_flag=True, help="Every change, oldest first.")
@click.pass_obj
def show(api: Api, waba_id: str, name: str, language: str, history: bool) -> None:
    """One template in one language."""
    suffix = "/history" if history else ""
    api.call("GET", f"/v1/templates/{_path(waba_id, name, language)}{suffix}")


@templates.command()
@click.argument("waba_id")
@click.argument("name")
@click.argument("file")
@click.pass_obj
def translate(api: Api, waba_id: str, name: str, file: str) -> None:
    """Add NAME in another language (FILE: language and components)."""
    api.call("POST", f"/v1/templates/{_path(waba_id, name)}/translations", load_file(file))


@templates.command()
@click.argument("waba_id")
@click.argument("name")
@click.argument("language")
@click.option("--params", default="{}", help='Sample parameters: {"body": [...], ...}.')
@click.pass_obj
def preview(api: Api, waba_id: str, name: str, language: str, params: str) -> None:
    """Render the template with sample parameters."""
    path = f"/v1/templates/{_path(waba_id, name, language)}/preview"
    api.call("POST", path, {"parameters": json_value(params, "--params")})


@templates.command()
@click.argument("waba_ids", metavar="WABA_ID...", nargs=-1, required=True)
@click.pass_obj
def sync(api: Api, waba_ids: tuple[str, ...]) -> None:
    """Read every template of each account back from the Cloud API (one answer per account,
    a progress bar on stderr when there are several)."""
    with Progress("accounts", len(waba_ids) if len(waba_ids) > 1 else 0) as bar:
        for waba_id in waba_ids:
            api.call("POST", f"/v1/sync/{_path(waba_id)}")
            bar.advance()


@templates.command()
@click.argument("waba_id")
@click.argument("name")
@click.option("--language", help="Only this language (default: every language).")
@click.pass_obj
def delete(api: Api, waba_id: str, name: str, language: str | None) -> None:
    """Delete a template."""
    api.call("DELETE", f"/v1/templates/{_path(waba_id, name)}", language=language)


@templates.command()
@click.argument("waba_id")
@click.argument("name")
@click.argument("language")
@click.argument("file")
@click.pass_obj
def edit(api: Api, waba_id: str, name: str, language: str, file: str) -> None:
    """Replace components (and category or time to live) from FILE."""
    api.call("PATCH", f"/v1/templates/{_path(waba_id, name, language)}", load_file(file))


def _language_action(action: str, help_text: str) -> None:
    """`templates ACTION WABA_ID NAME LANGUAGE`: POST to that template-language's ACTION."""

    @templates.command(action, help=help_text)
    @click.argument("waba_id")
    @click.argument("name")
    @click.argument("language")
    @click.pass_obj
    def command(api: Api, waba_id: str, name: str, language: str) -> None:
        api.call("POST", f"/v1/templates/{_path(waba_id, name, language)}/{action}")


_language_action(
    "submit", "Submit a draft again (after the Cloud API was unreachable or refused it)."
)
_language_action("unpause", "Ask the Cloud API to unpause a paused template.")


@templates.command()
@click.argument("waba_id")
@click.argument("name")
@click.argument("languages", nargs=-1, required=True)
@click.pass_obj
def fallbacks(api: Api, waba_id: str, name: str, languages: tuple[str, ...]) -> None:
    """Set the ordered language chain, e.g. `pt_BR pt en`."""
    path = f"/v1/templates/{_path(waba_id, name)}/fallbacks"
    api.call("PUT", path, {"languages": list(languages)})
