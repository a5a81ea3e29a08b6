"""Pure access decisions: who a request is (a bearer token, a signed session cookie, or a
trusted proxy's header), what each role may do, and the CSRF token every action carries.

Sessions are signed with the token that opened them, so removing a token from the list ends
its sessions at once (rotation needs no other secret)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from pydantic import SecretStr


class Role(StrEnum):
    VIEWER = "viewer"
    OPERATOR = "operator"


class Action(StrEnum):
    READ = "read"
    SEE_PHONES = "see_phones"
    REDRIVE = "redrive"
    WRITE_AS_CUSTOMER = "write_as_customer"


GRANTS: dict[Role, frozenset[Action]] = {
    Role.VIEWER: frozenset({Action.READ}),
    Role.OPERATOR: frozenset(Action),
}


def can(role: Role, action: Action) -> bool:
    return action in GRANTS[role]


@dataclass(frozen=True)
class Token:
    """One accepted token: who holds it and with which role."""

    name: str
    secret: SecretStr
    role: Role = Role.VIEWER

    @property
    def ident(self) -> str:
        return hashlib.sha256(self.secret.get_secret_value().encode()).hexdigest()[:16]

    def sign(self, message: bytes) -> str:
        key = self.secret.get_secret_value().encode()
        return hmac.new(key, message, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Principal:
    name: str
    role: Role
    via: str  # bearer | session | header
    csrf: str

    def can(self, action: Action) -> bool:
        return can(self.role, action)


def _equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def token_for(given: str, tokens: Sequence[Token]) -> Token | None:
    """The configured token equal to `given` (every one compared, in constant time each)."""
    found = None
    for token in tokens:
        if _equal(given, token.secret.get_secret_value()) and given:
            found = token
    return found


def bearer(authorization: str, tokens: Sequence[Token]) -> Principal | None:
    scheme, _, given = authorization.partition(" ")
    if scheme.lower() != "bearer":
        return None
    token = token_for(given.strip(), tokens)
    if token is None:
        return None
    return Principal(token.name, token.role, "bearer", token.sign(b"csrf:bearer"))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def new_session(token: Token, now: float, nonce: str) -> str:
    """A session cookie's value: what it is for, signed with the token that opened it."""
    body = _b64(json.dumps({"k": token.ident, "t": int(now), "n": nonce}).encode())
    return f"{body}.{token.sign(body.encode())}"


def session(cookie: str, tokens: Sequence[Token], now: float, max_age_s: float) -> Principal | None:
    """The principal of a session cookie that is well-signed, fresh, and whose token is
    still configured (role and name come from the token as configured now)."""
    body, _, signature = cookie.partition(".")
    try:
        claims = json.loads(_unb64(body))
        ident, issued, nonce = str(claims["k"]), float(claims["t"]), str(claims["n"])
    except (ValueError, KeyError, TypeError):
        return None
    token = next((t for t in tokens if t.ident == ident), None)
    if token is None or not _equal(signature, token.sign(body.encode())):
        return None
    if not issued <= now < issued + max_age_s:
        return None
    return Principal(token.name, token.role, "session", token.sign(f"csrf:{nonce}".encode()))


@dataclass(frozen=True)
class TrustedHeader:
    """An authenticating proxy in front (an OIDC proxy): its header names the user."""

    header: str
    key: SecretStr
    operators: frozenset[str] = frozenset()


def from_header(headers: Mapping[str, str], trusted: TrustedHeader | None) -> Principal | None:
    if trusted is None:
        return None
    user = headers.get(trusted.header, "").strip()
    if not user:
        return None
    role = Role.OPERATOR if user in trusted.operators else Role.VIEWER
    key = trusted.key.get_secret_value().encode()
    csrf = hmac.new(key, f"csrf:header:{user}".encode(), hashlib.sha256).hexdigest()
    return Principal(user, role, "header", csrf)


def csrf_ok(principal: Principal, given: str) -> bool:
    return bool(given) and _equal(given, principal.csrf)


def safe_next(target: str) -> str:
    """Where to go after logging in: a path of this site only (never another host)."""
    plain = target.isprintable() and target.isascii() and " " not in target
    if plain and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"
