"""The decision: a pure function of (intent, the state already loaded, now, configuration)
returning a verdict with reasons, the window snapshot, the expected pricing and `valid_until`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from services.policy import (
    approval,
    consent,
    identity,
    meta_marketing,
    receipts,
    template_check,
    threads,
)
from services.policy.caps import Caps, MarketingLog, blocked_until
from services.policy.consent import ConsentRules, ConsentState
from services.policy.pricing import PricingTable, shipped
from services.policy.quiet import QuietHours, quiet_until, zones_for
from services.policy.threads import ThreadRules, ThreadState
from services.policy.tiers import Reach
from services.policy.windows import WindowState
from shared.events.decisions import Outcome, WindowSnapshot
from shared.events.intents import OutboundIntentSubmitted, ReadReceiptContent, TemplateContent
from shared.events.keys import normalize_wa_id
from shared.events.reasons import Reason
from shared.meta_errors import MARKETING_HOLD


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
    pricing: PricingTable = field(default_factory=shipped)  # the dated rules of expected charges
    threads: ThreadRules = field(default_factory=ThreadRules)
    standby_opens_window: bool = True  # a customer message on `standby` opens it (§9.7 q5)
    us_marketing_pause: bool = True  # refuse marketing templates to US customers (§6.4)
    marketing_hold: timedelta = MARKETING_HOLD  # how long Meta's 131049 holds their marketing
    messaging_limits: dict[str, int | None] = field(default_factory=dict)  # per portfolio

    def waba_for(self, phone_number_id: str) -> str:
        return self.waba_ids.get(phone_number_id, self.default_waba_id)

    def portfolio_for(self, phone_number_id: str) -> str:
        waba = self.waba_for(phone_number_id)
        return self.consent.portfolio_ids.get(waba, self.consent.default_portfolio_id)

    def initial_limit(self, portfolio_id: str) -> int | None:
        """The portfolio's messaging limit before Meta reported one (None: unlimited)."""
        return self.messaging_limits.get(portfolio_id, self.messaging_limit)


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
    thread: ThreadState | None = None  # who holds the customer's thread, when known


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
    receipt: bool = False  # a read receipt: no reply, opens no free entry point
    takes_thread: bool = False  # the send takes the thread from another handler


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
    thread = threads.check(intent, facts.thread, now, config.threads)
    if thread.refused:
        return Verdict("rejected", [threads.REASON], thread.detail, snap)
    if isinstance(intent.content, TemplateContent):
        verdict = _template(intent, intent.content, facts, now, config, snap)
    elif isinstance(intent.content, ReadReceiptContent):
        verdict = _read_receipt(intent, intent.content, facts, now, config, snap)
    else:
        verdict = _free_form(intent, facts, now, config, snap)
    if thread.takes_over and verdict.outcome == "approved":
        return replace(verdict, detail=f"{verdict.detail}; {thread.detail}", takes_thread=True)
    return verdict


def _read_receipt(
    intent: OutboundIntentSubmitted,
    content: ReadReceiptContent,
    facts: Facts,
    now: datetime,
    config: PolicyConfig,
    snap: WindowSnapshot,
) -> Verdict:
    usable_until = _usable_until(intent, snap, config)
    closed = _closed_detail(intent, snap, now)
    found = receipts.check(content, facts.window, usable_until, now, intent.not_after, closed)
    if found.refusal is not None:
        return Verdict("rejected", [found.refusal], found.detail, snap)
    return Verdict("approved", [], found.detail, snap, valid_until=found.valid_until, receipt=True)


def _usable_until(
    intent: OutboundIntentSubmitted, snap: WindowSnapshot, config: PolicyConfig
) -> datetime | None:
    """Until when a free-form send may go: the window's end less the margin; None when Meta
    said the window is closed (131047) or no window is known."""
    if snap.expires_at is None or approval.window_refused(intent):
        return None
    return snap.expires_at - config.window_safety_margin


def _free_form(
    intent: OutboundIntentSubmitted,
    facts: Facts,
    now: datetime,
    config: PolicyConfig,
    snap: WindowSnapshot,
) -> Verdict:
    if approval.window_refused(intent):  # Meta's word (131047) beats what we saw
        facts, snap = replace(facts, window=None), snap.model_copy(update={"is_open": False})
    usable_until = _usable_until(intent, snap, config)
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
        pricing=config.pricing.for_message(None, facts.window, now),
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
        refused = _meta_marketing(intent, facts, now, config, snap) or _marketing_refusal(
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
    send = intent  # unless it differs: an equal copy would be sent and shown the same
    if checked.content is not intent.content or intent.fallback_template is not None:
        send = intent.model_copy(update={"content": checked.content, "fallback_template": None})
    pricing = config.pricing.for_message(category, facts.window, now)
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


def marketing_log(
    intent: OutboundIntentSubmitted, log: MarketingLog | None, config: PolicyConfig
) -> MarketingLog | None:
    """The customer's marketing log, with Meta's cap held when the intent comes back after
    Meta's 131049 (the handler keeps it, so the customer's other marketing waits too)."""
    capped = meta_marketing.capped_at(intent)
    return log if capped is None else meta_marketing.hold(log, capped, config.marketing_hold)


def _meta_marketing(
    intent: OutboundIntentSubmitted,
    facts: Facts,
    now: datetime,
    config: PolicyConfig,
    snap: WindowSnapshot,
) -> Verdict | None:
    """Meta's own marketing rules: the US pause, and its cap on this customer (131049)."""
    phone = intent.to or facts.phone
    if config.us_marketing_pause and meta_marketing.us_customer(phone, intent.customer):
        return Verdict(
            "rejected",
            [Reason.US_MARKETING_PAUSED],
            "Meta delivers no marketing template to US numbers (since 2025-04-01, 131049): "
            "refused before sending",
            snap,
            category="MARKETING",
        )
    until = meta_marketing.held_until(marketing_log(intent, facts.marketing, config), now)
    if until is None:
        return None
    said = f"Meta capped the customer's marketing (131049) until {until.isoformat()}"
    if intent.not_after is not None and intent.not_after <= until:
        detail = f"{said}; the intent's not_after {intent.not_after.isoformat()} comes first"
        return Verdict(
            "rejected", [Reason.CUSTOMER_MARKETING_HELD], detail, snap, category="MARKETING"
        )
    return Verdict(
        "deferred",
        [Reason.CUSTOMER_MARKETING_HELD],
        f"{said}: decided again then",
        snap,
        valid_until=until,
        category="MARKETING",
    )


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
