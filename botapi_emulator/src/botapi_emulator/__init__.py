"""A local Telegram Bot API emulator for end-to-end tests, benchmarks and offline demos."""

from botapi_emulator.limits import FloodLimits
from botapi_emulator.records import (
    AnsweredCallback,
    ApiError,
    ChatActionRecord,
    ChatState,
    EditRecord,
    RequestRecord,
    SentMessage,
    StoredFile,
    UserState,
)
from botapi_emulator.server import BotApiEmulator
from botapi_emulator.thread import EmulatorThread
from botapi_emulator.user_side import UserAction, command_entities
from botapi_emulator.webhook import SECRET_HEADER, WebhookAttempt, WebhookPolicy

__all__ = [
    "SECRET_HEADER",
    "AnsweredCallback",
    "ApiError",
    "BotApiEmulator",
    "ChatActionRecord",
    "ChatState",
    "EditRecord",
    "EmulatorThread",
    "FloodLimits",
    "RequestRecord",
    "SentMessage",
    "StoredFile",
    "UserAction",
    "UserState",
    "WebhookAttempt",
    "WebhookPolicy",
    "command_entities",
]
