"""Who may do what: tokens compared in constant time, sessions signed with the token that
opened them (so removing a token ends its sessions), freshness, roles, CSRF, the trusted
header only when configured, and no redirect off the site."""

from __future__ import annotations

import pytest
from pydantic import SecretStr, ValidationError

from services.console import access
from services.console.access import Action, Role, Token, TrustedHeader
from services.console.settings import ConsoleSettings, TokenSetting

OPS = Token("olga", SecretStr("operator-token-0123456789"), Role.OPERATOR)
VIEW = Token("vic", SecretStr("viewer-token-0123456789ab"), Role.VIEWER)
NOW = 1_800_000_000.0
DAY = 86400.0


@pytest.mark.parametrize(
    ("role", "action", "allowed"),
    [
        (Role.VIEWER, Action.READ, True),
        (Role.VIEWER, Action.SEE_PHONES, False),
        (Role.VIEWER, Action.REDRIVE, False),
        (Role.VIEWER, Action.WRITE_AS_CUSTOMER, False),
        (Role.OPERATOR, Action.READ, True),
        (Role.OPERATOR, Action.SEE_PHONES, True),
        (Role.OPERATOR, Action.REDRIVE, True),
        (Role.OPERATOR, Action.WRITE_AS_CUSTOMER, True),
    ],
)
def test_what_each_role_may_do(role: Role, action: Action, allowed: bool) -> None:
    assert access.can(role, action) is allowed


@pytest.mark.parametrize(
    ("header", "who"),
    [
        ("Bearer operator-token-0123456789", "olga"),
        ("bearer viewer-token-0123456789ab", "vic"),
        ("Bearer operator-token-012345678", None),
        ("Bearer ", None),
        ("Basic operator-token-0123456789", None),
        ("operator-token-0123456789", None),
        ("", None),
    ],
)
def test_bearer_tokens(header: str, who: str | None) -> None:
    found = access.bearer(header, (OPS, VIEW))
    assert (found.name if found else None) == who


def test_a_session_holds_until_it_expires_or_its_token_is_removed() -> None:
    cookie = access.new_session(OPS, NOW, "n1")
    found = access.session(cookie, (OPS, VIEW), NOW + 60, DAY)
    assert found is not None and (found.name, found.role, found.via) == (
        "olga",
        "operator",
        "session",
    )
    assert access.session(cookie, (OPS,), NOW + DAY + 1, DAY) is None  # expired
    assert access.session(cookie, (OPS,), NOW - 60, DAY) is None  # from the future
    assert access.session(cookie, (VIEW,), NOW + 60, DAY) is None  # its token was rotated out
    demoted = Token("olga", OPS.secret, Role.VIEWER)
    found = access.session(cookie, (demoted,), NOW + 60, DAY)
    assert found is not None and found.role is Role.VIEWER  # the role as configured now


@pytest.mark.parametrize(
    "tamper",
    [
        lambda c: c[:-1] + ("0" if c[-1] != "0" else "1"),
        lambda c: "x" + c,
        lambda c: c.split(".")[0],
        lambda c: "",
        lambda c: "not base64!.abc",
        lambda c: access.new_session(Token("eve", SecretStr("eve-token-0123456789ab")), NOW, "n"),
    ],
)
def test_a_tampered_or_foreign_session_is_refused(tamper: object) -> None:
    cookie = tamper(access.new_session(OPS, NOW, "n1"))  # type: ignore[operator]
    assert access.session(cookie, (OPS, VIEW), NOW + 1, DAY) is None


def test_csrf_tokens_belong_to_one_session() -> None:
    one = access.session(access.new_session(OPS, NOW, "n1"), (OPS,), NOW, DAY)
    two = access.session(access.new_session(OPS, NOW, "n2"), (OPS,), NOW, DAY)
    assert one is not None and two is not None
    assert access.csrf_ok(one, one.csrf) and not access.csrf_ok(one, two.csrf)
    assert not access.csrf_ok(one, "")


def test_the_trusted_header_counts_only_when_configured() -> None:
    trusted = TrustedHeader("X-Forwarded-User", SecretStr("k" * 32), frozenset({"olga"}))
    assert access.from_header({"X-Forwarded-User": "olga"}, None) is None
    olga = access.from_header({"X-Forwarded-User": "olga"}, trusted)
    ann = access.from_header({"X-Forwarded-User": "ann"}, trusted)
    assert olga is not None and olga.role is Role.OPERATOR
    assert ann is not None and ann.role is Role.VIEWER and ann.csrf != olga.csrf
    assert access.from_header({"X-Forwarded-User": "  "}, trusted) is None


@pytest.mark.parametrize(
    ("target", "safe"),
    [("/intents/x?y=1", "/intents/x?y=1"), ("//evil.example/", "/"),
     ("https://evil.example/", "/"), ("/\\evil.example", "/"), ("", "/")],
)  # fmt: skip
def test_after_sign_in_only_a_path_of_this_site(target: str, safe: str) -> None:
    assert access.safe_next(target) == safe


def test_settings_refuse_short_tokens_and_a_header_without_a_key() -> None:
    with pytest.raises(ValidationError, match="shorter than 16"):
        TokenSetting(name="a", token=SecretStr("short"))
    with pytest.raises(ValidationError, match="session_key"):
        ConsoleSettings(trusted_user_header="X-Forwarded-User")
    with pytest.raises(ValidationError, match="no way in"):
        ConsoleSettings(tokens=[])
    settings = ConsoleSettings(
        trusted_user_header="X-Forwarded-User", session_key=SecretStr("k" * 32), tokens=[]
    )
    assert settings.trusted() is not None and settings.token_list() == ()
