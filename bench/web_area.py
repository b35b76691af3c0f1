"""The web view's area page for a national deployment: 290 municipalities (bench/
plan_national.py's generator) in police areas of three, applied to one database, and a
chief's area page asked for over real HTTP (uvicorn on loopback, httpx), one request at a
time. Goal: p95 <= 200 ms.

Printed beside it, in the same process and server: the stylesheet (what HTTP, Starlette and
the thread hop cost: the floor), the area page with its chart drawn on every request (the
chart cache emptied first), and a settings coordinator who sees all 290 municipalities.

    .venv/bin/python bench/web_area.py [--municipalities 290] [--requests 200] [--db-url URL]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
from plan_national import variants

sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))
from webserve import serve

from medlofte_bot.configuration import LoadedSet, load_promise_set
from medlofte_bot.scheduling.clock import ManualClock
from medlofte_bot.services.context import ServiceContext
from medlofte_bot.services.plans import apply_promise_set
from medlofte_bot.services.web import WebAccess
from medlofte_bot.storage import models as m
from medlofte_bot.storage.database import Database
from medlofte_bot.web import render

CONFIG = Path(__file__).parents[1] / "config" / "arvidsjaur-2015.toml"
APPLIED = datetime(2015, 1, 1, 5, 0, tzinfo=UTC)
NOW = datetime(2015, 6, 15, 10, 0, tzinfo=UTC)  # mid-year: every promise has a pace
PER_AREA = 3


def national(n: int) -> list[LoadedSet]:
    """n Arvidsjaur-like sets, three to a police area (each area shares its teams)."""
    base = load_promise_set(CONFIG)
    return [LoadedSet(base.path, ps.model_copy(update={"police_area": f"LPO {i // PER_AREA:03d}"}),
                      f"{base.digest}-{i}")
            for i, ps in enumerate(variants(base.promise_set, n))]


def build(db: Database, loaded: list[LoadedSet]) -> tuple[ServiceContext, int]:
    """Apply every set; one chief (area LPO 000) and one settings coordinator."""
    for one in loaded:
        with db.transaction() as s:
            apply_promise_set(s, one, APPLIED)
    with db.transaction() as s:
        first = s.query(m.Municipality).filter_by(slug=loaded[0].promise_set.slug).one()
        s.add_all([m.Member(telegram_id=1, display_name="Kim", role="chief",
                            municipality_id=first.id, language="sv", created_at=APPLIED),
                   m.Member(telegram_id=2, display_name="Cora", role="coordinator",
                            language="sv", created_at=APPLIED)])
        tasks = s.query(m.Task).count()
    sets = {(x.promise_set.slug, x.promise_set.year): x.promise_set for x in loaded}
    return ServiceContext(db, sets, ManualClock(NOW)), tasks


def timed(client: httpx.Client, path: str, n: int,
          before: Callable[[], None] | None = None) -> list[float]:
    """n sequential GETs of ``path`` (each must answer 200), in milliseconds."""
    out = []
    for _ in range(n):
        if before is not None:
            before()
        t0 = time.perf_counter()
        answer = client.get(path)
        out.append((time.perf_counter() - t0) * 1000)
        assert answer.status_code == 200, (path, answer.status_code)
    return out


def p(values: list[float], q: float) -> float:
    """The q-quantile (0..1) of ``values``, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def line(name: str, values: list[float]) -> str:
    return (f"{name:<44} {len(values):>5}  {statistics.median(values):>8.1f}  "
            f"{p(values, 0.95):>8.1f}  {max(values):>8.1f}")


def main() -> None:
    """Build the deployment, serve it, measure, print."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--municipalities", type=int, default=290)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--db-url", help="an empty database (default: a SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        db = Database(args.db_url or f"sqlite:///{folder}/national.db")
        db.migrate()
        t0 = time.perf_counter()
        ctx, tasks = build(db, national(args.municipalities))
        built = time.perf_counter() - t0
        access = WebAccess(ctx)
        load_before = os.getloadavg()[0]
        with serve(ctx) as base, httpx.Client(base_url=base, timeout=600) as client:
            for telegram_id in (1, 2):
                token = access.login_link(telegram_id).token
                answer = client.post(f"/webb/logga-in/{token}", headers={"origin": base})
                assert answer.status_code == 303, answer.status_code
                if telegram_id == 1:
                    chief = dict(client.cookies)
                    client.cookies.clear()
            admin = dict(client.cookies)
            client.cookies.clear()
            client.cookies.update(chief)
            first = timed(client, "/webb/", 1, render._CHARTS.clear)
            floor = timed(client, "/webb/stil.css", args.requests)
            area = timed(client, "/webb/", args.requests)
            cold = timed(client, "/webb/", max(args.requests // 4, 5), render._CHARTS.clear)
            client.cookies.clear()
            client.cookies.update(admin)
            everyone = timed(client, "/webb/", 2)
        db.dispose()
    print(f"national deployment: {args.municipalities} municipalities in police areas of "
          f"{PER_AREA}, {tasks} tasks, built in {built:.1f} s "
          f"({'PostgreSQL' if args.db_url else 'SQLite'}); load average during the run "
          f"{load_before:.1f} -> {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"{'request (one at a time, real HTTP)':<44} {'n':>5}  {'p50 ms':>8}  {'p95 ms':>8}  "
          f"{'max ms':>8}")
    print(line("area page, a chief (3 municipalities)", area))
    verdict = "✔" if p(area, 0.95) <= 200 else "✘"
    print(f"  goal p95 <= 200 ms: {verdict}  (first request, chart drawn: {first[0]:.0f} ms)")
    print(line("  the same, chart drawn every time", cold))
    print(line("baseline: the stylesheet (HTTP floor)", floor))
    print(line(f"a settings coordinator ({args.municipalities} municipalities)", everyone))


if __name__ == "__main__":
    main()
