"""`wagate media upload FILE --number N`: hand dispatch a file to send; prints its reusable
media id on the number and the `ref` intents can name it by. A file Meta would refuse (type,
size, bytes not matching its type) is refused here, before any call."""

from __future__ import annotations

import click

from cli import params
from cli.output import fail, show, unavailable
from shared.media import TYPES
from shared.media_upload import MediaRefused, MediaUnavailable, upload_media_now


@click.group()
@params.service_url("WAGATE_DISPATCH_URL", "http://127.0.0.1:8084", "The dispatch service")
@params.api_key("WAGATE_MEDIA_API_KEY", "Bearer key of dispatch's media API")
@click.pass_context
def media(ctx: click.Context, url: str, api_key: str) -> None:
    """Files to send: checked against Meta's limits, uploaded once, reused."""
    ctx.obj = (url, api_key)


@media.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--number", "phone_number_id", required=True, help="Business phone number id.")
@click.option("--type", "mime", default=None, help="MIME type (default: from name and bytes).")
@click.option("--kind", type=click.Choice(sorted(TYPES)), default=None, help="Send it as this.")
@click.pass_obj
def upload(
    obj: tuple[str, str], file: str, phone_number_id: str, mime: str | None, kind: str | None
) -> None:
    """Upload FILE for the number: its media id (and `ref`) to send it by."""
    url, api_key = obj
    try:
        answer = upload_media_now(url, api_key, phone_number_id, file, mime=mime, kind=kind)
    except MediaRefused as exc:
        fail(f"refused: {exc}")
    except MediaUnavailable as exc:
        unavailable(str(exc))
    show(answer, columns=("media_id", "ref", "mime_type", "size", "expires_at", "reused"))
