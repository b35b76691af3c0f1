"""Run the Application and the ASGI server in one event loop, and stop both cleanly.

Webhook mode (PTB's custom-webhook example): the Application without an Updater; the
server is up before setWebhook is called, so Telegram's first post finds it. Polling
beside the server: the Updater polls as ``run_polling`` would. SIGINT and SIGTERM ask the
server to finish its requests; then the Application handles what is queued and stops,
the inbox marks what finished done, and the caller disposes of the engine. The webhook
is left in place: other replicas keep serving it.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Sequence
from dataclasses import dataclass

from medlofte_bot.chat.app import ALLOWED_UPDATES, App
from medlofte_bot.web.intake import Intake
from medlofte_bot.web.server import Server

RECOVER_EVERY = 10.0  # real seconds between inbox recoveries (leases are 60 s)
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WebhookTarget:
    """What setWebhook is told."""

    url: str
    secret: str
    allowed_updates: Sequence[str] = ALLOWED_UPDATES


async def _recover(intake: Intake) -> None:
    try:
        await intake.recover()
    except Exception:  # the next round tries again; the rows keep the state
        log.exception("inbox recovery failed")


async def _recover_loop(intake: Intake, every: float) -> None:
    while True:  # at start too: what a process that stopped before this one left
        await _recover(intake)
        await asyncio.sleep(every)


async def _serve_started(server: Server) -> asyncio.Task[None]:
    """Start serving; return once the socket listens (or serving already ended)."""
    serving = asyncio.create_task(server.serve())
    while not server.started and not serving.done():
        await asyncio.sleep(0.02)
    return serving


async def run_with_server(app: App, server: Server, intake: Intake,
                          webhook: WebhookTarget | None,
                          recover_every: float = RECOVER_EVERY,
                          handle_signals: bool = True) -> None:
    """Run until SIGINT/SIGTERM (or ``server.should_exit``); see the module's docstring.
    ``handle_signals=False`` leaves the signals alone (a test in its own event loop)."""
    loop = asyncio.get_running_loop()
    signals = STOP_SIGNALS if handle_signals else ()
    for sig in signals:
        loop.add_signal_handler(sig, server.handle_exit, sig, None)
    recovering: asyncio.Task[None] | None = None
    try:
        await app.initialize()
        try:
            if app.post_init is not None:
                await app.post_init(app)
            await app.start()
            if webhook is None and app.updater is not None:
                await app.updater.start_polling(drop_pending_updates=False)
            serving = await _serve_started(server)
            try:
                if webhook is not None and not serving.done():
                    await app.bot.set_webhook(
                        webhook.url, secret_token=webhook.secret,
                        allowed_updates=list(webhook.allowed_updates),
                        drop_pending_updates=False)
                    log.info("webhook set; serving updates at %s", webhook.url)
                    recovering = asyncio.create_task(_recover_loop(intake, recover_every))
            except BaseException:
                server.should_exit = True
                raise
            finally:
                await serving
        finally:
            if recovering is not None:
                recovering.cancel()
            if app.updater is not None and app.updater.running:
                await app.updater.stop()
            if app.running:
                await app.stop()  # handles what is queued first
            await intake.close()
            await app.shutdown()
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)
