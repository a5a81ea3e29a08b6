"""Template management (`/{version}/{waba_id}/message_templates`) and the template controls:
creation rules, delayed deterministic review, pause/disable/re-categorise, each change posted
as Meta's template webhook."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from services.sandbox.errors import TemplateActionRefused, TemplateNotFound
from services.sandbox.handlers import Sandbox, SendResult
from services.sandbox.rules import codes, template_webhooks
from services.sandbox.rules.review import review
from services.sandbox.rules.template_creation import check_creation, check_edit
from services.sandbox.rules.template_model import CATEGORIES, Template

QUALITY_SCORES = ("GREEN", "YELLOW", "RED", "UNKNOWN")
PAGE = 25


class TemplateDesk:
    def __init__(self, sandbox: Sandbox) -> None:
        self._sandbox = sandbox
        self._world = sandbox.world
        self._settings = sandbox.settings

    def _wrong_waba(self, waba_id: str) -> SendResult | None:
        if waba_id == self._settings.waba_id:
            return None
        return self._sandbox.refuse(codes.no_such_object(waba_id))

    def create(self, waba_id: str, body: Mapping[str, Any]) -> SendResult:
        """`POST`: check Meta's creation rules; the template waits PENDING for its review."""
        wrong = self._wrong_waba(waba_id)
        if wrong is not None:
            return wrong
        now = self._sandbox.clock()
        self._world.template_created = [
            t for t in self._world.template_created if t > now - timedelta(hours=1)
        ]
        live = [t for t in self._world.templates.values() if t.status != "DELETED"]
        reserved = {
            t.name
            for t in self._world.templates.values()
            if t.name_reserved_until is not None and now < t.name_reserved_until
        }
        error = check_creation(body, live, len(self._world.template_created), reserved)
        error = error or self._sandbox.media.header_refusal(body.get("components"))
        if error is not None:  # a malformed request, not a broken send rule
            return self._sandbox.refuse(error)
        template = Template(
            id=self._sandbox.ids.template_id(),
            name=str(body["name"]),
            language=str(body["language"]),
            category=str(body["category"]).upper(),
            components=tuple(body["components"]),
            created_at=now,
            parameter_format=str(body.get("parameter_format", "positional")),
        )
        self._world.templates[template.id] = template
        self._world.template_created.append(now)
        self._sandbox.tasks.spawn(self._review_later(template.id))
        return SendResult(
            200, {"id": template.id, "status": template.status, "category": template.category}
        )

    async def _review_later(self, template_id: str) -> None:
        await asyncio.sleep(self._settings.review_delay_s)
        self.review_now(template_id)

    def review_now(self, template_id: str) -> None:
        """PENDING -> APPROVED (maybe as another category) or REJECTED, with the webhooks."""
        template = self._world.templates.get(template_id)
        if template is None or template.status != "PENDING":
            return
        outcome = review(template)
        previous = template.category
        decided = self._store(
            dataclasses.replace(
                template,
                status=outcome.status,
                category=outcome.category,
                reason=outcome.reason if outcome.status == "REJECTED" else None,
            )
        )
        self._post_status(decided, reason=outcome.reason, recommendation=outcome.recommendation)
        if decided.category != previous:
            self._post(template_webhooks.category_update(self._waba, decided, previous, self._now))

    def list(self, waba_id: str, query: Mapping[str, str]) -> SendResult:
        """`GET`: filtered by name, status, category, language; paged with `limit`/`after`."""
        wrong = self._wrong_waba(waba_id)
        if wrong is not None:
            return wrong
        items = [
            t.to_api()
            for t in self._world.templates.values()
            if t.status != "DELETED"
            and all(
                str(t.to_api()[k]).upper() == query[k].upper()
                for k in ("name", "status", "category", "language")
                if k in query
            )
        ]
        try:
            start = int(query.get("after", "0"))
            limit = int(query.get("limit", str(PAGE)))
        except ValueError:
            return self._sandbox.refuse(codes.invalid_parameter("invalid pagination cursor"))
        page = items[start : start + limit]
        paging: dict[str, Any] = {
            "cursors": {"before": str(start), "after": str(start + len(page))}
        }
        if start + limit < len(items):
            paging["next"] = f"?after={start + len(page)}&limit={limit}"
        return SendResult(200, {"data": page, "paging": paging})

    def delete(self, waba_id: str, query: Mapping[str, str]) -> SendResult:
        """`DELETE ?name=` (every language) or `&hsm_id=` (one); disabled ones stay."""
        wrong = self._wrong_waba(waba_id)
        if wrong is not None:
            return wrong
        name = query.get("name")
        if not name:
            return self._sandbox.refuse(codes.missing_parameter("name is required"))
        found = [
            t
            for t in self._world.template_named(name)
            if "hsm_id" not in query or t.id == query["hsm_id"]
        ]
        if not found:
            return self._sandbox.refuse(codes.invalid_parameter(f"template {name} not found"))
        if any(t.status == "DISABLED" for t in found):
            return self._sandbox.refuse(
                codes.invalid_parameter("disabled templates cannot be deleted")
            )
        now = self._now
        for template in found:
            approved = template.status in ("APPROVED", "PAUSED")
            deleted = dataclasses.replace(
                template,
                status="DELETED",
                name_reserved_until=now + timedelta(days=30) if approved else None,
            )
            self._post_status(self._store(deleted), reason=None)
        return SendResult(200, {"success": True})

    def read(self, template_id: str) -> SendResult:
        """`GET /{template-id}`."""
        template = self._live(template_id)
        if template is None:
            return self._sandbox.refuse(codes.no_such_object(template_id))
        return SendResult(200, template.to_api())

    def edit(self, template_id: str, body: Mapping[str, Any]) -> SendResult:
        """`POST /{template-id}`: new content goes back to review."""
        template = self._live(template_id)
        if template is None:
            return self._sandbox.refuse(codes.no_such_object(template_id))
        now = self._now
        error = check_edit(template, body, now)
        error = error or self._sandbox.media.header_refusal(body.get("components"))
        if error is not None:
            return self._sandbox.refuse(error)
        edits = (*template.edits, now) if template.status == "APPROVED" else template.edits
        edited = dataclasses.replace(
            template,
            category=str(body.get("category", template.category)).upper(),
            components=tuple(body.get("components", template.components)),
            status="PENDING",
            reason=None,
            edits=edits,
        )
        self._store(edited)
        self._sandbox.tasks.spawn(self._review_later(template_id))
        return SendResult(200, {"success": True})

    def unpause_request(self, template_id: str) -> SendResult:
        """`POST /{template-id}/unpause`."""
        try:
            self.unpause(template_id)
        except TemplateNotFound:
            return self._sandbox.refuse(codes.no_such_object(template_id))
        except TemplateActionRefused as exc:
            return self._sandbox.refuse(codes.invalid_parameter(str(exc)))
        return SendResult(200, {"success": True})

    # Controls: what Meta does to a template on its own.

    def get(self, template_id: str) -> Template:
        template = self._live(template_id)
        if template is None:
            raise TemplateNotFound(template_id)
        return template

    def _live(self, template_id: str) -> Template | None:
        """The template of that id, unless there is none or it was deleted."""
        template = self._world.templates.get(template_id)
        return None if template is None or template.status == "DELETED" else template

    def pause(self, template_id: str) -> Template:
        """Paused for low quality, then unpaused after 3 h (6 h the second time); the third
        pause disables it."""
        template = self.get(template_id)
        pauses = template.pauses + 1
        status = "DISABLED" if pauses >= 3 else "PAUSED"
        paused = self._store(dataclasses.replace(template, status=status, pauses=pauses))
        self._post_status(paused, other_info=template_webhooks.pause_info(pauses))
        durations = self._settings.pause_durations_s
        if status == "PAUSED" and pauses <= len(durations):
            self._sandbox.tasks.spawn(
                self._unpause_later(template_id, pauses, durations[pauses - 1])
            )
        return paused

    async def _unpause_later(self, template_id: str, pauses: int, after_s: float) -> None:
        await asyncio.sleep(after_s)
        template = self._world.templates.get(template_id)
        if template is not None and template.status == "PAUSED" and template.pauses == pauses:
            self.unpause(template_id)

    def unpause(self, template_id: str) -> Template:
        template = self.get(template_id)
        if template.status != "PAUSED":
            raise TemplateActionRefused(f"template {template_id} is {template.status}, not PAUSED")
        unpaused = self._store(dataclasses.replace(template, status="APPROVED"))
        self._post_status(unpaused, other_info=template_webhooks.unpause_info())
        return unpaused

    def disable(self, template_id: str) -> Template:
        disabled = self._store(dataclasses.replace(self.get(template_id), status="DISABLED"))
        self._post_status(disabled, other_info=template_webhooks.pause_info(3))
        return disabled

    def recategorise(self, template_id: str, category: str, notice: bool = False) -> Template:
        """Re-categorised now, or (`notice`) announced 24 h ahead first, as Meta does."""
        template = self.get(template_id)
        category = category.upper()
        if category not in CATEGORIES:
            raise TemplateActionRefused(f"category must be one of {', '.join(CATEGORIES)}")
        if notice:
            effective = self._now + timedelta(hours=24)
            self._post(
                template_webhooks.category_notice(
                    self._waba, template, category, effective, self._now
                )
            )
            return template
        changed = self._store(dataclasses.replace(template, category=category))
        self._post(
            template_webhooks.category_update(self._waba, changed, template.category, self._now)
        )
        return changed

    def pace(self, template_id: str, paced: bool) -> Template:
        """Meta paces a template: its messages are held, then released or dropped (132015)."""
        return self._store(dataclasses.replace(self.get(template_id), paced=paced))

    def set_quality(self, template_id: str, score: str) -> Template:
        """A new quality score; an approved template that turns RED is paused, as Meta does."""
        template = self.get(template_id)
        if score.upper() not in QUALITY_SCORES:
            raise TemplateActionRefused(f"quality must be one of {', '.join(QUALITY_SCORES)}")
        rated = self._store(dataclasses.replace(template, quality=score.upper()))
        self._post(template_webhooks.quality_update(self._waba, rated, template.quality, self._now))
        if rated.quality == "RED" and rated.status == "APPROVED":
            return self.pause(template_id)
        return rated

    @property
    def _waba(self) -> str:
        return self._settings.waba_id

    @property
    def _now(self) -> datetime:
        return self._sandbox.clock()

    def _store(self, template: Template) -> Template:
        self._world.templates[template.id] = template
        return template

    def _post(self, payload: dict[str, Any]) -> None:
        self._sandbox.outbox.enqueue(payload)

    def _post_status(self, template: Template, **details: Any) -> None:
        self._post(template_webhooks.status_update(self._waba, template, self._now, **details))
