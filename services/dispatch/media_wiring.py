"""Dispatch's media parts built from its settings (the composition root calls these)."""

from __future__ import annotations

from datetime import timedelta

import aiohttp
import asyncpg

from services.dispatch.media import MediaUploads, PostgresMediaCache
from services.dispatch.media_api import MediaApi
from services.dispatch.media_store import LocalStore
from services.dispatch.settings import DispatchSettings
from shared.events.envelope import utcnow


def media_uploads(
    settings: DispatchSettings, session: aiohttp.ClientSession, pool: asyncpg.Pool
) -> MediaUploads:
    return MediaUploads(
        MediaApi(session, settings.cloud_api),
        PostgresMediaCache(pool),
        LocalStore(settings.media.outbound_dir),
        utcnow,
        timedelta(seconds=settings.media.reuse_margin_s),
    )
