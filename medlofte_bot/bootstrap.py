"""The one place that sees everything: settings, database, services, limiter, chat, the tick."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import socket
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.routing import BaseRoute
from telegram.error import TelegramError

from medlofte_bot import texts
from medlofte_bot.chat.app import App, build_application, publish_commands
from medlofte_bot.chat.context import ChatDeps
from medlofte_bot.chat.ratelimit import Pacer
from medlofte_bot.chat.sender import TelegramSender
from medlofte_bot.chat.updates import Finished, UpdateGate
from medlofte_bot.configuration import load_many
from medlofte_bot.domain.clock import Clock
from medlofte_bot.domain.errors import UserError
from medlofte_bot.domain.promise_set import PromiseSet
from medlofte_bot.domain.years import in_force, named, new_year_command, outdated
from medlofte_bot.scheduling.clock import SystemClock, clock_from_setting, seconds_counter
from medlofte_bot.scheduling.jobs import tick
from medlofte_bot.services.context import ServiceContext
from medlofte_bot.services.health import Health
from medlofte_bot.services.inbox import Inbox
from medlofte_bot.services.outbox import Outbox
from medlofte_bot.services.plans import apply_promise_set
from medlofte_bot.services.usecases import UseCases
from medlofte_bot.services.web import WebAccess
from medlofte_bot.settings import DEFAULT_CONFIG, Settings, load_settings, read_settings
from medlofte_bot.storage.database import Database, database_url
from medlofte_bot.web.intake import Intake
from medlofte_bot.web.metrics import BotMetrics, Waiting
from medlofte_bot.web.pages import WebDeps, routes
from medlofte_bot.web.run import RECOVER_EVERY, WebhookTarget, run_with_server
from medlofte_bot.web.server import Webhook, create_app, make_server

EXIT_CONFIG = 2
TICK_CLOCK_SECONDS = 60.0
# threads for database work: enough that a write waiting on a locked database leaves room
# for reads, few enough that they do not fight the event loop for the GIL (measured in
# bench/completions.py: 6 threads 70 replies/s, 4 threads 112/s)
DB_THREADS = 4
log = logging.getLogger(__name__)

__all__ = ["EXIT_CONFIG", "RedactToken", "Services", "Settings", "build_bot",
           "freeze_startup_objects", "load_settings", "main", "open_database", "prepare"]


class RedactToken(logging.Filter):
    """Keeps the bot token out of every log line (httpx logs request URLs)."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        """Replace the token in the formatted message."""
        message = record.getMessage()
        if self.token and self.token in message:
            record.msg, record.args = message.replace(self.token, "<token>"), None
        return True


def setup_logging(token: str | None) -> None:
    """Plain logs on stderr, without the token and without per-request or per-tick noise."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    if token:
        for handler in logging.getLogger().handlers:
            handler.addFilter(RedactToken(token))


def open_database(settings: Settings) -> Database:
    """The database the settings name, migrated to the newest schema."""
    db = Database(database_url(settings.database_url))
    db.migrate()
    return db


@dataclass
class Services:
    """Everything wired: close it with ``dispose``."""

    settings: Settings
    ctx: ServiceContext
    usecases: UseCases
    outbox: Outbox
    pacer: Pacer = field(default_factory=Pacer)

    def dispose(self) -> None:
        """Close the database's connections."""
        self.ctx.db.dispose()


def log_year(sets: Iterable[PromiseSet], now: datetime) -> None:
    """One line at start: the promise sets in force, or plainly that every one is over."""
    sets = list(sets)
    current = in_force(sets, now)
    if current:
        log.info("promise sets in force: %s", named(current))
    elif not outdated(sets, now):
        log.info("promise sets loaded, not in force yet: %s", named(sets))
    else:
        log.warning("no promise set covers today (%s); loaded: %s. Write this year's file and "
                    "restart with it in MEDLOFTE_CONFIG:\n%s", now.date().isoformat(),
                    named(sets), new_year_command(sets, now))


