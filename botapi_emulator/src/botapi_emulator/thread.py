"""Run a BotApiEmulator in a background thread with its own event loop."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from botapi_emulator.server import BotApiEmulator

T = TypeVar("T")


class EmulatorThread:
    """Runs an emulator in a daemon thread; call() runs its async helpers from any thread."""

    def __init__(self, emulator: BotApiEmulator, *, start_timeout: float = 10.0) -> None:
        self.emulator = emulator
        self.start_timeout = start_timeout
        self.loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    def start(self) -> BotApiEmulator:
        """Start the thread and the server; return the emulator once base_url is set."""
        if self._thread is not None:
            raise RuntimeError("already started")
        self._thread = threading.Thread(target=self._run, name="bot-api-emulator", daemon=True)
        self._thread.start()
        if not self._ready.wait(self.start_timeout):
            raise TimeoutError("the emulator did not start")
        if self._error is not None:
            raise RuntimeError("the emulator failed to start") from self._error
        return self.emulator

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self.loop = loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self.emulator.start())
        except BaseException as exc:  # reported to start()
            self._error = exc
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    def call(self, coro: Coroutine[Any, Any, T], timeout: float | None = 30.0) -> T:
        """Run a coroutine (e.g. emu.send_text(...)) in the emulator's loop; return its result."""
        if self.loop is None or not self._ready.is_set():
            coro.close()
            raise RuntimeError("the emulator thread is not running")
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    async def acall(self, coro: Coroutine[Any, Any, T]) -> T:
        """Like call(), awaited from another event loop without blocking it."""
        if self.loop is None:
            coro.close()
            raise RuntimeError("the emulator thread is not running")
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self.loop))

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server and the loop, then join the thread."""
        if self._thread is None or self.loop is None:
            return
        if self.loop.is_running():
            try:
                self.call(self.emulator.stop(), timeout)
            finally:
                self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout)
        self._thread = None

    def __enter__(self) -> BotApiEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
