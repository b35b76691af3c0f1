"""Invites and roles name only what the loaded promise sets define; files are refused whole."""

from __future__ import annotations

from pathlib import Path

import pytest

from medlofte_bot.configuration import load_promise_set
from medlofte_bot.domain.errors import UserError
from medlofte_bot.domain.invites import Catalogue, catalogues, check_invite, read_invite_csv
from medlofte_bot.domain.states import Role

CONFIG = Path(__file__).parents[2] / "config" / "arvidsjaur-2015.toml"


def _known(*slugs: str) -> dict[str, Catalogue]:
    base = load_promise_set(CONFIG).promise_set
    return catalogues(base.model_copy(update={"slug": slug, "municipality": slug.title()})
                      for slug in slugs or ("arvidsjaur",))


def _refusal(known: dict[str, Catalogue], role: str, **kw: str) -> UserError:
    with pytest.raises(UserError) as err:
        check_invite(known, role, **kw)
    return err.value


def test_a_partner_role_typo_is_refused_naming_the_valid_ones() -> None:
    err = _refusal(_known(), "partner", partner_role="alkohol")
    assert err.key == "invite_bad_partner_role" and err.params["column"] == "partner_role"
    assert "alkoholhandlaggare (Alkoholhandläggare)" in err.params["roles"]
    assert "faltarbetare" in err.params["roles"]


def test_a_partner_without_a_partner_role_is_refused() -> None:
    err = _refusal(_known(), "partner")
    assert err.key == "invite_needs_partner_role" and "alkoholhandlaggare" in err.params["roles"]


def test_an_officer_needs_a_team_of_the_municipality() -> None:
    assert _refusal(_known(), "polis").key == "invite_needs_team"
    err = _refusal(_known(), "officer", team="lag-9")
    assert err.key == "invite_bad_team" and err.params["column"] == "team"
    assert "lag-1 (Arvidsjaur lag 1)" in err.params["teams"]


@pytest.mark.parametrize(("role", "kw", "key", "column"), [
    ("partner", {"team": "lag-1", "partner_role": "faltarbetare"},
     "invite_team_not_for_partner", "team"),
    ("officer", {"team": "lag-1", "partner_role": "faltarbetare"},
     "invite_partner_role_not_for_police", "partner_role"),
    ("chief", {"municipality": "pitea"}, "invite_bad_municipality", "municipality"),
    ("sheriff", {}, "invite_bad_role", "role"),
    ("chief", {"name": "x" * 61}, "invite_name_too_long", "name"),
])
def test_each_wrong_reference_names_its_column(role: str, kw: dict[str, str], key: str,
                                               column: str) -> None:
    err = _refusal(_known(), role, **kw)
    assert (err.key, err.params["column"]) == (key, column)


def test_swedish_role_words_and_the_only_municipality_are_understood() -> None:
    spec = check_invite(_known(), "polis", team="lag-2", name="  Olle   Berg ")
    assert (spec.role, spec.municipality, spec.team, spec.name) == \
        (Role.OFFICER, "arvidsjaur", "lag-2", "Olle Berg")
    spec = check_invite(_known(), "partner", partner_role="faltarbetare")
    assert (spec.role, spec.partner_role, spec.team) == (Role.PARTNER, "faltarbetare", None)


def test_with_several_municipalities_the_inviters_own_is_the_default() -> None:
    known = _known("arvidsjaur", "kiruna")
    assert _refusal(known, "chief").key == "invite_needs_municipality"
    assert _refusal(known, "officer", team="lag-1").key == "invite_team_ambiguous"
    assert check_invite(known, "chief", default_municipality="kiruna").municipality == "kiruna"
    assert check_invite(known, "chief", municipality="arvidsjaur",
                        default_municipality="kiruna").municipality == "arvidsjaur"


GOOD = """role,team,municipality,partner_role,name
officer,lag-1,arvidsjaur,,Olle Berg
polis,lag-2,,,Lina
partner,,arvidsjaur,alkoholhandlaggare,Pia
chief,,,,Kim
"""


def test_a_good_file_gives_one_spec_per_row_in_order() -> None:
    specs, problems = read_invite_csv(GOOD, _known())
    assert problems == []
    assert [(s.role, s.team, s.partner_role, s.name) for s in specs] == [
        (Role.OFFICER, "lag-1", None, "Olle Berg"), (Role.OFFICER, "lag-2", None, "Lina"),
        (Role.PARTNER, None, "alkoholhandlaggare", "Pia"), (Role.CHIEF, None, None, "Kim")]


def test_semicolons_and_a_byte_order_mark_are_read_too() -> None:
    text = "\ufeff" + GOOD.replace(",", ";")
    specs, problems = read_invite_csv(text, _known())
    assert problems == [] and len(specs) == 4


def test_every_bad_row_is_named_with_its_column() -> None:
    bad = GOOD + "partner,,arvidsjaur,alkohol,Per\nofficer,lag-7,,,Ulf\n,,,,Nils\n"
    specs, problems = read_invite_csv(bad, _known())
    assert [(p.row, p.column) for p in problems] == [(6, "partner_role"), (7, "team"),
                                                      (8, "role")]
    assert problems[0].error.key == "invite_bad_partner_role"
    assert len(specs) == 4, "the good rows are checked too; the caller stores none of them"


@pytest.mark.parametrize(("header", "column", "key"), [
    ("role,team,municipality,name", "partner_role", "invite_csv_missing_column"),
    ("role,team,municipality,partnerrole,name", "partner_role", "invite_csv_missing_column"),
    ("role,team,municipality,partner_role,name,phone", "phone", "invite_csv_unknown_column"),
])
def test_a_wrong_header_is_refused_on_row_one(header: str, column: str, key: str) -> None:
    specs, problems = read_invite_csv(header + "\nchief,,,,Kim\n", _known())
    assert specs == []
    assert (1, column, key) in [(p.row, p.column, p.error.key) for p in problems]


def test_a_row_with_too_many_or_too_few_fields_is_refused() -> None:
    text = "role,team,municipality,partner_role,name\nchief,,,,Kim,extra\nchief,,\n"
    _, problems = read_invite_csv(text, _known())
    assert [(p.row, p.error.key) for p in problems] == [(2, "invite_csv_row_shape"),
                                                        (3, "invite_csv_row_shape")]


def test_a_file_with_only_a_header_is_refused() -> None:
    _, problems = read_invite_csv("role,team,municipality,partner_role,name\n", _known())
    assert [p.error.key for p in problems] == ["invite_csv_empty_file"]
