"""What every service is given: the database, the promise sets in force, a clock."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from medlofte_bot.domain.clock import Clock
from medlofte_bot.domain.promise_set import PromiseSet
from medlofte_bot.services.disclosure import Disclosure
from medlofte_bot.storage.database import Database

Sets = dict[tuple[str, int], PromiseSet]


@dataclass
class ServiceContext:
    """Wired once by the composition root (bootstrap); tests pass their own."""

    db: Database
    sets: Sets
    clock: Clock
    admin_ids: frozenset[int] = frozenset()
    worker: str = "bot"
    names_kept_months: int | None = 12  # a deactivated member's name, then their role word
    web_base: str | None = None  # the web view's public base URL (Settings.web_base())

    @property
    def disclosure(self) -> Disclosure:
        """What chat may say of each task (each set's ``secret_details``), with the link."""
        return Disclosure.of(self.sets, self.web_base)

    @property
    def tz(self) -> ZoneInfo:
        """The area's time zone, for what belongs to no one task (summaries, their dates)."""
        return next(iter(self.sets.values())).tz if self.sets else ZoneInfo("Europe/Stockholm")
