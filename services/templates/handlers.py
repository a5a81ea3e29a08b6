"""Templates' I/O shell: requests and webhook updates -> checks -> store -> Cloud API ->
the template's new state on the compacted states topic."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aiokafka import ConsumerRecord
from aiokafka.errors import KafkaError

from services.templates import header_samples
from services.templates.cloudapi import TemplateApi
from services.templates.errors import CloudApiUnavailable, MetaApiError, NotFound, WrongState
from services.templates.header_samples import ResumableUploads
from services.templates.metrics import TemplateMetrics
from services.templates.records import GONE, Key, TemplateRecord
from services.templates.rules import lifecycle, quota, states, validation
from services.templates.rules.issues import Verdict, error
from services.templates.store import TemplateStore
from shared import logs
from shared.events.envelope import Event, deterministic_id
from shared.events.templates import TemplateUpdateReported
from shared.messaging import EventPublisher
from shared.topics import TEMPLATE_STATES

log = logs.get(__name__)
HOUR = timedelta(hours=1)
UNREACHED = "unavailable: "  # marks a submission the repair loop tries again


@dataclass
class Registry:
    store: TemplateStore
    api: TemplateApi
    publisher: EventPublisher
    clock: Callable[[], datetime]
    metrics: TemplateMetrics
    template_limit: int = 250
    samples: ResumableUploads | None = None

    async def create(
        self, waba_id: str, body: Mapping[str, Any], cause: str = "api"
    ) -> tuple[TemplateRecord | None, Verdict]:
        """Check, store and submit a new template-language."""
        verdict = validation.check(body)
        samples = tuple(header_samples.sample_refusals(body))
        verdict = Verdict(errors=verdict.errors + samples, warnings=verdict.warnings)
        self.metrics.checks.labels("valid" if verdict.ok else "refused").inc()
        if not verdict.ok:
            return None, verdict
        now = self.clock()
        refused = quota.check_account(
            body,
            await self.store.find({"waba_id": waba_id}, limit=100_000),
            await self.store.count_created(waba_id, now - HOUR),
            self.template_limit,
            now,
        )
        if refused:
            return None, Verdict(errors=tuple(refused), warnings=verdict.warnings)
        if self.samples is not None:  # each sample file uploaded, the template names its handle
            body = await header_samples.with_handles(body, self.samples)
        fmt, _ = validation.parameter_format(body)
        record = TemplateRecord(
            waba_id=waba_id,
            name=str(body["name"]),
            language=str(body["language"]),
            category=str(body["category"]).upper(),
            parameter_format=fmt.upper(),
            components=list(body["components"]),
            message_send_ttl_seconds=body.get("message_send_ttl_seconds"),
            warnings=[w.as_dict() for w in verdict.warnings],
        )
        stored = await self.store.insert(record, cause)
        await self.publish(stored)
        return await self.submit(stored.key, cause), verdict

    async def translate(
        self, waba_id: str, name: str, body: Mapping[str, Any]
    ) -> tuple[TemplateRecord | None, Verdict]:
        """The same template name in another language, with the same category and format."""
        siblings = [
            r
            for r in await self.store.find({"waba_id": waba_id, "name": name})
            if r.status not in GONE
        ]
        if not siblings:
            raise NotFound(f"no template {name} in {waba_id}")
        first = siblings[0]
        merged = {
            **body,
            "name": name,
            "category": first.category,
            "parameter_format": first.parameter_format,
        }
        return await self.create(waba_id, merged, cause="translation")

    async def submit(self, key: Key, cause: str = "api") -> TemplateRecord:
        """Submit a draft (never accepted by the Cloud API) for review."""
        record = await self._get(key)
        if record.status != "DRAFT":
            raise WrongState(f"only a draft can be submitted; this one is {record.status}")
        try:
            created = await self.api.create(key.waba_id, record.creation_request())
        except (MetaApiError, CloudApiUnavailable) as exc:
            log.warning("submission failed", template=str(key), reason=str(exc))
            outcome = "refused" if isinstance(exc, MetaApiError) else "unavailable"
            self.metrics.submissions.labels(outcome).inc()
            retry = "" if isinstance(exc, MetaApiError) else UNREACHED
            changes: dict[str, Any] = {"last_error": f"{retry}{exc}"}
            change = "submission_failed"
        else:
            changes = {"meta_id": created.meta_id, "status": created.status, "last_error": None}
            if created.category:
                changes["category"] = created.category
            change = "submitted"
            self.metrics.submissions.labels("submitted").inc()
        after, changed = await self.store.change(key, lambda _: changes, change, cause)
        assert after is not None
        if changed:
            await self.publish(after)
        return after

    async def edit(
        self, key: Key, body: Mapping[str, Any]
    ) -> tuple[TemplateRecord | None, Verdict]:
        """Replace components (and category or time to live where Meta allows it)."""
        current = await self._get(key)
        request = {**current.creation_request(), **_editable(body)}
        verdict = validation.check(request)
        if not verdict.ok:
            return None, verdict
        day, month = lifecycle.edit_windows(self.clock())
        refused = lifecycle.check_edit(
            current,
            body.get("category"),
            await self.store.count_changes(key, "edited", day),
            await self.store.count_changes(key, "edited", month),
        )
        if refused:
            return None, Verdict(errors=tuple(refused))
        if current.meta_id and current.status != "DRAFT":
            await self.api.edit(current.meta_id, _editable(body))
        changes = {
            "components": list(request["components"]),
            "category": str(request["category"]).upper(),
            "message_send_ttl_seconds": request.get("message_send_ttl_seconds"),
            "warnings": [w.as_dict() for w in verdict.warnings],
            "status": "DRAFT" if current.status == "DRAFT" else "PENDING",
        }
        after, _ = await self.store.change(key, lambda _: changes, "edited", "api")
        assert after is not None
        await self.publish(after)
        return after, verdict

    async def unpause(self, key: Key) -> TemplateRecord:
        """Ask Meta to unpause (needed for templates paused while paced); webhooks follow."""
        record = await self._get(key)
        if record.status != "PAUSED" or record.meta_id is None:
            raise WrongState(f"only a submitted PAUSED template can be unpaused ({record.status})")
        await self.api.unpause(record.meta_id)
        return record

    async def delete(self, waba_id: str, name: str, language: str | None) -> list[TemplateRecord]:
        filters = {"waba_id": waba_id, "name": name, **({"language": language} if language else {})}
        rows = [r for r in await self.store.find(filters) if r.status not in GONE]
        if not rows:
            raise NotFound(f"no template {name} in {waba_id}")
        if any(r.status == "DISABLED" for r in rows):
            raise WrongState("disabled templates cannot be deleted")
        submitted = [r for r in rows if r.meta_id]
        if submitted:
            await self.api.delete(waba_id, name, submitted[0].meta_id if language else None)
        deleted: list[TemplateRecord] = []
        for row in rows:
            after = await self.mark_deleted(row.key, "deleted", "api")
            if after is not None:
                deleted.append(after)
        return deleted

    async def mark_deleted(self, key: Key, change: str, cause: str) -> TemplateRecord | None:
        """Mark a template-language deleted and publish its state; None when it is not stored."""
        after, _ = await self.store.change(key, lambda _: {"status": "DELETED"}, change, cause)
        if after is not None:
            await self.publish(after)
        return after

    async def on_update(self, update: TemplateUpdateReported, _: ConsumerRecord[Any, Any]) -> None:
        """A webhook update from ingest: apply it to the template it names, publish the result."""
        record = await self.store.by_meta_id(update.template_id)
        if record is None and update.template_name and update.language:
            key = Key(update.waba_id, update.template_name, update.language)
            record = await self.store.get(key)
        if record is None:
            log.info("update for a template the registry does not hold", meta_id=update.template_id)
            return
        after, changed = await self.store.change(
            record.key,
            lambda current: lifecycle.apply_update(current, update),
            f"webhook_{update.kind}",
            update.event_id,
        )
        self.metrics.updates.labels(update.kind, str(changed).lower()).inc()
        if changed and after is not None:
            await self.publish(after, update)

    async def set_fallbacks(self, waba_id: str, name: str, languages: Sequence[str]) -> Verdict:
        bad = [lang for lang in languages if validation.check_language(lang)]
        if bad:
            return Verdict(errors=(error("languages", "INVALID_LANGUAGE", f"not codes: {bad}"),))
        rows = await self.store.find({"waba_id": waba_id, "name": name})
        if not rows:
            raise NotFound(f"no template {name} in {waba_id}")
        await self.store.set_fallbacks(waba_id, name, languages)
        for row in rows:
            await self.publish(row)
        return Verdict()

    async def publish(self, record: TemplateRecord, cause: Event | None = None) -> None:
        event_id = deterministic_id("template-state", str(record.key), str(record.version))
        envelope = cause.caused(event_id=event_id) if cause else {"event_id": event_id}
        fallbacks = await self.store.fallbacks(record.waba_id, record.name)
        state = states.state(record, fallbacks, **envelope)
        try:
            await self.publisher.publish(TEMPLATE_STATES, state, key=str(record.key))
        except KafkaError as exc:
            # The change is committed; the repair loop publishes it once the broker is back.
            log.warning("state not published yet", template=str(record.key), reason=str(exc))
            return
        await self.store.mark_published(record.key, record.version)
        self.metrics.states.inc()

    async def _get(self, key: Key) -> TemplateRecord:
        record = await self.store.get(key)
        if record is None or record.status == "DELETED":
            raise NotFound(f"no template {key}")
        return record


def _editable(body: Mapping[str, Any]) -> dict[str, Any]:
    """The fields Meta lets an edit change."""
    keys = ("components", "category", "message_send_ttl_seconds")
    return {k: body[k] for k in keys if k in body}
