"""The sandbox's media routes, as the Cloud API has them: upload (`POST /{phone-number-id}/media`,
multipart), retrieval (`GET /{media-id}`: an url living 5 minutes), the download of that url
with the token, `DELETE /{media-id}`, and the Resumable Upload API (`POST /{app-id}/uploads`,
`POST /upload:{session}` from `file_offset`, `GET /upload:{session}`)."""

from __future__ import annotations

from aiohttp import BodyPartReader, web

from services.sandbox.media import MediaFile
from services.sandbox.rules import codes
from services.sandbox.web_common import SANDBOX, Handler, meta_error

DOWNLOAD_PATH = "/whatsapp_business/attachments/"
MAX_BODY = 110 * 1024 * 1024  # past Meta's largest document: refused by size, not by aiohttp


def authorized(request: web.Request) -> bool:
    """The bearer token, or `OAuth <token>` as the Resumable Upload API takes it."""
    header = request.headers.get("Authorization") or ""
    if header.startswith("OAuth "):
        header = "Bearer " + header.removeprefix("OAuth ")
    return request.app[SANDBOX].authorized(header)


def _token_required(handler: Handler) -> Handler:
    async def checked(request: web.Request) -> web.StreamResponse:
        if not authorized(request):
            return meta_error(codes.access_token(), 401)
        return await handler(request)

    return checked


async def _form(request: web.Request) -> tuple[dict[str, str], bytes, str]:
    """The multipart fields, the file's bytes and the file part's own content type."""
    fields: dict[str, str] = {}
    data, part_type = b"", ""
    reader = await request.multipart()
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader):
            continue
        if part.name == "file":
            data = bytes(await part.read(decode=False))
            part_type = part.headers.get("Content-Type", "")
        elif part.name:
            fields[part.name] = await part.text()
    return fields, data, part_type


async def upload(request: web.Request) -> web.Response:
    if not request.content_type.startswith("multipart/"):
        return meta_error(codes.invalid_parameter("the upload must be multipart/form-data"))
    fields, data, part_type = await _form(request)
    if not data:
        return meta_error(codes.missing_parameter("file is required"))
    declared = fields.get("type") or part_type
    library = request.app[SANDBOX].media
    kept = library.upload(
        request.match_info["phone_number_id"], declared, data, fields.get("messaging_product")
    )
    if not isinstance(kept, MediaFile):
        return meta_error(kept)
    return web.json_response({"id": kept.id})


def _owned(request: web.Request, media_id: str) -> MediaFile | web.Response:
    kept = request.app[SANDBOX].media.find(media_id)
    number = request.query.get("phone_number_id")
    if kept is None or (number and number != kept.phone_number_id):
        return meta_error(codes.no_such_object(media_id))
    return kept


def read_object(template_reader: Handler) -> Handler:
    """`GET /{id}`: a media file's description when the id is one, else the template's."""

    async def read(request: web.Request) -> web.StreamResponse:
        object_id = request.match_info["template_id"]
        if request.app[SANDBOX].media.files.get(object_id) is None:
            return await template_reader(request)
        kept = _owned(request, object_id)
        if isinstance(kept, web.Response):
            return kept
        query = request.app[SANDBOX].media.url_query(kept.id)
        url = request.url.with_path(DOWNLOAD_PATH).with_query(query)
        return web.json_response(kept.describe(str(url)))

    return read


async def delete(request: web.Request) -> web.Response:
    kept = _owned(request, request.match_info["media_id"])
    if isinstance(kept, web.Response):
        return kept
    request.app[SANDBOX].media.delete(kept.id)
    return web.json_response({"success": True})


async def download(request: web.Request) -> web.StreamResponse:
    """The url `GET /{media-id}` gave: the file while the url lives, with the token."""
    q = request.query
    kept = request.app[SANDBOX].media.download(
        q.get("mid", ""), q.get("ext", ""), q.get("hash", "")
    )
    if kept is None:
        return meta_error(codes.invalid_parameter("the media url expired or is not valid"), 404)
    return web.Response(body=kept.data, content_type=kept.mime_type.split(";")[0])


async def open_session(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX]
    app_id = request.match_info["app_id"]
    if app_id != sandbox.settings.app_id:
        return meta_error(codes.no_such_object(app_id))
    q = request.query
    session = sandbox.media.open_session(
        q.get("file_name", ""), q.get("file_length", ""), q.get("file_type", "")
    )
    if not isinstance(session, str):
        return meta_error(session)
    return web.json_response({"id": session})


async def append(request: web.Request) -> web.Response:
    session = "upload:" + request.match_info["session"]
    chunk = await request.read()
    offset = request.headers.get("file_offset", "")
    handle = request.app[SANDBOX].media.append(session, offset, chunk)
    if not isinstance(handle, str):
        return meta_error(handle)
    return web.json_response({"h": handle})


async def session_state(request: web.Request) -> web.Response:
    session = "upload:" + request.match_info["session"]
    offset = request.app[SANDBOX].media.offset(session)
    if offset is None:
        return meta_error(codes.no_such_object(session))
    return web.json_response({"id": session, "file_offset": offset})


async def kept(request: web.Request) -> web.Response:
    """`GET /_sandbox/media` (control, no token): every file the library holds, no bytes."""
    files = request.app[SANDBOX].media.files.values()
    return web.json_response(
        {"media": [
            {"id": f.id, "phone_number_id": f.phone_number_id, "mime_type": f.mime_type,
             "sha256": f.sha256, "size": len(f.data)}
            for f in files
        ]}
    )  # fmt: skip


def add_media_routes(app: web.Application) -> None:
    """The media routes (`GET /{id}` is `read_object`'s, wired with the template routes)."""
    routes: list[tuple[str, str, Handler]] = [
        ("POST", "/{version}/{phone_number_id}/media", upload),
        ("DELETE", "/{version}/{media_id:[0-9]+}", delete),
        ("POST", "/{version}/{app_id}/uploads", open_session),
        ("POST", "/{version}/upload:{session}", append),
        ("GET", "/{version}/upload:{session}", session_state),
        ("GET", DOWNLOAD_PATH, download),
    ]
    for method, path, handler in routes:
        app.router.add_route(method, path, _token_required(handler))
    app.router.add_get("/_sandbox/media", kept)
