"""Turning plain data from the services into message texts and buttons."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TypeVar

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from medlofte_bot import texts
from medlofte_bot.services import notices
from medlofte_bot.services.outbox import Notice, Outgoing
from medlofte_bot.services.status import PromiseStatus
from medlofte_bot.services.summary import Summary
from medlofte_bot.services.tasks import TaskView, follow_up_key
from medlofte_bot.services.usecases import StatusView

MESSAGE_MAX = 4096
MORE = "\n…"  # what a cut message ends with
__all__ = ["cut_words", "fit", "follow_up_question", "message", "pack", "split", "task_line"]
# A sealed task (its promise set says secret_details = "web" and it is police-only; the
# services ask the policy, domain/policy.carries_details, for every task they hand out) is
# said here and nowhere else: by its number, that it is due or done, and the link to its web
# page. The functions below that say a task's kind, time, place or promise check ``sealed``.
T = TypeVar("T")


def units(text: str) -> int:
    """The length Telegram counts: UTF-16 code units (an emoji is two), never below len()."""
    return len(text) if text.isascii() else len(text.encode("utf-16-le")) // 2


def cut_words(text: str, limit: int) -> str:
    """At most ``limit`` characters of ``text``, ending after a whole word.

    Only a run of letters longer than half the limit, which is no word, is cut inside: a cut
    at its start would drop most of what was sent (``/stallin 7 xxx…`` would lose its reason).
    """
    if len(text) <= limit:
        return text
    head = text[: limit + 1]  # a break just after the limit keeps the last word whole
    cut = max(head.rfind(" "), head.rfind("\n"), head.rfind("\t"))
    return (text[:cut] if cut >= limit // 2 else text[:limit]).rstrip()


def fit(text: str, limit: int = MESSAGE_MAX) -> str:
    """The text cut to Telegram's limit at a line break (or else between words), marked with
    '…'; a text that fits is returned as it is."""
    if len(text) * 2 <= limit or units(text) <= limit:
        return text
    room = limit - len(MORE)
    end = room
    while (excess := units(text[:end]) - room) > 0:  # characters outside the BMP count twice
        end -= (excess + 1) // 2
    head = text[:end]
    cut = head.rfind("\n", 0, end)
    if cut <= 0:
        cut = len(cut_words(head + text[end: end + 1], end))
    return text[: cut if cut > 0 else end].rstrip() + MORE


def split(text: str, limit: int = MESSAGE_MAX) -> list[str]:
    """A long text as several messages, each within ``limit``: broken between sections
    (blank lines) where one fits, else between lines; only a single line longer than a
    whole message is cut, between words (``fit``). Nothing is left out."""
    if units(text) <= limit:
        return [text]
    pieces: list[tuple[str, str]] = []  # (joiner before it, piece)
    for section in text.split("\n\n"):
        if units(section) <= limit:
            pieces.append(("\n\n", section))
        else:
            pieces.extend(("\n", fit(line, limit)) for line in section.split("\n"))
    parts: list[str] = []
    current = ""
    for joiner, piece in pieces:
        joined = f"{current}{joiner}{piece}" if current else piece
        if current and units(joined) > limit:
            parts.append(current)
            current = piece
        else:
            current = joined
    if current:
        parts.append(current)
    return [part.strip("\n") for part in parts if part.strip()]


def message(key: str, lang: str, /, **params: object) -> str:
    """The text ``key`` with ``params``; when it would pass Telegram's limit, the longest
    text parameter (what the person typed) is cut between words and marked '…' first."""
    text = texts.t(key, lang, **params)
    over = units(text) - MESSAGE_MAX
    longest = max((name for name, value in params.items() if isinstance(value, str)),
                  key=lambda name: len(str(params[name])), default=None)
    if over <= 0 or longest is None:
        return fit(text)
    value = str(params[longest])
    shorter = cut_words(value, max(0, len(value) - over - 1)) + "…"
    return fit(texts.t(key, lang, **{**params, longest: shorter}))


def pack(lines: Sequence[tuple[str, T | None]], limit: int = MESSAGE_MAX,
         most_marks: int = 20) -> list[tuple[str, list[T]]]:
    """Lines packed into as few messages as fit ``limit`` characters, each line whole (one
    longer than a message is cut by ``fit``), with at most ``most_marks`` marked lines (a
    mark is what a line's button is for) per message: several messages, never a cut list."""
    out: list[tuple[str, list[T]]] = []
    text: list[str] = []
    marks: list[T] = []
    size = 0
    for line, mark in lines:
        line = fit(line, limit)
        full = size + len(line) + (1 if text else 0) > limit
        if text and (full or (mark is not None and len(marks) >= most_marks)):
            out.append(("\n".join(text).strip("\n"), marks))
            text, marks, size = [], [], 0
        if not text and not line:
            continue  # a blank line opens no message
        size += len(line) + (1 if text else 0)
        text.append(line)
        if mark is not None:
            marks.append(mark)
    if text:
        out.append(("\n".join(text).strip("\n"), marks))
    return out


def in_web(page: str | None, lang: str) -> str:
    """Where details kept off chat are: a page in the web view, or (no web view set up)
    that they are only there."""
    return texts.t("secret.in_web", lang, link=page) if page \
        else texts.t("secret.in_web_none", lang)


def details(task: TaskView, lang: str) -> str:
    """Where a sealed task's details are: its page in the web view."""
    return in_web(task.page, lang)


def internal_report_note(page: str | None, lang: str) -> str:
    """After the public year report: the internal one (with the police-only tasks' times)
    is read in the web view, since the promise set keeps those details off chat."""
    return texts.t("secret.internal_report", lang, details=in_web(page, lang))


def task_line(task: TaskView, lang: str, place: bool = False) -> str:
    """'#17 fredag 12 juni kl. 22.00 – Krogtillsyn (Arvidsjaur lag 1)'; with ``place``, the
    municipality too ('… – Krogtillsyn i Arjeplog (Arvidsjaur lag 2)'), for a reader whose
    tasks lie in several; the planned car where the plan names one ('…, civil bil').
    A sealed task: '#17 (detaljer i webbvyn efter inloggning: https://…/webb/uppdrag/17)'."""
    extra = texts.t("task_done_mark", lang) if task.status == "done" else ""
    if task.sealed:
        return texts.t("secret.task_line", lang, id=task.id, extra=extra,
                       details=details(task, lang))
    if task.joint:
        extra = texts.plural("task_joint_mark", task.partners_joined, lang) + extra
    where = texts.t("task_place", lang, municipality=task.municipality) \
        if place and task.municipality else ""
    vehicle = ", " + texts.t(f"vehicle.{task.vehicle}", lang) if task.vehicle else ""
    return texts.t("task_line", lang, id=task.id, when=texts.when(task.start, lang),
                   kind=texts.kind(task.kind, lang, task.title),
                   label=f": {task.label}" if task.label else "", place=where,
                   team=task.team, vehicle=vehicle, extra=extra)


def several_places(tasks: Sequence[TaskView]) -> bool:
    """Whether tasks lie in more than one municipality (then each line names its own); a
    sealed task's municipality is not said."""
    return len({t.municipality for t in tasks if not t.sealed}) > 1


def in_order(tasks: Sequence[TaskView]) -> list[TaskView]:
    """Tasks in time order, sealed ones last by number: a sealed task listed between two
    others would say when it is."""
    return [t for t in tasks if not t.sealed] + sorted((t for t in tasks if t.sealed),
                                                       key=lambda t: t.id)


def task_list(title_key: str, tasks: list[TaskView], lang: str, days: int) -> str:
    """A titled list of tasks, or a sentence that there are none; tasks of several
    municipalities are grouped under each one's name (sealed ones last, under none)."""
    if not tasks:
        return texts.t("no_tasks", lang, days=days)
    sealed = [task_line(t, lang) for t in in_order(tasks) if t.sealed]
    shown = [t for t in tasks if not t.sealed]
    if not several_places(shown):
        return "\n".join([texts.t(title_key, lang), *(task_line(t, lang) for t in shown),
                          *sealed])
    lines = [texts.t(title_key, lang)]
    for town in dict.fromkeys(t.municipality for t in shown):
        lines += ["", texts.t("status_municipality", lang, municipality=town)]
        lines += [task_line(t, lang) for t in shown if t.municipality == town]
    return "\n".join(lines + (["", *sealed] if sealed else []))


def follow_up_question(task: TaskView, lang: str) -> str:
    """The follow-up question for a task: for counters, the task's own counters by name; for a
    sealed task one that names no field (what is counted would say what kind of task it is)."""
    if task.sealed:
        return texts.t("secret.follow_up", lang, details=details(task, lang))
    key = follow_up_key(task)
    if key != "follow_up.counters":
        return texts.t(key, lang)
    labels = [texts.label("counter", c, lang) for c in task.counters]
    example = ", ".join(f"{label} {n}" for label, n in zip(labels[:2], (12, 3), strict=False))
    question = texts.t(key, lang, example=example, count=len(labels), labels=", ".join(labels))
    if "vehicles_checked" in task.follow_up:
        question += texts.t("follow_up.vehicles_checked", lang)
    return question


def task_buttons(task_id: int, lang: str) -> InlineKeyboardMarkup:
    """✅ Klar, 📅 Flytta, ✖️ Ställ in."""
    return InlineKeyboardMarkup([[
        InlineKeyboardButton(texts.t("button.done", lang), callback_data=f"d:{task_id}"),
        InlineKeyboardButton(texts.t("button.move", lang), callback_data=f"m:{task_id}"),
        InlineKeyboardButton(texts.t("button.cancel", lang), callback_data=f"c:{task_id}"),
    ]])


def join_buttons(task_id: int, lang: str) -> InlineKeyboardMarkup:
    """Jag deltar / Kan inte."""
    return InlineKeyboardMarkup([[
        InlineKeyboardButton(texts.t("button.join", lang), callback_data=f"j:{task_id}:1"),
        InlineKeyboardButton(texts.t("button.decline", lang), callback_data=f"j:{task_id}:0"),
    ]])


def rsvp_buttons(task_id: int, lang: str) -> InlineKeyboardMarkup:
    """Jag kommer / Kan inte (a risk night a partner is invited to)."""
    return InlineKeyboardMarkup([[
        InlineKeyboardButton(texts.t("button.coming", lang), callback_data=f"j:{task_id}:1"),
        InlineKeyboardButton(texts.t("button.decline", lang), callback_data=f"j:{task_id}:0"),
    ]])


def no_partner_buttons(task_id: int, lang: str) -> InlineKeyboardMarkup:
    """Fråga igen / Flytta / Bara polis: what a coordinator can do about a joint task that
    no partner has joined."""
    return InlineKeyboardMarkup([[
        InlineKeyboardButton(texts.t("button.ask_again", lang), callback_data=f"pa:{task_id}"),
        InlineKeyboardButton(texts.t("button.move", lang), callback_data=f"m:{task_id}"),
        InlineKeyboardButton(texts.t("button.police_only", lang),
                             callback_data=f"po:{task_id}"),
    ]])


def result_text(result: Sequence[tuple[str, str, object]], lang: str) -> str:
    """'unga mötta 12, besökta ställen 3': a done task's counts in words."""
    labels = {"counter": "counter", "field": "report.field"}
    return ", ".join(f"{texts.label(labels[group], key, lang)} {value}"
                     for group, key, value in result)


def notice_text(message: Outgoing, lang: str) -> str:
    """A task moved, cancelled, done or missed; or no partner yet."""
    task, notice = message.task, message.notice
    assert task is not None and notice is not None
    line = task_line(task, lang)
    if message.kind == notices.MOVED and notice.before is not None:
        return texts.t("notice.moved", lang, task=line, before=texts.when(notice.before, lang))
    if message.kind == notices.CANCELLED:
        key = "notice.police_only" if task.status == "pending" else "notice.cancelled"
        return texts.t(key, lang, task=line)
    if message.kind == notices.THANKS:
        result = result_text(notice.result, lang)
        return texts.t("notice.thanks", lang, task=line) + (
            texts.t("notice.result", lang, result=result) if result else "")
    if message.kind == notices.MISSED:
        return "\n".join(x for x in (texts.t("notice.missed", lang, task=line),
                                     replan_text(notice, lang)) if x)
    # the coordinator's "no partner yet"
    text = texts.t("reminder.no_partner_3d", lang, task=line)
    if notice.names:
        text += texts.t("notice.declined_by", lang, names=", ".join(notice.names))
    return text + texts.t("notice.no_partner_choices", lang)


def replan_text(notice: Notice, lang: str) -> str:
    """What the re-plan did after a miss: the new task(s), or that none was needed or found."""
    if notice.replaced_by or notice.replaced_elsewhere:
        parts = [texts.t("notice.replaced_by", lang, tasks="; ".join(
            task_line(t, lang) if t.sealed else
            texts.t("notice.replacement", lang, id=t.id, when=texts.when(t.start, lang))
            for t in in_order(notice.replaced_by)))] if notice.replaced_by else []
        if notice.replaced_elsewhere:
            parts.append(texts.plural("notice.replaced_elsewhere", notice.replaced_elsewhere,
                                      lang))
        return " ".join(parts)
    if notice.target_holds is None:
        return ""
    if notice.target_holds:
        return texts.t("notice.no_new_needed", lang, target=notice.target)
    return texts.t("notice.no_new_found", lang, target=notice.target,
                   reachable=notice.reachable)


def skip_button(task_id: int, lang: str) -> InlineKeyboardMarkup:
    """Hoppa över (the follow-up)."""
    return InlineKeyboardMarkup([[
        InlineKeyboardButton(texts.t("button.skip", lang), callback_data=f"s:{task_id}")]])


def choose_done(tasks: Sequence[TaskView], lang: str) -> InlineKeyboardMarkup:
    """One ✅ per task a plain "klar" could mean (a sealed one by its number only)."""
    return InlineKeyboardMarkup([[InlineKeyboardButton(
        texts.t("secret.choice", lang, id=t.id) if t.sealed else
        texts.t("done_choice", lang, id=t.id, kind=texts.kind(t.kind, lang, t.title),
                time=texts.clock(t.start, lang)), callback_data=f"d:{t.id}")]
        for t in in_order(tasks)])


def early_button(task_id: int, lang: str) -> InlineKeyboardMarkup:
    """Ja, gjord nu: the second step of a confirmation long before the task's start."""
    return InlineKeyboardMarkup([[InlineKeyboardButton(
        texts.t("early_confirm_yes", lang), callback_data=f"d:{task_id}:nu")]])


def move_options(task: TaskView, lang: str) -> list[tuple[str, str]]:
    """The suggested new times, one and seven days later: (label, iso start); a sealed
    task's labels say only how much later."""
    later = [(n, task.start + timedelta(days=n)) for n in (1, 7)]
    return [(texts.t(f"secret.move_choice.{n}", lang) if task.sealed
             else texts.when(start, lang), start.isoformat()) for n, start in later]


def early_confirm_text(task: TaskView, lang: str) -> str:
    """"Is it already done?" long before the task's start."""
    if task.sealed:
        return texts.t("secret.early_confirm", lang, id=task.id)
    return texts.t("early_confirm", lang, id=task.id, title=task.title,
                   when=texts.when(task.start, lang))


def already_done_text(task: TaskView, by: str, at: datetime, lang: str) -> str:
    """Someone confirmed it first (when, unless the task is sealed)."""
    if task.sealed:
        return texts.t("secret.already_done", lang, name=by)
    return texts.t("already_done", lang, name=by,
                   time=texts.clock(at.astimezone(task.start.tzinfo), lang))


def moved_text(task: TaskView, lang: str) -> str:
    """'Uppgift 17 är flyttad till …' (a sealed one: where to read the new time)."""
    if task.sealed:
        return texts.t("secret.moved", lang, id=task.id, details=details(task, lang))
    return texts.t("moved", lang, id=task.id, when=texts.when(task.start, lang))


def promise_title(task: TaskView, lang: str) -> str:
    """The task's promise by its title ("löftet" for a sealed task: the title says its kind)."""
    return texts.t("secret.the_promise", lang) if task.sealed else task.title


def reminder_text(task: TaskView, kind: str, lang: str, rsvp: bool = False) -> str:
    """A reminder of ``kind`` about a task; a sealed one names no time, not even 'i morgon'."""
    if task.sealed:
        key = "secret.was_it_done" if kind == "was_it_done" else "secret.reminder"
        return texts.t(key, lang, id=task.id, details=details(task, lang))
    key = f"reminder.{kind}"
    text = texts.t(key if texts.has(key) else "reminder.generic", lang,
                   task=task_line(task, lang))
    return text + (texts.t("reminder.rsvp_question", lang) if rsvp else "")


def move_choices(task_id: int, options: list[tuple[str, str]]) -> InlineKeyboardMarkup:
    """One button per suggested time: (label, iso start)."""
    return InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=f"mv:{task_id}:{iso}")]
                                 for label, iso in options])


