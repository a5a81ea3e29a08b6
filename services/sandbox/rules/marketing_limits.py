"""Meta's marketing limits as the sandbox applies them (§6.4, §9.3): no marketing template
reaches a US customer (+1 with a US area code; for a customer with no phone, a US country),
and Meta answers 131049 in a `failed` status. Pure."""

from __future__ import annotations

import phonenumbers

US = "US"


def us_customer(phone: str | None, country: str | None) -> bool:
    if phone:
        try:
            number = phonenumbers.parse(f"+{phone}")
        except phonenumbers.NumberParseException:
            return False
        return phonenumbers.region_code_for_number(number) == US
    return country == US
