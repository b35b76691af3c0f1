"""A local Telegram Bot API emulator for end-to-end tests, benchmarks and offline demos."""

from medlofte_bot.emulator.limits import FloodLimits
from medlofte_bot.emulator.records import (
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
from medlofte_bot.emulator.server import BotApiEmulator
from medlofte_bot.emulator.thread import EmulatorThread
from medlofte_bot.emulator.user_side import UserAction, command_entities

__all__ = [
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
    "command_entities",
]
