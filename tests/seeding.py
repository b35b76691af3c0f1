"""What several database tests start from: one municipality, a promise, a team; or a
variant of the Arvidsjaur promise set for another municipality."""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, Connection, bindparam, text
from sqlalchemy.orm import Session

from medlofte_bot.configuration import LoadedSet, load_promise_set
from medlofte_bot.storage import models as m
from medlofte_bot.storage.types import UTCDateTime

CONFIG = Path(__file__).parents[1] / "config" / "arvidsjaur-2015.toml"


def bar_inspection_area(s: Session) -> tuple[m.Municipality, m.Promise, m.Team]:
    """Arvidsjaur 2015 with the bar-inspection promise (target 6) and team lag-1, flushed."""
    muni, promise = _with_bar_inspections(s, "arvidsjaur", "Arvidsjaur", "Norrbotten", 6,
                                          "public")
    team = m.Team(municipality_id=muni.id, police_area=muni.police_area, key="lag-1",
                  name="Lag 1")
    s.add(team)
    s.flush()
    return muni, promise, team


def provby_bar_inspections(s: Session, target: int) -> tuple[m.Municipality, m.Promise]:
    """Provby, a municipality of its own (police area Provområdet), with a police-only
    bar-inspection promise for 2015 of ``target`` inspections, flushed; teams and tasks are
    the caller's (the replica test and the webhook benchmark start from it)."""
    return _with_bar_inspections(s, "provby", "Provby", "Provområdet", target, "police")


def _with_bar_inspections(s: Session, slug: str, name: str, police_area: str, target: int,
                          visibility: str) -> tuple[m.Municipality, m.Promise]:
    """A municipality and its 2015 bar-inspection promise ("krogtillsyn"), flushed."""
    muni = m.Municipality(slug=slug, name=name, police_area=police_area,
                          timezone="Europe/Stockholm")
    s.add(muni)
    s.flush()
    promise = m.Promise(municipality_id=muni.id, year=2015, key="krogtillsyn",
                        title="Krogtillsyn", kind="bar_inspection", target=target,
                        visibility=visibility, spec={})
    s.add(promise)
    s.flush()
    return muni, promise


def variant_set(slug: str, area: str) -> LoadedSet:
    """The Arvidsjaur 2015 promise set as another municipality of police area ``area``."""
    base = load_promise_set(CONFIG)
    ps = base.promise_set.model_copy(update={"slug": slug, "municipality": slug.title(),
                                             "police_area": area})
    return LoadedSet(base.path, ps, hashlib.sha256(f"{base.digest}{slug}".encode()).hexdigest())


def insert_row(conn: Connection, table: str, **values: Any) -> None:
    """INSERT with plain SQL; times bound as UTC (naive on SQLite), dicts and lists as JSON."""
    params = []
    for key, value in values.items():
        if isinstance(value, datetime):
            params.append(bindparam(key, type_=UTCDateTime()))
        elif isinstance(value, dict | list):
            params.append(bindparam(key, type_=JSON()))
    columns = ", ".join(f'"{key}"' for key in values)
    names = ", ".join(f":{key}" for key in values)
    statement = text(f"INSERT INTO {table} ({columns}) VALUES ({names})")
    conn.execute(statement.bindparams(*params), values)
