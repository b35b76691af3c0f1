"""The web view: server-rendered pages under /webb/, for any ASGI app to mount.

``routes(deps)`` hands the Starlette routes to the app (helper A's ``create_app`` mounts them
beside /healthz and the webhook; tests serve them alone). Every request runs its database
work and its rendering in a worker thread (the event loop never waits on either); what a
member sees is the policy's decision, taken in the services, as in chat.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol, TypeVar
from urllib.parse import parse_qs, quote, unquote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from medlofte_bot import texts
from medlofte_bot.domain.clock import Clock
from medlofte_bot.domain.errors import NotFound, UserError
from medlofte_bot.services.context import ServiceContext
from medlofte_bot.services.web import SESSION_VALID, NotSignedIn, WebAccess, WebMember
from medlofte_bot.services.webpages import TaskPage, WebPages
from medlofte_bot.settings import Settings
from medlofte_bot.web import views
from medlofte_bot.web.security import (
    COOKIE_PATH,
    NEXT_COOKIE,
    SESSION_COOKIE,
    csrf_ok,
    csrf_token,
    safe_next,
    same_origin,
    sign,
    unsign,
)

log = logging.getLogger(__name__)


class _Signed(Protocol):
    """A page of one signed-in member."""

    @property
    def member(self) -> WebMember: ...


PageT = TypeVar("PageT", bound=_Signed)
NEXT_KEPT = timedelta(minutes=15)
HEADERS = {
    # no script at all; inline style attributes only for matplotlib's SVG
    "Content-Security-Policy": "default-src 'none'; style-src 'self' 'unsafe-inline'; "
                               "img-src 'self' data:; form-action 'self'; base-uri 'none'; "
                               "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",  # a login link or a feed secret never leaves in a Referer
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",  # the pages are one member's view: no cache keeps them
}


@dataclass(frozen=True)
class WebDeps:
    """What the pages need, wired by the composition root (or a test): the services'
    context (database, promise sets, clock) and the settings (the public base URL, the
    cookie key)."""

    ctx: ServiceContext
    settings: Settings

    @property
    def clock(self) -> Clock:
        """The injected clock every page reads."""
        return self.ctx.clock


def _lang_of(request: Request) -> str:
    """A visitor's language before we know the member: Swedish first; English only for a
    browser that asks for English first and for no Swedish at all."""
    accepted = request.headers.get("accept-language", "").lower()
    return "en" if accepted.startswith("en") and "sv" not in accepted \
        else texts.DEFAULT_LANGUAGE


class WebView:
    """The pages' handlers over the services; one per app."""

    def __init__(self, deps: WebDeps) -> None:
        self.deps = deps
        self.access = WebAccess(deps.ctx)
        self.pages = WebPages(deps.ctx, self.access)
        self._key: bytes | None = None
        self._key_lock = threading.Lock()

    # --- plumbing ---------------------------------------------------------------------------

    def key(self) -> bytes:
        """The cookie key, read once (from the settings or the database)."""
        with self._key_lock:
            if self._key is None:
                self._key = self.access.signing_key(self.deps.settings.web_secret)
            return self._key

    def base(self, request: Request) -> str:
        """The public base URL (settings), else the one the request came to."""
        return self.deps.settings.web_base() or str(request.base_url).rstrip("/")

    def secure(self, request: Request) -> bool:
        """Cookies are Secure when the web view is served over https."""
        return self.base(request).startswith("https://") or request.url.scheme == "https"

    @staticmethod
    def _finish(response: Response) -> Response:
        response.headers.update(HEADERS)
        return response

    async def _guard(self, request: Request, build: Callable[[], Response]) -> Response:
        """``build`` in a worker thread; expected failures as pages with their status."""
        lang = _lang_of(request)
        try:
            response = await run_in_threadpool(build)
        except NotSignedIn:
            response = HTMLResponse(views.login_needed(lang), status_code=401)
            if request.method == "GET":
                wanted = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                response.set_cookie(NEXT_COOKIE, quote(safe_next(wanted), safe=""),
                                    max_age=int(NEXT_KEPT.total_seconds()), path=COOKIE_PATH,
                                    secure=self.secure(request), httponly=True, samesite="lax")
        except NotFound as exc:  # one sentence for "not there" and "not yours": no hint
            response = HTMLResponse(views.problem(exc.lang or lang, "web.not_found", {}),
                                    status_code=404)
        except UserError as exc:
            response = HTMLResponse(views.problem(exc.lang or lang, exc.key, exc.params),
                                    status_code=400)
        except Exception:  # logged with the path; the visitor reads one calm sentence
            log.exception("web view: %s %s failed", request.method, request.url.path)
            response = HTMLResponse(views.problem(lang, "web.error_generic", {}),
                                    status_code=500)
        return self._finish(response)

    def _session(self, request: Request) -> str | None:
        return unsign(self.key(), request.cookies.get(SESSION_COOKIE))

    def _chrome(self, request: Request, token: str | None, member: WebMember) -> dict[str, Any]:
        """What every signed-in page shows around its content."""
        now = self.deps.clock.now().astimezone(self.deps.ctx.tz)
        return {"member": member, "csrf": csrf_token(self.key(), token or ""),
                "this_month": f"{COOKIE_PATH}/kalender/{now.year}/{now.month}",
                "base": self.base(request)}

    async def _form(self, request: Request) -> dict[str, str]:
        """An urlencoded form's fields (first value of each)."""
        body = (await request.body()).decode("utf-8", "replace")
        return {k: v[0] for k, v in parse_qs(body).items()}

    def _posted_here(self, request: Request) -> bool:
        return same_origin(request.headers.get("origin"), request.headers.get("referer"),
                           self.base(request))

    # --- pages ------------------------------------------------------------------------------

    async def _signed_in(self, request: Request, load: Callable[[str | None], PageT],
                         render: Callable[[PageT, Mapping[str, Any]], str]) -> Response:
        """A page of the member signed in: loaded by the session's token and rendered with
        what every signed-in page shows around it (failures: see ``_guard``)."""
        def build() -> Response:
            token = self._session(request)
            page = load(token)
            return HTMLResponse(render(page, self._chrome(request, token, page.member)))
        return await self._guard(request, build)

    async def area(self, request: Request) -> Response:
        """/webb/: the promises, their standing and the chart; the calendar feed."""
        return await self._signed_in(request, self.pages.area, views.area)

    async def month(self, request: Request) -> Response:
        """/webb/kalender/Y/M: the month's tasks."""
        year, month = int(request.path_params["year"]), int(request.path_params["month"])
        return await self._signed_in(
            request, lambda token: self.pages.month(token, year, month), views.month)

    async def this_month(self, _request: Request) -> Response:
        """/webb/kalender: the month under way."""
        now = self.deps.clock.now().astimezone(self.deps.ctx.tz)
        return self._finish(RedirectResponse(f"{COOKIE_PATH}/kalender/{now.year}/{now.month}",
                                             status_code=303))

    async def task(self, request: Request) -> Response:
        """/webb/uppdrag/N: one task and its history."""
        task_id = int(request.path_params["task_id"])

        def load(token: str | None) -> TaskPage:
            if not 0 < task_id < 2**31:
                raise NotFound("web.not_found")
            return self.pages.task(token, task_id)
        return await self._signed_in(request, load, views.task)

    async def summaries(self, request: Request) -> Response:
        """/webb/sammanfattningar: the Monday summaries as they were sent."""
        return await self._signed_in(request, self.pages.summaries, views.summaries)

    async def report(self, request: Request) -> Response:
        """/webb/arsrapport[?ar=Y]: the year report in the member's version."""
        asked = request.query_params.get("ar", "")
        year = int(asked) if asked.isdigit() and len(asked) == 4 else None
        return await self._signed_in(
            request, lambda token: self.pages.report(token, year), views.report)

    async def feed(self, request: Request) -> Response:
        """/webb/kalender/SECRET.ics: the personal calendar feed (404 once revoked)."""
        secret = str(request.path_params["token"])

        def build() -> Response:
            feed = self.pages.feed(secret)
            if feed is None:
                return PlainTextResponse("404", status_code=404)
            return Response(views.feed_ics(feed, self.deps.clock.now()),
                            media_type="text/calendar; charset=utf-8")
        return await self._guard(request, build)

    # --- logging in and out -----------------------------------------------------------------

    async def login_form(self, request: Request) -> Response:
        """GET /webb/logga-in/SECRET: a button that logs in. The GET itself uses nothing, so
        a link preview or a virus scanner that fetches the link cannot spend it."""
        secret = str(request.path_params["token"])
        lang = await run_in_threadpool(self.access.link_language, secret)
        return self._finish(HTMLResponse(views.login_form(lang or _lang_of(request),
                                                          request.url.path)))

    async def login(self, request: Request) -> Response:
        """POST /webb/logga-in/SECRET: spend the link, start a session, go to the page that
        was asked for (or the area page)."""
        lang = _lang_of(request)
        if not self._posted_here(request):
            return self._finish(HTMLResponse(views.problem(lang, "web.forbidden", {}),
                                             status_code=403))
        secret = str(request.path_params["token"])
        try:
            signed = await run_in_threadpool(self.access.redeem, secret)
            key = await run_in_threadpool(self.key)
        except UserError as exc:
            return self._finish(HTMLResponse(views.problem(lang, exc.key, exc.params),
                                             status_code=403))
        except Exception:  # logged; the visitor reads one calm sentence, never a trace
            log.exception("web view: login failed")
            return self._finish(HTMLResponse(views.problem(lang, "web.error_generic", {}),
                                             status_code=500))
        wanted = unquote(request.cookies.get(NEXT_COOKIE, ""))
        response = RedirectResponse(safe_next(wanted), status_code=303)
        response.set_cookie(SESSION_COOKIE, sign(key, signed.token),
                            max_age=int(SESSION_VALID.total_seconds()), path=COOKIE_PATH,
                            secure=self.secure(request), httponly=True, samesite="lax")
        response.delete_cookie(NEXT_COOKIE, path=COOKIE_PATH)
        return self._finish(response)

    async def logout(self, request: Request) -> Response:
        """POST /webb/logga-ut: end the session (server-side: the cookie opens nothing
        after this, wherever a copy of it is)."""
        form = await self._form(request)

        def build() -> Response:
            token = self._session(request)
            if not self._posted_here(request) or not csrf_ok(self.key(), token,
                                                             form.get("csrf")):
                return HTMLResponse(views.problem(_lang_of(request), "web.forbidden", {}),
                                    status_code=403)
            member = self.access.who(token)
            self.access.logout(token)
            response = HTMLResponse(views.logged_out(member.language))
            response.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH)
            return response
        return await self._guard(request, build)

    async def new_feed(self, request: Request) -> Response:
        """POST /webb/kalender/ny-adress: a new feed secret (the last one stops working),
        shown once on the area page."""
        form = await self._form(request)

        def build() -> Response:
            token = self._session(request)
            if not self._posted_here(request) or not csrf_ok(self.key(), token,
                                                             form.get("csrf")):
                return HTMLResponse(views.problem(_lang_of(request), "web.forbidden", {}),
                                    status_code=403)
            secret = self.access.new_feed(token)
            page = self.pages.area(token)
            chrome = self._chrome(request, token, page.member)
            chrome["feed_url"] = f"{chrome['base']}{COOKIE_PATH}/kalender/{secret}.ics"
            return HTMLResponse(views.area(page, chrome))
        return await self._guard(request, build)

    async def stylesheet(self, _request: Request) -> Response:
        """/webb/stil.css: the one stylesheet."""
        response = Response(views.STYLESHEET, media_type="text/css; charset=utf-8")
        self._finish(response)
        response.headers["Cache-Control"] = "public, max-age=3600"
        return response

    async def home(self, _request: Request) -> Response:
        """/webb: the area page's address ends with a slash."""
        return self._finish(RedirectResponse(f"{COOKIE_PATH}/", status_code=308))


