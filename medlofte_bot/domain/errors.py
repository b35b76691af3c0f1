"""Expected failures, each with a text key the user-facing layers render."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Words:
    """A parameter said in the reader's language (the texts render it): ``kind`` is
    "weekdays" (codes such as "fri"), "hours" (windows such as "22:00-02:00") or "when"
    (one aware local time in ISO form)."""

    kind: str
    values: tuple[str, ...]


class UserError(Exception):
    """An expected failure: ``key`` names a text in ``medlofte_bot.texts``; ``params`` fill it."""

    def __init__(self, key: str, /, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params
        #: the language to say it in, once the person is known (set by the use cases)
        self.lang: str | None = None

    def with_lang(self, lang: str) -> UserError:
        """The same error, to be said in ``lang``."""
        self.lang = lang
        return self


class ConfigError(UserError):
    """A promise-set file or the settings are wrong."""


class NotAllowed(UserError):
    """The member may not see or do this."""


class NotFound(UserError):
    """No such task, invite or member (or none the member may see)."""