def status_text(rows: list[PromiseStatus], lang: str, by_set: bool = False) -> str:
    """The status as a message: under each municipality's name when there are several, and
    under each promise set's (municipality and year) with ``by_set`` or several years; a
    blank line opens each, a section a long message splits at."""
    years = sorted({r.year for r in rows if r.year})
    lines = [texts.t("status_title", lang, year="/".join(map(str, years)) or "")]
    by_set = by_set or len({r.year for r in rows}) > 1
    several = by_set or len({r.municipality for r in rows}) > 1
    for n, r in enumerate(rows):
        if several and (n == 0 or (rows[n - 1].municipality, rows[n - 1].year)
                        != (r.municipality, r.year)):
            lines += ["", texts.t("status_set", lang, municipality=r.municipality, year=r.year)
                      if by_set else
                      texts.t("status_municipality", lang, municipality=r.municipality)]
        if r.target is None:
            lines.append(texts.t("status_counters", lang, title=r.title,
                                 counters=texts.counters(r.counters, lang) or "–"))
            continue
        state = texts.t(f"state.{r.state}", lang, expected=r.expected, reachable=r.reachable)
        lines.append(texts.t("status_line", lang, title=r.title, done=r.done, target=r.target,
                             state=state)
                     + texts.plural("status_partners_came", r.partners_came, lang))
        if r.joint_target:  # the joint sub-target is its own line with its own state
            lines.append(texts.t("status_joint", lang, joint_done=r.joint_done,
                                 joint_target=r.joint_target,
                                 joint_state=texts.t(f"state.{r.joint_state}", lang,
                                                     expected=r.joint_expected,
                                                     reachable=r.joint_target)))
    return "\n".join(lines)


