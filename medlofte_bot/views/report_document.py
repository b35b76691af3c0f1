"""The year report as a document of headings, paragraphs and tables, public or internal.

One builder decides what each version says; Markdown, HTML and PDF only lay it out
(views/year_report.py, views/report_pdf.py), so the three formats cannot disagree about
what is published. The public version (the default) is fit to publish with the
municipality's follow-up: no time of a police-only task (a police-only promise shows only
counts per quarter), no person's name (a partner is "en alkoholhandläggare", officers and
the coordinator are not named), no officers' notes. The internal version has everything.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from medlofte_bot import texts
from medlofte_bot.domain.states import TaskStatus
from medlofte_bot.services.report import PromiseReport, TaskReport, YearReport
from medlofte_bot.services.status import PromiseStatus

NONE = "–"
QUARTERS = (1, 2, 3, 4)
TASK_COLUMNS = ("task", "when", "details", "status", "team", "partners", "done_by", "counts",
                "note", "changes")
PUBLIC_TASK_COLUMNS = ("when", "details", "status", "team", "partners", "counts", "changes")


@dataclass(frozen=True)
class Table:
    """A table: a header row and rows of plain text cells."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Section:
    """A heading with its paragraphs, a list, a quoted wording, a comment and tables."""

    heading: str
    wording: str = ""
    paragraphs: tuple[str, ...] = ()
    tables: tuple[tuple[str, Table], ...] = ()  # (caption, table)
    items_title: str = ""
    items: tuple[str, ...] = ()
    comment_title: str = ""
    comment: str = ""


@dataclass(frozen=True)
class Document:
    """One municipality-year: title, lead, the overview, the chart's numbers, the sections."""

    title: str
    lead: tuple[str, ...]
    overview: Table
    chart: tuple[PromiseStatus, ...]
    chart_title: str
    sections: tuple[Section, ...]
    public: bool
    lang: str


def _yes_no(value: bool, lang: str) -> str:
    return texts.t("report.yes" if value else "report.no", lang)


def _field_value(key: str, value: object, lang: str) -> str:
    if isinstance(value, bool):
        return _yes_no(value, lang)
    if key == "vehicle" and texts.has(f"vehicle.{value}"):
        return texts.t(f"vehicle.{value}", lang)
    return str(value)


def _fit_to_publish(key: str, value: object) -> bool:
    """Counts, yes/no and the vehicle; not free text (remarks may name someone)."""
    return isinstance(value, (bool, int, float)) or key == "vehicle"


def facts_text(task: TaskReport, lang: str, public: bool = False) -> str:
    """The task's counters and follow-up fields (places visited, vehicles) in one line;
    publicly without the free-text fields."""
    parts = [texts.counters(task.counters, lang)] if task.counters else []
    parts += [f"{texts.label('report.field', k, lang)}: {_field_value(k, v, lang)}"
              for k, v in task.fields.items()
              if v not in (None, "") and (not public or _fit_to_publish(k, v))]
    return "; ".join(parts)


def _reason(task: TaskReport, lang: str) -> str:
    if task.status == TaskStatus.MISSED:
        return task.reason or texts.t("report.reason_missed", lang)
    if task.reason == "config":
        return texts.t("report.reason_config", lang)
    return task.reason or NONE


def changes_text(task: TaskReport, lang: str, public: bool = False) -> str:
    """Moves (by whom, internally) and the cancellation or miss with its reason, one line."""
    parts = [texts.t("report.moved_public" if public else "report.moved", lang,
                     before=texts.when(mv.before, lang) if mv.before else NONE,
                     after=texts.when(mv.after, lang) if mv.after else NONE, by=mv.by)
             for mv in task.moves]
    if task.status == TaskStatus.CANCELLED:
        parts.append(texts.t("report.cancelled", lang, reason=_reason(task, lang)))
    elif task.status == TaskStatus.MISSED:
        parts.append(texts.t("report.missed", lang, reason=_reason(task, lang)))
    return "; ".join(parts)


def a_partner(role_title: str, lang: str) -> str:
    """A partner without her name: "en alkoholhandläggare"."""
    return texts.t("report.a_partner", lang, role=role_title.lower())


def _partners(task: TaskReport, report: YearReport, public: bool, lang: str) -> str:
    if not public:
        return ", ".join(task.partners_joined)
    return ", ".join(a_partner(report.partner_roles.get(r, r) or NONE, lang)
                     for r in task.partner_roles_joined)


