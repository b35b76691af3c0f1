"""The planner: spreads each promise's tasks over the year, and re-plans what is left.

Pure and deterministic: the same promise set, existing tasks and ``now`` give the
same plan. Jitter is bounded (a third of a segment either way) and seeded from the
promise set's seed, so a schedule is reproducible but not guessable from outside.
"""

from __future__ import annotations

import bisect
import random
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from medlofte_bot.domain.plan import Plan, PlannedTask, Shortfall, Target
from medlofte_bot.domain.promise_set import WEEKDAYS, Promise, PromiseSet, TimeWindow
from medlofte_bot.planning.booking import Booking
from medlofte_bot.planning.buckets import Bucket, buckets
from medlofte_bot.planning.calendar import local_instant, plus_minutes, risk_nights

LEAST_USED_DAYS = 2  # days of distance from its even spot a task moves to vary the weekday
JITTER = 0.33  # share of a segment a task may move either way from its even spot
STEP_MINUTES = 30


def plan_year(ps: PromiseSet, year: int | None = None,
              busy: Sequence[PlannedTask] = ()) -> Plan:
    """The whole year's plan from scratch (around ``busy``: see ``replan``)."""
    year = year or ps.year
    start = local_instant(date(year, 1, 1), datetime.min.time(), ps.tz) - timedelta(seconds=1)
    return replan(ps, [], start, year, busy)


def plan_area(sets: Sequence[PromiseSet]) -> list[Plan]:
    """Each set's plan, in the order given; a team that several sets of one police area
    name is one team, so each set is planned around what the sets before it booked."""
    plans: list[Plan] = []
    for ps in sets:
        busy = [t for other, plan in zip(sets, plans, strict=False)
                if other.police_area == ps.police_area for t in plan.tasks]
        plans.append(plan_year(ps, busy=busy))
    return plans


def replan(
    ps: PromiseSet, existing: Sequence[PlannedTask], now: datetime, year: int | None = None,
    busy: Sequence[PlannedTask] = (),
) -> Plan:
    """Add what is missing after ``now`` so targets hold where possible; never move a task.

    Done tasks count; pending ones (past ones await an answer) are expected to count;
    cancelled and missed ones do not. Missing tasks go to days after ``now``, carried
    forward from buckets (terms, weeks) that are already over. ``busy`` are other
    municipalities' tasks in the same police area: their teams' time is taken (only the
    team and the times are read).
    """
    year = year or ps.year
    booking = Booking(t for t in [*existing, *busy] if t.status != "cancelled")
    targets: dict[str, Target] = {}
    added: list[PlannedTask] = []
    shortfalls: list[Shortfall] = []
    spread = {p.id: buckets(ps, p, year) for p in ps.promises if p.placement == "spread"}
    order = sorted(ps.promises, key=lambda p: _placement_rank(p, spread.get(p.id)))
    for promise in order:
        mine = [t for t in existing if t.promise == promise.id]
        if promise.placement == "risk_nights":
            new, target, short = _risk_night_tasks(ps, promise, year, mine, now, booking)
        elif promise.placement == "spread":
            new, target, short = _spread_tasks(ps, promise, spread[promise.id], mine, now,
                                               booking)
        else:
            targets[promise.id] = Target(promise.id, None)
            continue
        targets[promise.id] = target
        added.extend(new)
        if short:
            shortfalls.append(short)
    tasks = sorted([*existing, *added], key=lambda t: (t.start, t.promise, t.key))
    return Plan(ps.municipality, year, tasks, targets, shortfalls)


def _placement_rank(p: Promise, plan_buckets: list[Bucket] | None) -> tuple[int, float]:
    """Fixed dates first, then the promises with the fewest free days per task."""
    if plan_buckets is None:
        return (0 if p.placement == "risk_nights" else 2, 0.0)
    total = sum(b.count for b in plan_buckets)
    return (1, sum(len(b.days) for b in plan_buckets) / max(total, 1))


def _next_keys(promise_id: str, existing: Iterable[PlannedTask]) -> Iterable[str]:
    used = [int(k.rsplit("-", 1)[1]) for k in (t.key for t in existing)
            if k.rsplit("-", 1)[-1].isdigit()]
    n = max(used, default=0)
    while True:
        n += 1
        yield f"{promise_id}-{n:02d}"


