"""Message keys: digits-only WhatsApp ids, one key per (business number, customer)."""

from __future__ import annotations

import pytest

from shared.events.keys import conversation_key, normalize_wa_id


@pytest.mark.parametrize(
    ("phone", "wa_id"),
    [
        ("16505551234", "16505551234"),
        ("+16505551234", "16505551234"),
        ("+1 650-555-1234", "16505551234"),
        ("+1 (650) 555-1234", "16505551234"),
        ("1.650.555.1234", "16505551234"),
        (" +44 20 7946 0958 ", "442079460958"),
        ("+55 11 9 8765-4321", "5511987654321"),
        ("", ""),
        ("no digits here", ""),
    ],
)
def test_normalize_wa_id_keeps_only_digits(phone: str, wa_id: str) -> None:
    assert normalize_wa_id(phone) == wa_id


@pytest.mark.parametrize(
    ("phone_number_id", "customer", "key"),
    [
        ("106540352242922", "16505551234", "106540352242922:16505551234"),
        ("106540352242922", "+1 (650) 555-1234", "106540352242922:16505551234"),
        ("106540352242922", "+44 20 7946 0958", "106540352242922:442079460958"),
        ("999000111222333", "16505551234", "999000111222333:16505551234"),
    ],
)
def test_conversation_key_is_business_number_and_customer_digits(
    phone_number_id: str, customer: str, key: str
) -> None:
    assert conversation_key(phone_number_id, customer) == key


@pytest.mark.parametrize(
    "spellings",
    [
        ["16505551234", "+16505551234", "+1 650-555-1234", "+1 (650) 555-1234"],
        ["442079460958", "+44 20 7946 0958", "+44-20-7946-0958"],
    ],
)
def test_every_spelling_of_one_customer_shares_one_key(spellings: list[str]) -> None:
    keys = {conversation_key("106540352242922", s) for s in spellings}

    assert len(keys) == 1


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (("106540352242922", "16505551234"), ("106540352242922", "16505559876")),
        (("106540352242922", "16505551234"), ("999000111222333", "16505551234")),
    ],
)
def test_other_customer_or_other_business_number_gets_another_key(
    a: tuple[str, str], b: tuple[str, str]
) -> None:
    assert conversation_key(*a) != conversation_key(*b)
