"""The plan as a readable table, as JSON and as an iCalendar file."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from itertools import groupby
from typing import Any

from icalendar import Calendar, Event

from medlofte_bot import texts
from medlofte_bot.domain.plan import Plan, PlannedTask, Target
from medlofte_bot.domain.policy import TaskFacts, carries_details
from medlofte_bot.domain.promise_set import PromiseSet


def plan_json(plan: Plan, ps: PromiseSet) -> dict[str, Any]:
    """The plan in the documented JSON shape (stable: the same input gives the same bytes)."""
    promises = []
    for p in ps.promises:
        target = plan.targets.get(p.id, Target(p.id, None))
        promises.append({
            "id": p.id, "title": p.title, "kind": p.kind, "target": target.target,
            "joint_target": target.joint_target, "per": target.per, "count_per": target.count,
            "placement": p.placement, "visibility": p.visibility,
            "partner_role": p.joint.partner_role if p.joint else None,
            "invite": list(p.invite), "counters": list(p.counters),
            "applies_to": list(p.applies_to),
        })
    tasks = [{
        "id": t.key, "promise": t.promise, "kind": t.kind,
        "start": t.start.isoformat(), "end": t.end.isoformat(), "team": t.team,
        "joint": t.joint, "vehicle": t.vehicle, "visibility": t.visibility,
    } for t in plan.tasks]
    return {"municipality": plan.municipality, "year": plan.year, "timezone": ps.timezone,
            "promises": promises, "tasks": tasks}


def target_line(target: Target, lang: str) -> str:
    """'6 per termin × 2 = 12' or '6 under perioden' for one promise's target."""
    if target.per == "risk_night":
        return texts.t("basis.risk_nights", lang, count=target.target)
    if target.per in (None, "year") or target.buckets <= 1:
        return texts.t("basis.target", lang, count=target.target)
    return texts.t("basis.frequency", lang, count=target.count,
                   per=texts.t(f"per.{target.per}", lang), buckets=target.buckets,
                   total=target.target)


def task_extra(ps: PromiseSet, task: PlannedTask, lang: str) -> str:
    """What else a person needs to know about a task: label, vehicle, partner, secrecy."""
    parts = [task.label] if task.label else []
    if task.vehicle:
        parts.append(texts.t(f"vehicle.{task.vehicle}", lang))
    if task.joint and task.partner_role:
        parts.append(texts.t("joint", lang, role=ps.partner_role(task.partner_role).title.lower()))
    if task.visibility == "police":
        parts.append(f"[{texts.t('visibility.police', lang)}]")
    return ", ".join(parts)


def plan_table(plan: Plan, ps: PromiseSet, lang: str = "sv") -> str:
    """A readable table grouped by month, with each promise's target on top."""
    lines = [texts.t("plan.title", lang, municipality=plan.municipality, year=plan.year), ""]
    titles = {p.id: p.title for p in ps.promises}
    for p in ps.promises:
        target = plan.targets.get(p.id, Target(p.id, None))
        if target.target is None:
            applies = ", ".join(titles.get(a, a).lower() for a in p.applies_to) or "-"
            lines.append(texts.t("plan.promise_none", lang, title=p.title, applies=applies))
            continue
        line = texts.t("plan.promise_line", lang, title=p.title, target=target.target,
                       basis=target_line(target, lang))
        if target.joint_target:
            line += texts.t("plan.promise_joint", lang, joint=target.joint_target)
        lines.append(line)
    teams = {t.id: t.name for t in ps.teams}
    for month_start, tasks in groupby(plan.tasks, key=lambda t: t.start.date().replace(day=1)):
        lines += ["", texts.month(month_start, lang).capitalize()]
        for t in tasks:
            lines.append(texts.t(
                "plan.task_line", lang, day=texts.day(t.start.date(), lang),
                start=texts.clock(t.start, lang), end=texts.clock(t.end, lang),
                kind=texts.kind(t.kind, lang, titles[t.promise]), team=teams.get(t.team, t.team),
                extra=task_extra(ps, t, lang)).rstrip())
    lines += ["", texts.t("plan.total", lang, count=len(plan.tasks))]
    for s in plan.shortfalls:
        lines.append(texts.t("plan.shortfall", lang, title=titles[s.promise], target=s.target,
                             reachable=s.reachable))
    return "\n".join(lines)


#: RFC 5545 CLASS by who may see a task: police-only work is the most restricted
ICS_CLASS = {"police": "CONFIDENTIAL", "partners": "PRIVATE", "public": "PUBLIC"}
#: an event's STATUS by the task's: a cancelled task stays in the file, marked, so a
#: calendar that imported it before removes it
ICS_STATUS = {"pending": "CONFIRMED", "done": "CONFIRMED", "missed": "CONFIRMED",
              "cancelled": "CANCELLED"}


def plan_ics(plan: Plan, ps: PromiseSet, now: datetime, include_police_only: bool = False,
             lang: str = "sv") -> tuple[bytes, int]:
    """The plan as computed from the file (before it is applied), as an iCalendar file."""
    title = texts.t("plan.title", lang, municipality=plan.municipality, year=plan.year)
    return tasks_ics(title, [(ps, t, None) for t in plan.tasks], now, include_police_only,
                     lang)


def tasks_ics(title: str, tasks: Sequence[tuple[PromiseSet, PlannedTask, datetime | None]],
              now: datetime, include_police_only: bool = False, lang: str = "sv"
              ) -> tuple[bytes, int]:
    """An RFC 5545 calendar, one event per task (with the time it last changed, if known);
    police-only tasks left out unless asked, and always when their promise set keeps their
    details off chat (``secret_details = "web"``: a calendar file goes to phones and their
    clouds). Returns the bytes and how many were left out.

    The UID is the task's key in its promise set and year, so a calendar that imports the
    file again updates moved tasks and drops cancelled ones instead of doubling them.
    """
    cal = Calendar()
    cal.add("prodid", "-//medlofte-bot//medborgarlöften//SV")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", title)
    left_out = 0
    names: dict[tuple[str, int], tuple[dict[str, str], dict[str, str]]] = {}
    for ps, t, changed in tasks:
        if (t.visibility == "police" and not include_police_only) or not carries_details(
                TaskFacts(t.kind, t.visibility, None, 0, tuple(t.invited), str(t.status)),
                ps.secret_details):
            left_out += 1
            continue
        if (ps.slug, ps.year) not in names:  # once per promise set, not per event
            names[(ps.slug, ps.year)] = ({p.id: p.title for p in ps.promises},
                                         {team.id: team.name for team in ps.teams})
        titles, teams = names[(ps.slug, ps.year)]
        event = Event()
        event.add("uid", f"{t.key}.{ps.slug}.{ps.year}@medlofte-bot")
        event.add("dtstamp", now)
        if changed is not None:
            event.add("last-modified", changed)
            event.add("sequence", int(changed.timestamp()) // 60)  # grows with every change
        event.add("dtstart", t.start)
        event.add("dtend", t.end)
        kind = texts.kind(t.kind, lang, titles.get(t.promise, ""))
        event.add("summary", kind + (f": {t.label}" if t.label else ""))
        event.add("description", "\n".join(filter(None, [
            titles.get(t.promise, t.promise), teams.get(t.team, t.team),
            task_extra(ps, t, lang)])))
        event.add("categories", [kind])
        event.add("class", ICS_CLASS.get(t.visibility, "CONFIDENTIAL"))
        event.add("status", ICS_STATUS.get(str(t.status), "CONFIRMED"))
        cal.add_component(event)
    cal.add_missing_timezones()
    return cal.to_ical(), left_out
