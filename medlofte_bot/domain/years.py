"""Which promise sets are in force on a given day, and what to run when none is."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from medlofte_bot.domain.promise_set import PromiseSet


def in_force(sets: Iterable[PromiseSet], now: datetime) -> list[PromiseSet]:
    """The sets whose year is this year, in each set's own time zone."""
    return [ps for ps in sets if now.astimezone(ps.tz).year == ps.year]


def outdated(sets: Iterable[PromiseSet], now: datetime) -> bool:
    """Whether every set's year is over: the bot serves a year long gone (a set for a year
    still to come is not outdated, only not in force yet)."""
    sets = list(sets)
    return bool(sets) and all(now.astimezone(ps.tz).year > ps.year for ps in sets)


def named(sets: Iterable[PromiseSet]) -> str:
    """'Arvidsjaur 2015, Arjeplog 2015' (sorted), or '–'."""
    return ", ".join(sorted(f"{ps.municipality} {ps.year}" for ps in sets)) or "–"


def new_year_command(sets: Iterable[PromiseSet], now: datetime) -> str:
    """The `new-year` command(s) that would write this year's file from each municipality's
    latest one (files are named config/<slug>-<year>.toml by convention)."""
    latest: dict[str, PromiseSet] = {}
    for ps in sets:
        if ps.slug not in latest or ps.year > latest[ps.slug].year:
            latest[ps.slug] = ps
    return "\n".join(
        f"python -m medlofte_bot new-year config/{ps.slug}-{ps.year}.toml "
        f"{now.astimezone(ps.tz).year}" for _, ps in sorted(latest.items()))
