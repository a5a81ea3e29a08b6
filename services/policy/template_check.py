"""Pure template checks, the ones Meta makes at send time: the language is a language code
(spelled as Meta spells it), the template is APPROVED in it or in the first usable language of
its fallback chain (found from any of the template's languages when the requested one has no
translation), and the intent's parameters match its spec and Meta's limits (rules §2.1, §6.6).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from shared.events.intents import TemplateContent
from shared.events.reasons import Reason
from shared.events.template_states import ParameterSpec, TemplateStateChanged, state_key

MEDIA_HEADERS = frozenset({"image", "video", "document", "location"})
HEADER_TEXT_MAX = 60
BODY_TEXT_MAX = 1024
CODE_MAX = 15  # a one-time code, a coupon code
LANGUAGE = re.compile(r"([A-Za-z]{2,3})(?:[-_]([A-Za-z]{2}|[A-Za-z]{4}))?")

Lookup = Callable[[str], TemplateStateChanged | None]
Languages = Callable[[str, str], tuple[str, ...]]  # (WABA, name) -> the languages it exists in


@dataclass(frozen=True)
class TemplateVerdict:
    reason: Reason | None  # None: sendable
    detail: str
    state: TemplateStateChanged | None = None
    content: TemplateContent | None = None  # what to send (the language may be a fallback)


@functools.lru_cache(maxsize=4096)
def language_code(code: str) -> str | None:
    """A language code in Meta's spelling (`en-us`, `EN_us` -> `en_US`; `zh_hant` ->
    `zh_Hant`), or None when it is not a language code."""
    match = LANGUAGE.fullmatch(code.strip())
    if match is None:
        return None
    language, region = match.group(1).lower(), match.group(2)
    if region is None:
        return language
    return f"{language}_{region.upper() if len(region) == 2 else region.title()}"


def normalize_language(code: str) -> str:
    """Meta's spelling of a language code; what is not one is returned as it is."""
    return language_code(code) or code


def resolve(
    content: TemplateContent,
    waba_id: str,
    lookup: Lookup,
    languages: Languages = lambda _waba, _name: (),
) -> TemplateVerdict:
    language = language_code(content.language)
    if language is None:
        return TemplateVerdict(
            Reason.TEMPLATE_UNKNOWN,
            f"{content.language!r} is not a language code (en, en_US, pt_BR ...)",
        )
    requested = lookup(state_key(waba_id, content.name, language))
    if requested is not None:
        chain = requested.fallback_languages
    else:
        siblings = [
            lookup(state_key(waba_id, content.name, lang))
            for lang in languages(waba_id, content.name)
        ]
        chain = chain_for(language, [s for s in siblings if s is not None])
    failures: list[TemplateVerdict] = []
    for lang in (language, *chain):
        state = requested if lang == language else lookup(state_key(waba_id, content.name, lang))
        verdict = _check(content, lang, state, waba_id)
        if verdict.reason is None:
            return _instead_of(verdict, language) if lang != language else verdict
        failures.append(verdict)
    first = failures[0]
    if len(failures) == 1:
        return first
    tried = "; ".join(f.detail for f in failures[1:])
    return TemplateVerdict(
        first.reason, f"{first.detail}; its fallbacks fail too: {tried}", first.state
    )


def chain_for(language: str, siblings: list[TemplateStateChanged]) -> tuple[str, ...]:
    """The fallback chain of a language with no state of its own, from the chains its
    template's other languages carry: what follows it where a chain names it, else the longest
    chain known. Only languages some chain names are ever tried."""
    for state in siblings:
        if language in state.fallback_languages:
            chain = state.fallback_languages
            return chain[chain.index(language) + 1 :]
    return max((s.fallback_languages for s in siblings), key=len, default=())


def _instead_of(verdict: TemplateVerdict, requested: str) -> TemplateVerdict:
    detail = f"{verdict.detail}, in place of {requested} (its fallback chain)"
    return TemplateVerdict(None, detail, verdict.state, verdict.content)


