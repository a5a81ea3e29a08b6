"""The decision: a pure function of (intent, the state already loaded, now, configuration)
returning a verdict with reasons, the window snapshot, the expected pricing and `valid_until`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from services.policy import approval, consent, identity, template_check
from services.policy.caps import Caps, MarketingLog, blocked_until
from services.policy.consent import ConsentRules, ConsentState
from services.policy.quiet import QuietHours, quiet_until, zones_for
from services.policy.tiers import Reach
from services.policy.windows import WindowState
from shared.events.decisions import Outcome, WindowSnapshot
from shared.events.intents import OutboundIntentSubmitted, TemplateContent
from shared.events.keys import normalize_wa_id
from shared.events.reasons import Reason


@dataclass(frozen=True)
class PolicyConfig:
    window_safety_margin: timedelta = timedelta(seconds=60)
    caps: Caps = field(default_factory=Caps)
    waba_ids: dict[str, str] = field(default_factory=dict)  # phone_number_id -> WABA id
    default_waba_id: str = ""
    quiet_hours: QuietHours | None = None  # for marketing, in the customer's time zone
    messaging_limit: int | None = None  # unique customers reached per 24 h; None: unlimited
    partitions: int = 12  # the intents topic's, among which the limit is shared
    approval_lifetime: timedelta = approval.DEFAULT_LIFETIME  # how long a template approval holds
    consent: ConsentRules = field(default_factory=ConsentRules)
    clock_skew: timedelta = timedelta(seconds=120)  # how far Meta's clock may run ahead of ours

    def waba_for(self, phone_number_id: str) -> str:
        return self.waba_ids.get(phone_number_id, self.default_waba_id)


@dataclass(frozen=True)
class Facts:
    """The state loaded for one conversation, and a view of the template table."""

    window: WindowState | None = None
    consent: ConsentState | None = None  # the customer's, with the business of the number
    marketing: MarketingLog | None = None
    templates: template_check.Lookup = lambda _key: None
    template_languages: template_check.Languages = lambda _waba, _name: ()
    reach: Reach = field(default_factory=lambda: Reach(share=None, used=0, counted_recently=False))
    reached_at: datetime | None = None  # when the customer was last counted toward the limit
    phone: str | None = None  # a phone the customer is known by (None: only by BSUID)


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    reasons: list[str] = field(default_factory=list)
    detail: str = ""
    window: WindowSnapshot | None = None
    pricing: str | None = None
    valid_until: datetime | None = None
    send: OutboundIntentSubmitted | None = None  # what to send when it differs from the intent
    marketing: bool = False  # counts against the customer's marketing cap
    category: str | None = None  # the template's category, when a template is sent
    business_initiated: bool = False  # a template outside the window: counts toward the limit


def snapshot(window: WindowState | None, now: datetime) -> WindowSnapshot:
    if window is None:
        return WindowSnapshot()
    return WindowSnapshot(
        last_customer_message_at=window.last_customer_message_at,
        expires_at=window.expires_at,
        is_open=window.is_open(now),
    )


def decide(
    intent: OutboundIntentSubmitted, facts: Facts, now: datetime, config: PolicyConfig
) -> Verdict:
    snap = snapshot(facts.window, now)
    impossible = identity.impossible_recipient(intent)
    if impossible is not None:
        return Verdict("rejected", [Reason.INVALID_RECIPIENT], impossible, snap)
    if intent.not_after is not None and now >= intent.not_after:
        return Verdict(
            "rejected", [Reason.EXPIRED], f"not_after {intent.not_after.isoformat()} passed", snap
        )
    if isinstance(intent.content, TemplateContent):
        return _template(intent, intent.content, facts, now, config, snap)
    return _free_form(intent, facts, now, config, snap)


def _free_form(
    intent: OutboundIntentSubmitted,
    facts: Facts,
    now: datetime,
    config: PolicyConfig,
    snap: WindowSnapshot,
) -> Verdict:
    meta_closed = approval.window_refused(intent)  # Meta's word (131047) beats what we saw
    if meta_closed:
        facts, snap = replace(facts, window=None), snap.model_copy(update={"is_open": False})
    usable_until = None
    if snap.expires_at is not None and not meta_closed:
        usable_until = snap.expires_at - config.window_safety_margin
    if usable_until is None or now >= usable_until:
        if intent.fallback_template is not None:
            verdict = _template(intent, intent.fallback_template, facts, now, config, snap)
            if verdict.outcome == "approved":
                return _with(
                    verdict,
                    reasons=[Reason.FALLBACK_TEMPLATE, *verdict.reasons],
                    detail=f"window closed, {verdict.detail}",
                )
            return verdict
        return Verdict(
            "rejected",
            [Reason.WINDOW_CLOSED],
            f"{_closed_detail(intent, snap, now)}; outside it only approved templates may be sent",
            snap,
        )
    marketing = intent.category == "marketing"
    if marketing:
        refused = _marketing_refusal(
            _number(intent, facts), facts, now, config, need_opt_in=False, snap=snap
        )
        if refused is not None:
            return refused
    valid_until = approval.earliest(
        usable_until,
        intent.not_after,
        *_marketing_edges(_number(intent, facts), now, config, marketing),
    )
    return Verdict(
        "approved",
        [],
        "inside the customer service window",
        snap,
        pricing=_free_pricing(facts.window, now),
        valid_until=valid_until,
        marketing=marketing,
    )


def _template(
    intent: OutboundIntentSubmitted,
    content: TemplateContent,
    facts: Facts,
    now: datetime,
    config: PolicyConfig,
    snap: WindowSnapshot,
) -> Verdict:
    checked = template_check.resolve(
        content, config.waba_for(intent.phone_number_id), facts.templates, facts.template_languages
    )
    if checked.reason is not None or checked.state is None or checked.content is None:
        category = checked.state.category.upper() if checked.state else None
        return Verdict(
            "rejected",
            [checked.reason or Reason.TEMPLATE_UNKNOWN],
            checked.detail,
            snap,
            category=category,
        )
    category = checked.state.category.upper()
    if category == "AUTHENTICATION" and intent.to is None and facts.phone is None:
        return Verdict(
            "rejected",
            [Reason.BSUID_AUTHENTICATION],
            "authentication templates go to a phone only (Meta refuses a BSUID: 131062), and "
            "no phone of this customer is known",
            snap,
            category=category,
        )
    marketing = category == "MARKETING"
    if not marketing:
        refused = _consent_refusal(category, facts, config, snap, business_initiated=True)
        if refused is not None:
            return refused
    if marketing:
        refused = _marketing_refusal(
            _number(intent, facts), facts, now, config, need_opt_in=True, snap=snap
        )
        if refused is not None:
            return refused
    initiated = not snap.is_open
    if initiated and not facts.reach.allows_new_customer():
        return Verdict(
            "rejected",
            [Reason.MESSAGING_LIMIT],
            f"the messaging limit's share here ({facts.reach.share} new customers in 24 h) is "
            "used up",
            snap,
            category=category,
        )
    send = intent.model_copy(update={"content": checked.content, "fallback_template": None})
    pricing = _template_pricing(category, facts.window, now)
    counted = initiated and facts.reach.share is not None
    reached_at = facts.reached_at if facts.reach.counted_recently else None
    valid_until = approval.earliest(
        now + config.approval_lifetime,
        intent.not_after,
        *_marketing_edges(_number(intent, facts), now, config, marketing),
        approval.reach_edge(now, reached_at) if counted else None,
    )
    return Verdict(
        "approved",
        [],
        checked.detail,
        snap,
        pricing=pricing,
        valid_until=valid_until,
        send=send,
        marketing=marketing,
        category=category,
        business_initiated=initiated,
    )


def is_sensitive(category: str | None) -> Callable[[dict[str, Any], dict[str, Any]], bool]:
    """Which parameters never leave policy in clear: the ones the client marked, and every
    body and button parameter of an authentication template (the one-time code)."""

    def check(component: dict[str, Any], parameter: dict[str, Any]) -> bool:
        if parameter.get("sensitive") is True:
            return True
        kind = str(component.get("type", "")).lower()
        return (category or "").upper() == "AUTHENTICATION" and kind in ("body", "button")

    return check


def _number(intent: OutboundIntentSubmitted, facts: Facts) -> str:
    """The customer's phone for their time zone: the one addressed, else the known one."""
    return intent.to or facts.phone or intent.customer


