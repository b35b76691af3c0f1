"""Next year's promise set from this year's: the date rules, the rules carried over, the plan."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from medlofte_bot.configuration import load_promise_set
from medlofte_bot.next_year import default_output, easter, next_year_text, shift_date
from medlofte_bot.planning.planner import plan_year

CONFIG = Path(__file__).parents[2] / "config" / "arvidsjaur-2015.toml"


def test_easter_is_known_for_the_years_around() -> None:
    assert [easter(y) for y in (2015, 2016, 2024)] == \
        [date(2015, 4, 5), date(2016, 3, 27), date(2024, 3, 31)]


def test_week_bound_dates_keep_their_week_and_weekday() -> None:
    sportlov = shift_date(date(2015, 3, 2), 1)
    assert sportlov == date(2016, 3, 7)
    assert sportlov.isocalendar()[1:] == (10, 1)
    assert shift_date(date(2015, 6, 11), 1).isocalendar()[1:] == (24, 4)  # Studenten, Thursday


def test_first_and_last_days_of_a_month_stay_on_the_calendar() -> None:
    assert shift_date(date(2015, 6, 1), 1) == date(2016, 6, 1)
    assert shift_date(date(2015, 8, 31), 1) == date(2016, 8, 31)
    assert shift_date(date(2015, 12, 31), 1) == date(2016, 12, 31)
    assert shift_date(date(2016, 2, 29), 1) == date(2017, 2, 28)
    assert shift_date(date(2015, 2, 28), 1) == date(2016, 2, 29)


def test_days_near_easter_ascension_and_pentecost_follow_easter() -> None:
    assert shift_date(date(2015, 4, 6), 1) == date(2016, 3, 28)  # Easter break
    assert shift_date(date(2015, 5, 15), 1) == date(2016, 5, 6)  # the day after Ascension


def test_a_week_53_lands_in_the_last_week_of_a_shorter_year() -> None:
    assert shift_date(date(2015, 12, 29), 1) == date(2016, 12, 27)  # 2015-W53 -> 2016-W52


def test_the_file_name_follows_the_year() -> None:
    assert default_output(Path("config/arvidsjaur-2015.toml"), 2015, 2016) == \
        Path("config/arvidsjaur-2016.toml")
    assert default_output(Path("x/promises.toml"), 2015, 2016) == Path("x/promises-2016.toml")


def _written(tmp_path: Path, outcome: dict[str, list[str]] | None = None) -> tuple[str, Path]:
    old = load_promise_set(CONFIG).promise_set
    written = next_year_text(CONFIG.read_text(encoding="utf-8"), old, 2016, 4711,
                             outcome or {}, ["Rubrik"])
    path = tmp_path / "arvidsjaur-2016.toml"
    path.write_text(written.text, encoding="utf-8")
    assert written.marked == 11  # 2 leave ranges, 2 terms, 4 breaks, 2 dates, 1 period
    return written.text, path


def test_every_rule_is_carried_over_and_only_dates_year_and_seed_change(tmp_path: Path) -> None:
    old = load_promise_set(CONFIG).promise_set
    text, path = _written(tmp_path)
    new = load_promise_set(path).promise_set
    assert (new.year, new.seed) == (2016, 4711)
    assert new.teams == old.teams
    assert [r.model_copy(update={"unavailable": []}) for r in new.partner_roles] == \
        [r.model_copy(update={"unavailable": []}) for r in old.partner_roles]
    assert [n.model_copy(update={"date": None}) for n in new.risk_nights] == \
        [n.model_copy(update={"date": None}) for n in old.risk_nights]
    assert [p.model_copy(update={"period": None}) for p in new.promises] == \
        [p.model_copy(update={"period": None}) for p in old.promises]
    assert new.school is not None and old.school is not None
    assert new.school.windows == old.school.windows
    assert all(r.start.year == 2016 for r in new.school.terms + new.school.breaks)
    # the coordinator's comments stay, the moved dates say they must be confirmed
    assert "Hemliga i förväg" in text and "# Rubrik" in text.splitlines()[0]
    assert "date = 2016-06-16 # BEKRÄFTA lokalt: flyttad till 2016 från 2015-06-11" in text


def test_the_written_year_plans_risk_nights_and_school_controls_in_2016(
        tmp_path: Path) -> None:
    _, path = _written(tmp_path)
    ps = load_promise_set(path).promise_set
    plan = plan_year(ps)
    assert plan.tasks and all(t.start.year == 2016 for t in plan.tasks)
    nights = {t.label: t.start.date() for t in plan.tasks if t.kind == "risk_night"}
    assert nights["Studenten"] == date(2016, 6, 16)
    assert nights["Midsommarafton"] == date(2016, 6, 24)
    assert nights["Valborgsmässoafton"] == date(2016, 4, 30)
    assert ps.school is not None
    controls = [t for t in plan.tasks if t.kind == "school_traffic_control"]
    assert len(controls) == 12
    for t in controls:
        day = t.start.date()
        assert any(day in term for term in ps.school.terms)
        assert not any(day in b for b in ps.school.breaks)
    summer = [t for t in plan.tasks if t.promise == "buskorning"]
    assert min(t.start.date() for t in summer) >= date(2016, 6, 1)
    assert max(t.start.date() for t in summer) <= date(2016, 8, 31)


def test_outcome_lines_sit_under_each_promise_header(tmp_path: Path) -> None:
    text, _ = _written(tmp_path, {"krogtillsyn": ["Utfall 2015: uppfyllt"]})
    lines = text.splitlines()
    at = lines.index("# Utfall 2015: uppfyllt")
    assert lines[at - 1] == "[[promises]]" and lines[at + 1] == 'id = "krogtillsyn"'


SMALL = """\
municipality = "Byn"
slug = "byn"
police_area = "LPO Test"
year = 2015
seed = 1

[[teams]]
id = "lag-1"
name = "Lag 1"

[[risk_nights]]
name = "Studenten"
rule = "date"
date = 2015-06-11  # sätts lokalt

[school]
windows = { lunch = "11:00-12:30" }

[[school.terms]]
name = "Vårtermin"
start = 2015-01-08
end = 2015-06-12

[[promises]]
id = "buskorning"
title = "Sommarnätter"
kind = "summer_night_patrol"
frequency = { count = 1, per = "week" }
hours = ["21:00-03:00"]

[promises.period]
start = 2015-06-01
end = 2015-08-31
"""


def test_tables_with_their_own_headers_are_moved_and_old_comments_kept(
        tmp_path: Path) -> None:
    source = tmp_path / "byn-2015.toml"
    source.write_text(SMALL, encoding="utf-8")
    old = load_promise_set(source).promise_set
    written = next_year_text(SMALL, old, 2016, 2, {"buskorning": ["Utfall 2015: –"]}, [])
    target = tmp_path / "byn-2016.toml"
    target.write_text(written.text, encoding="utf-8")
    new = load_promise_set(target).promise_set
    assert new.school is not None and new.school.terms[0].start == date(2016, 1, 14)
    period = new.promise("buskorning").period
    assert period is not None and (period.start, period.end) == \
        (date(2016, 6, 1), date(2016, 8, 31))
    assert "date = 2016-06-16 # sätts lokalt – BEKRÄFTA lokalt: flyttad till 2016 från 2015-06-11" \
        in written.text
    assert written.marked == 3 and plan_year(new).tasks