def _check(
    content: TemplateContent, language: str, state: TemplateStateChanged | None, waba_id: str
) -> TemplateVerdict:
    if state is None:
        return TemplateVerdict(
            Reason.TEMPLATE_UNKNOWN,
            f"no template {content.name!r} in {language} for WABA {waba_id}",
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
    sent = (
        content
        if content.language == language
        else content.model_copy(update={"language": language})
    )
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
        _shape_problem(components)
        or _header_problem(_params(components, "header"), spec)
        or _body_problem(_params(components, "body"), spec, category)
        or _button_problem(_of_type(components, "button"), spec, category)
    )


def _shape_problem(components: list[dict[str, Any]]) -> str | None:
    """Meta reads `parameters` as a list of objects; anything else is refused (131009)."""
    for component in components:
        params = component.get("parameters")
        if params is None:
            continue
        if not isinstance(params, list) or not all(isinstance(p, dict) for p in params):
            return f"the {component.get('type')!r} component's parameters are not a list of objects"
    return None


def _text(param: dict[str, Any]) -> str:
    return str(param.get("text", "")) if param.get("type", "text") == "text" else ""


def _header_problem(params: list[dict[str, Any]], spec: ParameterSpec) -> str | None:
    if spec.header_kind in MEDIA_HEADERS:
        if len(params) != 1 or params[0].get("type") != spec.header_kind:
            return f"the header needs one {spec.header_kind} parameter"
        return None
    named = spec.parameter_format == "named"
    expected = len(spec.header_names) if named else spec.header_count
    if len(params) != expected:
        return f"the header takes {expected} parameter(s), got {len(params)}"
    if named and {str(p.get("parameter_name")) for p in params} != set(spec.header_names):
        return f"the header takes the named parameters {sorted(spec.header_names)}"
    if any(len(_text(p)) > HEADER_TEXT_MAX for p in params):
        return f"a header text parameter is longer than {HEADER_TEXT_MAX} characters"
    return None


def _body_problem(params: list[dict[str, Any]], spec: ParameterSpec, category: str) -> str | None:
    if spec.parameter_format == "named":
        names = {str(p.get("parameter_name")) for p in params}
        if names != set(spec.body_names) or len(params) != len(spec.body_names):
            return f"the body takes the named parameters {sorted(spec.body_names)}"
    elif len(params) != spec.body_count:
        return f"the body takes {spec.body_count} parameter(s), got {len(params)}"
    if any(p.get("type", "text") == "text" and not _text(p).strip() for p in params):
        return "a body parameter is empty"
    if any(len(_text(p)) > BODY_TEXT_MAX for p in params):
        return f"a body text parameter is longer than {BODY_TEXT_MAX} characters"
    if category.upper() == "AUTHENTICATION":
        if not params:
            return "an authentication template must carry the one-time code"
        if any(len(_text(p)) > CODE_MAX for p in params):
            return f"the one-time code is longer than {CODE_MAX} characters"
    return None


def _button_problem(
    buttons: list[dict[str, Any]], spec: ParameterSpec, category: str
) -> str | None:
    indexes = [str(b.get("index")) for b in buttons]
    twice = sorted({i for i in indexes if indexes.count(i) > 1})
    if twice:
        return f"button index {', '.join(twice)} is given more than once"
    given = {(str(b.get("index")), str(b.get("sub_type", "")).lower()): b for b in buttons}
    wanted = {(str(b.index), b.sub_type.lower()) for b in spec.buttons}
    if set(given) != wanted:
        return f"button parameters must be given for {sorted(wanted)}, got {sorted(given)}"
    if any(not b.get("parameters") for b in given.values()):
        return "a button component has no parameter"
    return _code_problem([p for b in buttons for p in b.get("parameters") or []], category)


def _code_problem(params: list[dict[str, Any]], category: str) -> str | None:
    """Coupon codes, and every button value of an authentication template (the code), are at
    most 15 characters."""
    codes = [str(p.get("coupon_code", "")) for p in params if p.get("type") == "coupon_code"]
    if category.upper() == "AUTHENTICATION":
        codes += [_text(p) for p in params]
    if any(len(code) > CODE_MAX for code in codes):
        return f"a code in a button is longer than {CODE_MAX} characters"
    return None
