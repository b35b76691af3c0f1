"""Rows that several database tests start from: one municipality, a promise, a team."""

from __future__ import annotations

from sqlalchemy.orm import Session

from medlofte_bot.storage import models as m


def bar_inspection_area(s: Session) -> tuple[m.Municipality, m.Promise, m.Team]:
    """Arvidsjaur 2015 with the bar-inspection promise (target 6) and team lag-1, flushed."""
    muni = m.Municipality(slug="arvidsjaur", name="Arvidsjaur", police_area="Norrbotten",
                          timezone="Europe/Stockholm")
    s.add(muni)
    s.flush()
    promise = m.Promise(municipality_id=muni.id, year=2015, key="krogtillsyn",
                        title="Krogtillsyn", kind="bar_inspection", target=6,
                        visibility="public", spec={})
    team = m.Team(municipality_id=muni.id, key="lag-1", name="Lag 1")
    s.add_all([promise, team])
    s.flush()
    return muni, promise, team
