"""The year report as Markdown, CSV (one row per task) and a self-contained HTML page."""

from __future__ import annotations

import csv
import html
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from medlofte_bot import texts
from medlofte_bot.services.report import PromiseReport, TaskReport, YearReport

CSV_COLUMNS = ("promise", "task_id", "key", "kind", "start", "end", "status", "team", "joint",
               "partners_joined", "done_by", "note", "counters", "moved_from", "cancel_reason")
TASK_COLUMNS = ("task", "when", "details", "status", "team", "partners", "done_by", "counts",
                "note", "changes")
NONE = "–"


@dataclass(frozen=True)
class _Table:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class _Section:
    heading: str
    paragraphs: tuple[str, ...]
    table: _Table | None


@dataclass(frozen=True)
class _Document:
    title: str
    lead: tuple[str, ...]
    sections: tuple[_Section, ...]


def _yes_no(value: bool, lang: str) -> str:
    return texts.t("report.yes" if value else "report.no", lang)


def _field_value(key: str, value: Any, lang: str) -> str:
    if isinstance(value, bool):
        return _yes_no(value, lang)
    if key == "vehicle" and texts.has(f"vehicle.{value}"):
        return texts.t(f"vehicle.{value}", lang)
    return str(value)


def facts_text(task: TaskReport, lang: str) -> str:
    """The task's counters and follow-up fields (places visited, vehicles) in one line."""
    parts = [texts.counters(task.counters, lang)] if task.counters else []
    parts += [f"{texts.label('report.field', k, lang)}: {_field_value(k, v, lang)}"
              for k, v in task.fields.items() if v not in (None, "")]
    return "; ".join(parts)


def changes_text(task: TaskReport, lang: str) -> str:
    """Moves and the cancellation, with its reason, in one line."""
    parts = [texts.t("report.moved", lang,
                     before=texts.when(mv.before, lang) if mv.before else NONE,
                     after=texts.when(mv.after, lang) if mv.after else NONE, by=mv.by)
             for mv in task.moves]
    if task.status == "cancelled":
        reason = texts.t("report.reason_config", lang) if task.cancel_reason == "config" \
            else task.cancel_reason or NONE
        parts.append(texts.t("report.cancelled", lang, reason=reason))
    return "; ".join(parts)


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


def _task_row(task: TaskReport, report: YearReport, lang: str) -> tuple[str, ...]:
    return (str(task.id), f"{texts.when(task.start, lang)}–{texts.clock(task.end, lang)}",
            _details(task, report, lang), texts.label("report.status", task.status, lang),
            task.team,
            ", ".join(task.partners_joined), task.done_by, facts_text(task, lang), task.note,
            changes_text(task, lang))


def _summary(p: PromiseReport, report: YearReport, lang: str) -> tuple[str, ...]:
    out: list[str] = []
    if p.target is None:
        titles = {q.key: q.title for q in report.promises}
        applies = ", ".join(titles.get(a, a).lower() for a in p.applies_to) or NONE
        out.append(texts.t("report.summary_none", lang, applies=applies))
    else:
        line = texts.t("report.summary", lang, done=p.done, target=p.target)
        if p.joint_target:
            line += texts.t("report.summary_joint", lang, joint_done=p.joint_done,
                            joint_target=p.joint_target)
        came = sum(len(t.partners_joined) for t in p.tasks if not t.joint and t.status == "done")
        if came:  # partners who came to the nights they were invited to
            line += texts.t("report.summary_partners", lang, count=came)
        out.append(line + texts.t("report.summary_met", lang, met=_yes_no(bool(p.met), lang)))
    if p.counters:
        out.append(texts.t("report.counters", lang, counters=texts.counters(p.counters, lang)))
    if not p.tasks and p.target is not None:
        out.append(texts.t("report.no_tasks", lang))
    return tuple(out)


def _document(report: YearReport, lang: str) -> _Document:
    def col(name: str) -> str:
        return texts.t(f"report.col.{name}", lang)

    overview = _Table(
        tuple(col(c) for c in ("promise", "target", "done", "joint", "met")),
        tuple((p.title, NONE if p.target is None else str(p.target),
               NONE if p.target is None else str(p.done),
               f"{p.joint_done}/{p.joint_target}" if p.joint_target else NONE,
               NONE if p.met is None else _yes_no(p.met, lang)) for p in report.promises))
    sections = [_Section(texts.t("report.overview", lang), (), overview)]
    for p in report.promises:
        table = _Table(tuple(col(c) for c in TASK_COLUMNS),
                       tuple(_task_row(t, report, lang) for t in p.tasks)) if p.tasks else None
        sections.append(_Section(p.title, _summary(p, report, lang), table))
    if report.counters:
        sections.append(_Section(texts.t("report.totals", lang), (), _Table(
            (col("counter"), col("count")),
            tuple((texts.label("counter", k, lang), str(v)) for k, v in report.counters.items()))))
    lead = (texts.t("report.subtitle", lang, police_area=report.police_area,
                    municipality=report.municipality, as_of=texts.when(report.as_of, lang)),
            texts.t("report.notice", lang))
    return _Document(texts.t("report.title", lang, municipality=report.municipality,
                             year=report.year), lead, tuple(sections))


