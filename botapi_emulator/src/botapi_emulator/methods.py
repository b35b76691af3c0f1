"""Bot API method handlers (all but getUpdates, which lives in the server)."""

from __future__ import annotations

import copy
import struct
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from botapi_emulator.formatting import check_text, to_plain
from botapi_emulator.records import (
    JSON,
    ChatActionRecord,
    ChatState,
    SentMessage,
    StoredFile,
    bad_request,
    forbidden,
    too_many_requests,
)
from botapi_emulator.state import EmulatorState


@dataclass
class Upload:
    """One file part of a multipart request."""

    filename: str | None
    content_type: str | None
    data: bytes


@dataclass
class Call:
    """A decoded Bot API call: parameters and uploaded file parts by name."""

    method: str
    params: JSON
    files: dict[str, Upload] = field(default_factory=dict)


Handler = Callable[[EmulatorState, Call], Awaitable[Any]]
HANDLERS: dict[str, Handler] = {}
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)


def handler(name: str) -> Callable[[Handler], Handler]:
    """Register a coroutine as the handler of a Bot API method (matched case-insensitively)."""

    def register(func: Handler) -> Handler:
        HANDLERS[name.lower()] = func
        return func

    return register


def resolve_chat(emu: EmulatorState, raw: Any) -> ChatState:
    """Find a chat by id or @username; 400 "chat not found" otherwise."""
    if raw is None or raw == "":
        raise bad_request("chat_id is empty")
    if isinstance(raw, str) and raw.startswith("@"):
        for chat in emu.chats.values():
            if chat.username and chat.username.lower() == raw[1:].lower():
                return chat
        raise bad_request("chat not found")
    try:
        chat_id = int(raw)
    except (TypeError, ValueError):
        raise bad_request("chat not found") from None
    found = emu.chats.get(chat_id)
    if found is None:
        raise bad_request("chat not found")
    return found


def check_can_write(emu: EmulatorState, chat: ChatState) -> None:
    """Raise 403 when the bot may not write in chat (blocked, never started, removed)."""
    if chat.is_private:
        user = emu.users[chat.chat_id]
        if user.blocked:
            raise forbidden("bot was blocked by the user")
        if not user.started:
            raise forbidden("bot can't initiate conversation with a user")
    elif chat.bot_removed:
        raise forbidden("bot was kicked from the group chat")


def count_flood(emu: EmulatorState, chat: ChatState) -> None:
    """Count one message against the flood limits (when enforced); 429 when over."""
    if emu.enforce_limits:
        retry_after = emu.limiter.acquire(chat.chat_id, chat.is_private)
        if retry_after:
            raise too_many_requests(retry_after)


def _check_markup(markup: Any) -> JSON | None:
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    for row in markup.get("inline_keyboard") or []:
        for button in row:
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= 64:
                raise bad_request("BUTTON_DATA_INVALID")
            if "text" not in button:
                raise bad_request("can't parse inline keyboard button: Text buttons are unallowed")
    return copy.deepcopy(markup)


def _reply_to(emu: EmulatorState, chat: ChatState, p: JSON) -> int | None:
    rp = p.get("reply_parameters")
    allow = bool(p.get("allow_sending_without_reply"))
    target = p.get("reply_to_message_id")
    if isinstance(rp, dict):
        target = rp.get("message_id")
        allow = bool(rp.get("allow_sending_without_reply", allow))
    if target is None:
        return None
    if (chat.chat_id, int(target)) not in emu._messages:
        if allow:
            return None
        raise bad_request("message to be replied not found")
    return int(target)


def _check_length(text: str | None, caption: str | None) -> None:
    if text is not None and len(text) > 4096:
        raise bad_request("message is too long")
    if caption is not None and len(caption) > 1024:
        raise bad_request("message caption is too long")


