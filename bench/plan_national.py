"""Plan the whole country: 290 Arvidsjaur-like promise sets with varied seeds.

Prints tasks, wall time, tasks/s and peak memory, beside a baseline run in the same
process (planning one set 290 times without re-validation), so the ratio shows the
cost of building 290 distinct sets. Goal: the national plan in under 2 s on one core.

    .venv/bin/python bench/plan_national.py [--municipalities 290]
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
from pathlib import Path

from medlofte_bot.configuration import load_promise_set
from medlofte_bot.domain.promise_set import PromiseSet
from medlofte_bot.planning.calendar import swedish_days
from medlofte_bot.planning.planner import plan_year

CONFIG = Path(__file__).parents[1] / "config" / "arvidsjaur-2015.toml"


def variants(base: PromiseSet, n: int) -> list[PromiseSet]:
    """n promise sets like ``base``, each with its own slug and seed."""
    data = base.model_dump()
    out = []
    for i in range(n):
        data.update(slug=f"kommun-{i:03d}", municipality=f"Kommun {i}", seed=base.seed + i)
        out.append(PromiseSet.model_validate(data))
    return out


def run(sets: list[PromiseSet]) -> tuple[int, float]:
    """Plan every set, keeping every plan as a caller would; returns (tasks, seconds)."""
    t0 = time.perf_counter()
    plans = [plan_year(ps) for ps in sets]
    return sum(len(p.tasks) for p in plans), time.perf_counter() - t0


def peak_mib(sets: list[PromiseSet]) -> float:
    """Peak memory allocated while planning all sets (a separate, slower traced pass)."""
    tracemalloc.start()
    run(sets)
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return peak


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--municipalities", type=int, default=290)
    args = parser.parse_args()
    base = load_promise_set(CONFIG).promise_set
    swedish_days(base.year)  # the holiday table is built once per year, outside the timing
    sets = variants(base, args.municipalities)
    baseline = run([base] * args.municipalities)
    tasks, seconds = run(sets)
    peak = peak_mib(sets)
    print(f"municipalities      {args.municipalities}")
    print(f"tasks               {tasks}")
    print(f"wall time           {seconds:.3f} s  (goal < 2 s)")
    print(f"tasks/s             {tasks / seconds:,.0f}")
    print(f"peak memory         {peak:.1f} MiB (tracemalloc, separate pass)")
    print(f"baseline, one set x{args.municipalities}: {baseline[1]:.3f} s; "
          f"ratio {seconds / baseline[1]:.2f}")


if __name__ == "__main__":
    main()