def _md_cell(value: str) -> str:
    out = value.replace("\\", "\\\\").replace("|", "\\|").replace("<", "\\<").replace(">", "\\>")
    return " ".join(out.split())


def report_markdown(reports: Sequence[YearReport], lang: str = texts.DEFAULT_LANGUAGE) -> str:
    """The reports as Markdown: a heading per municipality and per promise, tables of tasks."""
    lines: list[str] = []
    for report in reports:
        doc = _document(report, lang)
        if lines:
            lines += ["", "---", ""]
        lines += [f"# {doc.title}", ""]
        lines += [doc.lead[0], "", f"> {doc.lead[1]}"]
        for section in doc.sections:
            lines += ["", f"## {section.heading}"]
            for paragraph in section.paragraphs:
                lines += ["", _md_cell(paragraph)]
            if section.table:
                lines += ["", "| " + " | ".join(section.table.header) + " |",
                          "|" + "---|" * len(section.table.header)]
                lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |"
                          for row in section.table.rows]
    return "\n".join(lines) + "\n"


def report_csv(reports: Sequence[YearReport]) -> str:
    """One row per task with the documented columns (codes and ISO times, not translated)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for report in reports:
        for p in report.promises:
            for t in p.tasks:
                moved_from = next((mv.before for mv in t.moves if mv.before), None)
                writer.writerow([
                    p.key, t.id, t.key, t.kind, t.start.isoformat(), t.end.isoformat(), t.status,
                    t.team, "true" if t.joint else "false", "; ".join(t.partners_joined),
                    t.done_by, t.note, ";".join(f"{k}={v}" for k, v in t.counters.items()),
                    moved_from.isoformat() if moved_from else "", t.cancel_reason])
    return buffer.getvalue()


_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2rem;color:#1a1a1a;max-width:110rem}"
    "table{border-collapse:collapse;margin:.5rem 0 1.5rem;font-size:.9rem}"
    "th,td{border:1px solid #bbb;padding:.25rem .5rem;text-align:left;vertical-align:top}"
    "th{background:#eef1f5}.notice{border-left:4px solid #c60;padding:.25rem .75rem}"
)


def _html_table(table: _Table) -> list[str]:
    esc = html.escape
    out = ["<table>", "<thead><tr>" + "".join(f"<th>{esc(h)}</th>" for h in table.header)
           + "</tr></thead>", "<tbody>"]
    out += ["<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in table.rows]
    return [*out, "</tbody>", "</table>"]


def render_report(reports: Sequence[YearReport], fmt: str,
                  lang: str = texts.DEFAULT_LANGUAGE) -> str:
    """The reports in ``fmt``: md, csv or html."""
    if fmt == "csv":
        return report_csv(reports)
    if fmt == "html":
        return report_html(reports, lang)
    return report_markdown(reports, lang)


def report_html(reports: Sequence[YearReport], lang: str = texts.DEFAULT_LANGUAGE) -> str:
    """A self-contained HTML page (no scripts, no outside files), every value escaped."""
    esc = html.escape
    docs = [_document(r, lang) for r in reports]
    title = " · ".join(d.title for d in docs)
    out = ["<!doctype html>", f'<html lang="{esc(lang)}">', "<head>", '<meta charset="utf-8">',
           f"<title>{esc(title)}</title>", f"<style>{_STYLE}</style>", "</head>", "<body>"]
    for doc in docs:
        out += ["<section>", f"<h1>{esc(doc.title)}</h1>", f"<p>{esc(doc.lead[0])}</p>",
                f'<p class="notice">{esc(doc.lead[1])}</p>']
        for section in doc.sections:
            out.append(f"<h2>{esc(section.heading)}</h2>")
            out += [f"<p>{esc(p)}</p>" for p in section.paragraphs]
            if section.table:
                out += _html_table(section.table)
        out.append("</section>")
    return "\n".join([*out, "</body>", "</html>"]) + "\n"
