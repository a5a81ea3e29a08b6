"""The console's web app: templates and static files, the guard in front of every page
(authentication, roles, CSRF, security headers), login and logout, and the routes of
`pages.py` and `live.py`, beside /healthz /readyz /metrics."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web

from services.console import access, masking
from services.console.access import Action, Principal, Token, TrustedHeader
from services.console.metrics import ConsoleMetrics
from shared import strict_json

HERE = Path(__file__).parent
PRINCIPAL = web.RequestKey("console_principal", Principal)
SESSION_COOKIE = "wagate_console"
LOGIN_COOKIE = "wagate_console_login"
OPEN_PATHS = ("/healthz", "/readyz", "/metrics", "/login", "/static/")
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
VALUE_MAX = 1024  # characters of a path or query value: ids, numbers, a search
FORM_VALUE_MAX = 8192  # characters of a form value (a chat message is cut at 4096)
FREE_TEXT = frozenset({"text"})  # form fields that may hold line breaks and tabs
_LINE_BREAKS = str.maketrans("", "", "\t\n\r")
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


class Access:
    """What the guard checks against: the tokens, the trusted proxy header, cookie rules."""

    def __init__(
        self,
        tokens: Callable[[], tuple[Token, ...]],
        trusted: TrustedHeader | None,
        max_age_s: float,
        cookie_secure: bool,
        metrics: ConsoleMetrics,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._tokens = tokens
        self.trusted = trusted
        self.max_age_s = max_age_s
        self.cookie_secure = cookie_secure
        self.metrics = metrics
        self.clock = clock

    @property
    def tokens(self) -> tuple[Token, ...]:
        return self._tokens()

    def who(self, request: web.Request) -> Principal | None:
        return (
            access.from_header(request.headers, self.trusted)
            or access.bearer(request.headers.get("Authorization", ""), self.tokens)
            or access.session(
                request.cookies.get(SESSION_COOKIE, ""), self.tokens, self.clock(), self.max_age_s
            )
        )


ACCESS = web.AppKey("console_access", Access)


def setup(app: web.Application, guard: Access) -> None:
    app[ACCESS] = guard
    env = aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(HERE / "pages"),
        autoescape=jinja2.select_autoescape(["html"], default=True),
        undefined=jinja2.StrictUndefined,
    )
    env.filters["pretty"] = lambda value: json.dumps(value, indent=2, default=str)
    env.filters["when"] = _when
    app.middlewares.append(_guard)
    app.router.add_static("/static/", HERE / "static", name="static")
    app.router.add_get("/login", _login_form)
    app.router.add_post("/login", _login)
    app.router.add_post("/logout", _logout)


def _when(value: datetime | None) -> str:
    """A time as the pages show it: UTC, to the second."""
    if value is None:
        return ""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def principal(request: web.Request) -> Principal:
    found: Principal = request[PRINCIPAL]
    return found


def require(request: web.Request, action: Action) -> Principal:
    who = principal(request)
    if not who.can(action):
        request.app[ACCESS].metrics.refused.labels("forbidden").inc()
        raise web.HTTPForbidden(
            text=f"the {who.role} role may not {action.value.replace('_', ' ')}"
        )
    return who


def render(request: web.Request, template: str, status: int = 200, **context: Any) -> web.Response:
    """A page with what every page needs: who is looking, the CSRF token, masking helpers."""
    who: Principal | None = request.get(PRINCIPAL)
    allowed = who is not None and who.can(Action.SEE_PHONES)
    context.update(
        who=who,
        csrf=who.csrf if who else "",
        can=(lambda action: who is not None and who.can(Action(action))),
        phone=lambda value: masking.phone(value, allowed),
        key=lambda value: masking.key(value, allowed),
        shown=lambda value: masking.phones_in(value, allowed),
        shown_text=lambda value: masking.phones_in_text(value, allowed),
    )
    return aiohttp_jinja2.render_template(template, request, context, status=status)


def see_other(target: str) -> web.Response:
    return web.Response(status=303, headers={"Location": target})


def fragment(request: web.Request, template: str, **context: Any) -> str:
    return render(request, template, **context).text or ""


def refused_value(values: list[tuple[str, str]], longest: int) -> str | None:
    """Why one of these (name, value) is refused, or None: longer than `longest`, or holding a
    control character (NUL, CR, LF...) or an unpaired surrogate, which no identifier, search
    or table keeps (a FREE_TEXT field may hold tabs and line breaks)."""
    for name, value in values:
        if len(value) > longest:
            return f"{name!r} is longer than {longest} characters"
        checked = value.translate(_LINE_BREAKS) if name in FREE_TEXT else value
        if strict_json.unsafe_value([(name, checked)]) is not None:
            return f"{name!r} holds a control character or an unpaired surrogate"
    return None


async def _hostile(request: web.Request) -> str | None:
    """Why the request's path, query or form is refused before any page reads it."""
    values = [*request.match_info.items(), *request.query.items()]
    problem = refused_value([(str(k), str(v)) for k, v in values], VALUE_MAX)
    if problem is None and request.method not in SAFE_METHODS and request.can_read_body:
        form = await request.post()
        problem = refused_value([(k, str(v)) for k, v in form.items()], FORM_VALUE_MAX)
    return problem


