"""Sensitive template parameters (one-time passcodes, anything marked `"sensitive": true`):
their values travel from policy to dispatch sealed, so decisions, delivery updates, logs and
the ledger only ever show `[redacted]`; policy seals its resubmit copy of every approved intent
the same way.

A sealed value is AES-256-GCM (`w2.` then url-safe base64 of a key id, the nonce and the
ciphertext with its tag), under a key derived (HKDF-SHA256) from each configured key. The keys
are written as Fernet keys, and a Fernet token (what every release before sealed) still opens:
records already on the topics when a deployment upgrades stay readable. The first key seals,
any opens, so keys can be rotated.

`python -m shared.sealing` prints a new key. There is no default key: every deployment, local
runs and tests make their own.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Callable, Sequence
from typing import Annotated, Any

from cryptography.exceptions import InvalidTag
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pydantic import AfterValidator, SecretStr

from shared.errors import PermanentError

REDACTED = "[redacted]"
# A parameter's value lives under one of these keys, by parameter type (§2.1).
VALUE_KEYS = ("text", "payload", "coupon_code")

Components = list[dict[str, Any]]
IsSensitive = Callable[[dict[str, Any], dict[str, Any]], bool]  # (component, parameter)


class SealError(PermanentError):
    """A sealed value that no configured key opens."""


class Sealer:
    """Seals with the first key, opens with any (so keys can be rotated)."""

    def __init__(self, keys: Sequence[SecretStr]) -> None:
        if not keys:
            raise ValueError("at least one sealing key is needed")
        raw = [k.get_secret_value().encode() for k in keys]
        self._fernet = MultiFernet([Fernet(k) for k in raw])  # opens tokens sealed before
        self._ciphers = dict(_derived(base64.urlsafe_b64decode(k)) for k in raw)
        self._sealing_id = next(iter(self._ciphers))
        self._sealing = self._ciphers[self._sealing_id]

    def seal(self, values: dict[str, str]) -> str:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._sealing.encrypt(nonce, json.dumps(values).encode(), _AAD)
        return _PREFIX + base64.urlsafe_b64encode(self._sealing_id + nonce + sealed).decode()

    def unseal(self, token: str) -> dict[str, str]:
        try:
            opened = self._open(token)
        except (InvalidToken, InvalidTag, ValueError, binascii.Error) as exc:
            raise SealError("sealed parameters cannot be opened with the configured keys") from exc
        values: dict[str, str] = json.loads(opened)
        return values

    def _open(self, token: str) -> bytes:
        if not token.startswith(_PREFIX):
            return self._fernet.decrypt(token.encode())
        body = base64.b64decode(token[len(_PREFIX) :].encode(), altchars=b"-_", validate=True)
        key_id, nonce = body[:_KEY_ID_BYTES], body[_KEY_ID_BYTES : _KEY_ID_BYTES + _NONCE_BYTES]
        cipher = self._ciphers.get(key_id)
        if cipher is None or len(nonce) != _NONCE_BYTES:
            raise ValueError("no configured key sealed this")
        return cipher.decrypt(nonce, body[_KEY_ID_BYTES + _NONCE_BYTES :], _AAD)


_PREFIX = "w2."  # the format's version
_AAD = _PREFIX.encode()  # bound into the tag as associated data
_KEY_ID_BYTES = 4
_NONCE_BYTES = 12  # random per seal: 2^32 seals under one key keep the collision odds negligible


def _derived(key: bytes) -> tuple[bytes, AESGCM]:
    """The AES-256-GCM key derived from one configured key, and its public id (so opening
    picks the key at once); both derived one-way, neither reveals the key."""
    material = HKDF(SHA256(), 32 + _KEY_ID_BYTES, salt=None, info=b"wagate sealing v2").derive(key)
    return material[32:], AESGCM(material[:32])


def new_key() -> str:
    return Fernet.generate_key().decode()


def _fernet_keys(keys: list[SecretStr]) -> list[SecretStr]:
    for i, key in enumerate(keys):
        try:
            Fernet(key.get_secret_value().encode())
        except ValueError:
            # never the key itself in the message: it ends up in a log line
            raise ValueError(
                f"sealing key {i + 1} of {len(keys)} is not a Fernet key "
                "(32 bytes in url-safe base64; `python -m shared.sealing` makes one)"
            ) from None
    return keys


SealingKeys = Annotated[list[SecretStr], AfterValidator(_fernet_keys)]
"""A settings field of Fernet keys, the first sealing and any opening (rotation)."""


def redact(components: Components, is_sensitive: IsSensitive) -> tuple[Components, dict[str, str]]:
    """Copies of `components` with sensitive values replaced, and those values by path."""
    values: dict[str, str] = {}
    redacted: Components = []
    for i, component in enumerate(components):
        params = []
        for j, param in enumerate(component.get("parameters") or []):
            if isinstance(param, dict) and is_sensitive(component, param):
                param = dict(param)
                for key in VALUE_KEYS:
                    if key in param:
                        values[f"{i}.{j}.{key}"] = str(param[key])
                        param[key] = REDACTED
            params.append(param)
        redacted.append(
            {**component, "parameters": params} if "parameters" in component else dict(component)
        )
    return redacted, values


def restore(components: Components, values: dict[str, str]) -> Components:
    """The components with the sealed values put back where `redact` took them."""
    restored = [
        dict(c, parameters=[dict(p) for p in c.get("parameters") or []])
        if "parameters" in c
        else dict(c)
        for c in components
    ]
    for path, value in values.items():
        i, j, key = path.split(".")
        restored[int(i)]["parameters"][int(j)][key] = value
    for component in restored:
        for param in component.get("parameters") or []:
            param.pop("sensitive", None)  # wagate's marker, not the Cloud API's
    return restored


def values_of(components: Components) -> list[Any]:
    """Every parameter value in the components (under `VALUE_KEYS`)."""
    return [
        param[key]
        for component in components
        for param in component.get("parameters") or []
        if isinstance(param, dict)
        for key in VALUE_KEYS
        if key in param
    ]


def marked(_component: dict[str, Any], parameter: dict[str, Any]) -> bool:
    """The client's own marker: `{"type": "text", "text": "...", "sensitive": true}`."""
    return parameter.get("sensitive") is True


if __name__ == "__main__":
    print(new_key())
