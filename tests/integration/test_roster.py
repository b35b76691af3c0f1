"""A coordinator's members and invites, scoped to their police area, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from medlofte_bot.domain.errors import NotAllowed, NotFound, UserError
from medlofte_bot.domain.promise_set import PromiseSet
from medlofte_bot.domain.states import ReminderState, Role
from medlofte_bot.services import members, roster
from medlofte_bot.services.reminders import ensure_reminders
from medlofte_bot.storage import models as m

ADMINS = frozenset({1})
NOW = datetime(2015, 1, 1, 6, tzinfo=UTC)
Sets = dict[tuple[str, int], PromiseSet]


def _join(s: Session, sets: Sets, telegram_id: int, name: str, role: str, *,
          municipality: str, team: str | None = None,
          partner_role: str | None = None) -> m.Member:
    invite = members.create_invite(s, sets, role, NOW, team=team, municipality=municipality,
                                   partner_role=partner_role)
    return members.redeem(s, invite.code, telegram_id, name, "sv", NOW)


People = dict[str, int]


@pytest.fixture
def people(area: tuple[sessionmaker[Session], Sets]) -> People:
    sessions, sets = area
    with sessions.begin() as s:
        made = {
            "admin": members.ensure_coordinator(s, 1, "Admin", NOW),
            "cora": _join(s, sets, 10, "Cora", "samordnare", municipality="arvidsjaur"),
            "olle": _join(s, sets, 11, "Olle", "polis", team="lag-1", municipality="arvidsjaur"),
            "pia": _join(s, sets, 12, "Pia", "partner", partner_role="alkoholhandlaggare",
                         municipality="arjeplog"),
            "kurt": _join(s, sets, 13, "Kurt", "polis", team="lag-2", municipality="kiruna"),
            "kia": _join(s, sets, 14, "Kia", "samordnare", municipality="kiruna"),
        }
        s.flush()
        return {k: v.id for k, v in made.items()}


Area = tuple[sessionmaker[Session], Sets]


def test_a_coordinator_lists_the_members_of_their_area_in_words(area: Area,
                                                                 people: People) -> None:
    sessions, sets = area
    with sessions() as s:
        lines = roster.list_members(s, sets, s.get_one(m.Member, people["cora"]))
    assert [(x.name, x.role, x.municipality, x.team, x.partner_role) for x in lines] == [
        ("Pia", Role.PARTNER, "Arjeplog", None, "Alkoholhandläggare"),
        ("Cora", Role.COORDINATOR, "Arvidsjaur", None, None),
        ("Olle", Role.OFFICER, "Arvidsjaur", "Arvidsjaur lag 1", None)]
    assert [x.is_asker for x in lines] == [False, True, False]
    with sessions() as s:
        everyone = roster.list_members(s, sets, s.get_one(m.Member, people["admin"]))
    assert {x.name for x in everyone} == {"Admin", "Cora", "Olle", "Pia", "Kurt", "Kia"}


def test_only_coordinators_list_members(area: Area, people: People) -> None:
    sessions, sets = area
    with sessions() as s, pytest.raises(NotAllowed):
        roster.list_members(s, sets, s.get_one(m.Member, people["olle"]))


def test_deactivating_a_member_ends_access_and_unsent_reminders_and_is_audited(
        area: Area, people: People) -> None:
    sessions, sets = area
    now = NOW + timedelta(days=60)
    with sessions.begin() as s:
        ensure_reminders(s, now)
        pending = s.scalars(select(m.Reminder).where(
            m.Reminder.member_id == people["olle"],
            m.Reminder.state == ReminderState.PENDING)).all()
        assert pending, "the officer is owed reminders before"
        line = roster.deactivate(s, sets, s.get_one(m.Member, people["cora"]), people["olle"],
                                 now, ADMINS)
        assert (line.name, line.team) == ("Olle", "Arvidsjaur lag 1")
    with sessions.begin() as s:
        assert members.by_telegram_id(s, 11) is None
        assert not s.scalars(select(m.Reminder).where(
            m.Reminder.member_id == people["olle"],
            m.Reminder.state == ReminderState.PENDING)).all()
        ensure_reminders(s, now)
        assert not s.scalars(select(m.Reminder).where(
            m.Reminder.member_id == people["olle"])).all(), "not made again by the next tick"
        audit = s.scalars(select(m.AuditEntry).where(
            m.AuditEntry.action == "member_deactivated")).one()
        assert audit.actor == f"member:{people['cora']}"
        assert audit.entity_id == str(people["olle"])
        assert audit.before is not None and audit.after is not None
        assert (audit.before["active"], audit.after["active"]) == (True, False)
        assert audit.before["team"] == "lag-1"


@pytest.mark.parametrize(("who", "target", "error", "key"), [
    ("cora", "cora", UserError, "member_self"),
    ("cora", "kurt", NotFound, "member_unknown"),
    ("cora", "kia", NotFound, "member_unknown"),
    ("cora", "admin", NotFound, "member_unknown"),
    ("kia", "admin", NotFound, "member_unknown"),
    ("admin", "admin", UserError, "member_self"),
    ("olle", "pia", NotAllowed, "not_coordinator"),
])
def test_a_coordinator_cannot_deactivate_themselves_or_anyone_outside_their_area(
        area: Area, people: People, who: str, target: str, error: type[UserError],
        key: str) -> None:
    sessions, sets = area
    with sessions.begin() as s:
        with pytest.raises(error) as err:
            roster.deactivate(s, sets, s.get_one(m.Member, people[who]), people[target], NOW,
                              ADMINS)
        assert err.value.key == key
    with sessions() as s:
        assert s.get_one(m.Member, people[target]).active


def test_a_settings_admin_is_changed_in_the_settings_only(area: Area, people: People) -> None:
    sessions, sets = area
    with sessions.begin() as s:
        other = members.ensure_coordinator(s, 2, "Admin två", NOW)
        s.flush()
        with pytest.raises(UserError) as err:
            roster.deactivate(s, sets, s.get_one(m.Member, people["admin"]), other.id, NOW,
                              frozenset({1, 2}))
        assert err.value.key == "member_is_admin"


def test_a_role_or_team_change_is_checked_like_an_invite_and_audited(
        area: Area, people: People) -> None:
    sessions, sets = area
    with sessions.begin() as s:
        cora = s.get_one(m.Member, people["cora"])
        change = roster.change_role(s, sets, cora, people["olle"], "polis", team="lag-2",
                                    partner_role=None, municipality=None, now=NOW,
                                    admin_ids=ADMINS)
        assert (change.before.team, change.after.team) == ("Arvidsjaur lag 1",
                                                           "Arvidsjaur lag 2")
        with pytest.raises(UserError) as err:
            roster.change_role(s, sets, cora, people["pia"], "partner", team=None,
                               partner_role="alkohol", municipality=None, now=NOW,
                               admin_ids=ADMINS)
        assert err.value.key == "invite_bad_partner_role"
        with pytest.raises(NotAllowed) as denied:
            roster.change_role(s, sets, cora, people["olle"], "polis", team="lag-1",
                               partner_role=None, municipality="kiruna", now=NOW,
                               admin_ids=ADMINS)
        assert denied.value.key == "invite_outside_area"
    with sessions() as s:
        olle = s.get_one(m.Member, people["olle"])
        team = s.get_one(m.Team, olle.team_id)
        assert (team.key, olle.municipality_id) == ("lag-2", team.municipality_id)
        audit = s.scalars(select(m.AuditEntry).where(
            m.AuditEntry.action == "member_role_changed")).one()
        assert audit.before is not None and audit.after is not None
        assert (audit.before["team"], audit.after["team"]) == ("lag-1", "lag-2")


def test_a_coordinator_invites_only_into_their_own_police_area(area: Area,
                                                                 people: People) -> None:
    sessions, sets = area
    with sessions.begin() as s:
        cora = s.get_one(m.Member, people["cora"])
        with pytest.raises(NotAllowed) as err:
            members.create_invite(s, sets, "chief", NOW, municipality="kiruna", by=cora)
        assert err.value.key == "invite_outside_area"
        made = members.create_invite(s, sets, "chief", NOW, municipality="arjeplog", by=cora)
        assert made.municipality_id is not None
        own = members.create_invite(s, sets, "chief", NOW, by=cora)
        assert s.get_one(m.Municipality, own.municipality_id).slug == "arvidsjaur"
        with pytest.raises(NotAllowed):
            members.create_invite(s, sets, "chief", NOW, by=s.get_one(m.Member, people["olle"]))


def test_open_invites_are_listed_per_area_and_a_revoked_one_cannot_be_redeemed(
        area: Area, people: People) -> None:
    sessions, sets = area
    with sessions.begin() as s:
        cora, kia = s.get_one(m.Member, people["cora"]), s.get_one(m.Member, people["kia"])
        ours = members.create_invite(s, sets, "partner", NOW, partner_role="faltarbetare",
                                     name="Fredrik", by=cora)
        theirs = members.create_invite(s, sets, "chief", NOW, by=kia)
        expired = members.create_invite(s, sets, "chief", NOW - timedelta(days=8), by=cora)
        code, ids = ours.code, (ours.id, theirs.id, expired.id)
    with sessions() as s:
        listed = roster.open_invites(s, sets, s.get_one(m.Member, people["cora"]), NOW)
        assert [(x.id, x.partner_role, x.name, x.by) for x in listed] == [
            (ids[0], "Fältarbetare / nattvandrare", "Fredrik", "Cora")]
    with sessions.begin() as s:
        kia = s.get_one(m.Member, people["kia"])
        with pytest.raises(NotFound):
            roster.revoke_invite(s, sets, kia, str(ids[0]), NOW)
        revoked = roster.revoke_invite(s, sets, s.get_one(m.Member, people["cora"]), code[:8],
                                       NOW)
        assert revoked.id == ids[0]
    with sessions.begin() as s, pytest.raises(UserError) as err:
        members.redeem(s, code, 99, "Fredrik", "sv", NOW)
    assert err.value.key == "invite_revoked"
    with sessions() as s:
        assert members.by_telegram_id(s, 99) is None
        audit = s.scalars(select(m.AuditEntry).where(
            m.AuditEntry.action == "invite_revoked")).one()
        assert audit.entity_id == str(ids[0]) and audit.actor == f"member:{people['cora']}"
        assert roster.open_invites(s, sets, s.get_one(m.Member, people["cora"]), NOW) == []


def test_invite_times_are_stored_in_utc_and_shown_in_local_time(area: Area,
                                                                 people: People) -> None:
    sessions, sets = area
    with sessions.begin() as s:
        members.create_invite(s, sets, "chief", datetime(2015, 1, 1, 5, tzinfo=UTC),
                              by=s.get_one(m.Member, people["cora"]))
    with sessions() as s:
        (line,) = roster.open_invites(s, sets, s.get_one(m.Member, people["cora"]), NOW)
    assert line.created_at.hour == 6 and line.created_at.utcoffset() == timedelta(hours=1)
