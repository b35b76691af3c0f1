"""The one ASGI app (Starlette, served by uvicorn), after python-telegram-bot's
custom-webhook example: the webhook, /healthz, /readyz, /metrics, and routes from others.

The webhook answers 200 only once the update is stored in the inbox (``Intake.accept``),
so an accepted update is never lost; a wrong or missing secret gets 403 and changes
nothing; a database that does not answer gets 503 and Telegram sends the update again.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from json import JSONDecodeError

import uvicorn
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from medlofte_bot.web.intake import Intake
from medlofte_bot.web.metrics import CONTENT_TYPE, BotMetrics

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
log = logging.getLogger(__name__)


def secret_ok(expected: str, given: str | None) -> bool:
    """Whether the header carries the webhook's secret (compared in constant time)."""
    if given is None:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


@dataclass(frozen=True)
class Webhook:
    """Where Telegram posts (the path of MEDLOFTE_WEBHOOK_URL), the secret it sends back,
    and the intake that stores and queues what it posts."""

    path: str
    secret: str
    intake: Intake


def create_app(*, not_ready: Callable[[], str | None], metrics: BotMetrics,
               webhook: Webhook | None = None,
               extra_routes: Sequence[BaseRoute] = ()) -> Starlette:
    """The ASGI app: /healthz, /readyz and /metrics always; the webhook route in webhook
    mode; ``extra_routes`` (the web view's) mounted beside them.

    ``not_ready`` answers None when the process can serve (database up, schema at head),
    else a short reason; it runs in a worker thread, as does the metrics' scrape.
    """

    async def healthz(_request: Request) -> Response:
        """Alive: the event loop answers."""
        return PlainTextResponse("ok")

    async def readyz(_request: Request) -> Response:
        """Ready: the database answers and migrations are at head."""
        reason = await asyncio.to_thread(not_ready)
        if reason is not None:
            return PlainTextResponse(reason, status_code=503)
        return PlainTextResponse("ok")

    async def metrics_page(_request: Request) -> Response:
        """Prometheus' text format."""
        body = await asyncio.to_thread(metrics.render)
        return Response(body, media_type=CONTENT_TYPE)

    routes: list[BaseRoute] = [Route("/healthz", healthz, methods=["GET"]),
                               Route("/readyz", readyz, methods=["GET"]),
                               Route("/metrics", metrics_page, methods=["GET"])]
    if webhook is not None:
        routes.append(Route(webhook.path, _telegram(webhook, metrics), methods=["POST"]))
    routes.extend(extra_routes)
    return Starlette(routes=routes)


def _telegram(webhook: Webhook, metrics: BotMetrics) -> Callable[[Request], object]:
    intake = webhook.intake

    def answer(result: str, status: int, text: str) -> Response:
        metrics.webhook_post(result)
        return PlainTextResponse(text, status_code=status)

    async def telegram(request: Request) -> Response:
        """An update from Telegram: checked, stored, answered 200, then queued if new."""
        if not secret_ok(webhook.secret, request.headers.get(SECRET_HEADER)):
            return answer("forbidden", 403, "forbidden")
        try:
            payload = await request.json()
            if not isinstance(payload, dict) or not isinstance(payload.get("update_id"), int):
                raise ValueError("no update_id")
        except (JSONDecodeError, UnicodeDecodeError, ValueError):
            return answer("invalid", 400, "not an update")
        try:
            update = await intake.accept(payload)
        except (ValueError, TypeError, KeyError):
            log.warning("update %s refused: python-telegram-bot cannot read it",
                        payload["update_id"])
            return answer("invalid", 400, "not an update")
        except Exception:  # the database: Telegram sends it again later
            log.exception("update %s not stored", payload["update_id"])
            return answer("unavailable", 503, "try again")
        metrics.webhook_post("new" if update is not None else "repeat")
        # stored and committed: answer now, queue after the answer (a resend runs nothing)
        task = BackgroundTask(intake.enqueue, update) if update is not None else None
        return Response(status_code=200, background=task)

    return telegram


class Server(uvicorn.Server):
    """uvicorn's server without its own signal handling: the caller installs handlers
    that call ``handle_exit`` for the whole run (uvicorn's would re-raise SIGINT/SIGTERM
    after serving, which ends the process with a traceback or a signal exit code)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """Nothing: signals are the caller's."""
        yield


def make_server(app: Starlette, host: str, port: int) -> Server:
    """uvicorn on ``host:port`` with our logging left alone."""
    config = uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False,
                            lifespan="off", use_colors=False)
    return Server(config)
