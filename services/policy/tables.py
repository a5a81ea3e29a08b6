"""Policy's stream tables, as data: each table's name, the topic it is partitioned like, what it
keeps, and its changelog topic.

`app.py` creates the faust tables from `TABLES`; `changelog_topics` names their changelogs
without building the app, for the worker's start (which creates them first) and for the
KafkaTopic manifests (`deploy/k8s/gen_topics.py`). The handlers see the tables as `Tables`:
plain mutable mappings, faust tables in the worker and dicts in tests.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any

from services.policy import rekeyed
from shared.topics import ACCOUNT_UPDATES, INTENTS, TEMPLATE_STATES, TopicSpec

CONVERSATION = "phone_number_id:wa_id"


@dataclass(frozen=True)
class TableSpec:
    name: str
    partitioned_like: TopicSpec  # the topic whose records write it: it has that many partitions
    key: str
    value: str
    everywhere: bool = False  # a global table: every worker holds every entry
    packed: bool = False  # each value held as its JSON bytes, not a decoded dict (`validated.py`)

    @property
    def partitions(self) -> int:
        return self.partitioned_like.partitions

    def changelog(self, app_id: str) -> str:
        """The changelog topic's name, as faust names it (`<app id>-<table>-changelog`)."""
        return f"{app_id}-{self.name}-changelog"


TABLES: tuple[TableSpec, ...] = (
    TableSpec(
        "windows", INTENTS, CONVERSATION, "the customer service window (WindowState)", packed=True
    ),
    TableSpec(
        "consent",
        INTENTS,
        "scope|wa_id|partition (before: phone_number_id:wa_id)",
        "consent facts of a customer with a business (ConsentState)",
        everywhere=True,
    ),
    TableSpec("marketing", INTENTS, CONVERSATION, "marketing approvals of the week (MarketingLog)"),
    TableSpec(
        "templates",
        TEMPLATE_STATES,
        "waba_id:name:language",
        "the template's state (TemplateStateChanged)",
        everywhere=True,
    ),
    TableSpec("deferred", INTENTS, CONVERSATION, "intent id -> release time and the intent"),
    TableSpec("reach", INTENTS, CONVERSATION, "when last counted toward the messaging limit"),
    TableSpec("limits", INTENTS, "partition:N", "customers counted per hour bucket"),
    TableSpec(
        "identities",
        INTENTS,
        "portfolio|identifier, portfolio#canonical",
        "each phone or BSUID's canonical customer key per portfolio, and each key's identifiers",
        everywhere=True,
    ),
    TableSpec("threads", INTENTS, CONVERSATION, "who holds the customer's thread (ThreadState)"),
    TableSpec(
        "accounts",
        ACCOUNT_UPDATES,
        "portfolio_id",
        "the portfolio's messaging limit as Meta last reported it",
        everywhere=True,
    ),
)


def changelog_topics(app_id: str) -> list[TopicSpec]:
    """The tables' changelog topics, created before the worker starts: were the broker to
    auto-create one on first sight, it would get the broker's partition count and the worker
    could never be assigned its table partitions."""
    return [
        TopicSpec(
            table.changelog(app_id),
            None,
            table.key,
            partitions=table.partitions,
            compacted=True,
            doc=f"Changelog of policy's {table.name} table: {table.value}.",
        )
        for table in TABLES
    ]


@dataclass
class Tables:
    """The tables as the handlers use them, one field per entry of `TABLES`."""

    windows: MutableMapping[str, Any]
    consent: MutableMapping[str, Any]  # global: consent belongs to the business, not a number
    marketing: MutableMapping[str, Any]
    templates: MutableMapping[str, Any]  # global: every worker holds every template
    deferred: MutableMapping[str, Any]
    reach: MutableMapping[str, Any]  # conversation -> when last counted toward the limit
    limits: MutableMapping[str, Any]  # "partition:N" -> customers counted per hour bucket
    identities: MutableMapping[str, Any]  # global: a customer's identifiers, per portfolio
    threads: MutableMapping[str, Any]  # conversation -> who holds the thread (ThreadState)
    accounts: MutableMapping[str, Any]  # global: each portfolio's messaging limit from Meta


def policy_topics(app_id: str) -> list[TopicSpec]:
    """Every topic policy keeps for itself: its tables' changelogs and its rekeyed topic, created
    before the worker starts, each with the partitions of the topics it is co-partitioned with."""
    return [*changelog_topics(app_id), rekeyed.topic(app_id)]
