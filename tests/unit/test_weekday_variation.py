"""Variation over weekdays (issue 9): where a promise allows several weekdays, its tasks are
not predictable from the weekday: none takes more than about half, none three in a row."""

from __future__ import annotations

from collections import Counter
from itertools import combinations
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from medlofte_bot.configuration import load_promise_set
from medlofte_bot.domain.plan import Plan
from medlofte_bot.domain.promise_set import PromiseSet
from medlofte_bot.planning.planner import plan_area, plan_year

CONFIG = Path(__file__).parents[2] / "config"
ARVIDSJAUR = load_promise_set(CONFIG / "arvidsjaur-2015.toml").promise_set
AREA = [load_promise_set(f).promise_set
        for f in sorted((CONFIG / "lpo-pitea-alvdal").glob("*.toml"))]
SUMMER = ("wed", "thu", "fri", "sat")


def assert_varied(ps: PromiseSet, plan: Plan) -> None:
    for p in ps.promises:
        if p.placement != "spread" or len(p.weekdays) < 2:
            continue
        days = [t.start.astimezone(ps.tz).weekday() for t in sorted(
            (t for t in plan.tasks if t.promise == p.id), key=lambda t: t.start)]
        if len(days) < 4:
            continue
        most = Counter(days).most_common(1)[0][1]
        assert most <= -(-len(days) // 2), (p.id, days)
        assert not any(a == b == c for a, b, c in zip(days, days[1:], days[2:], strict=False)), \
            (p.id, days)


@settings(max_examples=40, deadline=None, derandomize=True, database=None)
@given(seed=st.integers(0, 10**6),
       summer=st.sampled_from([list(c) for n in (2, 3, 4) for c in combinations(SUMMER, n)]))
def test_no_weekday_takes_more_than_half_nor_three_in_a_row(seed: int, summer: list[str]
                                                            ) -> None:
    promises = [p.model_copy(update={"weekdays": summer}) if p.id == "buskorning" else p
                for p in ARVIDSJAUR.promises]
    ps = ARVIDSJAUR.model_copy(update={"seed": seed, "promises": promises})
    assert_varied(ps, plan_year(ps))


def test_the_summer_nights_of_2015_fall_on_every_allowed_night() -> None:
    plan = plan_year(ARVIDSJAUR)
    nights = Counter(t.start.astimezone(ARVIDSJAUR.tz).strftime("%a") for t in plan.tasks
                     if t.promise == "buskorning")
    assert set(nights) == {"Wed", "Thu", "Fri", "Sat"} and max(nights.values()) <= 5


def test_the_three_municipality_area_is_varied_too() -> None:
    for ps, plan in zip(AREA, plan_area(AREA), strict=True):
        assert_varied(ps, plan)
