"""What the handlers are given: the use cases, through a typed CallbackContext."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from telegram.ext import Application, CallbackContext, ExtBot

from medlofte_bot.services.usecases import UseCases
from medlofte_bot.services.web import WebAccess

TEXT_MAX = 500


@dataclass(frozen=True)
class ChatDeps:
    """Wired once by the composition root (bootstrap)."""

    usecases: UseCases
    text_max: int = TEXT_MAX
    web: WebAccess | None = None  # the web view's login links (/webb)
    web_base: str | None = None  # the web view's public base URL; None: not set up


class BotContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any],
                                 dict[Any, Any]]):
    """PTB's context with the project's dependencies on it."""

    def __init__(self, application: Application[Any, Any, Any, Any, Any, Any],
                 chat_id: int | None = None, user_id: int | None = None) -> None:
        super().__init__(application=application, chat_id=chat_id, user_id=user_id)

    @property
    def deps(self) -> ChatDeps:
        """The wired dependencies."""
        value = self.application.bot_data["deps"]
        assert isinstance(value, ChatDeps)
        return value

    @property
    def usecases(self) -> UseCases:
        """The chat's use cases."""
        return self.deps.usecases