def routes(deps: WebDeps) -> list[BaseRoute]:
    """The web view's routes, all under /webb/ (the paths are the shared contract)."""
    web = WebView(deps)
    return [
        Route(COOKIE_PATH, web.home, methods=["GET"]),
        Route(f"{COOKIE_PATH}/", web.area, methods=["GET"]),
        Route(f"{COOKIE_PATH}/stil.css", web.stylesheet, methods=["GET"]),
        Route(f"{COOKIE_PATH}/logga-in/{{token}}", web.login_form, methods=["GET"]),
        Route(f"{COOKIE_PATH}/logga-in/{{token}}", web.login, methods=["POST"]),
        Route(f"{COOKIE_PATH}/logga-ut", web.logout, methods=["POST"]),
        Route(f"{COOKIE_PATH}/kalender", web.this_month, methods=["GET"]),
        Route(f"{COOKIE_PATH}/kalender/ny-adress", web.new_feed, methods=["POST"]),
        Route(f"{COOKIE_PATH}/kalender/{{token}}.ics", web.feed, methods=["GET"]),
        Route(f"{COOKIE_PATH}/kalender/{{year:int}}/{{month:int}}", web.month, methods=["GET"]),
        Route(f"{COOKIE_PATH}/uppdrag/{{task_id:int}}", web.task, methods=["GET"]),
        Route(f"{COOKIE_PATH}/sammanfattningar", web.summaries, methods=["GET"]),
        Route(f"{COOKIE_PATH}/arsrapport", web.report, methods=["GET"]),
    ]
