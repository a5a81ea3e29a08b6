"""Checks each Deployment's environment against its service's settings class: every ConfigMap
key and env name must be a setting (`<NAME>_FIELD`, nested with `__`), every credential with a
development default and every secret the service requires must come from a Secret, the
development mode (`WAGATE_DEVELOPMENT`) is never set, no default pointing at localhost may
remain, the whole environment must build the settings and pass the service's start-up secrets
check, and the server must listen on 0.0.0.0 at the container's http port. A migration Job is
held to the settings a migration reads (shared/migrate.py): its database URL from a Secret,
nothing else of the service's.

Runs in the project's virtualenv on the JSON that validate.py --dump wrote.
"""

from __future__ import annotations

import argparse
import base64
import functools
import importlib
import inspect
import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from pydantic import BaseModel, ValidationError
from pydantic_settings import BaseSettings

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from shared.migrate import COMMAND, MigrationSettings  # noqa: E402
from shared.settings import DEVELOPMENT_MODE, ServiceSettings  # noqa: E402

Doc = dict[str, Any]
SECRET_PLACEHOLDER = {
    "_APP_SECRETS": '["placeholder"]',
    "_ACCESS_TOKENS": '["placeholder"]',
    "_API_KEYS": '["placeholder"]',
    "_SEALING_KEYS": json.dumps([Fernet.generate_key().decode()]),
}


def settings_class(service: str) -> type[ServiceSettings]:
    module = importlib.import_module(f"services.{service}.settings")
    prefix = f"{service.upper()}_"
    for _, value in inspect.getmembers(module, inspect.isclass):
        if issubclass(value, ServiceSettings) and value.model_config.get("env_prefix") == prefix:
            return value
    raise LookupError(f"services/{service}/settings.py has no BaseSettings with prefix {prefix}")


def env_names(model: type[BaseModel], prefix: str) -> Iterator[str]:
    for name, field in model.model_fields.items():
        key = f"{prefix}{name.upper()}"
        yield field.validation_alias if isinstance(field.validation_alias, str) else key
        kind = field.annotation
        if inspect.isclass(kind) and issubclass(kind, BaseModel):
            yield from env_names(kind, f"{key}__")


def must_set(model: type[BaseModel], prefix: str) -> Iterator[tuple[str, str]]:
    """Settings a cluster must give: (name, 'required') for a secret with no default (it must
    come from a Secret), (name, 'value') for a default that points at this machine (127.0.0.1
    or localhost), which is wrong in a pod. Credentials with a development default are the
    built settings' `public_settings()` (see `deployment_errors`)."""
    required = getattr(model, "required_secrets", ())
    for name, field in model.model_fields.items():
        key = f"{prefix}{name.upper()}"
        kind = field.annotation
        if inspect.isclass(kind) and issubclass(kind, BaseModel):
            yield from must_set(kind, f"{key}__")
            continue
        default = field.get_default(call_default_factory=True)
        if name in required:
            yield key, "required"
        elif "SecretStr" in str(kind):
            continue
        elif any(host in str(default) for host in ("127.0.0.1", "localhost")):
            yield key, "value"


def environment(
    container: Doc, config_maps: dict[str, Doc], secrets: dict[str, Doc] | None = None
) -> tuple[dict[str, str], set[str], list[str]]:
    """The container's environment (values of Secrets the overlay renders, such as dev's, and
    placeholders for Secrets made out of band), the names from Secrets, errors."""
    env: dict[str, str] = {}
    from_secrets: set[str] = set()
    errors: list[str] = []
    for source in container.get("envFrom", []):
        name = (source.get("configMapRef") or {}).get("name")
        if name not in config_maps:
            errors.append(f"envFrom ConfigMap {name} is not in the rendered manifests")
            continue
        env.update(config_maps[name].get("data") or {})
    for item in container.get("env", []):
        if "value" in item:
            env[item["name"]] = item["value"]
        else:
            ref = (item.get("valueFrom") or {}).get("secretKeyRef")
            if ref:
                from_secrets.add(item["name"])
            rendered = secret_value((secrets or {}).get(ref["name"]) if ref else None, ref)
            suffix = next((s for s in SECRET_PLACEHOLDER if item["name"].endswith(s)), None)
            placeholder = SECRET_PLACEHOLDER[suffix] if suffix else "placeholder"
            env[item["name"]] = placeholder if rendered is None else rendered
    return env, from_secrets, errors


def secret_value(secret: Doc | None, ref: Doc | None) -> str | None:
    if secret is None or ref is None:
        return None
    if ref["key"] in (secret.get("stringData") or {}):
        return str(secret["stringData"][ref["key"]])
    data = secret.get("data") or {}
    return base64.b64decode(data[ref["key"]]).decode() if ref["key"] in data else None


def build(cls: Callable[[], BaseSettings], env: dict[str, str]) -> Any:
    saved = dict(os.environ)
    try:
        os.environ.clear()
        os.environ.update(env)
        return cls()
    finally:
        os.environ.clear()
        os.environ.update(saved)