@web.middleware
async def _guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    guard = request.app[ACCESS]
    problem = await _hostile(request)
    if problem is not None:
        guard.metrics.refused.labels("bad_input").inc()
        raise web.HTTPBadRequest(text=f"refused: {problem}")
    if not request.path.startswith(OPEN_PATHS):
        who = guard.who(request)
        if who is None:
            guard.metrics.refused.labels("unauthenticated").inc()
            return _refused(request)
        request[PRINCIPAL] = who
        if request.method not in SAFE_METHODS:
            form = await request.post()
            given = str(form.get("csrf", "")) or request.headers.get("X-CSRF-Token", "")
            if not access.csrf_ok(who, given):
                guard.metrics.refused.labels("csrf").inc()
                raise web.HTTPForbidden(text="missing or wrong CSRF token; reload the page")
    response = await handler(request)
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if not request.path.startswith("/static/"):
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def _refused(request: web.Request) -> web.StreamResponse:
    if "text/html" in request.headers.get("Accept", ""):
        response = _login_page(request, request.path_qs, "Sign in to see this page.", 401)
    else:
        response = web.Response(status=401, text="authentication required")
    response.headers["WWW-Authenticate"] = 'Bearer realm="wagate console"'
    for name, value in HEADERS.items():
        response.headers[name] = value
    return response


def _login_page(request: web.Request, target: str, message: str, status: int) -> web.Response:
    nonce = secrets.token_urlsafe(24)
    response = render(
        request, "login.html", status, next=access.safe_next(target), message=message,
        login_csrf=nonce,
    )  # fmt: skip
    response.set_cookie(
        LOGIN_COOKIE, nonce, max_age=3600, httponly=True, samesite="Strict", path="/login",
        secure=request.app[ACCESS].cookie_secure,
    )  # fmt: skip
    return response


async def _login_form(request: web.Request) -> web.StreamResponse:
    return _login_page(request, request.query.get("next", "/"), "", 200)


async def _login(request: web.Request) -> web.StreamResponse:
    guard = request.app[ACCESS]
    form = await request.post()
    target = access.safe_next(str(form.get("next", "/")))
    expected = request.cookies.get(LOGIN_COOKIE, "")
    if not expected or not secrets.compare_digest(expected, str(form.get("csrf", ""))):
        guard.metrics.logins.labels("refused").inc()
        return _login_page(request, target, "The form expired; sign in again.", 403)
    token = access.token_for(str(form.get("token", "")), guard.tokens)
    if token is None:
        guard.metrics.logins.labels("refused").inc()
        return _login_page(request, target, "That token is not accepted.", 401)
    guard.metrics.logins.labels("ok").inc()
    response = see_other(target)
    response.set_cookie(
        SESSION_COOKIE, access.new_session(token, guard.clock(), secrets.token_urlsafe(16)),
        max_age=int(guard.max_age_s), httponly=True, samesite="Strict", path="/",
        secure=guard.cookie_secure,
    )  # fmt: skip
    response.del_cookie(LOGIN_COOKIE, path="/login")
    return response


async def _logout(request: web.Request) -> web.StreamResponse:
    response = see_other("/login")
    response.del_cookie(SESSION_COOKIE, path="/")
    return response
