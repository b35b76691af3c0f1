"""The Arvidsjaur 2015 plan, promise by promise, against the founding press release."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, datetime, time, timedelta
from itertools import pairwise
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from medlofte_bot.configuration import load_promise_set
from medlofte_bot.domain.plan import Plan, PlannedTask
from medlofte_bot.domain.promise_set import PromiseSet
from medlofte_bot.planning.calendar import school_days
from medlofte_bot.planning.planner import plan_year
from medlofte_bot.views.plan_views import plan_json

CONFIG = Path(__file__).resolve().parents[2] / "config" / "arvidsjaur-2015.toml"
TZ = ZoneInfo("Europe/Stockholm")
UTC = ZoneInfo("UTC")
FRI, SAT = 4, 5


@pytest.fixture(scope="module")
def ps() -> PromiseSet:
    return load_promise_set(CONFIG).promise_set


@pytest.fixture(scope="module")
def plan(ps: PromiseSet) -> Plan:
    return plan_year(ps)


def _local(t: PlannedTask) -> tuple[datetime, datetime]:
    return t.start.astimezone(TZ), t.end.astimezone(TZ)


def _elapsed(t: PlannedTask) -> float:
    return (t.end.astimezone(UTC) - t.start.astimezone(UTC)).total_seconds() / 60


def _inside(moment: datetime, day: date, window: str) -> bool:
    """Whether an aware instant lies in the wall-clock window opening on ``day``."""
    a, b = (time.fromisoformat(x) for x in window.split("-"))
    opens = datetime.combine(day, a)
    closes = datetime.combine(day + timedelta(days=1 if b <= a else 0), b)
    naive = moment.astimezone(TZ).replace(tzinfo=None)
    return opens <= naive <= closes


def test_plan_has_no_shortfall(plan: Plan) -> None:
    assert plan.shortfalls == []


# --- 1. narcotics ---------------------------------------------------------------------------


def test_at_least_six_narcotics_operations(plan: Plan) -> None:
    assert len(plan.tasks_of("narkotika")) >= 6
    assert plan.targets["narkotika"].target == 6


def test_narcotics_operations_are_secret_to_police(plan: Plan) -> None:
    tasks = plan.tasks_of("narkotika")
    assert {t.visibility for t in tasks} == {"police"}
    assert not any(t.joint or t.invited for t in tasks)


def test_narcotics_operations_last_240_minutes_inside_16_to_02(plan: Plan) -> None:
    for t in plan.tasks_of("narkotika"):
        start, end = _local(t)
        assert _elapsed(t) == 240
        assert _inside(start, start.date(), "16:00-02:00"), t
        assert _inside(end, start.date(), "16:00-02:00"), t


def test_narcotics_operations_are_spread_over_the_year(plan: Plan) -> None:
    months = {t.start.month for t in plan.tasks_of("narkotika")}
    assert len(months) >= 5
    days = [t.start.date() for t in plan.tasks_of("narkotika")]
    assert len(set(days)) == len(days)


# --- 2.1 risk nights ------------------------------------------------------------------------

RISK_NIGHTS = {
    date(2015, 4, 30): ("Valborgsmässoafton", "18:00"),
    date(2015, 6, 11): ("Studenten", "20:00"),
    date(2015, 6, 12): ("Skolavslutning", "20:00"),
    date(2015, 6, 19): ("Midsommarafton", "18:00"),
    date(2015, 7, 18): ("Hemvändarhelgen", "20:00"),
    date(2015, 8, 29): ("Storstämningen", "20:00"),
    date(2015, 10, 31): ("Allhelgona", "20:00"),
    date(2015, 12, 13): ("Lucia", "20:00"),
    date(2015, 12, 31): ("Nyårsafton", "20:00"),
}


def test_one_risk_night_task_on_every_risk_night(plan: Plan) -> None:
    tasks = plan.tasks_of("riskkvallar")
    by_day = Counter(_local(t)[0].date() for t in tasks)
    assert by_day == Counter(list(RISK_NIGHTS))
    assert plan.targets["riskkvallar"].target == 9


@pytest.mark.parametrize("day", sorted(RISK_NIGHTS))
def test_risk_night_task_has_the_nights_name_and_hours(plan: Plan, day: date) -> None:
    name, start = RISK_NIGHTS[day]
    (task,) = [t for t in plan.tasks_of("riskkvallar") if _local(t)[0].date() == day]
    assert name in task.label
    assert _local(task)[0].strftime("%H:%M") == start


def test_halloween_and_allhelgona_share_one_task(plan: Plan) -> None:
    (task,) = [t for t in plan.tasks_of("riskkvallar") if t.start.date() == date(2015, 10, 31)]
    assert "Halloween" in task.label and "Allhelgona" in task.label


def test_risk_nights_are_visible_to_partners_and_invite_field_workers(plan: Plan) -> None:
    for t in plan.tasks_of("riskkvallar"):
        assert t.visibility == "partners"
        assert "faltarbetare" in t.invited


# --- 2.2, 2.3 bar inspections ---------------------------------------------------------------


def test_exactly_six_bar_inspections_on_friday_or_saturday_at_22(plan: Plan) -> None:
    tasks = plan.tasks_of("krogtillsyn")
    assert len(tasks) == 6
    for t in tasks:
        start, end = _local(t)
        assert start.weekday() in (FRI, SAT), t
        assert start.strftime("%H:%M") == "22:00", t
        assert _inside(end, start.date(), "22:00-02:00"), t


def test_exactly_two_bar_inspections_are_joint(plan: Plan) -> None:
    tasks = plan.tasks_of("krogtillsyn")
    assert sum(t.joint for t in tasks) == 2
    assert plan.targets["krogtillsyn"].joint_target == 2


def test_joint_inspections_fall_when_the_licensing_officer_is_available(
    plan: Plan, ps: PromiseSet
) -> None:
    officer = ps.partner_role("alkoholhandlaggare")
    for t in plan.tasks_of("krogtillsyn"):
        if t.joint:
            day = _local(t)[0].date()
            assert officer.available_on(day), t
            assert not (date(2015, 6, 22) <= day <= date(2015, 8, 9))
            assert not (date(2015, 12, 19) <= day <= date(2015, 12, 31))


def test_joint_inspections_are_seen_by_partners_and_the_rest_by_police_only(plan: Plan) -> None:
    tasks = plan.tasks_of("krogtillsyn")
    joint = [t for t in tasks if t.joint]
    alone = [t for t in tasks if not t.joint]
    assert {t.visibility for t in joint} == {"partners"}
    assert all(t.partner_role == "alkoholhandlaggare" for t in joint)
    assert all("alkoholhandlaggare" in t.invited for t in joint)
    assert len(alone) == 4
    assert {t.visibility for t in alone} == {"police"}
    assert all(t.partner_role is None and not t.invited for t in alone)


def test_joint_inspections_are_not_both_at_the_start_of_the_year(plan: Plan) -> None:
    joint = [t for t in plan.tasks_of("krogtillsyn") if t.joint]
    assert (joint[1].start - joint[0].start) > timedelta(days=60)


# --- 3. school traffic controls -------------------------------------------------------------


def test_six_school_controls_per_term(plan: Plan, ps: PromiseSet) -> None:
    assert ps.school is not None
    tasks = plan.tasks_of("skolkontroller")
    for term in ps.school.terms:
        assert sum(1 for t in tasks if t.start.date() in term) == 6, term.name
    assert len(tasks) == 12
    assert plan.targets["skolkontroller"].target == 12


def test_school_controls_only_on_school_days(plan: Plan, ps: PromiseSet) -> None:
    assert ps.school is not None
    allowed = set(school_days(ps.school, date(2015, 1, 1), date(2015, 12, 31)))
    for t in plan.tasks_of("skolkontroller"):
        day = _local(t)[0].date()
        assert day in allowed, t
        assert day.weekday() < 5
        assert day not in (date(2015, 5, 14), date(2015, 5, 15), date(2015, 5, 1))


def test_school_controls_use_each_window_twice_per_term(plan: Plan, ps: PromiseSet) -> None:
    assert ps.school is not None
    windows = {name: str(w) for name, w in ps.school.windows.items()}
    for term in ps.school.terms:
        used: Counter[str] = Counter()
        for t in plan.tasks_of("skolkontroller"):
            start, end = _local(t)
            if start.date() not in term:
                continue
            assert t.label in windows
            window = windows[t.label]
            assert start.strftime("%H:%M") == window[:5]
            assert end.strftime("%H:%M") == window[6:]
            used[t.label] += 1
        assert used == Counter({"skolstart": 2, "lunch": 2, "skolslut": 2}), term.name


def test_school_controls_alternate_marked_and_unmarked_in_time_order(plan: Plan) -> None:
    vehicles = [t.vehicle for t in plan.tasks_of("skolkontroller")]
    assert set(vehicles) == {"marked", "unmarked"}
    assert all(a != b for a, b in pairwise(vehicles)), vehicles


def test_only_school_controls_carry_a_vehicle(plan: Plan) -> None:
    assert all(t.vehicle is None for t in plan.tasks if t.promise != "skolkontroller")


# --- 4. summer nights -----------------------------------------------------------------------


def test_one_summer_patrol_per_iso_week_june_to_august(plan: Plan) -> None:
    tasks = plan.tasks_of("buskorning")
    weeks = Counter(_local(t)[0].isocalendar()[1] for t in tasks)
    expected = {date(2015, 6, 1).isocalendar()[1] + i for i in range(13)}  # weeks 23-35
    assert set(weeks) == expected
    assert all(n == 1 for n in weeks.values()), weeks


def test_summer_patrols_are_wednesday_to_saturday_from_21_inside_the_period(plan: Plan) -> None:
    for t in plan.tasks_of("buskorning"):
        start, end = _local(t)
        assert date(2015, 6, 1) <= start.date() <= date(2015, 8, 31)
        assert start.weekday() in (2, 3, 4, 5), t
        assert start.strftime("%H:%M") == "21:00"
        assert _inside(end, start.date(), "21:00-03:00")


def test_kronoberg_model_has_no_tasks_of_its_own(plan: Plan) -> None:
    assert plan.tasks_of("kronobergsmodellen") == []
    assert plan.targets["kronobergsmodellen"].target is None


# --- the plan as a whole --------------------------------------------------------------------


def test_no_team_is_double_booked(plan: Plan) -> None:
    by_team: dict[str, list[tuple[datetime, datetime]]] = {}
    for t in plan.tasks:
        by_team.setdefault(t.team, []).append((t.start.astimezone(UTC), t.end.astimezone(UTC)))
    assert set(by_team) <= {"lag-1", "lag-2"}
    for team, spans in by_team.items():
        spans.sort()
        for (_, end), (start, _) in pairwise(spans):
            assert start >= end, team


def test_both_teams_get_work(plan: Plan) -> None:
    counts = Counter(t.team for t in plan.tasks)
    assert set(counts) == {"lag-1", "lag-2"}
    assert abs(counts["lag-1"] - counts["lag-2"]) <= len(plan.tasks) // 4


def test_task_keys_are_unique_and_numbered_per_promise(plan: Plan) -> None:
    keys = [t.key for t in plan.tasks]
    assert len(set(keys)) == len(keys)
    for pid in {t.promise for t in plan.tasks}:
        numbers = [t.key for t in plan.tasks_of(pid)]
        assert numbers == [f"{pid}-{n:02d}" for n in range(1, len(numbers) + 1)]


def test_tasks_are_in_time_order_and_inside_2015(plan: Plan) -> None:
    starts = [t.start.astimezone(UTC) for t in plan.tasks]
    assert starts == sorted(starts)
    assert all(s.astimezone(TZ).year == 2015 for s in starts)


def test_every_task_is_pending(plan: Plan) -> None:
    assert {t.status for t in plan.tasks} == {"pending"}


def test_plan_is_the_same_on_two_calls(ps: PromiseSet, plan: Plan) -> None:
    again = plan_year(ps)
    assert again.tasks == plan.tasks
    assert again.targets == plan.targets


def test_plan_changes_when_the_seed_changes(ps: PromiseSet, plan: Plan) -> None:
    other = plan_year(ps.model_copy(update={"seed": ps.seed + 1}))
    assert [(t.key, t.start) for t in other.tasks] != [(t.key, t.start) for t in plan.tasks]
    # the fixed-date work stays put: only the spread tasks move
    assert [t.start for t in other.tasks_of("riskkvallar")] == [
        t.start for t in plan.tasks_of("riskkvallar")]
    assert len(other.tasks_of("krogtillsyn")) == 6


# --- JSON view ------------------------------------------------------------------------------

TASK_KEYS = {"id", "promise", "kind", "start", "end", "team", "joint", "vehicle", "visibility"}


def test_json_tasks_have_exactly_the_documented_keys(plan: Plan, ps: PromiseSet) -> None:
    data = plan_json(plan, ps)
    assert len(data["tasks"]) == len(plan.tasks)
    for task in data["tasks"]:
        assert set(task) == TASK_KEYS


def test_json_times_are_iso_with_the_local_utc_offset(plan: Plan, ps: PromiseSet) -> None:
    data = plan_json(plan, ps)
    for task in data["tasks"]:
        for field in ("start", "end"):
            moment = datetime.fromisoformat(task[field])
            assert moment.utcoffset() is not None
            expected = moment.astimezone(TZ).utcoffset()
            assert moment.utcoffset() == expected
            assert task[field].endswith(("+01:00", "+02:00"))
    by_id = {t["id"]: t for t in data["tasks"]}
    assert by_id["riskkvallar-01"]["start"] == "2015-04-30T18:00:00+02:00"  # summer time
    assert by_id["riskkvallar-08"]["start"] == "2015-12-13T20:00:00+01:00"  # winter time


def test_json_is_byte_identical_across_runs(ps: PromiseSet) -> None:
    first = json.dumps(plan_json(plan_year(ps), ps), ensure_ascii=False, sort_keys=False)
    second = json.dumps(plan_json(plan_year(ps), ps), ensure_ascii=False, sort_keys=False)
    assert first.encode() == second.encode()
    assert json.loads(first)["year"] == 2015
