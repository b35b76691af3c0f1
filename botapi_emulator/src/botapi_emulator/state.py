"""The emulated world: users, chats, messages, pending updates and everything recorded."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import time
from collections import Counter
from collections.abc import Callable
from typing import Any, TypeVar

from botapi_emulator.limits import FloodLimiter, FloodLimits
from botapi_emulator.records import (
    DEFAULT_EXCLUDED_UPDATES,
    JSON,
    AnsweredCallback,
    ChatActionRecord,
    ChatState,
    RequestRecord,
    SentMessage,
    StoredFile,
    UserState,
    update_allowed,
)
from botapi_emulator.webhook import WebhookDelivery, WebhookPolicy

T = TypeVar("T")
__all__ = ["DEFAULT_EXCLUDED_UPDATES", "EmulatorState", "scope_key"]


def scope_key(scope: JSON | None) -> str:
    """Return a canonical key for a BotCommandScope (None = the default scope)."""
    return json.dumps(scope or {"type": "default"}, sort_keys=True)


class EmulatorState:
    """Holds the emulated Telegram state; shared by the HTTP side and the user side."""

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
        webhook_policy: WebhookPolicy | None = None,
    ) -> None:
        head = token.split(":", 1)[0]
        self.token = token
        self.bot_id = int(head) if head.isdigit() else 1
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self.clock = clock
        self.monotonic = monotonic
        self.enforce_limits = enforce_limits
        self.limiter = FloodLimiter(limits or FloodLimits(), monotonic)
        self.users: dict[int, UserState] = {}
        self.chats: dict[int, ChatState] = {}
        self.files: dict[str, StoredFile] = {}
        self.commands: dict[tuple[str, str], list[JSON]] = {}
        self.bot_settings: dict[str, Any] = {}
        self.answered_callbacks: list[AnsweredCallback] = []
        self.chat_actions: list[ChatActionRecord] = []
        self.request_log: list[RequestRecord] = []
        self.count_by_method: Counter[str] = Counter()
        self.count_429 = 0
        #: Webhook delivery (setWebhook, deleteWebhook, getWebhookInfo and the POSTs).
        self.webhook = WebhookDelivery(self, webhook_policy)
        self.allowed_updates: list[str] | None = None
        #: Seconds after a press within which answerCallbackQuery is accepted; later answers
        #: get Telegram's 400 "query is too old…". None: no expiry (the default).
        self.callback_answer_timeout: float | None = None
        self._messages: dict[tuple[int, int], JSON] = {}
        self._sent: list[SentMessage] = []
        self._sent_by_key: dict[tuple[int, int], SentMessage] = {}
        self._updates: dict[int, JSON] = {}  # pending, by update_id (in order)
        self._next_update_id = 1
        self._history: dict[int, JSON] = {}  # every update ever enqueued, for repeats
        self._repeats: list[JSON] = []  # delivered once more with the next getUpdates answer
        self._polls = 0  # getUpdates calls so far
        self._handed_out: dict[int, int] = {}  # update_id -> the poll that last returned it
        self._webhook_acked: set[int] = set()  # update_ids a webhook answered 2xx
        self._next_file = 1
        self._callbacks: dict[str, JSON] = {}
        self._wait_cursor: dict[int, int] = {}
        self._waiters: set[asyncio.Future[None]] = set()

    # ----- change notification -------------------------------------------------------------

    def _notify(self) -> None:
        """Wake every coroutine waiting for a state change (call inside the emulator loop)."""
        for fut in list(self._waiters):
            if not fut.done():
                fut.set_result(None)

    async def _wait_change(self, timeout: float) -> None:
        """Wait until the state changes or timeout seconds pass."""
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.add(fut)
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(fut, max(0.0, timeout))
        finally:
            self._waiters.discard(fut)

    async def wait_until(self, predicate: Callable[[], T | None], timeout: float = 5.0) -> T:
        """Wait until predicate() returns something truthy and return it; TimeoutError if not."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            result = predicate()
            if result:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"condition not met within {timeout} s")
            await self._wait_change(remaining)

    # ----- JSON building -------------------------------------------------------------------

    def bot_user_json(self) -> JSON:
        """Return the bot's User object."""
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    def _new_message(self, chat: ChatState, sender: JSON, fields: JSON) -> JSON:
        """Create, store and return a Message in chat with the next message_id."""
        message_id = chat.next_message_id
        chat.next_message_id += 1
        msg: JSON = {
            "message_id": message_id,
            "from": sender,
            "chat": chat.to_json(),
            "date": int(self.clock()),
        }
        msg.update(fields)
        self._messages[(chat.chat_id, message_id)] = msg
        return msg

    def _reply_copy(self, chat_id: int, message_id: int | None) -> JSON | None:
        """Return a copy of a stored message for a reply_to_message field (not nested)."""
        if message_id is None:
            return None
        stored = self._messages.get((chat_id, message_id))
        if stored is None:
            return None
        reply = copy.deepcopy(stored)
        reply.pop("reply_to_message", None)
        return reply

    def _store_file(self, data: bytes, file_name: str | None, mime_type: str | None) -> StoredFile:
        """Store file bytes under a new file_id and return the record."""
        n = self._next_file
        self._next_file += 1
        stored = StoredFile(f"EMUFILE{n:06d}", f"u{n:06d}", data, file_name, mime_type)
        self.files[stored.file_id] = stored
        return stored

    def _enqueue(self, update_type: str, payload: JSON) -> int:
        """Append an update of the given type to the pending queue; return its update_id."""
        update_id = self._next_update_id
        self._next_update_id += 1
        update = {"update_id": update_id, update_type: copy.deepcopy(payload)}
        self._updates[update_id] = update
        self._history[update_id] = update
        self._notify()
        self.webhook.kick()
        return update_id

    def _repeat(self, update_id: int) -> None:
        """Queue an already enqueued update to be delivered once more, with its own update_id."""
        update = self._history.get(update_id)
        if update is None:
            raise ValueError(f"no update {update_id} was ever enqueued")
        self._repeats.append(update)
        self._notify()
        self.webhook.kick()

    def _take_updates(self, offset: int | None, limit: int) -> list[JSON]:
        """Confirm updates below offset and return up to limit pending allowed updates."""
        if offset is not None and offset < 0:
            self._updates = dict(list(self._updates.items())[offset:])
        elif offset:
            self._updates = {i: u for i, u in self._updates.items() if i >= offset}
        kept = [u for u in self._updates.values() if update_allowed(u, self.allowed_updates)]
        self._updates = {int(u["update_id"]): u for u in kept}
        batch = kept[: max(1, min(limit, 100))]
        if self._repeats:  # ahead of newer updates: the bot's next offset stays where it was
            batch = sorted([*self._repeats, *batch], key=lambda u: int(u["update_id"]))
            self._repeats = []
        for upd in batch:
            self._handed_out[int(upd["update_id"])] = self._polls
        return [copy.deepcopy(u) for u in batch]

    # ----- readers (safe to call from any thread) ------------------------------------------

    @property
    def webhook_url(self) -> str:
        """The URL setWebhook stored ("" when no webhook is set)."""
        config = self.webhook.config
        return config.url if config is not None else ""

    def messages_to(self, chat_id: int) -> list[SentMessage]:
        """Return the messages the bot sent to chat_id, oldest first (deleted ones included)."""
        return [m for m in list(self._sent) if m.chat_id == chat_id]

    def all_sent(self) -> list[SentMessage]:
        """Return every message the bot sent, in sending order."""
        return list(self._sent)

    def last_message(self, chat_id: int) -> SentMessage | None:
        """Return the last message the bot sent to chat_id, or None."""
        sent = self.messages_to(chat_id)
        return sent[-1] if sent else None

    def sent_message(self, chat_id: int, message_id: int) -> SentMessage | None:
        """Return the bot message with this id in chat_id, or None."""
        return self._sent_by_key.get((chat_id, message_id))

    def message_json(self, chat_id: int, message_id: int) -> JSON | None:
        """Return a copy of any stored message (bot's or user's) as Telegram JSON, or None."""
        stored = self._messages.get((chat_id, message_id))
        return copy.deepcopy(stored) if stored is not None else None

    def update_json(self, update_id: int) -> JSON | None:
        """Return a copy of any update ever enqueued (confirmed or not), or None."""
        found = self._history.get(update_id)
        return copy.deepcopy(found) if found is not None else None

    def pending_updates(self) -> list[JSON]:
        """Return copies of the updates not yet confirmed by getUpdates (and repeats not yet
        delivered)."""
        return copy.deepcopy([*self._updates.values(), *self._repeats])

    @property
    def last_update_id(self) -> int:
        """The update_id of the update enqueued last (0 before the first): e.g. a button press's,
        since press_button returns the callback query id."""
        return self._next_update_id - 1

    def acknowledged(self, update_id: int) -> bool:
        """True once the bot polled again after getUpdates last handed out this update, or
        once a webhook answered its POST with a 2xx.

        For a new update this is Telegram's confirmation (the next offset is past it); for a
        repeated one it means the same. Either way the bot had the update in hand before it
        asked for more, so a bot that has nothing running has dealt with it.
        """
        if any(int(u["update_id"]) == update_id for u in self._repeats):
            return False
        if update_id in self._webhook_acked:
            return update_id not in self._updates
        handed = self._handed_out.get(update_id)
        return handed is not None and self._polls > handed

    def commands_for(self, language_code: str = "", scope: JSON | None = None) -> list[JSON]:
        """Return the commands set with setMyCommands for this language_code and scope."""
        return copy.deepcopy(self.commands.get((scope_key(scope), language_code), []))

    def requests_for(self, method: str) -> list[RequestRecord]:
        """Return the logged requests of one Bot API method (case-insensitive)."""
        low = method.lower()
        return [r for r in list(self.request_log) if r.method.lower() == low]

    async def wait_for_message(
        self,
        chat_id: int,
        predicate: Callable[[SentMessage], bool] | None = None,
        timeout: float = 5.0,
        *,
        after: int | None = None,
    ) -> SentMessage:
        """Wait for a bot message in chat_id newer than ``after`` that matches predicate.

        ``after`` defaults to the message_id this method last returned for the chat, so
        successive calls walk through the bot's messages one by one. TimeoutError if none.
        """
        start = self._wait_cursor.get(chat_id, 0) if after is None else after

        def find() -> SentMessage | None:
            for msg in self.messages_to(chat_id):
                if msg.message_id > start and (predicate is None or predicate(msg)):
                    return msg
            return None

        found = await self.wait_until(find, timeout)
        self._wait_cursor[chat_id] = max(self._wait_cursor.get(chat_id, 0), found.message_id)
        return found
