"""Checks each Deployment's environment against its service's settings class: every ConfigMap
key and env name must be a setting (`<NAME>_FIELD`, nested with `__`), every credential with a
development default must come from a Secret, no default pointing at localhost may remain, the
whole environment must build the settings, and the server must listen on 0.0.0.0 at the
container's http port. A migration Job is held to the settings a migration reads
(shared/migrate.py): its database URL from a Secret, nothing else of the service's.

Runs in the project's virtualenv on the JSON that validate.py --dump wrote.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import inspect
import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_settings import BaseSettings

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from shared.migrate import COMMAND, MigrationSettings  # noqa: E402

Doc = dict[str, Any]
SECRET_PLACEHOLDER = {
    "_APP_SECRETS": '["placeholder"]',
    "_ACCESS_TOKENS": '["placeholder"]',
    "_API_KEYS": '["placeholder"]',
    "_SEALING_KEYS": '["placeholder"]',
}


def settings_class(service: str) -> type[BaseSettings]:
    module = importlib.import_module(f"services.{service}.settings")
    prefix = f"{service.upper()}_"
    for _, value in inspect.getmembers(module, inspect.isclass):
        if issubclass(value, BaseSettings) and value.model_config.get("env_prefix") == prefix:
            return value
    raise LookupError(f"services/{service}/settings.py has no BaseSettings with prefix {prefix}")


def env_names(model: type[BaseModel], prefix: str) -> Iterator[str]:
    for name, field in model.model_fields.items():
        key = f"{prefix}{name.upper()}"
        yield key
        kind = field.annotation
        if inspect.isclass(kind) and issubclass(kind, BaseModel):
            yield from env_names(kind, f"{key}__")


def must_set(model: type[BaseModel], prefix: str) -> Iterator[tuple[str, str]]:
    """Settings a cluster must give: (name, 'secret') for a credential with a development
    default (it must come from a Secret), (name, 'value') for a default that points at
    this machine (127.0.0.1 or localhost), which is wrong in a pod."""
    for name, field in model.model_fields.items():
        key = f"{prefix}{name.upper()}"
        kind = field.annotation
        if inspect.isclass(kind) and issubclass(kind, BaseModel):
            yield from must_set(kind, f"{key}__")
            continue
        default = field.get_default(call_default_factory=True)
        if "SecretStr" in str(kind):
            if default:
                yield key, "secret"
        elif any(host in str(default) for host in ("127.0.0.1", "localhost")):
            yield key, "value"


def unset_errors(
    model: type[BaseModel], prefix: str, env: dict[str, str], from_secrets: set[str]
) -> Iterator[str]:
    for key, how in must_set(model, prefix):
        if how == "secret" and key not in from_secrets:
            yield f"{key} is a credential with a development default: set it from a Secret"
        elif how == "value" and key not in env:
            yield f"{key} defaults to this machine (localhost): set it in the ConfigMap"


def environment(
    container: Doc, config_maps: dict[str, Doc]
) -> tuple[dict[str, str], set[str], list[str]]:
    """The container's environment (secrets as placeholders), the names from Secrets, errors."""
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
            if "secretKeyRef" in (item.get("valueFrom") or {}):
                from_secrets.add(item["name"])
            suffix = next((s for s in SECRET_PLACEHOLDER if item["name"].endswith(s)), None)
            env[item["name"]] = SECRET_PLACEHOLDER[suffix] if suffix else "placeholder"
    return env, from_secrets, errors


def build(cls: Callable[[], BaseSettings], env: dict[str, str]) -> BaseSettings:
    saved = dict(os.environ)
    try:
        os.environ.clear()
        os.environ.update(env)
        return cls()
    finally:
        os.environ.clear()
        os.environ.update(saved)


def deployment_errors(doc: Doc, config_maps: dict[str, Doc]) -> Iterator[str]:
    for container in doc["spec"]["template"]["spec"]["containers"]:
        command = container.get("command") or []
        if command[:2] != ["python", "-m"] or not command[2].startswith("services."):
            yield f"container {container['name']}: command must be python -m services.<name>"
            continue
        service = command[2].removeprefix("services.")
        cls = settings_class(service)
        env, from_secrets, errors = environment(container, config_maps)
        yield from errors
        prefix = f"{service.upper()}_"
        known = set(env_names(cls, prefix))
        for key in sorted(set(env) - known):
            yield f"{key} is no setting of services/{service}/settings.py"
        yield from unset_errors(cls, prefix, env, from_secrets)
        try:
            settings: Any = build(cls, env)
        except ValidationError as exc:
            yield f"the environment does not build {cls.__name__}: {exc}"
            continue
        ports = {p.get("name"): p["containerPort"] for p in container.get("ports", [])}
        if settings.http.host != "0.0.0.0":  # noqa: S104 - pods must listen on every address
            yield f"{prefix}HTTP__HOST is {settings.http.host}; a pod must listen on 0.0.0.0"
        if settings.http.port != ports.get("http"):
            yield f"{prefix}HTTP__PORT is {settings.http.port}, containerPort http is {ports}"


def job_errors(doc: Doc, config_maps: dict[str, Doc]) -> Iterator[str]:
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
        env, from_secrets, errors = environment(container, config_maps)
        yield from errors
        for key in sorted(set(env) - set(env_names(MigrationSettings, prefix))):
            yield f"{key} is no setting a migration reads (shared/migrate.py)"
        yield from unset_errors(MigrationSettings, prefix, env, from_secrets)
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
    failures = [
        f"{args.dump.stem}: {doc['kind']}/{doc['metadata']['name']}: {message}"
        for doc in docs
        if doc.get("kind") in CHECKS
        for message in CHECKS[doc["kind"]](doc, config_maps)
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
