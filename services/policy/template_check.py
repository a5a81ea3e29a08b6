"""Pure template checks: the template exists, is APPROVED in the requested language or the
first usable one of its fallback chain, and the intent's parameters match its spec."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from shared.events.intents import TemplateContent
from shared.events.reasons import Reason
from shared.events.template_states import ParameterSpec, TemplateStateChanged, state_key

MEDIA_HEADERS = frozenset({"image", "video", "document", "location"})

Lookup = Callable[[str], TemplateStateChanged | None]


@dataclass(frozen=True)
class TemplateVerdict:
    reason: Reason | None  # None: sendable
    detail: str
    state: TemplateStateChanged | None = None
    content: TemplateContent | None = None  # what to send (the language may be a fallback)


def normalize_language(code: str) -> str:
    """`en-US` and `en_US` are one language; Meta spells it with an underscore."""
    return code.replace("-", "_")


def resolve(content: TemplateContent, waba_id: str, lookup: Lookup) -> TemplateVerdict:
    language = normalize_language(content.language)
    requested = lookup(state_key(waba_id, content.name, language))
    if requested is None:
        return TemplateVerdict(
            Reason.TEMPLATE_UNKNOWN,
            f"no template {content.name!r} in {language} for WABA {waba_id}",
        )
    first_failure: TemplateVerdict | None = None
    for lang in (language, *requested.fallback_languages):
        state = requested if lang == language else lookup(state_key(waba_id, content.name, lang))
        verdict = _check(content, lang, state)
        if verdict.reason is None:
            return verdict
        first_failure = first_failure or verdict
    assert first_failure is not None
    return first_failure


def _check(
    content: TemplateContent, language: str, state: TemplateStateChanged | None
) -> TemplateVerdict:
    if state is None:
        return TemplateVerdict(
            Reason.TEMPLATE_UNKNOWN, f"no template {content.name!r} in {language}"
        )
    if state.status.upper() == "PAUSED":
        return TemplateVerdict(
            Reason.TEMPLATE_PAUSED,
            f"{content.name!r} in {language} is paused for low quality",
            state,
        )
    if state.status.upper() != "APPROVED":
        return TemplateVerdict(
            Reason.TEMPLATE_NOT_APPROVED, f"{content.name!r} in {language} is {state.status}", state
        )
    problem = parameter_problem(content.components, state.parameters, state.category)
    if problem is not None:
        return TemplateVerdict(Reason.TEMPLATE_PARAMETERS_MISMATCH, problem, state)
    sent = content.model_copy(update={"language": language})
    return TemplateVerdict(None, f"{content.name!r} in {language} is approved", state, sent)


def _of_type(components: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [c for c in components if str(c.get("type", "")).lower() == kind]


def _params(components: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [p for c in _of_type(components, kind) for p in c.get("parameters") or []]


def parameter_problem(
    components: list[dict[str, Any]], spec: ParameterSpec, category: str
) -> str | None:
    """What is wrong with the send-time parameters, or None when they match the spec."""
    return (
        _header_problem(_params(components, "header"), spec)
        or _body_problem(_params(components, "body"), spec, category)
        or _button_problem(_of_type(components, "button"), spec)
    )


def _header_problem(params: list[dict[str, Any]], spec: ParameterSpec) -> str | None:
    if spec.header_kind in MEDIA_HEADERS:
        if len(params) != 1 or params[0].get("type") != spec.header_kind:
            return f"the header needs one {spec.header_kind} parameter"
        return None
    expected = (
        spec.header_count if spec.parameter_format == "positional" else len(spec.header_names)
    )
    if len(params) != expected:
        return f"the header takes {expected} parameter(s), got {len(params)}"
    return None


def _body_problem(params: list[dict[str, Any]], spec: ParameterSpec, category: str) -> str | None:
    if spec.parameter_format == "named":
        names = {str(p.get("parameter_name")) for p in params}
        if names != set(spec.body_names) or len(params) != len(spec.body_names):
            return f"the body takes the named parameters {sorted(spec.body_names)}"
    elif len(params) != spec.body_count:
        return f"the body takes {spec.body_count} parameter(s), got {len(params)}"
    if any(p.get("type", "text") == "text" and not str(p.get("text", "")).strip() for p in params):
        return "a body parameter is empty"
    if category.upper() == "AUTHENTICATION" and not params:
        return "an authentication template must carry the one-time code"
    return None


def _button_problem(buttons: list[dict[str, Any]], spec: ParameterSpec) -> str | None:
    given = {(str(b.get("index")), str(b.get("sub_type", "")).lower()): b for b in buttons}
    wanted = {(str(b.index), b.sub_type.lower()) for b in spec.buttons}
    if set(given) != wanted:
        return f"button parameters must be given for {sorted(wanted)}, got {sorted(given)}"
    if any(not b.get("parameters") for b in given.values()):
        return "a button component has no parameter"
    return None
