"""Monday summaries for the whole country: text and progress chart for each area's chief.

290 Arvidsjaur-like promise sets (own slug, municipality, police area and seed, as in
bench/plan_national.py) are applied into one temp SQLite database; each area gets a chief;
about 80 % of the tasks that ended before Monday 15 June 2015 07:00 are confirmed. Then, for
each chief, in a fresh session, exactly what the bot computes for a Monday summary before
sending it: ``build_summary`` with every loaded set (as ``Outbox.compose`` calls it with
``ServiceContext.sets``), the text as ``chat.sender.render_outgoing`` makes it
(``render.split(render.summary_text(...))``) and ``views.chart.progress_chart`` (``send_chart``).
Beside it, same process: (a) the same with ``sets`` holding only the chief's own set (what
scoping ``promise_status`` to the area would leave), (b) the chart alone for one area's own
rows (the floor per summary).
Each variant stops after its time budget; totals are then extrapolated from the mean.

    .venv/bin/python bench/summaries.py [--small] [--areas 290] [--budget 120] [--profile]

Goal: all 290 summaries in under 30 s.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import random
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from _common import CONFIG, fresh_db, table, verdict
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from medlofte_bot.chat import render
from medlofte_bot.configuration import LoadedSet, load_promise_set
from medlofte_bot.domain.promise_set import PromiseSet
from medlofte_bot.services.plans import apply_promise_set
from medlofte_bot.services.status import promise_status
from medlofte_bot.services.summary import build_summary
from medlofte_bot.storage import models as m
from medlofte_bot.storage.database import Database
from medlofte_bot.views.chart import progress_chart

TZ = ZoneInfo("Europe/Stockholm")
NOW = datetime(2015, 6, 15, 7, 0, tzinfo=TZ)  # a Monday, summary time
Sets = dict[tuple[str, int], PromiseSet]


@dataclass
class Timing:
    """One variant: summaries done, seconds, and what one summary looked like."""

    name: str
    done: int
    seconds: float
    areas: int
    promises: int = 0
    text_chars: int = 0
    png_bytes: int = 0
    png_height: int = 0

    @property
    def per(self) -> float:
        """Seconds per summary."""
        return self.seconds / self.done if self.done else float("nan")

    @property
    def total(self) -> float:
        """Seconds for all areas (measured, or extrapolated from the mean)."""
        return self.per * self.areas


def area_sets(base: PromiseSet, n: int) -> list[PromiseSet]:
    """n sets like ``base`` (as bench/plan_national.py makes them), each in its own police area."""
    data = base.model_dump()
    out = []
    for i in range(n):
        data.update(slug=f"kommun-{i:03d}", municipality=f"Kommun {i}",
                    police_area=f"LPO {i:03d}", seed=base.seed + i)
        out.append(PromiseSet.model_validate(data))
    return out


def setup(db: Database, n: int) -> tuple[Sets, list[tuple[int, str]]]:
    """Apply n variants; one chief per area; confirm ~80 % of the ended tasks.

    Returns the sets by (slug, year) and (chief member id, slug) per area."""
    base = load_promise_set(CONFIG)
    sets = area_sets(base.promise_set, n)
    rng = random.Random(7)
    applied = datetime(2014, 12, 31, 12, tzinfo=TZ)
    chiefs = []
    with db.transaction() as s:
        for i, ps in enumerate(sets):
            apply_promise_set(s, LoadedSet(base.path, ps, f"bench-{i}"), applied)
        munis = {slug: mid for mid, slug in s.execute(select(m.Municipality.id,
                                                             m.Municipality.slug))}
        for i, ps in enumerate(sets):
            chief = m.Member(telegram_id=500_000 + i, display_name=f"Chef {i}", role="chief",
                             municipality_id=munis[ps.slug], language="sv",
                             created_at=applied)
            s.add(chief)
            s.flush()
            chiefs.append((chief.id, ps.slug))
        chief_of = {munis[slug]: cid for cid, slug in chiefs}
        ended = s.execute(select(m.Task.id, m.Task.end_at, m.Promise.municipality_id)
                          .join(m.Promise).where(m.Task.end_at < NOW,
                                                 m.Task.status == "pending")).all()
        done = [(tid, end, muni) for tid, end, muni in ended if rng.random() < 0.8]
        if done:
            s.execute(insert(m.Completion), [
                {"task_id": tid, "member_id": chief_of[muni], "done_at": end + timedelta(hours=1),
                 "note": "", "counters": {}, "fields": {}} for tid, end, muni in done])
            s.execute(update(m.Task).where(m.Task.id.in_([d[0] for d in done]))
                      .values(status="done"))
    return {(ps.slug, ps.year): ps for ps in sets}, chiefs


def measure(name: str, db: Database, chiefs: list[tuple[int, str]],
            one: Callable[[Session, m.Member, str], tuple[int, int, int, bytes]],
            budget: float) -> Timing:
    """Run ``one`` for each chief in a fresh session until all are done or the budget is spent."""
    timing = Timing(name, 0, 0.0, len(chiefs))
    t0 = time.perf_counter()
    for member_id, slug in chiefs:
        with db.sessions() as s:
            member = s.get(m.Member, member_id)
            assert member is not None
            promises, chars, size, png = one(s, member, slug)
        timing.done += 1
        if timing.done == 1:
            timing.promises, timing.text_chars, timing.png_bytes = promises, chars, size
            timing.png_height = int.from_bytes(png[20:24], "big") if len(png) >= 24 else 0
        if time.perf_counter() - t0 > budget:
            break
    timing.seconds = time.perf_counter() - t0
    return timing


def summary_with(sets_for: Callable[[str], Sets]) -> Callable[[Session, m.Member, str],
                                                                tuple[int, int, int, bytes]]:
    """What the bot computes for a summary: the summary, its text, the chart (caption aside)."""
    def one(s: Session, member: m.Member, slug: str) -> tuple[int, int, int, bytes]:
        summary = build_summary(s, sets_for(slug), member, NOW)
        whole = render.summary_text(summary, "sv")
        parts = render.split(whole)  # what render_outgoing sends
        png = progress_chart(summary.promises, "sv", "Genomfört mot takt och mål, 15 juni")
        return len(summary.promises), len(whole) if parts else 0, len(png), png
    return one


def main() -> None:
    """Parse the options, set up, measure and print."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--areas", type=int, default=290)
    parser.add_argument("--small", action="store_true", help="20 areas")
    parser.add_argument("--budget", type=float, default=120.0,
                        help="seconds per variant before extrapolating")
    parser.add_argument("--profile", action="store_true", help="cProfile one full summary")
    args = parser.parse_args()
    n = 20 if args.small else args.areas
    with tempfile.TemporaryDirectory(prefix="bench-summaries-") as tmp:
        db = fresh_db(Path(tmp))
        t0 = time.perf_counter()
        sets, chiefs = setup(db, n)
        print(f"{n} areas applied, chiefs added, ended tasks confirmed: "
              f"{time.perf_counter() - t0:.1f} s (setup, not timed)", flush=True)
        progress_chart([], "sv", "warm-up")  # matplotlib's first figure, fonts: outside timing
        own = {slug: {k: v for k, v in sets.items() if k[0] == slug} for _, slug in chiefs}
        full = measure("all sets (as the bot)", db, chiefs,
                       summary_with(lambda _slug: sets), args.budget)
        print(f"full path: {full.done} summaries in {full.seconds:.1f} s", flush=True)
        scoped = measure("own set only", db, chiefs,
                         summary_with(lambda slug: own[slug]), args.budget)

        def chart_only(s: Session, member: m.Member, slug: str) -> tuple[int, int, int, bytes]:
            rows = promise_status(s, own[slug], member, NOW)
            t = time.perf_counter()
            png = progress_chart(rows, "sv", "Genomfört mot takt och mål, 15 juni")
            chart_time.append(time.perf_counter() - t)
            return len(rows), 0, len(png), png

        chart_time: list[float] = []
        measure("chart alone", db, chiefs, chart_only, args.budget / 2)
        chart = Timing("chart alone", len(chart_time), sum(chart_time), n)
        if args.profile:
            for label, sets_for in (("all sets", lambda _slug: sets),
                                    ("own set only", lambda slug: own[slug])):
                with db.sessions() as s:
                    member = s.get(m.Member, chiefs[0][0])
                    assert member is not None
                    prof = cProfile.Profile()
                    prof.runcall(summary_with(sets_for), s, member, chiefs[0][1])
                print(f"\nprofile of one summary, {label} (cumulative, our code, top 15):")
                pstats.Stats(prof).sort_stats("cumulative").print_stats("medlofte_bot", 15)
        db.dispose()

    def how(t: Timing) -> str:
        return "measured" if t.done == t.areas else f"extrapolated from {t.done}"

    rows = [
        ("areas (chiefs)", f"{n}", "", f"{n}"),
        ("total, all summaries", f"{full.total:.1f} s ({how(full)})",
         f"< 30 s {verdict(full.total < 30)}", f"{scoped.total:.1f} s ({how(scoped)})"),
        ("per summary", f"{full.per * 1000:.0f} ms", f"< {30 / n * 1000:.0f} ms",
         f"{scoped.per * 1000:.0f} ms"),
        ("ratio to the chart alone", f"{full.per / chart.per:.1f}", "",
         f"{scoped.per / chart.per:.1f}"),
        ("promise rows in one summary", f"{full.promises}", f"{scoped.promises} (own area)",
         f"{scoped.promises}"),
        ("text before the 4096 cut", f"{full.text_chars} chars", "<= 4096",
         f"{scoped.text_chars} chars"),
        ("chart PNG", f"{full.png_bytes // 1024} KiB, {full.png_height} px high",
         "<= 10 000 px (Telegram)", f"{scoped.png_bytes // 1024} KiB, {scoped.png_height} px"),
    ]
    print()
    print(table(rows, ("figure", "ours: all sets", "goal", "baseline: own set only")))
    print(f"\nbaseline, chart alone (one area's rows): {chart.per * 1000:.0f} ms per chart, "
          f"{chart.total:.1f} s for {n} ({how(chart)})")


if __name__ == "__main__":
    main()