def status_answer(view: StatusView, lang: str) -> str:
    """/status: the promises, then (coordinators) which promise sets are in force; whole
    (the handler sends a long one in several messages)."""
    text = status_text(view.rows, lang)
    note = view.year
    if note is None:
        return text
    if note.covered:
        key = "status.in_force" if note.started else "status.starts_later"
        return text + "\n\n" + texts.t(key, lang, sets=note.sets)
    return text + "\n\n" + texts.t("no_promise_set", lang, year=note.year, have=note.sets,
                                    command=note.command)


def summary_text(summary: Summary, lang: str, late: bool = False) -> str:
    """The Monday summary as one message."""
    date = texts.day(summary.now.astimezone(summary.tz).date(), lang)
    years = sorted({r.year for r in summary.promises if r.year}) or \
        [summary.now.astimezone(summary.tz).year]
    lines = [texts.t("summary.title", lang, date=date, year="/".join(map(str, years)))
             + (texts.t("summary.late", lang) if late else ""), ""]
    # a partner's summary names each promise set it covers
    lines.append(status_text(summary.promises, lang, by_set=not summary.police))
    place = len({r.municipality for r in summary.promises}) > 1
    completed = sorted(summary.completed, key=lambda c: c.task.sealed)  # sealed ones last
    unconfirmed = sorted(summary.unconfirmed, key=lambda u: u.task.sealed)
    sections: list[tuple[str, list[str]]] = [
        ("summary.completed", [texts.t(
            "summary.completed_line", lang, task=task_line(c.task, lang, place), by=c.by,
            # a sealed task's note stays off chat too: it may name the place
            note=f": {c.note}" if c.note and not c.task.sealed else "") if c.by
            else f"• {task_line(c.task, lang, place)}" for c in completed]),
        ("summary.unconfirmed", [texts.t(
            "summary.unconfirmed_line" if u.ask else "summary.unconfirmed_noone", lang,
            task=task_line(u.task, lang, place), ask=", ".join(u.ask))
            for u in unconfirmed]),
        ("summary.without_partner", [task_line(t, lang, place)
                                     for t in in_order(summary.without_partner)]),
        ("summary.upcoming", [task_line(t, lang, place) for t in in_order(summary.upcoming)]),
    ]
    for key, items in sections:
        if key == "summary.unconfirmed" and not summary.police:
            continue
        lines += ["", texts.t(key, lang), *(items or [texts.t("summary.none", lang)])]
    if summary.counters:
        lines += ["", texts.t("summary.counters", lang,
                              counters=texts.counters(summary.counters, lang))]
    return "\n".join(lines)
