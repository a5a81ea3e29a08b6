"""The console's pages: search, an intent's timeline, a customer, templates, numbers, dead
letters (with redrive) and the sandbox chat. Each handler reads the read model, lets the
pure modules tell the story, and renders it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from aiohttp import web
from aiokafka.errors import KafkaError

from services.console import customers, numbers, template_effects, timeline
from services.console.access import Action
from services.console.errors import DeadLetterGone, SandboxUnavailable
from services.console.handlers import Redriver, SandboxCustomer
from services.console.projection import customer_of
from services.console.queries import Queries
from services.console.store import ReadModelStore
from services.console.web import principal, render, require, see_other
from shared import logs
from shared.deadletters import RedriveRefused

log = logs.get(__name__)
ONCE = "The console redrives a dead letter once; `wagate deadletter redrive --again` repeats it."


@dataclass
class Console:
    queries: Queries
    store: ReadModelStore
    redriver: Redriver | None
    sandbox: SandboxCustomer | None
    clock: Callable[[], datetime]


CONSOLE = web.AppKey("console", Console)


def add_routes(app: web.Application, console: Console) -> None:
    app[CONSOLE] = console
    r = app.router
    r.add_get("/", home)
    r.add_get("/search", search)
    r.add_get("/intents/{intent_id}", intent_page)
    r.add_get("/customers/{customer_id:\\d{1,18}}", customer_page)
    r.add_get("/customers/{customer_id:\\d{1,18}}/chat/{number}", chat_page)
    r.add_post("/customers/{customer_id:\\d{1,18}}/chat/{number}", chat_write)
    r.add_post("/chat", chat_start)
    r.add_get("/templates", templates_page)
    r.add_get("/templates/{waba_id}/{name}/{language}", template_page)
    r.add_get("/numbers", numbers_page)
    r.add_get("/deadletters", dead_letters_page)
    r.add_get("/deadletters/{topic}/{partition:\\d{1,9}}/{offset:\\d{1,18}}", dead_letter_page)
    r.add_post("/deadletters/{topic}/{partition:\\d{1,9}}/{offset:\\d{1,18}}/redrive", redrive)


def _console(request: web.Request) -> Console:
    return request.app[CONSOLE]


def _not_found(request: web.Request, what: str) -> web.Response:
    return render(request, "not_found.html", 404, what=what)


async def home(request: web.Request) -> web.StreamResponse:
    rows = await _console(request).queries.recent()
    return render(request, "index.html", intents=rows, query="")


async def search(request: web.Request) -> web.StreamResponse:
    query = request.query.get("q", "").strip()
    if not query:
        return see_other("/")
    intents, found = await _console(request).queries.search(query)
    exact = [i for i in intents if i["intent_id"] == query]
    if exact and not found and len(intents) == 1:
        return see_other(f"/intents/{quote(query, safe='')}")
    return render(request, "search.html", query=query, intents=intents, customers=found)


async def intent_story(console: Console, intent_id: str) -> dict[str, Any] | None:
    """Everything the timeline shows, or None when the read model has nothing on it."""
    facts = await console.queries.intent(intent_id)
    if not any(facts.values()):
        return None
    first = (facts["intents"] or [{}])[0]
    decisions = facts["decisions"]
    customer = first.get("customer") or (decisions[0]["customer"] if decisions else "")
    number = first.get("phone_number_id") or (decisions[0]["phone_number_id"] if decisions else "")
    seen = []
    if decisions:
        seen = await console.queries.consent_at(customer, number, decisions[-1]["occurred_at"])
    templates = []
    if first.get("template_name"):
        templates = await console.queries.template_keys(
            first["template_name"], first["template_language"]
        )
    return {
        "intent_id": intent_id,
        "first": first,
        "decision": decisions[-1] if decisions else None,
        "entries": timeline.entries(
            facts["intents"], decisions, facts["deliveries"], facts["dead_letters"]
        ),
        "final": timeline.final_state(decisions, facts["deliveries"]),
        "customer": customer,
        "customer_id": await console.queries.customer_id(customer) if customer else None,
        "number": number,
        "consent_seen": seen,
        "templates": templates,
    }


async def intent_page(request: web.Request) -> web.StreamResponse:
    intent_id = request.match_info["intent_id"]
    story = await intent_story(_console(request), intent_id)
    if story is None:
        return _not_found(request, f"no intent {intent_id!r} in the read model")
    return render(request, "intent.html", **story)


async def customer_page(request: web.Request) -> web.StreamResponse:
    console = _console(request)
    now = console.clock()
    facts = await console.queries.customer(int(request.match_info["customer_id"]), now)
    if facts is None:
        return _not_found(request, "no such customer")
    return render(
        request, "customer.html", **facts,
        window_status=[customers.window_status(w, now) for w in facts["windows"]],
        consent_now=customers.current_consent(facts["consent"]),
        chat=console.sandbox is not None,
    )  # fmt: skip


async def templates_page(request: web.Request) -> web.StreamResponse:
    rows = await _console(request).queries.templates()
    return render(request, "templates.html", templates=rows)


async def template_page(request: web.Request) -> web.StreamResponse:
    m = request.match_info
    facts = await _console(request).queries.template(m["waba_id"], m["name"], m["language"])
    if not facts["history"]:
        return _not_found(request, f"no template {m['name']} ({m['language']})")
    affected = template_effects.affected(facts["history"], facts["outcomes"])
    return render(
        request, "template.html", 200, **facts, waba_id=m["waba_id"], name=m["name"],
        language=m["language"], explain=timeline.explain, affected=affected,
        per_change=template_effects.per_change(affected),
    )  # fmt: skip


async def numbers_page(request: web.Request) -> web.StreamResponse:
    console = _console(request)
    now = console.clock()
    facts = await console.queries.numbers(now)
    accounts = numbers.facts(facts["accounts"], now)
    rows = [
        {**n, "facts": numbers.of_number(accounts, n["display_phone_number"], n["waba_id"])}
        for n in facts["numbers"]
    ]
    return render(
        request, "numbers.html", numbers=rows, accounts=accounts, explain=timeline.explain,
        usage=numbers.usage_words,
    )  # fmt: skip


async def dead_letters_page(request: web.Request) -> web.StreamResponse:
    rows = await _console(request).queries.dead_letters()
    return render(request, "dead_letters.html", letters=rows, message=request.query.get("m", ""))


def _position(request: web.Request) -> tuple[str, int, int]:
    m = request.match_info
    return m["topic"], int(m["partition"]), int(m["offset"])


async def dead_letter_page(request: web.Request) -> web.StreamResponse:
    row = await _console(request).queries.dead_letter(*_position(request))
    if row is None:
        return _not_found(request, "no such dead letter")
    return render(request, "dead_letter.html", letter=row, message=request.query.get("m", ""))


async def redrive(request: web.Request) -> web.StreamResponse:
    who = require(request, Action.REDRIVE)
    console = _console(request)
    topic, partition, offset = _position(request)
    here = f"/deadletters/{topic}/{partition}/{offset}"
    if await console.queries.dead_letter(topic, partition, offset) is None:
        return _not_found(request, "no such dead letter")
    if console.redriver is None:
        return see_other(f"{here}?m=redrive+is+not+available+here")
    try:
        done = await console.redriver.redrive(topic, partition, offset, who.name)
    except RedriveRefused as exc:
        reason = f"Not redriven: {exc}. {ONCE}"
        return render(request, "problem.html", 409, reason=reason, back=here)
    except DeadLetterGone as exc:
        return render(request, "problem.html", 409, reason=str(exc), back=here)
    except KafkaError as exc:
        log.warning("redrive failed", reason=str(exc))
        return render(request, "problem.html", 503, reason=str(exc), back=here)
    said = f"redriven to {done.topic} at {done.partition}:{done.offset}"
    if done.earlier:
        said += "; another redrive landed first at " + ", ".join(
            f"{p}:{o}" for p, o in done.earlier
        )
    return see_other(f"{here}?m={quote(said)}")


async def chat_page(request: web.Request) -> web.StreamResponse:
    console = _console(request)
    if console.sandbox is None:
        return _not_found(request, "chat needs the sandbox (CONSOLE_SANDBOX_URL)")
    customer_id = int(request.match_info["customer_id"])
    facts = await console.queries.customer(customer_id, console.clock())
    if facts is None:
        return _not_found(request, "no such customer")
    number = request.match_info["number"]
    messages = await console.queries.chat(facts["customer"]["customer"], number)
    return render(
        request, "chat.html", customer=facts["customer"], number=number,
        messages=list(reversed(messages)), explain=timeline.explain,
        message=request.query.get("m", ""),
    )  # fmt: skip


async def chat_write(request: web.Request) -> web.StreamResponse:
    require(request, Action.WRITE_AS_CUSTOMER)
    console = _console(request)
    customer_id, number = int(request.match_info["customer_id"]), request.match_info["number"]
    here = f"/customers/{customer_id}/chat/{number}"
    facts = await console.queries.customer(customer_id, console.clock())
    text = str((await request.post()).get("text", "")).strip()
    if console.sandbox is None or facts is None:
        return _not_found(request, "no such chat")
    if not text:
        return see_other(f"{here}?m=write+something+first")
    try:
        await console.sandbox.write(number, facts["customer"]["customer"], text[:4096])
    except SandboxUnavailable as exc:
        return render(request, "problem.html", 503, reason=str(exc), back=here)
    return see_other(here)


async def chat_start(request: web.Request) -> web.StreamResponse:
    """Open the chat of a simulated customer the console may not have seen yet."""
    require(request, Action.WRITE_AS_CUSTOMER)
    form = await request.post()
    number = str(form.get("number", "")).strip()
    customer, _ = customer_of(str(form.get("customer", "")))
    if not number.isdigit() or not customer:
        reason = "a business number (digits) and a customer are needed"
        return render(request, "problem.html", 400, reason=reason, back="/")
    customer_id = await _console(request).store.customer(customer)
    log.info("chat opened", by=principal(request).name, number=number)
    return see_other(f"/customers/{customer_id}/chat/{number}")