def _marketing_refusal(
    to: str,
    facts: Facts,
    now: datetime,
    config: PolicyConfig,
    *,
    need_opt_in: bool,
    snap: WindowSnapshot,
) -> Verdict | None:
    refused = _consent_refusal("MARKETING", facts, config, snap, business_initiated=need_opt_in)
    if refused is not None:
        return refused
    until = blocked_until(facts.marketing, now, config.caps)
    if until is not None:
        return Verdict(
            "rejected",
            [Reason.MARKETING_FREQUENCY_CAP],
            f"the marketing cap ({config.caps.per_day}/day, {config.caps.per_week}/"
            f"week) is reached until {until.isoformat()}",
            snap,
        )
    if config.quiet_hours is not None:
        quiet_end = quiet_until(zones_for(normalize_wa_id(to)), now, config.quiet_hours)
        if quiet_end is not None:
            return Verdict(
                "deferred",
                [Reason.QUIET_HOURS],
                f"quiet hours for the customer until {quiet_end.isoformat()}",
                snap,
                valid_until=quiet_end,
            )
    return None


def _marketing_edges(
    to: str, now: datetime, config: PolicyConfig, marketing: bool
) -> tuple[datetime | None, datetime | None]:
    """What ends a marketing approval early: the next quiet hours, the cap's rolling edge."""
    if not marketing:
        return None, None
    zones = zones_for(normalize_wa_id(to))
    return approval.next_quiet_start(zones, now, config.quiet_hours), approval.cap_edge(
        now, config.caps
    )


