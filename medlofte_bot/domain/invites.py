"""What an invite (or a member's new role) may name, checked against the loaded promise sets.

Pure: the chat's /bjud and /roll, the single ``invite`` command and ``invite --csv`` all go
through ``check_invite``, so a typo ("alkohol" for "alkoholhandlaggare") is refused the same
way everywhere, naming what exists. Who may invite is the policy's question
(``policy.can_invite``), asked by the service once the municipality is known.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass

from medlofte_bot.domain.errors import UserError
from medlofte_bot.domain.promise_set import PromiseSet
from medlofte_bot.domain.states import Role

NAME_MAX = 60
ROLE_WORDS = {"polis": Role.OFFICER, "officer": Role.OFFICER, "partner": Role.PARTNER,
              "chef": Role.CHIEF, "chief": Role.CHIEF, "samordnare": Role.COORDINATOR,
              "coordinator": Role.COORDINATOR}
CSV_COLUMNS = ("role", "team", "municipality", "partner_role", "name")


@dataclass(frozen=True)
class Catalogue:
    """What one municipality's loaded promise sets name: teams and partner roles."""

    slug: str
    name: str
    police_area: str
    teams: dict[str, str]  # id -> name
    partner_roles: dict[str, str]  # id -> title


@dataclass(frozen=True)
class InviteSpec:
    """A checked invite: every reference exists in the promise sets."""

    role: Role
    municipality: str  # slug
    team: str | None = None
    partner_role: str | None = None
    name: str = ""


@dataclass(frozen=True)
class CsvProblem:
    """Why one row (file line, header = 1) of an invite file was refused, and where."""

    row: int
    column: str
    error: UserError


def catalogues(sets: Iterable[PromiseSet]) -> dict[str, Catalogue]:
    """One catalogue per municipality: the teams and partner roles of all its loaded years
    (the latest year's names win)."""
    out: dict[str, Catalogue] = {}
    for ps in sorted(sets, key=lambda s: s.year):
        old = out.get(ps.slug)
        teams = {**(old.teams if old else {}), **{t.id: t.name for t in ps.teams}}
        roles = {**(old.partner_roles if old else {}),
                 **{r.id: r.title for r in ps.partner_roles}}
        out[ps.slug] = Catalogue(ps.slug, ps.municipality, ps.police_area, teams, roles)
    return out


def role_of(word: str) -> Role:
    """A role from its Swedish or English word."""
    found = ROLE_WORDS.get(word.strip().lower())
    if found is None:
        raise UserError("invite_bad_role", role=word, roles=", ".join(sorted(ROLE_WORDS)),
                        column="role")
    return found


def _listing(names: dict[str, str]) -> str:
    return ", ".join(f"{key} ({name})" for key, name in sorted(names.items())) or "-"


def _municipality(known: dict[str, Catalogue], slug: str | None, team: str | None,
                  default: str | None) -> Catalogue:
    """The named municipality; else the inviter's; else the only one having the team; else
    the only one loaded."""
    slugs = ", ".join(sorted(known)) or "-"
    if slug:
        if slug not in known:
            raise UserError("invite_bad_municipality", municipality=slug, municipalities=slugs,
                            column="municipality")
        return known[slug]
    if default is not None and default in known:
        return known[default]
    if team:
        having = [c for c in known.values() if team in c.teams]
        if len(having) > 1:
            raise UserError("invite_team_ambiguous", team=team, column="municipality",
                            municipalities=", ".join(sorted(c.slug for c in having)))
        if having:
            return having[0]
        every = {k: v for c in known.values() for k, v in c.teams.items()}
        raise UserError("invite_bad_team", team=team, teams=_listing(every), column="team")
    if len(known) == 1:
        return next(iter(known.values()))
    raise UserError("invite_needs_municipality", municipalities=slugs, column="municipality")


def check_invite(known: dict[str, Catalogue], role: str, *, team: str | None = None,
                 municipality: str | None = None, partner_role: str | None = None,
                 name: str | None = None, default_municipality: str | None = None
                 ) -> InviteSpec:
    """The invite as a checked spec, or UserError naming the wrong value (``column`` in its
    params says which: role, team, municipality, partner_role or name).

    An officer needs a team of the municipality, a partner a partner role of it; a team is
    for police roles only, a partner role for partners only.
    """
    checked = role_of(role)
    team, partner_role = (team or "").strip() or None, (partner_role or "").strip() or None
    where = _municipality(known, (municipality or "").strip() or None, team,
                          default_municipality)
    if team is not None:
        if checked == Role.PARTNER:
            raise UserError("invite_team_not_for_partner", team=team, column="team")
        if team not in where.teams:
            raise UserError("invite_bad_team", team=team, teams=_listing(where.teams),
                            column="team")
    elif checked == Role.OFFICER:
        raise UserError("invite_needs_team", teams=_listing(where.teams), column="team")
    if partner_role is not None:
        if checked != Role.PARTNER:
            raise UserError("invite_partner_role_not_for_police", partner_role=partner_role,
                            column="partner_role")
        if partner_role not in where.partner_roles:
            raise UserError("invite_bad_partner_role", partner_role=partner_role,
                            municipality=where.name, roles=_listing(where.partner_roles),
                            column="partner_role")
    elif checked == Role.PARTNER:
        raise UserError("invite_needs_partner_role", municipality=where.name,
                        roles=_listing(where.partner_roles), column="partner_role")
    clean = " ".join((name or "").split())
    if len(clean) > NAME_MAX:
        raise UserError("invite_name_too_long", max=NAME_MAX, column="name")
    return InviteSpec(checked, where.slug, team, partner_role, clean)


def read_invite_csv(text: str, known: dict[str, Catalogue]
                    ) -> tuple[list[InviteSpec], list[CsvProblem]]:
    """Every row of an invite file checked: the specs, or the problems (row, column, why).

    The header names the columns role, team, municipality, partner_role and name (any
    order; comma or semicolon); each row needs a role and a name. A caller stores nothing
    unless the problems are empty.
    """
    first = text.lstrip("\ufeff").split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")), delimiter=delimiter,
                            restkey="\0extra")
    header = [(h or "").strip() for h in reader.fieldnames or []]
    problems = [CsvProblem(1, c, UserError("invite_csv_missing_column", column=c))
                for c in CSV_COLUMNS if c not in header]
    problems += [CsvProblem(1, c, UserError("invite_csv_unknown_column", column=c))
                 for c in header if c not in CSV_COLUMNS]
    if problems:
        return [], problems
    reader.fieldnames = header
    specs: list[InviteSpec] = []
    for raw in reader:
        row = reader.line_num
        if "\0extra" in raw or any(raw.get(c) is None for c in CSV_COLUMNS):
            problems.append(CsvProblem(row, "-", UserError("invite_csv_row_shape",
                                                           columns=len(CSV_COLUMNS))))
            continue
        values = {c: (raw[c] or "").strip() for c in CSV_COLUMNS}
        for column in ("role", "name"):
            if not values[column]:
                problems.append(CsvProblem(row, column, UserError("invite_csv_empty",
                                                                  column=column)))
        if not values["role"] or not values["name"]:
            continue
        try:
            specs.append(check_invite(known, values["role"], team=values["team"],
                                      municipality=values["municipality"],
                                      partner_role=values["partner_role"],
                                      name=values["name"]))
        except UserError as exc:
            problems.append(CsvProblem(row, str(exc.params.get("column", "-")), exc))
    if not specs and not problems:
        problems.append(CsvProblem(1, "-", UserError("invite_csv_empty_file")))
    return specs, problems