def _details(task: TaskReport, report: YearReport, lang: str) -> str:
    parts = [task.label] if task.label else []
    if task.vehicle:
        parts.append(texts.label("vehicle", task.vehicle, lang))
    if task.joint and task.partner_role:
        role = report.partner_roles.get(task.partner_role, task.partner_role)
        parts.append(texts.t("joint", lang, role=role.lower()))
    if task.visibility == "police":
        parts.append(f"[{texts.t('visibility.police', lang)}]")
    return ", ".join(parts)


def _when(task: TaskReport, lang: str) -> str:
    return f"{texts.when(task.start, lang)}–{texts.clock(task.end, lang)}"


def _task_row(task: TaskReport, report: YearReport, public: bool, lang: str) -> tuple[str, ...]:
    if public:
        return (_when(task, lang), _details(task, report, lang),
                texts.label("report.status", task.status, lang), task.team,
                _partners(task, report, True, lang), facts_text(task, lang, public=True),
                changes_text(task, lang, public=True))
    return (str(task.id), _when(task, lang), _details(task, report, lang),
            texts.label("report.status", task.status, lang), task.team,
            _partners(task, report, False, lang), task.done_by, facts_text(task, lang),
            task.note, changes_text(task, lang))


def hides_times(p: PromiseReport, public: bool) -> bool:
    """Whether the version shows this promise's tasks only as counts (public, police-only)."""
    return public and p.police_only


def _quarter(task: TaskReport) -> int:
    return (task.start.month - 1) // 3 + 1


def quarters_table(p: PromiseReport, lang: str) -> Table:
    """Done and planned per quarter (planned: every task not cancelled, a missed one too)."""
    done = [sum(1 for t in p.tasks if _quarter(t) == q and t.status == TaskStatus.DONE)
            for q in QUARTERS]
    planned = [sum(1 for t in p.tasks if _quarter(t) == q and t.status != TaskStatus.CANCELLED)
               for q in QUARTERS]
    header = (texts.t("report.col.quarter", lang),
              *(texts.t("report.quarter", lang, n=q) for q in QUARTERS),
              texts.t("report.col.year", lang))
    return Table(header, (
        (texts.t("report.row.done", lang), *map(str, done), str(sum(done))),
        (texts.t("report.row.planned", lang), *map(str, planned), str(sum(planned)))))


def _state_word(status: PromiseStatus | None, lang: str, joint: bool = False) -> str:
    if status is None:
        return NONE
    state = status.joint_state if joint else status.state
    return texts.t(f"state.{state}", lang, expected=status.joint_expected if joint
                   else status.expected, reachable=status.reachable)


def _outcome(p: PromiseReport, report: YearReport, lang: str) -> tuple[str, ...]:
    if p.target is None:
        titles = {q.key: q.title for q in report.promises}
        applies = ", ".join(titles.get(a, a).lower() for a in p.applies_to) or NONE
        out = [texts.t("report.summary_none", lang, applies=applies)]
    else:
        out = [texts.t("report.outcome", lang, done=p.done, target=p.target,
                       state=_state_word(p.status, lang))]
        if p.joint_target:
            out.append(texts.t("report.outcome_joint", lang, done=p.joint_done,
                               target=p.joint_target, state=_state_word(p.status, lang, True)))
    if p.counters:
        out.append(texts.t("report.counters", lang, counters=texts.counters(p.counters, lang)))
    if not p.tasks and p.target is not None:
        out.append(texts.t("report.no_tasks", lang))
    return tuple(out)


def _reasons(p: PromiseReport, public: bool, lang: str) -> tuple[str, ...]:
    """Each missed or cancelled task with its reason; a police-only one publicly by quarter."""
    out = []
    for t in p.tasks:
        if t.status not in (TaskStatus.CANCELLED, TaskStatus.MISSED):
            continue
        moment = texts.t("report.quarter", lang, n=_quarter(t)) if hides_times(p, public) \
            else texts.day(t.start.date(), lang)
        out.append(texts.t(f"report.reason_line.{t.status}", lang, when=moment,
                           reason=_reason(t, lang)))
    return tuple(out)


def _comment(p: PromiseReport, public: bool, lang: str) -> str:
    if not p.comment:
        return ""
    if public or not p.comment_by:
        return p.comment
    at = texts.day(p.comment_at.date(), lang) if p.comment_at else NONE
    return texts.t("report.comment_signed", lang, comment=p.comment, by=p.comment_by, at=at)


