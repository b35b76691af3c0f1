"""What chat may say of a task: the policy's answer for each task, with the link to its page.

A promise set with ``secret_details = "web"`` keeps police-only tasks' details (kind, time,
place) off chat; ``domain/policy.carries_details`` decides, and ``tasks.view`` asks it for
every task it hands out, so the chat layer renders a sealed task by its number and link.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from medlofte_bot.domain.policy import TaskFacts, carries_details
from medlofte_bot.domain.promise_set import PromiseSet
from medlofte_bot.storage import models as m

__all__ = ["CHAT", "Disclosure", "facts"]


def facts(row: m.Task) -> TaskFacts:
    """The access-rule view of a task row."""
    return TaskFacts(row.kind, row.visibility, row.team_id, row.promise.municipality_id,
                     tuple(row.invited or ()), row.status)


@dataclass(frozen=True)
class Disclosure:
    """What chat may say of a task: each loaded promise set's ``secret_details`` (by
    municipality slug and year) and the web view's base URL, for the link to a task's page.
    The policy decides (``carries_details``); ``view`` asks it for every task."""

    modes: Mapping[tuple[str, int], str] = field(default_factory=dict)
    web_base: str | None = None

    @classmethod
    def of(cls, sets: Mapping[tuple[str, int], PromiseSet], web_base: str | None
           ) -> Disclosure:
        """From the loaded promise sets and ``Settings.web_base()``."""
        return cls({key: ps.secret_details for key, ps in sets.items()}, web_base)

    def mode(self, slug: str, year: int) -> str:
        """The set's own mode; for a year not loaded, the latest loaded year of that
        municipality; "chat" for a municipality with no set loaded."""
        if (slug, year) in self.modes:
            return self.modes[(slug, year)]
        mine = sorted((y, mode) for (s, y), mode in self.modes.items() if s == slug)
        return mine[-1][1] if mine else "chat"

    def sealed(self, row: m.Task) -> bool:
        """Whether chat must not carry this task's details (the policy decides)."""
        promise = row.promise
        return self.sealed_facts(facts(row), promise.municipality.slug, promise.year)

    def sealed_facts(self, task: TaskFacts, slug: str, year: int) -> bool:
        """``sealed`` for a task's facts and its promise set (municipality slug, year)."""
        return not carries_details(task, self.mode(slug, year))

    def page(self, task_id: int) -> str | None:
        """The task's page in the web view (after login), when a web view is set up."""
        return f"{self.web_base}/webb/uppdrag/{task_id}" if self.web_base else None


CHAT = Disclosure()  # every set in "chat" mode, no web view: today's messages
