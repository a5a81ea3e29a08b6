"""Policy's list of its tables: one field of `Tables` each, and changelog topics named and
partitioned the way faust names and partitions them."""

from __future__ import annotations

from dataclasses import fields

from services.policy.tables import TABLES, Tables, changelog_topics
from shared.topics import INTENTS, TEMPLATE_STATES


def test_the_handlers_see_every_table_of_the_list() -> None:
    assert [f.name for f in fields(Tables)] == [spec.name for spec in TABLES]


def test_conversation_tables_follow_the_intents_and_templates_and_consent_are_global() -> None:
    by_name = {spec.name: spec for spec in TABLES}
    assert by_name["templates"].everywhere and by_name["templates"].partitions == 6
    assert by_name["templates"].partitioned_like is TEMPLATE_STATES
    # consent belongs to the business, not a number: every worker reads every record
    assert by_name["consent"].everywhere and by_name["consent"].partitions == INTENTS.partitions
    for name in ("windows", "marketing", "deferred", "reach", "limits"):
        assert not by_name[name].everywhere
        assert by_name[name].partitions == INTENTS.partitions


def test_changelog_topics_are_compacted_and_named_after_the_app() -> None:
    topics = changelog_topics("wagate-policy")
    assert [t.name for t in topics] == [f"wagate-policy-{s.name}-changelog" for s in TABLES]
    assert [t.partitions for t in topics] == [s.partitions for s in TABLES]
    assert {t.config["cleanup.policy"] for t in topics} == {"compact"}