def name_errors(
    cls: type[ServiceSettings], prefix: str, env: dict[str, str], from_secrets: set[str]
) -> Iterator[str]:
    """Names set that are no setting, or the development mode; settings left unset."""
    if DEVELOPMENT_MODE in env:
        yield (
            f"{DEVELOPMENT_MODE} is set: development mode accepts the public development "
            "secrets and is never set in a deployment"
        )
    known = set(env_names(cls, prefix))
    for key in sorted(set(env) - known - {DEVELOPMENT_MODE}):
        yield f"{key} is no setting of services/{prefix.rstrip('_').lower()}/settings.py"
    for key, how in must_set(cls, prefix):
        if how == "required" and key not in from_secrets:
            yield f"{key} is a secret with no default: set it from a Secret"
        elif how == "value" and key not in env:
            yield f"{key} defaults to this machine (localhost): set it in the ConfigMap"


def deployment_errors(
    doc: Doc, config_maps: dict[str, Doc], secrets: dict[str, Doc] | None = None
) -> Iterator[str]:
    for container in doc["spec"]["template"]["spec"]["containers"]:
        command = container.get("command") or []
        if command[:2] != ["python", "-m"] or not command[2].startswith("services."):
            yield f"container {container['name']}: command must be python -m services.<name>"
            continue
        service = command[2].removeprefix("services.")
        cls = settings_class(service)
        env, from_secrets, errors = environment(container, config_maps, secrets)
        yield from errors
        prefix = f"{service.upper()}_"
        yield from name_errors(cls, prefix, env, from_secrets)
        try:
            settings: Any = build(cls, env)
        except ValidationError as exc:
            yield f"the environment does not build {cls.__name__}: {exc}"
            continue
        for key in settings.public_settings():
            if key not in from_secrets:
                yield f"{key} is a credential with a development default: set it from a Secret"
        for refusal in settings.refusals():
            yield f"the service would refuse to start: {refusal}"
        ports = {p.get("name"): p["containerPort"] for p in container.get("ports", [])}
        if settings.http.host != "0.0.0.0":  # noqa: S104 - pods must listen on every address
            yield f"{prefix}HTTP__HOST is {settings.http.host}; a pod must listen on 0.0.0.0"
        if settings.http.port != ports.get("http"):
            yield f"{prefix}HTTP__PORT is {settings.http.port}, containerPort http is {ports}"


def credentials_with_defaults(model: type[BaseModel], prefix: str) -> Iterator[str]:
    """Names of SecretStr settings that have a (development) default."""
    for name, field in model.model_fields.items():
        key = f"{prefix}{name.upper()}"
        kind = field.annotation
        if inspect.isclass(kind) and issubclass(kind, BaseModel):
            yield from credentials_with_defaults(kind, f"{key}__")
        elif "SecretStr" in str(kind) and field.get_default(call_default_factory=True):
            yield key


def job_errors(
    doc: Doc, config_maps: dict[str, Doc], secrets: dict[str, Doc] | None = None
) -> Iterator[str]:
    for container in doc["spec"]["template"]["spec"]["containers"]:
        command = container.get("command") or []
        module = command[2] if len(command) == 4 else ""
        if (
            command[:2] != ["python", "-m"]
            or command[3:] != [COMMAND]
            or not module.startswith("services.")
        ):
            yield f"container {container['name']}: command must be python -m <service> {COMMAND}"
            continue
        service = module.removeprefix("services.")
        prefix = f"{service.upper()}_"
        env, from_secrets, errors = environment(container, config_maps, secrets)
        yield from errors
        if DEVELOPMENT_MODE in env:
            yield f"{DEVELOPMENT_MODE} is set: it is never set in a deployment"
        for key in sorted(
            set(env) - set(env_names(MigrationSettings, prefix)) - {DEVELOPMENT_MODE}
        ):
            yield f"{key} is no setting a migration reads (shared/migrate.py)"
        for key in credentials_with_defaults(MigrationSettings, prefix):
            if key not in from_secrets:
                yield f"{key} is a credential with a development default: set it from a Secret"
        for key, how in must_set(MigrationSettings, prefix):
            if how == "value" and key not in env:
                yield f"{key} defaults to this machine (localhost): set it in the ConfigMap"
        try:
            build(functools.partial(MigrationSettings, _env_prefix=prefix), env)
        except ValidationError as exc:
            yield f"the environment does not build the migration settings: {exc}"


CHECKS = {"Deployment": deployment_errors, "Job": job_errors}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("dump", type=Path, help="JSON written by validate.py --dump")
    args = parser.parse_args(argv)
    docs: list[Doc] = json.loads(args.dump.read_text())
    config_maps = {d["metadata"]["name"]: d for d in docs if d.get("kind") == "ConfigMap"}
    secrets = {d["metadata"]["name"]: d for d in docs if d.get("kind") == "Secret"}
    failures = [
        f"{args.dump.stem}: {doc['kind']}/{doc['metadata']['name']}: {message}"
        for doc in docs
        if doc.get("kind") in CHECKS
        for message in CHECKS[doc["kind"]](doc, config_maps, secrets)
    ]
    for failure in failures:
        print(failure, file=sys.stderr)
    count = sum(1 for d in docs if d.get("kind") == "Deployment")
    jobs = sum(1 for d in docs if d.get("kind") == "Job")
    print(
        f"{args.dump.stem}: {count} deployments' and {jobs} jobs' settings: "
        f"{len(failures) or 'no'} errors"
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