def _risk_night_tasks(
    ps: PromiseSet, p: Promise, year: int, mine: list[PlannedTask], now: datetime,
    booking: Booking,
) -> tuple[list[PlannedTask], Target, Shortfall | None]:
    nights = risk_nights(ps, year)
    target = Target(p.id, len(nights), 0, "risk_night", 1, len(nights))
    covered = {t.start.astimezone(ps.tz).date() for t in mine if t.status in ("pending", "done")}
    lost = {t.start.astimezone(ps.tz).date() for t in mine if t.status in ("cancelled", "missed")}
    keys = _next_keys(p.id, mine)
    new: list[PlannedTask] = []
    for night in nights:
        if night.day in covered:
            continue
        start = local_instant(night.day, night.hours.start, ps.tz)
        end = plus_minutes(start, night.hours.minutes)
        if start <= now and night.day in lost:
            continue
        team = booking.free_team(_teams(ps, p), start, end) if start > now else None
        if team is None:
            continue
        task = PlannedTask(
            key="", promise=p.id, kind=p.kind, start=start, end=end, team=team,
            visibility=p.visibility, label=night.name, invited=tuple(p.invite),
        )
        booking.add(task)
        new.append(task)
    new = _with_keys(new, keys)
    reachable = len(covered) + len(new)
    short = Shortfall(p.id, len(nights), reachable) if reachable < len(nights) else None
    return new, target, short


def _with_keys(tasks: list[PlannedTask], keys: Iterable[str]) -> list[PlannedTask]:
    """Number new tasks in time order."""
    ordered = sorted(tasks, key=lambda t: t.start)
    return [replace(t, key=k) for t, k in zip(ordered, keys, strict=False)]


def _teams(ps: PromiseSet, p: Promise) -> list[str]:
    return list(p.teams) or [t.id for t in ps.teams]


