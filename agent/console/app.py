"""The console's ASGI app: sign-in and sign-out, the session on every page, the auditor's access log,
errors as pages with a message, security headers. The pages themselves are in ``pages``."""

from __future__ import annotations

import logging
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote, urlencode

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from agent.console.access import Viewer
from agent.console.headers import SecurityHeaders
from agent.console.passwords import MAX_PASSWORD_BYTES, verify_password
from agent.console.render import page_response
from agent.console.sessions import Session, cookie_names, new_csrf, new_session, read_csrf, read_session
from agent.console.settings import ConsoleSettings
from agent.models import utcnow
from agent.store.console_log import log_access

if TYPE_CHECKING:
    from agent.mappings import Mappings
    from agent.store.db import Store

__all__ = ["Action", "Console", "Page", "PageContext"]

log = logging.getLogger("agent.console")

MAX_FORM_BYTES = 4096
_CSS = (Path(__file__).parent / "static" / "console.css").read_bytes()


@dataclass(frozen=True)
class PageContext:
    """What a page handler gets: the request, who is asking, the store and the mappings."""

    request: Request
    viewer: Viewer
    session: Session
    store: Store
    mappings: Mappings
    settings: ConsoleSettings
    base: str

    def render(self, template: str, **context: Any) -> Response:
        return page_response(template, **{**self.common(), **context})

    def common(self) -> dict[str, Any]:
        return {"base": self.base, "viewer": self.viewer, "csrf": self.session.csrf, "active": ""}


Page = Callable[[PageContext], Response]
# a POST of a form (CSRF already checked against the session): the fields, without the token
Action = Callable[[PageContext, dict[str, str]], Response]


def _base(request: Request) -> str:
    return str(request.scope.get("root_path", "")).rstrip("/")


def _target(request: Request) -> str:
    """The path and query asked for, as printable ASCII (it goes into the evidence chain)."""
    raw = bytes(request.scope.get("raw_path") or request.url.path.encode())
    query = bytes(request.scope.get("query_string", b""))
    text = (raw + (b"?" + query if query else b"")).decode("ascii", "backslashreplace")
    return text if len(text) <= 1024 else text[:1021] + "..."


