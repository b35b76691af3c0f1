"""Bot API handlers that change existing messages or answer callback queries."""

from __future__ import annotations

import copy
from typing import Any

from botapi_emulator.formatting import check_text, to_plain
from botapi_emulator.methods import (
    NOT_MODIFIED,
    Call,
    _check_length,
    _check_markup,
    check_can_write,
    count_flood,
    handler,
    resolve_chat,
)
from botapi_emulator.records import (
    JSON,
    AnsweredCallback,
    EditRecord,
    SentMessage,
    bad_request,
)
from botapi_emulator.state import EmulatorState

_QUERY_INVALID = "query is too old and response timeout expired or query ID is invalid"


def _editable(emu: EmulatorState, call: Call) -> tuple[SentMessage, JSON]:
    """Find the bot message an edit* call targets (400s as Telegram words them)."""
    p = call.params
    if p.get("inline_message_id"):
        raise bad_request("inline messages are not supported by the emulator")
    chat = resolve_chat(emu, p.get("chat_id"))
    try:
        key = (chat.chat_id, int(p.get("message_id") or 0))
    except (TypeError, ValueError):
        raise bad_request("message to edit not found") from None
    stored = emu._messages.get(key)
    sent = emu._sent_by_key.get(key)
    if stored is None or (sent is not None and sent.deleted):
        raise bad_request("message to edit not found")
    if sent is None:
        raise bad_request("message can't be edited")
    check_can_write(emu, chat)
    return sent, stored


def _apply_edit(
    emu: EmulatorState,
    call: Call,
    sent: SentMessage,
    stored: JSON,
    new_text: str | None,
    markup: JSON | None,
) -> JSON:
    """Check not-modified, count flood, record the edit and return the edited Message."""
    is_caption = call.method.lower() == "editmessagecaption"
    old_text = sent.caption if is_caption else sent.text
    if call.method.lower() == "editmessagereplymarkup":
        new_text = old_text
    if new_text == old_text and markup == sent.reply_markup:
        raise bad_request(NOT_MODIFIED)
    count_flood(emu, emu.chats[sent.chat_id])
    sent.edits.append(
        EditRecord(
            call.method, old_text, sent.reply_markup, new_text, markup, emu.monotonic(), emu.clock()
        )
    )
    parse_mode = call.params.get("parse_mode")
    field = "caption" if is_caption else "text"
    if new_text != old_text:
        if is_caption:
            sent.caption = new_text
        else:
            sent.text = new_text
        sent.parse_mode = parse_mode
        if new_text is None:
            stored.pop(field, None)
        else:
            stored[field] = to_plain(new_text, parse_mode)
    sent.reply_markup = markup
    if markup is not None and "inline_keyboard" in markup:
        stored["reply_markup"] = copy.deepcopy(markup)
    else:
        stored.pop("reply_markup", None)
    stored["edit_date"] = int(emu.clock())
    emu._notify()
    return copy.deepcopy(stored)


@handler("editMessageText")
async def edit_message_text(emu: EmulatorState, call: Call) -> JSON:
    """Replace the text (and inline keyboard: absent = removed) of a bot text message."""
    sent, stored = _editable(emu, call)
    text = call.params.get("text")
    if not str(text or "").strip():
        raise bad_request("message text is empty")
    if sent.kind != "text":
        raise bad_request("there is no text in the message to edit")
    _check_length(str(text), None)
    check_text(str(text), call.params.get("parse_mode"))
    markup = _check_markup(call.params.get("reply_markup"))
    return _apply_edit(emu, call, sent, stored, str(text), markup)


@handler("editMessageCaption")
async def edit_message_caption(emu: EmulatorState, call: Call) -> JSON:
    """Replace the caption of a bot media message."""
    sent, stored = _editable(emu, call)
    if sent.kind == "text":
        raise bad_request("there is no caption in the message to edit")
    raw = call.params.get("caption")
    caption = None if raw is None else str(raw)
    _check_length(None, caption)
    if caption is not None:
        check_text(caption, call.params.get("parse_mode"))
    markup = _check_markup(call.params.get("reply_markup"))
    return _apply_edit(emu, call, sent, stored, caption, markup)


@handler("editMessageReplyMarkup")
async def edit_message_reply_markup(emu: EmulatorState, call: Call) -> JSON:
    """Replace (or remove, when absent) the inline keyboard of a bot message."""
    sent, stored = _editable(emu, call)
    markup = _check_markup(call.params.get("reply_markup"))
    return _apply_edit(emu, call, sent, stored, None, markup)


@handler("deleteMessage")
async def delete_message(emu: EmulatorState, call: Call) -> bool:
    """Delete a message; the bot's record stays in messages_to() with deleted=True."""
    chat = resolve_chat(emu, call.params.get("chat_id"))
    try:
        key = (chat.chat_id, int(call.params.get("message_id") or 0))
    except (TypeError, ValueError):
        raise bad_request("message to delete not found") from None
    if emu._messages.pop(key, None) is None:
        raise bad_request("message to delete not found")
    sent = emu._sent_by_key.get(key)
    if sent is not None:
        sent.deleted = True
    emu._notify()
    return True


@handler("answerCallbackQuery")
async def answer_callback_query(emu: EmulatorState, call: Call) -> bool:
    """Answer a pending callback query once; recorded in answered_callbacks.

    As on Telegram, an unknown, already answered or expired query (older than the
    emulator's ``callback_answer_timeout``) gets 400 "query is too old …".
    """
    query_id = str(call.params.get("callback_query_id") or "")
    pending: dict[str, Any] | None = emu._callbacks.get(query_id)
    if pending is None or pending["answered"]:
        raise bad_request(_QUERY_INVALID)
    timeout = emu.callback_answer_timeout
    if timeout is not None and emu.monotonic() - pending["pressed_at"] > timeout:
        raise bad_request(_QUERY_INVALID)
    text = call.params.get("text")
    if text is not None and len(str(text)) > 200:
        raise bad_request("MESSAGE_TOO_LONG")
    pending["answered"] = True
    emu.answered_callbacks.append(
        AnsweredCallback(
            query_id,
            None if text is None else str(text),
            bool(call.params.get("show_alert")),
            call.params.get("url"),
            emu.monotonic(),
        )
    )
    emu._notify()
    return True
