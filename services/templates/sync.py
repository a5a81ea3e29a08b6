"""Keeping the registry and its topic right: read every template back from the Cloud API
(what webhooks missed), seed the starter library, republish every current state, and repair
what an outage left behind (states kept off the topic, drafts the Cloud API could not take)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

from aiokafka.errors import KafkaError

from services.templates.errors import CloudApiUnavailable, MetaApiError, StoreUnavailable
from services.templates.handlers import UNREACHED, Registry
from services.templates.records import GONE, Key
from services.templates.rules import lifecycle
from shared import logs

log = logs.get(__name__)


async def sync(registry: Registry, waba_id: str) -> dict[str, int]:
    """Read every template back from the Cloud API and correct the registry. A template the
    listing lacks is never marked deleted for that (a Cloud API that lost its state, a listing
    cut short): it is counted `missing` and logged; only Meta's deletion event or an explicit
    delete ends a template (deleting forbids its name for 30 days)."""
    remote = await registry.api.fetch_all(waba_id)
    counts = {"added": 0, "changed": 0, "missing": 0}
    seen: set[str] = set()
    for item in remote:
        found = lifecycle.remote_record(waba_id, item)
        if found is None:
            continue
        seen.add(str(found.key))
        local = await registry.store.get(found.key)
        if local is None or local.status == "DELETED":
            await registry.publish(await registry.store.insert(found, "sync"))
            counts["added"] += 1
            continue
        after, changed = await registry.store.change(
            found.key, partial(lifecycle.reconcile, remote=item), "synced", "sync"
        )
        if changed and after is not None:
            await registry.publish(after)
            counts["changed"] += 1
    missing = [
        str(local.key)
        for local in await registry.store.find({"waba_id": waba_id})
        if local.meta_id and local.status not in GONE and str(local.key) not in seen
    ]
    if missing:
        log.warning("templates missing from the Cloud API's listing; kept", waba_id=waba_id,
                    count=len(missing), templates=missing[:20])  # fmt: skip
    counts["missing"] = len(missing)
    return counts


async def sync_all(registry: Registry) -> None:
    for waba_id in await registry.store.wabas():
        try:
            counts = await sync(registry, waba_id)
        except (CloudApiUnavailable, MetaApiError, StoreUnavailable, KafkaError) as exc:
            log.warning("sync failed", waba_id=waba_id, reason=str(exc))
        else:
            log.info("synced", waba_id=waba_id, **counts)


async def seed(registry: Registry, waba_id: str, templates: Sequence[Mapping[str, Any]]) -> int:
    """Create (and submit) each template the registry does not hold yet."""
    created = 0
    for body in templates:
        key = Key(waba_id, str(body.get("name")), str(body.get("language")))
        existing = await registry.store.get(key)
        if existing is not None and existing.status not in GONE:
            continue
        record, verdict = await registry.create(waba_id, body, cause="starter")
        if record is None:
            log.warning("starter template refused", template=str(key), errors=len(verdict.errors))
            continue
        created += 1
    return created


async def republish_all(registry: Registry, page: int = 500) -> int:
    """Publish every template's current state (heals a publish lost after a commit)."""
    offset = 0
    while rows := await registry.store.find(limit=page, offset=offset):
        for row in rows:
            await registry.publish(row)
        offset += len(rows)
    return offset


async def republish_pending(registry: Registry) -> int:
    """Publish the states whose last version never reached the topic."""
    pending = await registry.store.unpublished()
    for record in pending:
        await registry.publish(record)
    return len(pending)


async def resubmit_unreached(registry: Registry) -> int:
    """Submit again the drafts whose submission found the Cloud API unavailable."""
    drafts = await registry.store.drafts_failed_with(UNREACHED)
    submitted = 0
    for draft in drafts:
        after = await registry.submit(draft.key, "repair")
        submitted += after.status != "DRAFT"
    return submitted
