"""The year report as Markdown, CSV (one row per task) and a self-contained HTML page.

What each version says is decided once, in views/report_document.py; here it is laid out.
"""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Sequence

from medlofte_bot import texts
from medlofte_bot.services.report import YearReport
from medlofte_bot.views.report_document import (
    Document,
    Section,
    Table,
    a_partner,
    build_documents,
    hides_times,
)

CSV_COLUMNS = ("promise", "task_id", "key", "kind", "start", "end", "status", "team", "joint",
               "partners_joined", "done_by", "note", "counters", "moved_from", "cancel_reason")


def _md_cell(value: str) -> str:
    out = value.replace("\\", "\\\\").replace("|", "\\|").replace("<", "\\<").replace(">", "\\>")
    return " ".join(out.split())


def _md_table(table: Table) -> list[str]:
    return ["| " + " | ".join(_md_cell(h) for h in table.header) + " |",
            "|" + "---|" * len(table.header),
            *("| " + " | ".join(_md_cell(c) for c in row) + " |" for row in table.rows)]


def _md_section(section: Section) -> list[str]:
    lines = ["", f"## {section.heading}"]
    if section.wording:
        lines += ["", f"> {_md_cell(section.wording)}"]
    for paragraph in section.paragraphs:
        lines += ["", _md_cell(paragraph)]
    for caption, table in section.tables:
        if caption:
            lines += ["", f"**{_md_cell(caption)}**"]
        lines += ["", *_md_table(table)]
    if section.items:
        if section.items_title:
            lines += ["", f"**{_md_cell(section.items_title)}**"]
        lines += ["", *(f"- {_md_cell(item)}" for item in section.items)]
    if section.comment:
        lines += ["", f"**{_md_cell(section.comment_title)}:** {_md_cell(section.comment)}"]
    return lines


def markdown_documents(docs: Sequence[Document]) -> str:
    """Documents as Markdown: a heading per municipality and per promise, tables, lists."""
    lines: list[str] = []
    for doc in docs:
        if lines:
            lines += ["", "---", ""]
        lines += [f"# {doc.title}", "", doc.lead[0], "", f"> {doc.lead[1]}"]
        lines += ["", f"## {texts.t('report.overview', doc.lang)}", "", *_md_table(doc.overview)]
        for section in doc.sections:
            lines += _md_section(section)
    return "\n".join(lines) + "\n"


def report_markdown(reports: Sequence[YearReport], lang: str = texts.DEFAULT_LANGUAGE,
                    public: bool = True) -> str:
    """The reports as Markdown, public (default) or internal."""
    return markdown_documents(build_documents(reports, public, lang))


