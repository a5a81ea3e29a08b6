"""The customer directory: any identifier finds its customer, one BSUID per portfolio made on
first use, and a number change retires every BSUID for good, even when a phone comes back."""

from __future__ import annotations

import pytest

from services.sandbox.directory import Directory
from services.sandbox.errors import CustomerConflict
from services.sandbox.rules.addressing import LINKED
from services.sandbox.rules.identity import bsuid_problem

HOME, SECOND = "200000000000001", "300000000000001"
PHONE, NEW_PHONE = "16505551234", "12195555358"
PARENT = "US.ENT.11815799212886844830"


def test_any_identifier_finds_the_customer() -> None:
    directory = Directory()
    customer = directory.for_phone("+1 (650) 555-1234", HOME)
    assert directory.for_phone(PHONE, HOME) is customer
    home_id = directory.user_id(customer, HOME)
    second_id = directory.user_id(customer, SECOND)

    assert home_id != second_id
    assert bsuid_problem(home_id) is None and bsuid_problem(second_id) is None
    assert directory.find(home_id) is customer and directory.find(second_id) is customer
    assert directory.owner(second_id) == (customer, SECOND)
    assert directory.find("US.404") is None and directory.find("16505559876") is None


def test_a_number_change_retires_every_bsuid_and_the_parent() -> None:
    directory = Directory()
    customer = directory.upsert(HOME, phone=PHONE, parent_user_id=PARENT)
    first = {p: directory.user_id(customer, p) for p in (HOME, SECOND)}
    assert directory.owner(PARENT) == (customer, LINKED)

    directory.change_number(customer, NEW_PHONE)

    assert customer.key == PHONE and customer.phone == NEW_PHONE
    assert directory.find(NEW_PHONE) is customer and directory.find(PHONE) is None
    assert set(customer.user_ids) == {HOME, SECOND}
    assert not set(customer.user_ids.values()) & set(first.values())
    assert customer.parent_user_id is not None and customer.parent_user_id != PARENT
    assert bsuid_problem(customer.parent_user_id, parent=True) is None
    for gone in (*first.values(), PARENT):
        assert directory.owner(gone) is None and gone in directory.retired


def test_a_bsuid_is_never_given_out_twice() -> None:
    directory = Directory()
    customer = directory.for_phone(PHONE, HOME)
    original = directory.user_id(customer, HOME)
    directory.change_number(customer, NEW_PHONE)
    newcomer = directory.for_phone(PHONE, HOME)  # someone else now has the old phone
    directory.change_number(customer, "15550009999")
    directory.change_number(customer, NEW_PHONE)  # and back

    made = [directory.user_id(c, HOME) for c in (customer, newcomer)]
    assert newcomer is not customer and newcomer.key != customer.key
    assert original not in made and len(set(made)) == 2
    with pytest.raises(CustomerConflict):
        directory.upsert(HOME, phone="15551112222", user_id=original)
    with pytest.raises(CustomerConflict):
        directory.change_number(customer, PHONE)


def test_bsuids_repeat_across_runs_as_the_readme_shows() -> None:
    customer = Directory().for_phone("5511988887777", HOME)
    assert customer.user_ids == {HOME: "BR.41293429788191824598"}