class Console:
    """One console over one store. ``app`` is the ASGI app to mount (at ``/console`` on the agent's port)."""

    def __init__(
        self,
        settings: ConsoleSettings,
        store: Store,
        mappings: Mappings,
        pages: dict[str, Page],
        actions: dict[str, Action] | None = None,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.settings = settings
        self.store = store
        self.mappings = mappings
        self.clock = clock
        self.session_cookie, self.csrf_cookie = cookie_names(settings)
        self._kdf_slots = threading.BoundedSemaphore(2)  # scrypt checks at once: bounds memory under a flood
        routes = [
            Route("/login", self._login_form, methods=["GET"]),
            Route("/login", self._login, methods=["POST"]),
            Route("/logout", self._logout, methods=["POST"]),
            Route("/static/console.css", self._css, methods=["GET"]),
        ]
        routes += [Route(path, self._page(page), methods=["GET"]) for path, page in pages.items()]
        routes += [Route(path, self._action(act), methods=["POST"]) for path, act in (actions or {}).items()]
        inner = Starlette(routes=routes, exception_handlers={HTTPException: self._http_error})
        inner.router.redirect_slashes = False
        self.app: ASGIApp = SecurityHeaders(inner, hsts=settings.secure_cookies)

    # -- cookies ---------------------------------------------------------------------------------

    def _cookie(self, response: Response, name: str, value: str, max_age: int) -> None:
        response.set_cookie(
            name,
            value,
            max_age=max_age,
            path="/",
            httponly=True,
            secure=self.settings.secure_cookies,
            samesite="strict",
        )

    def _session(self, request: Request, now: datetime) -> Session | None:
        return read_session(self.settings, request.cookies.get(self.session_cookie), now)

    # -- sign in and out -------------------------------------------------------------------------

    def _login_page(self, request: Request, *, status: int = 200, error: str = "", name: str = "") -> Response:
        token, cookie = new_csrf(self.settings)
        nxt = request.query_params.get("next", "") if request.method == "GET" else ""
        response = page_response(
            "login.html",
            status=status,
            base=_base(request),
            viewer=None,
            csrf="",
            active="login",
            token=token,
            error=error,
            name=name,
            next=self._safe_next(request, nxt),
        )
        self._cookie(response, self.csrf_cookie, cookie, 3600)
        return response

    def _safe_next(self, request: Request, nxt: str) -> str:
        """Where to go after signing in: a page of this console, never another site."""
        base = _base(request)
        ok = nxt.startswith(base + "/") and not nxt.startswith("//") and "\\" not in nxt and nxt.isprintable()
        return nxt if ok and len(nxt) <= 2048 else base + "/"

    def _login_form(self, request: Request) -> Response:
        if self._session(request, self.clock()) is not None:
            return RedirectResponse(_base(request) + "/", status_code=303)
        return self._login_page(request)

    async def _form(self, request: Request) -> dict[str, str]:
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind != "application/x-www-form-urlencoded":
            raise HTTPException(400, "expected a form (application/x-www-form-urlencoded)")
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_FORM_BYTES:
                raise HTTPException(413, f"form larger than {MAX_FORM_BYTES} bytes")
        try:
            text = body.decode("utf-8")
            fields = parse_qs(text, keep_blank_values=True, strict_parsing=False, max_num_fields=10, errors="strict")
        except (UnicodeDecodeError, ValueError):
            raise HTTPException(400, "the form is not valid UTF-8 form data") from None
        out = {}
        for key, values in fields.items():
            if len(values) != 1:
                raise HTTPException(400, f"form field {key[:40]!r} given {len(values)} times")
            out[key] = values[0]
        return out

    async def _login(self, request: Request) -> Response:
        form = await self._form(request)
        expected = read_csrf(self.settings, request.cookies.get(self.csrf_cookie))
        given = form.get("csrf", "")
        if expected is None or not given or not _same(given, expected):
            raise HTTPException(403, "the sign-in form expired or did not come from this console (CSRF); load it again")
        name, password = form.get("username", ""), form.get("password", "")
        if not name or not password:
            return self._login_page(request, status=400, error="Enter your user name and password.", name=name[:64])
        if (
            len(name) > 64
            or not name.isprintable()
            or len(password.encode("utf-8", "surrogatepass")) > MAX_PASSWORD_BYTES
        ):
            return self._login_page(request, status=400, error="User name or password too long.", name="")
        user = self.settings.users.get(name)

        def check() -> bool:
            with self._kdf_slots:
                return verify_password(password, user.password_hash if user is not None else None)

        if user is None or not await run_in_threadpool(check):
            log.info("console sign-in refused", extra={"user": name if user is not None else "(unknown)"})
            return self._login_page(request, status=401, error="Wrong user name or password.", name=name)
        value, _session = new_session(self.settings, user, self.clock())
        log.info("console sign-in", extra={"user": user.name, "role": user.role})
        response = RedirectResponse(self._safe_next(request, form.get("next", "")), status_code=303)
        self._cookie(response, self.session_cookie, value, int(self.settings.session_max_age.total_seconds()))
        response.delete_cookie(
            self.csrf_cookie, path="/", secure=self.settings.secure_cookies, httponly=True, samesite="strict"
        )
        return response

    async def _logout(self, request: Request) -> Response:
        form = await self._form(request)
        session = self._session(request, self.clock())
        if session is not None and not _same(form.get("csrf", ""), session.csrf):
            raise HTTPException(403, "sign-out did not come from this console (CSRF)")
        response = RedirectResponse(_base(request) + "/login", status_code=303)
        response.delete_cookie(
            self.session_cookie, path="/", secure=self.settings.secure_cookies, httponly=True, samesite="strict"
        )
        return response

    def _css(self, request: Request) -> Response:
        return Response(_CSS, media_type="text/css", headers={"cache-control": "private, max-age=3600"})

    # -- pages -----------------------------------------------------------------------------------

    def _page(self, page: Page) -> Callable[[Request], Response]:
        def endpoint(request: Request) -> Response:
            session = self._session(request, self.clock())
            if session is None:
                base = _base(request)
                return RedirectResponse(f"{base}/login?next={quote(_target(request), safe='/')}", status_code=303)
            return self._serve(request, session, page, _target(request))

        return endpoint

    def _action(self, action: Action) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            form = await self._form(request)
            session = self._session(request, self.clock())
            if session is None:
                raise HTTPException(403, "your session has ended; sign in again and resubmit the form")
            if not _same(form.pop("csrf", ""), session.csrf):
                raise HTTPException(403, "the form did not come from this console (CSRF); load the page again")
            shown = urlencode(sorted(form.items()))[:900]  # what was asked for, for the access log
            target = request.url.path + ("?" + shown if shown else "")
            return await run_in_threadpool(self._serve, request, session, lambda ctx: action(ctx, form), target)

        return endpoint

    def _serve(self, request: Request, session: Session, page: Page, target: str) -> Response:
        """A page (or a form's answer) for a signed-in user; an auditor's is recorded in the chain first."""
        now = self.clock()
        viewer = Viewer.of(session.user, self.mappings, self.settings.frameworks, self.settings.categories, now)
        ctx = PageContext(request, viewer, session, self.store, self.mappings, self.settings, _base(request))
        try:
            response = page(ctx)
        except HTTPException as exc:
            code = exc.status_code
            response = page_response("error.html", status=code, **ctx.common(), code=code, message=exc.detail)
        if viewer.auditor:
            try:
                log_access(
                    self.store,
                    at=now,
                    user=viewer.user.name,
                    role=viewer.user.role,
                    method=request.method,
                    target=target,
                    status=response.status_code,
                )
            except Exception as exc:  # no record, no page: an auditor's view is always logged
                log.error("console access log failed", extra={"error": type(exc).__name__})
                why = "your access could not be recorded, so nothing is shown; try again later"
                failed = page_response("error.html", status=503, **ctx.common(), code=503, message=why)
                failed.background = response.background  # e.g. removing a bundle not sent
                return failed
        return response

    async def _http_error(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        message = exc.detail
        if exc.status_code == 404:
            message = "no such page"
        elif exc.status_code == 405:
            message = f"method {request.method[:16]} is not allowed here"
        code = exc.status_code
        return page_response(
            "error.html", status=code, base=_base(request), viewer=None, csrf="", active="", code=code, message=message
        )


def _same(a: str, b: str) -> bool:
    import hmac

    return hmac.compare_digest(a.encode("utf-8", "surrogatepass"), b.encode("utf-8", "surrogatepass"))
