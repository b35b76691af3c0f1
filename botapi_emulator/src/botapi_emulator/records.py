"""Data records kept by the Bot API emulator: what the bot sent, what it asked, errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]

#: Update types Telegram delivers when allowed_updates was never set (or set to []).
DEFAULT_EXCLUDED_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


def update_allowed(update: JSON, allowed: list[str] | None) -> bool:
    """True when the bot's allowed_updates (None or []: the default set) take this update."""
    kind = next(k for k in update if k != "update_id")
    return (kind in allowed) if allowed else (kind not in DEFAULT_EXCLUDED_UPDATES)


class ApiError(Exception):
    """A Bot API error answered with Telegram's envelope and the same HTTP status."""

    def __init__(
        self, code: int, description: str, parameters: dict[str, Any] | None = None
    ) -> None:
        super().__init__(f"{code}: {description}")
        self.code = code
        self.description = description
        self.parameters = parameters

    def envelope(self) -> JSON:
        """Return the JSON body Telegram answers for this error."""
        body: JSON = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(what: str) -> ApiError:
    """Build a 400 error with Telegram's "Bad Request: ..." wording."""
    return ApiError(400, f"Bad Request: {what}")


def forbidden(what: str) -> ApiError:
    """Build a 403 error with Telegram's "Forbidden: ..." wording."""
    return ApiError(403, f"Forbidden: {what}")


def too_many_requests(retry_after: int) -> ApiError:
    """Build a 429 error carrying parameters.retry_after (whole seconds, at least 1)."""
    retry_after = max(1, int(retry_after))
    return ApiError(
        429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
    )


@dataclass
class EditRecord:
    """One edit of a bot message: the content before the edit and when it was replaced."""

    method: str
    old_text: str | None
    old_reply_markup: JSON | None
    new_text: str | None
    new_reply_markup: JSON | None
    at: float
    at_wall: float


@dataclass
class SentMessage:
    """A message the bot sent, as the emulator recorded it (its current state)."""

    message_id: int
    chat_id: int
    kind: str
    text: str | None
    caption: str | None
    parse_mode: str | None
    reply_markup: JSON | None
    reply_to: int | None
    disable_notification: bool
    sent_at: float
    sent_at_wall: float
    date: int
    method: str
    file_size: int | None = None
    file_name: str | None = None
    file_id: str | None = None
    deleted: bool = False
    edits: list[EditRecord] = field(default_factory=list)
    params: JSON = field(default_factory=dict)

    @property
    def content(self) -> str | None:
        """Return the text, or the caption for media messages."""
        return self.text if self.text is not None else self.caption

    def button_data(self) -> list[str]:
        """Return every callback_data of the inline keyboard, row by row."""
        rows = (self.reply_markup or {}).get("inline_keyboard") or []
        return [b["callback_data"] for row in rows for b in row if "callback_data" in b]


@dataclass
class AnsweredCallback:
    """One answerCallbackQuery call."""

    callback_query_id: str
    text: str | None
    show_alert: bool
    url: str | None
    at: float


@dataclass
class ChatActionRecord:
    """One sendChatAction call."""

    chat_id: int
    action: str
    at: float


@dataclass
class RequestRecord:
    """One HTTP request to the emulator: method, times and the HTTP status answered."""

    method: str
    at: float
    at_wall: float
    status: int
    description: str | None = None
    chat_id: int | str | None = None


@dataclass
class StoredFile:
    """A file known to the emulator (uploaded by the bot or sent by a user)."""

    file_id: str
    file_unique_id: str
    data: bytes
    file_name: str | None
    mime_type: str | None

    @property
    def file_path(self) -> str:
        """Return the path under base_file_url where the file can be downloaded."""
        return f"files/{self.file_unique_id}"


@dataclass
class UserState:
    """A user known to the emulator."""

    user_id: int
    first_name: str
    username: str | None
    language_code: str | None
    last_name: str | None = None
    started: bool = True
    blocked: bool = False

    def to_json(self) -> JSON:
        """Return the Telegram User object."""
        data: JSON = {"id": self.user_id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        if self.language_code:
            data["language_code"] = self.language_code
        return data


@dataclass
class ChatState:
    """A chat known to the emulator: a user's private chat or a group."""

    chat_id: int
    type: str
    title: str | None = None
    first_name: str | None = None
    username: str | None = None
    members: set[int] = field(default_factory=set)
    bot_removed: bool = False
    next_message_id: int = 1

    @property
    def is_private(self) -> bool:
        """Return True for a private (one-to-one) chat."""
        return self.type == "private"

    def to_json(self) -> JSON:
        """Return the Telegram Chat object (short form, as inside a Message)."""
        data: JSON = {"id": self.chat_id, "type": self.type}
        if self.title is not None:
            data["title"] = self.title
        if self.first_name is not None:
            data["first_name"] = self.first_name
        if self.username is not None:
            data["username"] = self.username
        return data
