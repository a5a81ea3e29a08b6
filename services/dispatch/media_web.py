"""`POST /media`: a business hands dispatch a file to send (the body, `?phone_number_id=`,
optional `type` and `filename`); the answer is its media id on that number (uploaded once per
lifetime) and the `ref` intents can name it by. Behind the media API keys."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable

from aiohttp import web

from services.dispatch.errors import StoreUnavailable
from services.dispatch.media import MediaRefused, MediaUploads
from services.dispatch.media_api import MediaCallFailed
from shared import strict_json
from shared.db import DatabaseUnavailable
from shared.media import INBOUND_MAX

MAX_BODY = INBOUND_MAX + 1024 * 1024  # past the largest file Meta takes: refused by size rules
Handler = Callable[[web.Request], Awaitable[web.Response]]


def _refused(status: int, code: int, reason: str) -> web.Response:
    return web.json_response({"error": {"code": code, "reason": reason}}, status=status)


def upload_route(uploads: MediaUploads, keys: list[str]) -> Handler:
    async def upload(request: web.Request) -> web.Response:
        if not keys:
            return _refused(503, 503, "uploads are off: set DISPATCH_MEDIA__API_KEYS")
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not given or not any(secrets.compare_digest(given, key) for key in keys):
            return _refused(401, 401, "a media API key is required (Authorization: Bearer)")
        unsafe = strict_json.unsafe_value(request.query.items())
        if unsafe is not None:  # a filename with CR or LF would reach the upload's headers
            return _refused(400, 100, f"{unsafe} holds a control character")
        number = request.query.get("phone_number_id", "")
        if not number:
            return _refused(400, 100, "phone_number_id is required")
        data = await request.read()
        try:
            kept, reused = await uploads.upload(
                number, data, request.query.get("type") or None,
                request.query.get("filename") or None, request.query.get("kind") or None,
            )  # fmt: skip
        except MediaRefused as exc:
            return _refused(400, exc.code, str(exc))
        except MediaCallFailed as exc:
            return _refused(502, exc.error.code, f"the Cloud API refused the upload: {exc}")
        except (DatabaseUnavailable, StoreUnavailable) as exc:
            return _refused(503, 503, str(exc))
        return web.json_response(kept.json(reused))

    return upload
