"""The HTTP side: an aiohttp server speaking the Bot API on 127.0.0.1, with fault injection."""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, Literal

from aiohttp import web

from botapi_emulator import methods_bot, methods_edit  # noqa: F401  (registers handlers)
from botapi_emulator.limits import FloodLimits
from botapi_emulator.methods import HANDLERS, Call
from botapi_emulator.records import JSON, ApiError, RequestRecord
from botapi_emulator.user_side import UserSideMixin
from botapi_emulator.webhook import WebhookPolicy
from botapi_emulator.wire import Fault, parse_request

OutageMode = Literal["refuse", "502"]
_CONFLICT = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot "
    "instance is running"
)


class BotApiEmulator(UserSideMixin):
    """A local Telegram Bot API server; pass ``base_url`` to PTB's ApplicationBuilder."""

    def __init__(
        self,
        token: str = "123456:TEST-TOKEN",
        bot_username: str = "test_bot",
        bot_first_name: str = "Medlöfte",
        *,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        enforce_limits: bool = False,
        limits: FloodLimits | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        shutdown_timeout: float = 2.0,
        webhook_policy: WebhookPolicy | None = None,
    ) -> None:
        super().__init__(
            token,
            bot_username,
            bot_first_name,
            clock=clock,
            monotonic=monotonic,
            enforce_limits=enforce_limits,
            limits=limits,
            webhook_policy=webhook_policy,
        )
        self.host = host
        self.port = port
        self.base_url = ""
        self.base_file_url = ""
        self.shutdown_timeout = shutdown_timeout
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self._delay = 0.0
        self._faults: collections.deque[Fault] = collections.deque()
        self._outage: OutageMode | None = None
        self._outage_task: asyncio.Task[None] | None = None
        self._stopping = False
        self._poll_generation = 0
        self.loop: asyncio.AbstractEventLoop | None = None

    # ----- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        """Start listening (port 0 picks a free port) and set base_url / base_file_url."""
        self.loop = asyncio.get_running_loop()
        self._stopping = False
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(
            app, access_log=None, handler_cancellation=True, shutdown_timeout=self.shutdown_timeout
        )
        await self._runner.setup()
        await self._listen()
        self.base_url = f"http://{self.host}:{self.port}/bot"
        self.base_file_url = f"http://{self.host}:{self.port}/file/bot"

    async def _listen(self) -> None:
        assert self._runner is not None
        self._site = web.TCPSite(self._runner, self.host, self.port, reuse_address=True)
        await self._site.start()
        addresses = self._runner.addresses
        if addresses:
            self.port = int(addresses[0][1])

    async def stop(self) -> None:
        """Stop the server, ending waiting long-polls and closing connections."""
        self._stopping = True
        self._notify()
        await self.webhook.stop()
        if self._outage_task is not None:
            self._outage_task.cancel()
            self._outage_task = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
            self._site = None

    async def __aenter__(self) -> BotApiEmulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # ----- webhook -------------------------------------------------------------------------

    async def set_webhook_targets(self, urls: list[str] | tuple[str, ...] | None) -> None:
        """Stand in for a load balancer: POST updates to these URLs in turn, not to the URL
        given to setWebhook (which stays the public address the bot announced).

        Delivery still starts only once the bot calls setWebhook, as at Telegram; a target
        that failed (refused, timed out, 5xx) is skipped for ``WebhookPolicy.target_pause``.
        None goes back to the setWebhook URL.
        """
        self.webhook.set_targets(urls)

    # ----- fault injection ------------------------------------------------------------------

    def set_delay(self, seconds: float) -> None:
        """Delay every response (getUpdates too) by this many seconds; 0 turns it off."""
        self._delay = max(0.0, float(seconds))

    def fail_next(
        self,
        n: int = 1,
        status: int = 500,
        description: str | None = None,
        *,
        methods: list[str] | tuple[str, ...] | None = None,
        retry_after: int = 1,
    ) -> None:
        """Fail the next n requests with this status (429 carries retry_after).

        methods=None: any method except getUpdates; otherwise only the named methods.
        """
        names = frozenset(m.lower() for m in methods) if methods is not None else None
        for _ in range(n):
            self._faults.append(Fault(status, description, names, retry_after))

    def clear_faults(self) -> None:
        """Forget pending fail_next faults and the delay."""
        self._faults.clear()
        self._delay = 0.0

    @property
    def in_outage(self) -> bool:
        """Return True while an outage is on."""
        return self._outage is not None

    async def outage(self, on: bool, *, mode: OutageMode = "refuse") -> None:
        """Start or end an outage covering every request, getUpdates included.

        mode "refuse" closes the listening socket and aborts open connections (clients see
        connection refused / reset); "502" answers 502 Bad Gateway. Ending an outage listens
        again on the same port.
        """
        if on:
            if self._outage is not None:
                return
            self._outage = mode
            if mode == "refuse" and self._site is not None:
                await self._site.stop()
                self._site = None
                self._abort_connections()
            self._notify()
            return
        if self._outage_task is not None and self._outage_task is not asyncio.current_task():
            self._outage_task.cancel()
            self._outage_task = None
        if self._outage == "refuse" and self._runner is not None and self._site is None:
            await self._listen()
        self._outage = None

    async def outage_for(self, seconds: float, *, mode: OutageMode = "refuse") -> None:
        """Start an outage now and end it after seconds (returns at once)."""
        await self.outage(True, mode=mode)

        async def end_later() -> None:
            await asyncio.sleep(seconds)
            await self.outage(False)

        self._outage_task = asyncio.create_task(end_later())

    def _abort_connections(self) -> None:
        server = self._runner.server if self._runner is not None else None
        for proto in server.connections if server is not None else []:
            if proto.transport is not None:
                proto.transport.abort()

    # ----- request handling ---------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        parts = request.path.split("/")
        method = parts[2] if len(parts) == 3 and parts[1].startswith("bot") else "?"
        if self._outage == "refuse" and request.transport is not None:
            request.transport.abort()  # a kept-alive connection that outlived the abort
            self._log(method, 0, "connection aborted (outage)", None)
            raise asyncio.CancelledError
        if self._delay:
            await asyncio.sleep(self._delay)
        seen: JSON = {}
        try:
            if self._outage == "502":
                raise ApiError(502, "Bad Gateway")
            if len(parts) >= 4 and parts[1] == "file" and parts[2].startswith("bot"):
                return self._download(parts[2][3:], "/".join(parts[3:]))
            result = await self._dispatch(request, parts[1][3:], method, seen)
        except ApiError as err:
            if err.code == 429:
                self.count_429 += 1
            self._log(method, err.code, err.description, seen.get("chat_id"))
            return web.json_response(err.envelope(), status=err.code)
        except asyncio.CancelledError:
            self._log(method, 0, "cancelled (connection lost)", seen.get("chat_id"))
            raise
        if request.transport is None or request.transport.is_closing():
            self._log(method, 0, "connection lost before the answer", seen.get("chat_id"))
            raise asyncio.CancelledError
        self._log(method, 200, None, seen.get("chat_id"))
        return web.json_response({"ok": True, "result": result})

    async def _dispatch(self, request: web.Request, token: str, method: str, seen: JSON) -> Any:
        if method == "?":
            raise ApiError(404, "Not Found")
        if token != self.token:
            raise ApiError(401, "Unauthorized")
        low = method.lower()
        if low not in HANDLERS and low != "getupdates":
            raise ApiError(404, "Not Found")
        self.count_by_method[method] += 1
        for fault in self._faults:
            if fault.matches(low):
                self._faults.remove(fault)
                raise fault.error()
        call = Call(method, *await parse_request(request))
        seen["chat_id"] = call.params.get("chat_id")
        if low == "getupdates":
            return await self._get_updates(call)
        return await HANDLERS[low](self, call)

    async def _get_updates(self, call: Call) -> list[JSON]:
        p = call.params
        allowed = p.get("allowed_updates")
        if isinstance(allowed, list):
            self.allowed_updates = [str(a) for a in allowed] or None
        if self.webhook.active:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = int(p["offset"]) if p.get("offset") is not None else None
        limit = int(p.get("limit") or 100)
        timeout = max(0.0, float(p.get("timeout") or 0))
        self._poll_generation += 1
        self._polls += 1
        generation = self._poll_generation
        self._notify()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if generation != self._poll_generation:
                raise ApiError(409, _CONFLICT)
            updates = self._take_updates(offset, limit)
            remaining = deadline - loop.time()
            if self._outage == "502":
                raise ApiError(502, "Bad Gateway")
            if updates or remaining <= 0 or self._stopping or self._outage:
                return updates
            await self._wait_change(remaining)

    def _download(self, token: str, file_path: str) -> web.StreamResponse:
        if token != self.token:
            return web.json_response(ApiError(401, "Unauthorized").envelope(), status=401)
        for stored in self.files.values():
            if stored.file_path == file_path:
                return web.Response(
                    body=stored.data, content_type=stored.mime_type or "application/octet-stream"
                )
        return web.json_response(ApiError(404, "Not Found").envelope(), status=404)

    def _log(
        self, method: str, status: int, description: str | None, chat_id: int | str | None
    ) -> None:
        self.request_log.append(
            RequestRecord(method, self.monotonic(), self.clock(), status, description, chat_id)
        )
        self._notify()