def log_secret_details(sets: Iterable[PromiseSet], web_base: str | None) -> None:
    """One warning at start when a set keeps police-only details off chat but no web view
    is set up: the messages then point to a web view nobody can open."""
    web = [ps for ps in sets if ps.secret_details == "web"]
    if web and web_base is None:
        log.warning("promise sets that keep police-only task details off chat "
                    "(secret_details = \"web\"): %s; but no web view URL is set "
                    "(MEDLOFTE_WEB_URL), so messages say the details are in a web view that "
                    "is not set up", named(web))


def current_year_config(settings: Settings, now: datetime) -> Settings:
    """Without MEDLOFTE_CONFIG the bot serves this year's files (config/*-YEAR.toml) when
    there are any, and the shipped example otherwise."""
    if settings.configs != [Path(DEFAULT_CONFIG)]:
        return settings
    found = sorted(Path(DEFAULT_CONFIG).parent.glob(f"*-{now.year}.toml"))
    return settings.model_copy(update={"configs": found}) if found else settings


def prepare(settings: Settings, clock: Clock, worker: str = "bot",
            pacer: Pacer | None = None) -> Services:
    """Migrate the database, apply the promise sets idempotently, and wire the services."""
    loaded = load_many(settings.configs)
    db = open_database(settings)
    try:
        with db.transaction() as session:
            for s in loaded:
                apply_promise_set(session, s, clock.now(), actor="system")
    except BaseException:
        db.dispose()
        raise
    sets = {(s.promise_set.slug, s.promise_set.year): s.promise_set for s in loaded}
    log_year(sets.values(), clock.now())
    web_base = settings.web_base()
    log_secret_details(sets.values(), web_base)
    ctx = ServiceContext(db, sets, clock, settings.admin_ids, worker,
                         settings.names_kept_months, web_base)
    return Services(settings, ctx, UseCases(ctx), Outbox(ctx),
                    pacer or Pacer(per_second=settings.send_rate))


def build_bot(services: Services, tick_interval: float | None = None,
              tick_enabled: bool = True, *, polling: bool = True,
              on_finished: Finished | None = None,
              on_delivered: Callable[[str], None] | None = None) -> App:
    """The Application with its handlers, rate limiter and (unless disabled) the tick.
    ``polling=False``: no Updater (webhook mode). ``on_finished`` is told of each update
    dealt with, ``on_delivered`` of each outbox message's outcome."""
    clock = services.ctx.clock

    async def on_tick(context: Any) -> None:
        try:
            await tick(services.outbox, TelegramSender(context.bot, on_delivered), clock)
        except Exception:  # one failed tick must not stop the next; the rows keep the state
            log.exception("reminder tick failed")
        finally:  # the next tick only once this one is over: never two at once
            context.job_queue.run_once(on_tick, when=interval, name="reminders")

    interval = tick_interval or min(max(clock.real_seconds(TICK_CLOCK_SECONDS), 0.05), 30.0)

    async def post_init(app: App) -> None:
        asyncio.get_running_loop().set_default_executor(
            ThreadPoolExecutor(DB_THREADS, thread_name_prefix="db"))
        await publish_commands(app)
        if tick_enabled and app.job_queue is not None:
            app.job_queue.run_once(on_tick, when=0.0, name="reminders")

    # opt in now to what PTB 23 does anyway: RetryAfter.retry_after as a timedelta (the rate
    # limiter reads both), instead of a deprecation warning on every 429
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    settings = services.settings
    assert settings.token is not None
    return build_application(settings.token, settings.base_url,
                             ChatDeps(services.usecases, web=WebAccess(services.ctx),
                                      web_base=settings.web_base()),
                             services.pacer, post_init,
                             gate=UpdateGate(seconds_counter(clock)), polling=polling,
                             on_finished=on_finished)


