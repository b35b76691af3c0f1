"""The year report as a PDF for A4 paper (fpdf2), laid out from the same document as the
Markdown and HTML versions (views/report_document.py).

The text is set in DejaVu Sans, the font matplotlib ships (so Swedish letters and dashes
print, and the PDF carries its text: it can be searched and read by screen readers). The
chart is the same matplotlib chart as in the summaries, as a PNG at print resolution.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import matplotlib
from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace

from medlofte_bot import texts
from medlofte_bot.services.report import YearReport
from medlofte_bot.views.report_document import Document, Section, Table, build_documents

FONT = "DejaVu"
_FONTS = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
BODY, SMALL, TINY = 10, 8, 6.5
LINE = 5.0  # mm per line of body text
HEADING = FontFace(emphasis="BOLD", fill_color=(238, 241, 245))


class _Pdf(FPDF):
    """A4 portrait with a page footer: the municipality's report title and the page number."""

    footer_text = ""

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FONT, size=TINY)
        self.cell(0, 5, f"{self.footer_text}    {self.page_no()}/{{nb}}", align="C")


def _new_pdf(title: str, lang: str) -> _Pdf:
    pdf = _Pdf(orientation="portrait", unit="mm", format="A4")
    pdf.add_font(FONT, "", str(_FONTS / "DejaVuSans.ttf"))
    pdf.add_font(FONT, "B", str(_FONTS / "DejaVuSans-Bold.ttf"))
    pdf.add_font(FONT, "I", str(_FONTS / "DejaVuSans-Oblique.ttf"))
    pdf.set_margins(18, 15, 18)
    pdf.set_auto_page_break(True, margin=18)
    pdf.set_title(title)
    pdf.set_lang(lang)
    pdf.set_creator("medlofte-bot")
    pdf.set_creation_date(datetime(2000, 1, 1, tzinfo=UTC))  # same input, same bytes
    pdf.footer_text = title
    return pdf


def _text(pdf: FPDF, text: str, size: int = BODY, style: str = "", gap: float = 1.5) -> None:
    pdf.set_font(FONT, style, size)
    pdf.multi_cell(0, size * 0.5, text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(gap)


def _table(pdf: FPDF, table: Table, caption: str = "") -> None:
    if caption:
        _text(pdf, caption, SMALL, "B", 0.5)
    wide = len(table.header) > 6
    pdf.set_font(FONT, size=TINY if wide else SMALL)
    with pdf.table(headings_style=HEADING, line_height=(3.0 if wide else 4.2),
                   text_align="LEFT", first_row_as_headings=True, padding=0.8,
                   col_widths=_widths(table)) as grid:
        for row in (table.header, *table.rows):
            cells = grid.row()
            for value in row:
                cells.cell(value)
    pdf.ln(2)


def _widths(table: Table) -> tuple[float, ...]:
    """Columns as wide as their usual text, and never narrower than their longest word."""
    out = []
    for i, head in enumerate(table.header):
        cells = [row[i] for row in table.rows if i < len(row)] or [""]
        mean = sum(len(c) for c in cells) / len(cells)
        longest_word = max(len(w) for c in [head, *cells] for w in (c.split() or [""]))
        out.append(max(longest_word * 1.3 + 2, min(mean, 26.0)))
    return tuple(out)


def _section(pdf: FPDF, section: Section, lang: str) -> None:
    if pdf.get_y() > pdf.h - 60:  # a heading is not left alone at the foot of a page
        pdf.add_page()
    _text(pdf, section.heading, 13, "B", 1)
    if section.wording:
        _text(pdf, texts.t("report.wording", lang, wording=section.wording), BODY, "I")
    for paragraph in section.paragraphs:
        _text(pdf, paragraph)
    for caption, table in section.tables:
        _table(pdf, table, caption)
    if section.items:
        if section.items_title:
            _text(pdf, section.items_title, BODY, "B", 0.5)
        for item in section.items:
            _text(pdf, f"• {item}", BODY, "", 0.5)
        pdf.ln(1.5)
    if section.comment:
        _text(pdf, section.comment_title, BODY, "B", 0.5)
        _text(pdf, section.comment)
    pdf.ln(2)


def _chart(pdf: FPDF, doc: Document) -> None:
    from medlofte_bot.views.chart import progress_chart

    png = progress_chart(list(doc.chart), doc.lang, doc.chart_title, dpi=200)
    width = pdf.w - pdf.l_margin - pdf.r_margin
    pdf.image(io.BytesIO(png), w=width, alt_text=doc.chart_title)
    pdf.ln(3)


def documents_pdf(docs: Sequence[Document]) -> bytes:
    """Documents as one PDF, each municipality from a new page."""
    lang = docs[0].lang if docs else texts.DEFAULT_LANGUAGE
    title = " · ".join(d.title for d in docs)
    pdf = _new_pdf(title, lang)
    for doc in docs:
        pdf.add_page()  # draws the last page's footer first: then this one's title
        pdf.footer_text = doc.title
        _text(pdf, doc.title, 17, "B", 2)
        _text(pdf, doc.lead[0])
        _text(pdf, doc.lead[1], SMALL, "I", 3)
        _text(pdf, texts.t("report.overview", lang), 13, "B", 1)
        _table(pdf, doc.overview)
        if doc.chart:
            _chart(pdf, doc)
        for section in doc.sections:
            _section(pdf, section, lang)
    return bytes(pdf.output())


def report_pdf(reports: Sequence[YearReport], lang: str = texts.DEFAULT_LANGUAGE,
               public: bool = True) -> bytes:
    """The reports as an A4 PDF, public (default) or internal."""
    return documents_pdf(build_documents(reports, public, lang))