def _promise_section(p: PromiseReport, report: YearReport, public: bool,
                     lang: str) -> Section:
    tables = [(texts.t("report.per_quarter", lang), quarters_table(p, lang))] \
        if p.tasks else []
    if p.tasks and hides_times(p, public):
        paragraphs = (*_outcome(p, report, lang), texts.t("report.police_only_public", lang))
    else:
        paragraphs = _outcome(p, report, lang)
        if p.tasks:
            columns = PUBLIC_TASK_COLUMNS if public else TASK_COLUMNS
            tables.append((texts.t("report.tasks", lang), Table(
                tuple(texts.t(f"report.col.{c}", lang) for c in columns),
                tuple(_task_row(t, report, public, lang) for t in p.tasks))))
    reasons = _reasons(p, public, lang)
    return Section(p.title, p.wording, paragraphs, tuple(tables),
                   texts.t("report.reasons", lang) if reasons else "", reasons,
                   texts.t("report.comment", lang) if p.comment else "",
                   _comment(p, public, lang))


def _partner_lines(p: PromiseReport, report: YearReport, public: bool,
                   lang: str) -> list[str]:
    """What partners did in one promise: joint tasks joined, risk nights attended."""
    asked = [t for t in p.tasks if t.status != TaskStatus.CANCELLED
             and (t.joint or t.kind == "risk_night")]
    came = [t for t in asked if t.partners_joined and t.status == TaskStatus.DONE]
    if not asked:
        return []
    key = "report.part.risk_nights" if p.kind == "risk_night" else "report.part.joint"
    line = texts.t(key, lang, title=p.title, came=len(came), asked=len(asked))
    out = [line]
    for t in came:
        who = _partners(t, report, public, lang)
        if public:
            roles = sorted({report.partner_roles.get(r, r) for r in t.partner_roles_joined})
            who = ", ".join(a_partner(r, lang) for r in roles)
        moment = texts.t("report.quarter", lang, n=_quarter(t)) if hides_times(p, public) \
            else texts.day(t.start.date(), lang)
        out.append(texts.t("report.part.line", lang, title=p.title, when=moment, who=who))
    return out


def _municipal_part(report: YearReport, public: bool, lang: str) -> Section:
    lines = [line for p in report.promises for line in _partner_lines(p, report, public, lang)]
    return Section(texts.t("report.part.heading", lang, municipality=report.municipality),
                   paragraphs=(texts.t("report.part.lead", lang),),
                   items=tuple(lines) or (texts.t("report.part.none", lang),))


def build_document(report: YearReport, public: bool = True,
                   lang: str = texts.DEFAULT_LANGUAGE) -> Document:
    """The report of one municipality-year, public (default) or internal."""
    def col(name: str) -> str:
        return texts.t(f"report.col.{name}", lang)

    overview = Table(
        tuple(col(c) for c in ("promise", "target", "done", "joint", "state")),
        tuple((p.title, NONE if p.target is None else str(p.target),
               NONE if p.target is None else str(p.done),
               f"{p.joint_done}/{p.joint_target}" if p.joint_target else NONE,
               NONE if p.target is None else _state_word(p.status, lang))
              for p in report.promises))
    sections = [_promise_section(p, report, public, lang) for p in report.promises]
    sections.append(_municipal_part(report, public, lang))
    if report.counters:
        sections.append(Section(texts.t("report.totals", lang), tables=(("", Table(
            (col("counter"), col("count")),
            tuple((texts.label("counter", k, lang), str(v))
                  for k, v in report.counters.items()))),)))
    lead = (texts.t("report.subtitle", lang, police_area=report.police_area,
                    municipality=report.municipality,
                    as_of=texts.t("report.as_of", lang, day=texts.day(report.as_of.date(), lang),
                                  year=report.as_of.year)),
            texts.t("report.notice_public" if public else "report.notice", lang)
            + (texts.t("report.notes_cleared", lang,
                       when=texts.when(report.notes_cleared_at, lang))
               if report.notes_cleared_at else ""))
    chart = tuple(p.status for p in report.promises if p.status is not None and p.target)
    return Document(
        texts.t("report.title", lang, municipality=report.municipality, year=report.year),
        lead, overview, chart,
        texts.t("report.chart_title", lang, municipality=report.municipality,
                year=report.year), tuple(sections), public, lang)


def build_documents(reports: Sequence[YearReport], public: bool = True,
                    lang: str = texts.DEFAULT_LANGUAGE) -> list[Document]:
    """One document per municipality-year."""
    return [build_document(r, public, lang) for r in reports]