def freeze_startup_objects() -> None:
    """Move every object alive now (modules, settings, promise sets, the wired Application)
    out of the cyclic garbage collector's sight: they live as long as the process, and a
    full collection that walks them all paused every answer for 100-150 ms in
    bench/completions.py (p99 at 50 replies/s: 60-68 ms with the pauses, 13 ms without)."""
    gc.collect()
    gc.freeze()


def main(env: Mapping[str, str] | None = None) -> int:
    """Run the bot with long polling; without a token, explain and exit 2."""
    lang = texts.DEFAULT_LANGUAGE
    try:
        settings = read_settings(env)
        lang = settings.lang
        if settings.token is None:
            print(texts.t("no_token", lang), file=sys.stderr)
            return EXIT_CONFIG
        setup_logging(settings.token)
        clock = clock_from_setting(settings.clock)
        settings = current_year_config(settings, clock.now())
        # the host too: replicas in containers are all pid 1, and leases name their holder
        services = prepare(settings, clock, worker=f"bot-{socket.gethostname()[:40]}-{os.getpid()}")
    except UserError as exc:
        print(texts.t("cli.error", lang, message=texts.t(exc.key, lang, **exc.params)),
              file=sys.stderr)
        return EXIT_CONFIG
    try:
        if settings.serves_web():
            try:
                asyncio.run(serve(services))
            except TelegramError as exc:  # setWebhook or getMe refused, Telegram unreachable
                log.error("stopped: Telegram answered %s", exc)
                return 1
        else:
            app = build_bot(services)
            freeze_startup_objects()
            app.run_polling(drop_pending_updates=False)
    finally:
        services.dispose()
    return 0


@dataclass
class Web:
    """The ASGI side wired to one Application: what tests and ``serve`` run."""

    app: App
    intake: Intake
    metrics: BotMetrics
    asgi: Starlette
    webhook: WebhookTarget | None


def build_web(services: Services, lease_clock: Clock | None = None,
              extra_routes: Sequence[BaseRoute] = (), tick_enabled: bool = True) -> Web:
    """The Application (without an Updater in webhook mode), the inbox's intake, the
    metrics and the ASGI app; ``lease_clock`` times the inbox's leases (the wall clock)."""
    settings, ctx = services.settings, services.ctx
    webhook_mode = settings.webhook_url is not None
    health = Health(ctx.db)

    def waiting() -> Waiting:
        due, open_updates = health.waiting(ctx.clock.now())
        return Waiting(due, open_updates)

    metrics = BotMetrics(services.pacer.stats, waiting)
    inbox = Inbox(ctx.db, ctx.worker, timedelta(seconds=settings.inbox_lease)) \
        if webhook_mode else None
    intake = Intake(inbox, lease_clock or SystemClock(), metrics.update_finished)
    app = build_bot(services, tick_enabled=tick_enabled, polling=not webhook_mode,
                    on_finished=intake.finished, on_delivered=metrics.delivered)
    intake.attach(app)
    target = hook = None
    if webhook_mode:
        assert settings.webhook_url and settings.webhook_secret
        path = settings.webhook_path()
        assert path is not None
        target = WebhookTarget(settings.webhook_url, settings.webhook_secret)
        hook = Webhook(path, settings.webhook_secret, intake)
    asgi = create_app(not_ready=health.not_ready, metrics=metrics, webhook=hook,
                      extra_routes=extra_routes)
    return Web(app, intake, metrics, asgi, target)


async def serve(services: Services) -> None:
    """The bot with its ASGI app on MEDLOFTE_LISTEN: webhook mode, or polling beside it;
    the web view's pages under /webb/ either way."""
    web = build_web(services, extra_routes=routes(WebDeps(services.ctx, services.settings)))
    host, port = services.settings.listen_address()
    server = make_server(web.asgi, host, port)
    freeze_startup_objects()
    # renew and take up well within one lease (every 10 s for the default 60 s)
    await run_with_server(web.app, server, web.intake, web.webhook,
                          recover_every=min(RECOVER_EVERY, services.settings.inbox_lease / 6))
