"""Meta's marketing limits as the sandbox applies them (§6.4, §9.3): no marketing template
reaches a US customer (+1 with a US area code; for a customer with no phone, a US country),
and Meta answers 131049 in a `failed` status. Pure."""

from __future__ import annotations

import functools

import phonenumbers

US = "US"


def us_customer(phone: str | None, country: str | None) -> bool:
    if phone:
        return _us_phone(phone)
    return country == US


@functools.lru_cache(maxsize=65_536)  # a parse per send was a twentieth of the sandbox's time
def _us_phone(phone: str) -> bool:
    try:
        number = phonenumbers.parse(f"+{phone}")
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.region_code_for_number(number) == US
