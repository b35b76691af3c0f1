"""The user side of the emulator: what tests do as Telegram users (all async, in its loop)."""

from __future__ import annotations

import re
import secrets
from typing import Any, NamedTuple

from botapi_emulator.records import JSON, ChatState, UserState
from botapi_emulator.state import EmulatorState

_COMMAND_RE = re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{1,32})?(?![A-Za-z0-9_@])")
_TINY_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000100e5277ede0000000049454e44ae426082"
)


def utf16_len(text: str) -> int:
    """Return the length of text in UTF-16 code units (Telegram's entity unit)."""
    return len(text.encode("utf-16-le")) // 2


def command_entities(text: str) -> list[JSON]:
    """Return bot_command entities for every /command (optionally @botname) in text."""
    return [
        {"type": "bot_command", "offset": utf16_len(text[: m.start()]), "length": utf16_len(m[0])}
        for m in _COMMAND_RE.finditer(text)
    ]


class UserAction(NamedTuple):
    """What a user-side action produced: the update_id and the message in its chat."""

    update_id: int
    message_id: int
    chat_id: int


class UserSideMixin(EmulatorState):
    """User-side helpers: create users and groups, send messages, press buttons, block."""

    async def add_user(
        self,
        user_id: int,
        first_name: str,
        username: str | None = None,
        language_code: str | None = "sv",
        *,
        last_name: str | None = None,
        started: bool = True,
    ) -> UserState:
        """Create (or replace) a user and their private chat; started=False: never wrote."""
        if user_id <= 0:
            raise ValueError("user ids are positive")
        user = UserState(user_id, first_name, username, language_code, last_name, started)
        self.users[user_id] = user
        old = self.chats.get(user_id)
        chat = ChatState(user_id, "private", first_name=first_name, username=username)
        chat.members = {user_id}
        if old is not None:
            chat.next_message_id = old.next_message_id
        self.chats[user_id] = chat
        self._notify()
        return user

    async def add_group(
        self,
        chat_id: int,
        title: str,
        members: list[int] | tuple[int, ...] = (),
        *,
        type: str = "group",
    ) -> ChatState:
        """Create a group (chat_id < 0; type "group" or "supergroup") with known users."""
        if chat_id >= 0:
            raise ValueError("group chat ids are negative")
        unknown = [m for m in members if m not in self.users]
        if unknown:
            raise ValueError(f"unknown users {unknown}: add_user first")
        if type not in ("group", "supergroup"):
            raise ValueError("a group is a 'group' or a 'supergroup' (channels: add_channel)")
        chat = ChatState(chat_id, type, title=title, members=set(members))
        self.chats[chat_id] = chat
        self._notify()
        return chat

    async def add_channel(
        self, chat_id: int, title: str, username: str | None = None
    ) -> ChatState:
        """Create a channel with the bot in it (chat_id < 0): its posts come as channel_post."""
        if chat_id >= 0:
            raise ValueError("channel chat ids are negative")
        chat = ChatState(chat_id, "channel", title=title, username=username)
        self.chats[chat_id] = chat
        self._notify()
        return chat

    def _channel(self, chat_id: int) -> ChatState:
        chat = self.chats.get(chat_id)
        if chat is None or chat.type != "channel":
            raise ValueError(f"no channel {chat_id}: add_channel first")
        return chat

    async def post_to_channel(self, chat_id: int, text: str) -> UserAction:
        """Enqueue a `channel_post`: a post signed by the channel (sender_chat, no `from`)."""
        chat = self._channel(chat_id)
        message_id = chat.next_message_id
        chat.next_message_id += 1
        msg: JSON = {"message_id": message_id, "sender_chat": chat.to_json(),
                     "chat": chat.to_json(), "date": int(self.clock()), "text": text}
        ents = command_entities(text)
        if ents:
            msg["entities"] = ents
        self._messages[(chat_id, message_id)] = msg
        update_id = self._enqueue("channel_post", msg)
        return UserAction(update_id, message_id, chat_id)

    async def edit_channel_post(self, chat_id: int, message_id: int, new_text: str) -> UserAction:
        """Edit an earlier channel post; enqueue an `edited_channel_post` update."""
        self._channel(chat_id)
        msg = self._messages.get((chat_id, message_id))
        if msg is None or "from" in msg:
            raise ValueError(f"no channel post {message_id} in {chat_id}")
        return self._edited(msg, new_text, "edited_channel_post", chat_id, message_id)

    def _user_and_chat(self, user_id: int, chat_id: int | None) -> tuple[UserState, ChatState]:
        user = self.users.get(user_id)
        if user is None:
            raise ValueError(f"unknown user {user_id}: add_user first")
        chat = self.chats.get(user_id if chat_id is None else chat_id)
        if chat is None:
            raise ValueError(f"unknown chat {chat_id}")
        if chat.type == "channel":
            raise ValueError("users post in a channel as the channel: post_to_channel")
        if chat.is_private:
            if chat.chat_id != user_id:
                raise ValueError("a user can only write in their own private chat")
            user.started = True
        else:
            chat.members.add(user_id)
        return user, chat

    async def send_message_fields(
        self, user_id: int, fields: JSON, chat_id: int | None = None, reply_to: int | None = None
    ) -> UserAction:
        """Enqueue a `message` update from user_id with arbitrary Message fields."""
        user, chat = self._user_and_chat(user_id, chat_id)
        data = dict(fields)
        reply = self._reply_copy(chat.chat_id, reply_to)
        if reply_to is not None and reply is None:
            raise ValueError(f"no message {reply_to} in chat {chat.chat_id}")
        if reply is not None:
            data["reply_to_message"] = reply
        msg = self._new_message(chat, user.to_json(), data)
        update_id = self._enqueue("message", msg)
        return UserAction(update_id, msg["message_id"], chat.chat_id)

    async def send_text(
        self,
        user_id: int,
        text: str,
        chat_id: int | None = None,
        reply_to: int | None = None,
        *,
        entities: list[JSON] | None = None,
    ) -> UserAction:
        """Enqueue a text message; /commands (also /cmd@bot) get bot_command entities."""
        fields: JSON = {"text": text}
        ents = command_entities(text) if entities is None else entities
        if ents:
            fields["entities"] = ents
        return await self.send_message_fields(user_id, fields, chat_id, reply_to)

    async def forward_text(
        self,
        user_id: int,
        text: str,
        chat_id: int | None = None,
        *,
        origin_user_id: int | None = None,
        origin_name: str = "Hidden Sender",
    ) -> UserAction:
        """Enqueue a forwarded text message (forward_origin user, or hidden_user by name)."""
        date = int(self.clock()) - 60
        origin: JSON
        if origin_user_id is not None and origin_user_id in self.users:
            origin = {
                "type": "user",
                "date": date,
                "sender_user": self.users[origin_user_id].to_json(),
            }
        else:
            origin = {"type": "hidden_user", "date": date, "sender_user_name": origin_name}
        return await self.send_message_fields(
            user_id, {"text": text, "forward_origin": origin}, chat_id
        )

    async def send_sticker(
        self, user_id: int, chat_id: int | None = None, emoji: str = "👍"
    ) -> UserAction:
        """Enqueue a sticker message."""
        stored = self._store_file(b"RIFFsticker", "sticker.webp", "image/webp")
        sticker = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
            "file_size": len(stored.data),
        }
        return await self.send_message_fields(user_id, {"sticker": sticker}, chat_id)

    async def send_photo_from_user(
        self,
        user_id: int,
        data: bytes = _TINY_PNG,
        caption: str | None = None,
        chat_id: int | None = None,
    ) -> UserAction:
        """Enqueue a photo message (the bytes can be downloaded via getFile)."""
        stored = self._store_file(data, "photo.png", "image/png")
        size = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "width": 1,
            "height": 1,
            "file_size": len(data),
        }
        fields: JSON = {"photo": [size]}
        if caption is not None:
            fields["caption"] = caption
        return await self.send_message_fields(user_id, fields, chat_id)

    async def send_document_from_user(
        self,
        user_id: int,
        data: bytes,
        file_name: str = "file.txt",
        mime_type: str = "text/plain",
        chat_id: int | None = None,
    ) -> UserAction:
        """Enqueue a document message (the bytes can be downloaded via getFile)."""
        stored = self._store_file(data, file_name, mime_type)
        doc = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_name": file_name,
            "mime_type": mime_type,
            "file_size": len(data),
        }
        return await self.send_message_fields(user_id, {"document": doc}, chat_id)

    async def edit_text(
        self, user_id: int, chat_id: int | None, message_id: int, new_text: str
    ) -> UserAction:
        """Edit a user's own earlier text message; enqueue an `edited_message` update."""
        _user, chat = self._user_and_chat(user_id, chat_id)
        msg = self._messages.get((chat.chat_id, message_id))
        if msg is None or msg["from"]["id"] != user_id:
            raise ValueError(f"user {user_id} has no message {message_id} in {chat.chat_id}")
        return self._edited(msg, new_text, "edited_message", chat.chat_id, message_id)

    def _edited(self, msg: JSON, new_text: str, update_type: str, chat_id: int,
                message_id: int) -> UserAction:
        """Give a stored message its new text (and entities, and edit date); enqueue the edit."""
        msg["text"] = new_text
        msg["edit_date"] = int(self.clock())
        ents = command_entities(new_text)
        if ents:
            msg["entities"] = ents
        else:
            msg.pop("entities", None)
        update_id = self._enqueue(update_type, dict(msg))
        return UserAction(update_id, message_id, chat_id)

    async def press_button(
        self,
        user_id: int,
        chat_id: int,
        message_id: int,
        callback_data: str,
        *,
        check: bool = True,
    ) -> str:
        """Enqueue a callback_query for a bot message; return the callback query id.

        With check=True the data must be one of the message's inline buttons. The query
        expires ``callback_answer_timeout`` seconds after the press (None: never).
        """
        user, chat = self._user_and_chat(user_id, chat_id)
        sent = self._sent_by_key.get((chat.chat_id, message_id))
        if sent is None:
            raise ValueError(f"no bot message {message_id} in chat {chat.chat_id}")
        if check and callback_data not in sent.button_data():
            raise ValueError(f"{callback_data!r} is not a button of message {message_id}")
        query_id = str(secrets.randbits(62))
        query: JSON = {
            "id": query_id,
            "from": user.to_json(),
            "message": dict(self._messages[(chat.chat_id, message_id)]),
            "chat_instance": str(abs(chat.chat_id) * 7919 + self.bot_id),
            "data": callback_data,
        }
        self._callbacks[query_id] = {
            "answered": False,
            "user_id": user_id,
            "pressed_at": self.monotonic(),
        }
        self._enqueue("callback_query", query)
        return query_id

    async def enqueue_update(self, update_type: str, payload: JSON) -> int:
        """Enqueue any raw update (e.g. "inline_query"); return its update_id."""
        return self._enqueue(update_type, payload)

    async def repeat_update(self, update_id: int) -> None:
        """Deliver an update once more, with the same update_id, in the next getUpdates answer.

        Telegram may repeat an update (its docs: update_id lets a bot "ignore repeated
        updates"), e.g. when a bot crashed before confirming it or a webhook answered late.
        The repeat goes out whatever the bot's offset, ahead of newer updates.
        """
        self._repeat(update_id)

    async def _member_update(self, chat: ChatState, by: JSON, old: str, new: str) -> None:
        bot = self.bot_user_json()
        members: list[dict[str, Any]] = [{"status": old, "user": bot}, {"status": new, "user": bot}]
        for member in members:
            if member["status"] == "kicked":
                member["until_date"] = 0
        self._enqueue(
            "my_chat_member",
            {
                "chat": chat.to_json(),
                "from": by,
                "date": int(self.clock()),
                "old_chat_member": members[0],
                "new_chat_member": members[1],
            },
        )

    async def block(self, user_id: int, *, notify: bool = True) -> None:
        """The user blocks the bot: sends to their chat get 403 (my_chat_member if notify)."""
        user = self.users[user_id]
        user.blocked = True
        if notify:
            await self._member_update(self.chats[user_id], user.to_json(), "member", "kicked")

    async def unblock(self, user_id: int, *, notify: bool = True) -> None:
        """The user unblocks the bot (my_chat_member update if notify)."""
        user = self.users[user_id]
        user.blocked = False
        user.started = True
        if notify:
            await self._member_update(self.chats[user_id], user.to_json(), "kicked", "member")

    async def remove_bot_from_group(self, chat_id: int, by_user_id: int | None = None) -> None:
        """The bot is removed from a group: sends there get 403 "bot was kicked"."""
        chat = self.chats[chat_id]
        chat.bot_removed = True
        by_user = self.users.get(by_user_id) if by_user_id is not None else None
        by = by_user.to_json() if by_user is not None else self.bot_user_json()
        await self._member_update(chat, by, "member", "left")