def _record(
    emu: EmulatorState,
    call: Call,
    chat: ChatState,
    kind: str,
    fields: JSON,
    stored: StoredFile | None = None,
) -> JSON:
    """Create the bot's Message in chat, record it, and return its JSON."""
    p = call.params
    text = p.get("text") if kind == "text" else None
    caption = p.get("caption")
    parse_mode = p.get("parse_mode")
    _check_length(text, caption)
    for value in (text, caption):
        if value is not None:
            check_text(str(value), parse_mode)
    markup = _check_markup(p.get("reply_markup"))
    reply_to = _reply_to(emu, chat, p)
    count_flood(emu, chat)
    if text is not None:
        fields["text"] = to_plain(str(text), parse_mode)
    if caption is not None:
        fields["caption"] = to_plain(str(caption), parse_mode)
    if markup is not None and "inline_keyboard" in markup:
        fields["reply_markup"] = markup
    reply = emu._reply_copy(chat.chat_id, reply_to)
    if reply is not None:
        fields["reply_to_message"] = reply
    msg = emu._new_message(chat, emu.bot_user_json(), fields)
    sent = SentMessage(
        message_id=msg["message_id"],
        chat_id=chat.chat_id,
        kind=kind,
        text=None if text is None else str(text),
        caption=None if caption is None else str(caption),
        parse_mode=parse_mode,
        reply_markup=markup,
        reply_to=reply_to,
        disable_notification=bool(p.get("disable_notification")),
        sent_at=emu.monotonic(),
        sent_at_wall=emu.clock(),
        date=msg["date"],
        method=call.method,
        params={k: v for k, v in p.items() if k not in call.files},
    )
    if stored is not None:
        sent.file_id, sent.file_size, sent.file_name = (
            stored.file_id,
            len(stored.data),
            stored.file_name,
        )
    emu._sent.append(sent)
    emu._sent_by_key[(chat.chat_id, sent.message_id)] = sent
    emu._notify()
    return copy.deepcopy(msg)


def _file_from(emu: EmulatorState, call: Call, name: str, default_name: str) -> StoredFile:
    """Return the file given as upload, attach://, known file_id or URL in parameter name."""
    raw = call.params.get(name)
    part = call.files.get(name)
    if isinstance(raw, str) and raw.startswith("attach://"):
        part = call.files.get(raw[len("attach://") :])
    if part is not None:
        return emu._store_file(part.data, part.filename or default_name, part.content_type)
    if isinstance(raw, str) and raw in emu.files:
        return emu.files[raw]
    if isinstance(raw, str) and raw.startswith(("http://", "https://")):
        return emu._store_file(b"", raw.rsplit("/", 1)[-1] or default_name, None)
    raise bad_request(f"there is no {name} in the request")


def _png_size(data: bytes) -> tuple[int, int]:
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    return 0, 0


@handler("getMe")
async def get_me(emu: EmulatorState, _call: Call) -> JSON:
    """Return the bot user with its capabilities."""
    return {
        **emu.bot_user_json(),
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


@handler("sendMessage")
async def send_message(emu: EmulatorState, call: Call) -> JSON:
    """Send a text message."""
    chat = resolve_chat(emu, call.params.get("chat_id"))
    check_can_write(emu, chat)
    if not str(call.params.get("text") or "").strip():
        raise bad_request("message text is empty")
    return _record(emu, call, chat, "text", {})


@handler("sendPhoto")
async def send_photo(emu: EmulatorState, call: Call) -> JSON:
    """Send a photo (upload, file_id or URL)."""
    chat = resolve_chat(emu, call.params.get("chat_id"))
    check_can_write(emu, chat)
    stored = _file_from(emu, call, "photo", "photo.jpg")
    width, height = _png_size(stored.data)
    size = {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "width": width,
        "height": height,
        "file_size": len(stored.data),
    }
    return _record(emu, call, chat, "photo", {"photo": [size]}, stored)


@handler("sendDocument")
async def send_document(emu: EmulatorState, call: Call) -> JSON:
    """Send a document (upload, file_id or URL)."""
    chat = resolve_chat(emu, call.params.get("chat_id"))
    check_can_write(emu, chat)
    stored = _file_from(emu, call, "document", "document")
    doc: JSON = {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": len(stored.data),
    }
    if stored.file_name:
        doc["file_name"] = stored.file_name
    if stored.mime_type:
        doc["mime_type"] = stored.mime_type
    return _record(emu, call, chat, "document", {"document": doc}, stored)


@handler("sendChatAction")
async def send_chat_action(emu: EmulatorState, call: Call) -> bool:
    """Record a chat action such as "typing"."""
    chat = resolve_chat(emu, call.params.get("chat_id"))
    check_can_write(emu, chat)
    action = str(call.params.get("action") or "")
    if not action:
        raise bad_request("wrong parameter action in request")
    emu.chat_actions.append(ChatActionRecord(chat.chat_id, action, emu.monotonic()))
    emu._notify()
    return True