def _consent_refusal(
    category: str,
    facts: Facts,
    config: PolicyConfig,
    snap: WindowSnapshot,
    *,
    business_initiated: bool,
) -> Verdict | None:
    """A stop or an opt-out covering the category, or, for a business-initiated template of a
    category that needs one, no recorded opt-in (free-form replies inside the window need
    none)."""
    needs_opt_in = business_initiated and category.lower() in config.consent.opt_in_required
    refused = consent.refusal(facts.consent, category, needs_opt_in=needs_opt_in)
    if refused is None:
        return None
    return Verdict("rejected", [refused.reason], refused.detail, snap, category=category)


def _free_pricing(window: WindowState | None, now: datetime) -> str:
    if window is not None and window.in_free_entry_point(now):
        return "free_entry_point"
    return "free_service"


def _template_pricing(category: str, window: WindowState | None, now: datetime) -> str:
    if window is not None and window.in_free_entry_point(now):
        return "free_entry_point"
    if category == "UTILITY" and window is not None and window.is_open(now):
        return "free_service"
    return category.lower()


def _with(verdict: Verdict, *, reasons: list[str], detail: str) -> Verdict:
    return replace(verdict, reasons=reasons, detail=detail)


def _closed_detail(intent: OutboundIntentSubmitted, snap: WindowSnapshot, now: datetime) -> str:
    if approval.window_refused(intent):
        return "Meta refused the free-form message as outside the customer service window"
    if snap.expires_at is None:
        return "no customer message opened a 24-hour window"
    if now >= snap.expires_at:
        return f"the customer service window closed at {snap.expires_at.isoformat()}"
    return (
        f"the customer service window closes at {snap.expires_at.isoformat()}, "
        "inside the safety margin kept before its end"
    )
