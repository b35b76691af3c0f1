"""One rate limiter for every Bot API call: ``ApplicationBuilder().rate_limiter(Pacer())``.

Calls that put or change a message in a chat (send*, edit*, copyMessage, forwardMessage, ...)
are spaced ``1/per_second`` apart overall and, per chat, ``private_gap`` (chat_id > 0) or
``group_gap`` (groups, channels, ``@username``): a little over Telegram's limits, as exactly
1.0 s met jitter and drew 429s. Other calls (getMe, answerCallbackQuery, ...) pass straight
through. ``rate_limit_args={"priority": "bulk"}`` marks scheduler sends; anything else is
interactive and gets the global slot first. One chat's messages go out one at a time, in the
order asked. A 429 holds the chat and the global slot for retry_after, then the call is tried
again; after ``max_retries`` such waits the RetryAfter reaches the caller.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import itertools
import logging
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

log = logging.getLogger(__name__)

Result = bool | dict[str, Any] | list[dict[str, Any]]
ChatKey = int | str | None
_PACED_PREFIXES = ("send", "edit", "copyMessage", "forwardMessage", "stopPoll",
                   "stopMessageLiveLocation")
GAP_MARGIN = 0.05  # the gaps' margin over Telegram's limits (1.05 s for its 1 s)
_NOT_PACED = frozenset({"sendChatAction"})  # no message; Telegram's flood limits ignore it


def is_paced(endpoint: str) -> bool:
    """Return True for Bot API methods that put or change a message in a chat."""
    return endpoint.startswith(_PACED_PREFIXES) and endpoint not in _NOT_PACED


def chat_key(chat_id: object) -> ChatKey:
    """The chat a request goes to: an int id, a lower-cased ``@username``, or None."""
    if chat_id is None or isinstance(chat_id, int):
        return chat_id
    text = str(chat_id).strip()
    try:
        return int(text)
    except ValueError:
        return text.lower()


def seconds(wait: int | float | dtm.timedelta) -> float:
    """RetryAfter.retry_after in seconds: it is an int or a timedelta (PTB_TIMEDELTA)."""
    return wait.total_seconds() if isinstance(wait, dtm.timedelta) else float(wait)


@dataclass(eq=False)
class _Ticket:
    """One paced request waiting for, or holding, its turn."""

    seq: int
    chat: ChatKey
    bulk: bool
    busy: bool = False  # its request is on the wire


class Pacer(BaseRateLimiter[dict[str, object]]):
    """Spaces every message the bot sends; interactive ones before bulk; waits out 429s."""

    def __init__(
        self,
        per_second: float = 30.0,
        private_gap: float = 1.05,
        group_gap: float = 3.05,
        max_retries: int = 3,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        """Gaps in seconds (0 switches one off, as does per_second=0); ``max_retries`` 429s
        are waited out before the RetryAfter is raised. ``monotonic`` and ``sleep`` are for
        tests."""
        self.per_second = per_second
        self.private_gap = private_gap
        self.group_gap = group_gap
        self.max_retries = max_retries
        self.stats = dict.fromkeys(("paced", "unpaced", "retry_after", "gave_up"), 0)
        self._monotonic = monotonic
        self._sleep = sleep
        self._next_global = -math.inf
        self._next_chat: dict[ChatKey, float] = {}
        self._queues: dict[ChatKey, deque[_Ticket]] = {}
        self._seq = itertools.count()
        self._changed: asyncio.Event | None = None

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release; requests still waiting finish or are cancelled by their owner."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Result]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: dict[str, object] | None,
    ) -> Result:
        """Call ``callback(*args, **kwargs)`` when the limits allow and return its result.

        ``rate_limit_args`` may hold ``"priority": "bulk"`` and ``"max_retries": n``.
        Exceptions other than RetryAfter reach the caller at once.
        """
        if not is_paced(endpoint):
            self.stats["unpaced"] += 1
            return await callback(*args, **kwargs)
        rl = rate_limit_args or {}
        wanted = rl.get("max_retries")
        retries = wanted if isinstance(wanted, int) else self.max_retries
        ticket = _Ticket(next(self._seq), chat_key(data.get("chat_id")),
                         rl.get("priority") == "bulk")
        self._queues.setdefault(ticket.chat, deque()).append(ticket)
        self.stats["paced"] += 1
        attempt = 0
        try:
            while True:
                await self._take_turn(ticket)
                try:
                    return await callback(*args, **kwargs)
                except RetryAfter as exc:
                    wait = seconds(exc.retry_after)
                    self.stats["retry_after"] += 1
                    self._hold(ticket.chat, wait)
                    if attempt >= retries:
                        self.stats["gave_up"] += 1
                        log.info("%s to %s: still 429 after %d retries", endpoint,
                                    ticket.chat, retries)
                        raise
                    attempt += 1
                    log.debug("%s to %s: 429, retrying in %.1f s", endpoint, ticket.chat, wait)
                finally:
                    ticket.busy = False
                    self._finished(ticket.chat)
        finally:
            self._remove(ticket)

    # ----- scheduling ---------------------------------------------------------------------

    def _gap(self, chat: ChatKey) -> float:
        if chat is None:
            return 0.0
        return self.private_gap if isinstance(chat, int) and chat > 0 else self.group_gap

    async def _take_turn(self, ticket: _Ticket) -> None:
        """Wait until ticket is first in its chat, both slots are free and no request of
        higher priority (interactive, then older) could go instead; then book the slots."""
        while True:
            now = self._monotonic()
            if self._queues[ticket.chat][0] is ticket:
                ready = max(self._next_global, self._next_chat.get(ticket.chat, -math.inf))
                if ready > now:
                    await self._sleep(ready - now)
                    continue
                if self._best(now) is ticket:
                    ticket.busy = True
                    per_second = self.per_second
                    self._next_global = now + (1.0 / per_second if per_second > 0 else 0.0)
                    self._next_chat[ticket.chat] = now + self._gap(ticket.chat)
                    self._pulse()
                    return
            await self._event().wait()  # woken when a slot is booked or a request leaves

    def _best(self, now: float) -> _Ticket | None:
        """The request that gets the global slot now: interactive before bulk, then oldest."""
        best: _Ticket | None = None
        for chat, queue in self._queues.items():
            head = queue[0]
            if head.busy or self._next_chat.get(chat, -math.inf) > now:
                continue
            if best is None or (head.bulk, head.seq) < (best.bulk, best.seq):
                best = head
        return best

    def _finished(self, chat: ChatKey) -> None:
        """A send to ``chat`` came back. Telegram counts a chat's messages as they arrive,
        and a request can reach it late (a busy loop, a slow network): the next one to the
        chat waits the gap less its margin from now too, so two never arrive closer than
        Telegram's limit, however late the first one went out."""
        gap = self._gap(chat)
        if gap > GAP_MARGIN:
            self._next_chat[chat] = max(self._next_chat.get(chat, -math.inf),
                                        self._monotonic() + gap - GAP_MARGIN)

    def _hold(self, chat: ChatKey, wait: float) -> None:
        """After a 429: nothing to this chat, nor (the 429 may be global) anywhere, for wait s."""
        until = self._monotonic() + wait
        self._next_chat[chat] = max(self._next_chat.get(chat, -math.inf), until)
        self._next_global = max(self._next_global, until)
        self._pulse()

    def _remove(self, ticket: _Ticket) -> None:
        queue = self._queues.get(ticket.chat)
        if queue is not None and ticket in queue:
            queue.remove(ticket)
            if not queue:
                del self._queues[ticket.chat]
        if len(self._next_chat) > 4096:  # forget chats whose gap has passed
            now = self._monotonic()
            for chat in [c for c, t in self._next_chat.items() if t <= now]:
                del self._next_chat[chat]
        self._pulse()

    def _event(self) -> asyncio.Event:
        if self._changed is None:
            self._changed = asyncio.Event()
        return self._changed

    def _pulse(self) -> None:
        """Wake every waiting request to look again."""
        if self._changed is not None:
            self._changed.set()
            self._changed = None