class _Weekdays:
    """Variation over weekdays for one promise: where several are allowed, a day is a
    good pick when its weekday would neither be the third in a row nor take more than its
    share (half the tasks with two weekdays; with more, an even share and one more)."""

    def __init__(self, p: Promise, total: int, tz: ZoneInfo,
                 existing: Sequence[PlannedTask]) -> None:
        self.varied = len(p.weekdays) > 1
        self.allowed = [WEEKDAYS.index(w) for w in p.weekdays]
        share = -(-total // len(p.weekdays))
        self.cap = max(-(-total // 2) if len(p.weekdays) == 2 else share + 1, 1)
        self.tz = tz
        self.dates = sorted(t.start.astimezone(tz).date() for t in existing)
        self.counts = Counter(d.weekday() for d in self.dates)

    def good(self, day: date) -> bool:
        """Whether a task on ``day`` keeps the variation."""
        if not self.varied:
            return True
        wd = day.weekday()
        if self.counts[wd] >= self.cap:
            return False
        i = bisect.bisect(self.dates, day)
        run = [*(d.weekday() for d in self.dates[max(i - 2, 0):i]), wd,
               *(d.weekday() for d in self.dates[i:i + 2])]
        return not any(run[k] == run[k + 1] == run[k + 2] for k in range(len(run) - 2))

    def penalties(self) -> dict[int, int]:
        """By weekday, the days of distance its extra uses weigh, so the weekdays take
        turns (0 for every day where only one weekday is allowed)."""
        if not self.varied:
            return dict.fromkeys(range(7), 0)
        least = min(self.counts[w] for w in self.allowed)
        return {w: LEAST_USED_DAYS * (self.counts[w] - least) for w in range(7)}

    def add(self, task: PlannedTask) -> None:
        """Count a placed task."""
        day = task.start.astimezone(self.tz).date()
        bisect.insort(self.dates, day)
        self.counts[day.weekday()] += 1


def _spread_tasks(
    ps: PromiseSet, p: Promise, plan_buckets: list[Bucket], mine: list[PlannedTask],
    now: datetime, booking: Booking,
) -> tuple[list[PlannedTask], Target, Shortfall | None]:
    # a plain target counts even when no day can hold it: that is a shortfall, not a zero
    total = p.target if p.frequency is None else sum(b.count for b in plan_buckets)
    total = total or 0
    joint_total = min(p.joint.count, total) if p.joint else 0
    per = p.frequency.per if p.frequency else "year"
    count = p.frequency.count if p.frequency else total
    target = Target(p.id, total, joint_total, per, count, len(plan_buckets))
    counting = [t for t in mine if t.status in ("pending", "done")]
    joint_need = joint_total - sum(1 for t in counting if t.joint)
    rng = random.Random(f"{ps.seed}:{p.id}:{now.isoformat()}:{len(mine)}")
    used_days = {t.start.astimezone(ps.tz).date() for t in counting}
    weekdays = _Weekdays(p, total, ps.tz, counting)
    today = now.astimezone(ps.tz).date()
    new: list[PlannedTask] = []
    carry = 0
    for bucket in plan_buckets:
        have = sum(1 for t in counting if bucket.first <= t.start.astimezone(ps.tz).date()
                   <= bucket.last)
        need = max(bucket.count - have, 0) + carry
        days = [d for d in bucket.days if d > today and d not in used_days]
        placed = _place(ps, p, days, need, joint_need, rng, booking, now, len(new), weekdays)
        joint_need -= sum(1 for t in placed if t.joint)
        used_days.update(t.start.astimezone(ps.tz).date() for t in placed)
        new.extend(placed)
        carry = need - len(placed)
    new = _alternate_vehicles(p, counting, new)
    keys = _next_keys(p.id, mine)
    new = _with_keys(new, keys)
    reachable = len(counting) + len(new)
    joint_reachable = joint_total - max(joint_need, 0)
    short = None
    if reachable < total or joint_reachable < joint_total:
        short = Shortfall(p.id, total, reachable, joint_total, joint_reachable)
    return new, target, short


def _place(
    ps: PromiseSet, p: Promise, days: list[date], need: int, joint_need: int,
    rng: random.Random, booking: Booking, now: datetime, index0: int, weekdays: _Weekdays,
) -> list[PlannedTask]:
    """Put ``need`` tasks on ``days``, evenly with bounded jitter; joint ones on partner days."""
    if need <= 0 or not days:
        return []
    role = ps.partner_role(p.joint.partner_role) if p.joint else None
    first, last = days[0], days[-1]
    span = (last - first).days + 1
    joint_slots = _joint_slots(need, max(joint_need, 0)) if role else set()
    windows = _windows(ps, p)
    offset = rng.randrange(len(windows))
    placed: list[PlannedTask] = []
    free = list(days)
    for i in range(need):
        segment = span / need
        aim = first + timedelta(days=(i + 0.5 + rng.uniform(-JITTER, JITTER)) * segment)
        joint = i in joint_slots
        label, window = windows[(index0 + i + offset) % len(windows)]
        # a varied day first; a joint task keeps its partner before its variety
        tries = [(True, joint), (False, joint)] + ([(True, False), (False, False)] if joint
                                                   else [])
        found = None
        for varied, as_joint in tries:
            found = _first_fit(ps, p, free, aim, window, label, as_joint, rng, booking, now,
                               weekdays if varied else None)
            if found is not None:
                break
        if found is None:
            continue
        task, day = found
        weekdays.add(task)
        booking.add(task)
        free.remove(day)
        placed.append(task)
    return placed


def _joint_slots(need: int, joint: int) -> set[int]:
    """Which of ``need`` evenly spread tasks are the joint ones, spread too."""
    joint = min(joint, need)
    return {int((k + 0.5) * need / joint) for k in range(joint)} if joint else set()


def _windows(ps: PromiseSet, p: Promise) -> list[tuple[str, TimeWindow]]:
    if p.use_school_windows and ps.school:
        return list(ps.school.windows.items())
    return [("", w) for w in p.hours]


def _first_fit(
    ps: PromiseSet, p: Promise, days: list[date], aim: date, window: TimeWindow, label: str,
    joint: bool, rng: random.Random, booking: Booking, now: datetime,
    weekdays: _Weekdays | None = None,
) -> tuple[PlannedTask, date] | None:
    """The first day nearest ``aim`` where the time fits and a team is free (and that day);
    with ``weekdays``, only a day that keeps the weekdays varied, the least-used ones
    weighing as nearer."""
    duration = p.duration_minutes or window.minutes
    duration = min(duration, window.minutes)
    steps = (window.minutes - duration) // STEP_MINUTES
    shift = STEP_MINUTES * rng.randint(0, steps) if steps > 0 else 0
    extra = weekdays.penalties() if weekdays else dict.fromkeys(range(7), 0)
    ordered = sorted(days, key=lambda d: (abs((d - aim).days) + extra[d.weekday()], d))
    partner = ps.partner_role(p.joint.partner_role) if (joint and p.joint) else None
    for day in ordered:
        if partner and not partner.available_on(day):
            continue
        if weekdays and not weekdays.good(day):
            continue
        # the shift is wall-clock time: on a DST night elapsed minutes would leave the window
        wall = datetime.combine(day, window.start) + timedelta(minutes=shift)
        start = local_instant(wall.date(), wall.time(), ps.tz)
        end = plus_minutes(start, duration)
        if start <= now:
            continue
        team = booking.free_team(_teams(ps, p), start, end)
        if team is None:
            continue
        invited = tuple(dict.fromkeys([*(p.invite), *([partner.id] if partner else [])]))
        return PlannedTask(
            key="", promise=p.id, kind=p.kind, start=start, end=end, team=team, joint=joint,
            vehicle=None, visibility="partners" if joint else p.visibility, label=label,
            partner_role=partner.id if partner else None, invited=invited,
        ), day
    return None


def _alternate_vehicles(
    p: Promise, existing: list[PlannedTask], new: list[PlannedTask]
) -> list[PlannedTask]:
    """Give new tasks the vehicle that alternates with the task before them in time."""
    if not p.vehicles:
        return new
    timeline = sorted([*existing, *new], key=lambda t: t.start)
    out: list[PlannedTask] = []
    previous: str | None = None
    fresh = {id(t) for t in new}
    for task in timeline:
        if id(task) in fresh:
            if previous is None:
                vehicle = p.vehicles[0]
            else:
                vehicle = p.vehicles[(p.vehicles.index(previous) + 1) % len(p.vehicles)] \
                    if previous in p.vehicles else p.vehicles[0]
            task = replace(task, vehicle=vehicle)
            out.append(task)
        previous = task.vehicle
    return out