def report_csv(reports: Sequence[YearReport], public: bool = True,
               lang: str = texts.DEFAULT_LANGUAGE) -> str:
    """One row per task with the documented columns (codes and ISO times, not translated).

    Public: no row for a police-only promise's tasks, no names (a partner by her role) and
    no officers' notes."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for report in reports:
        for p in report.promises:
            if hides_times(p, public):
                continue
            for t in p.tasks:
                moved_from = next((mv.before for mv in t.moves if mv.before), None)
                partners = [a_partner(report.partner_roles.get(r, r), lang)
                            for r in t.partner_roles_joined] if public else t.partners_joined
                writer.writerow([
                    p.key, t.id, t.key, t.kind, t.start.isoformat(), t.end.isoformat(), t.status,
                    t.team, "true" if t.joint else "false", "; ".join(partners),
                    "" if public else t.done_by, "" if public else t.note,
                    ";".join(f"{k}={v}" for k, v in t.counters.items()),
                    moved_from.isoformat() if moved_from else "", t.cancel_reason])
    return buffer.getvalue()


_STYLE = """
:root{color-scheme:light}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;line-height:1.45;
color:#1a1a1a;margin:0 auto;padding:1rem;max-width:60rem}
h1{font-size:1.6rem;margin:.5rem 0}h2{font-size:1.25rem;margin-top:2rem;
border-bottom:1px solid #ccd;padding-bottom:.2rem}
.notice{border-left:4px solid #c60;padding:.25rem .75rem;background:#fff8f0}
blockquote{margin:.5rem 0;padding:.25rem .75rem;border-left:4px solid #8aa;font-style:italic}
.table{overflow-x:auto;margin:.5rem 0 1rem}
table{border-collapse:collapse;font-size:.9rem;min-width:50%}
caption{text-align:left;font-weight:600;padding:.25rem 0}
th,td{border:1px solid #bbb;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#eef1f5}td.n,th.n{text-align:right}
figure{margin:1rem 0}figure svg{max-width:100%;height:auto}
.comment{background:#f3f6f9;padding:.5rem .75rem;border-radius:4px}
@media (max-width:40rem){body{padding:.5rem}table{font-size:.8rem}}
@media print{@page{size:A4;margin:15mm}body{max-width:none;padding:0;font-size:10pt}
h2{break-after:avoid}table,figure,blockquote{break-inside:avoid}
.table{overflow:visible}section.municipality+section.municipality{break-before:page}}
"""


def _html_table(table: Table, caption: str = "") -> list[str]:
    esc = html.escape
    out = ['<div class="table">', "<table>"]
    if caption:
        out.append(f"<caption>{esc(caption)}</caption>")
    out.append("<thead><tr>" + "".join(f'<th scope="col">{esc(h)}</th>' for h in table.header)
               + "</tr></thead>")
    out.append("<tbody>")
    for row in table.rows:
        first, *rest = row
        out.append(f'<tr><th scope="row">{esc(first)}</th>'
                   + "".join(f"<td>{esc(c)}</td>" for c in rest) + "</tr>")
    return [*out, "</tbody>", "</table>", "</div>"]


def _html_section(section: Section, shift: int = 0) -> list[str]:
    esc = html.escape
    h2, h3 = f"h{2 + shift}", f"h{3 + shift}"
    out = ["<section>", f"<{h2}>{esc(section.heading)}</{h2}>"]
    if section.wording:
        out.append(f"<blockquote><p>{esc(section.wording)}</p></blockquote>")
    out += [f"<p>{esc(p)}</p>" for p in section.paragraphs]
    for caption, table in section.tables:
        out += _html_table(table, caption)
    if section.items:
        if section.items_title:
            out.append(f"<{h3}>{esc(section.items_title)}</{h3}>")
        out += ["<ul>", *(f"<li>{esc(item)}</li>" for item in section.items), "</ul>"]
    if section.comment:
        out.append(f'<aside class="comment"><{h3}>{esc(section.comment_title)}</{h3}>'
                   f"<p>{esc(section.comment)}</p></aside>")
    return [*out, "</section>"]


_PROLOG = re.compile(r"\A.*?(?=<svg)", re.DOTALL)
_METADATA = re.compile(r"<metadata>.*?</metadata>\s*", re.DOTALL)


def _chart_svg(doc: Document) -> str:
    """The progress chart as inline SVG (text kept as text), without the XML prolog."""
    from medlofte_bot.views.chart import progress_chart  # matplotlib: only when drawn

    svg = progress_chart(list(doc.chart), doc.lang, doc.chart_title, fmt="svg").decode("utf-8")
    svg = _METADATA.sub("", _PROLOG.sub("", svg, count=1), count=1)
    return svg.replace(
        "<svg ", f'<svg role="img" aria-label="{html.escape(doc.chart_title)}" ', 1)


def html_articles(docs: Sequence[Document], shift: int = 0) -> str:
    """Each document as an ``article`` (its headings ``shift`` levels down, for a page that
    has its own heading above them): the body of the HTML report and of the web view's."""
    esc = html.escape
    h1, h2 = f"h{1 + shift}", f"h{2 + shift}"
    out: list[str] = []
    for doc in docs:
        out += ['<article class="municipality">', "<header>", f"<{h1}>{esc(doc.title)}</{h1}>",
                f"<p>{esc(doc.lead[0])}</p>", f'<p class="notice">{esc(doc.lead[1])}</p>',
                "</header>", "<section>",
                f"<{h2}>{esc(texts.t('report.overview', doc.lang))}</{h2}>",
                *_html_table(doc.overview)]
        if doc.chart:
            out += ["<figure>", _chart_svg(doc),
                    f"<figcaption>{esc(doc.chart_title)}</figcaption>", "</figure>"]
        out.append("</section>")
        for section in doc.sections:
            out += _html_section(section, shift)
        out.append("</article>")
    return "\n".join(out)


def html_documents(docs: Sequence[Document]) -> str:
    """Documents as one HTML page: semantic, no scripts or outside files, every value escaped,
    readable on a phone and printable on A4."""
    esc = html.escape
    lang = docs[0].lang if docs else texts.DEFAULT_LANGUAGE
    title = " · ".join(d.title for d in docs)
    out = ["<!doctype html>", f'<html lang="{esc(lang)}">', "<head>", '<meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           f"<title>{esc(title)}</title>", f"<style>{_STYLE}</style>", "</head>", "<body>",
           "<main>", html_articles(docs)]
    return "\n".join([*out, "</main>", "</body>", "</html>"]) + "\n"


def report_html(reports: Sequence[YearReport], lang: str = texts.DEFAULT_LANGUAGE,
                public: bool = True) -> str:
    """The reports as one self-contained HTML page, public (default) or internal."""
    return html_documents(build_documents(reports, public, lang))


def render_report(reports: Sequence[YearReport], fmt: str, lang: str = texts.DEFAULT_LANGUAGE,
                  public: bool = True) -> bytes:
    """The reports in ``fmt`` (md, csv, html or pdf) as bytes (text in UTF-8)."""
    if fmt == "pdf":
        from medlofte_bot.views.report_pdf import report_pdf  # fpdf2: only when asked

        return report_pdf(reports, lang, public)
    if fmt == "csv":
        return report_csv(reports, public, lang).encode("utf-8")
    if fmt == "html":
        return report_html(reports, lang, public).encode("utf-8")
    return report_markdown(reports, lang, public).encode("utf-8")
