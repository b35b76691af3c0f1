"""What each version of the year report says, from plain values (no database)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from medlofte_bot.services.report import Move, PromiseReport, TaskReport, YearReport
from medlofte_bot.services.status import PromiseStatus
from medlofte_bot.views.report_document import Document, build_document, quarters_table

TZ = ZoneInfo("Europe/Stockholm")


def _task(n: int, month: int, status: str = "done", **kw: object) -> TaskReport:
    start = datetime(2015, month, 10, 21, 0, tzinfo=TZ)
    base: dict[str, object] = {
        "id": n, "key": f"t{n}", "kind": "bar_inspection", "label": "", "start": start,
        "end": start + timedelta(hours=4), "status": status, "team": "Arvidsjaur lag 1",
        "joint": False, "partner_role": None, "vehicle": None, "visibility": "partners"}
    base.update(kw)
    return TaskReport(**base)  # type: ignore[arg-type]


def _promise(key: str, police_only: bool, tasks: tuple[TaskReport, ...],
             **kw: object) -> PromiseReport:
    done = sum(1 for t in tasks if t.status == "done")
    status = PromiseStatus(key, key.title(), "bar_inspection", 4, done, done, over=True)
    return PromiseReport(key, key.title(), "bar_inspection", 4, 0, done, 0, police_only, (),
                         {}, tasks, status, **kw)  # type: ignore[arg-type]


JOINED = _task(1, 2, joint=True, partner_role="alko", partners_joined=("Petra Alkohol",),
               partner_roles_joined=("alko",), done_by="Anna Polis", note="Träffade Kalle.",
               fields={"remarks": "Krögaren Nils var berusad", "places_visited": 3})
MOVED = _task(2, 5, moves=(Move(datetime(2015, 5, 1, 21, tzinfo=TZ),
                                datetime(2015, 5, 10, 21, tzinfo=TZ), "Sam Samordnare",
                                datetime(2015, 4, 30, tzinfo=TZ)),))
SECRET = _task(3, 8, status="cancelled", visibility="police", reason="sjukdom i laget",
               cancel_reason="sjukdom i laget", done_by="")
MISSED = _task(4, 11, status="missed", visibility="police")
REPORT = YearReport(
    "Arvidsjaur", "LPO Piteå Älvdal", "arvidsjaur", 2015, "Europe/Stockholm",
    datetime(2016, 1, 5, 9, tzinfo=TZ),
    (_promise("krog", False, (JOINED, MOVED), wording="Sex krogtillsyner.",
              comment="Bra år.", comment_by="Sam Samordnare",
              comment_at=datetime(2015, 12, 20, tzinfo=TZ)),
     _promise("narkotika", True, (SECRET, MISSED, _task(5, 3, visibility="police")))),
    {}, {"alko": "Alkoholhandläggare"})


def _all_text(doc: Document) -> str:
    parts = [doc.title, *doc.lead, *(c for row in doc.overview.rows for c in row)]
    for section in doc.sections:
        parts += [section.heading, section.wording, *section.paragraphs, *section.items,
                  section.comment]
        for caption, table in section.tables:
            parts += [caption, *table.header, *(c for row in table.rows for c in row)]
    return "\n".join(parts)


def test_quarters_count_done_and_planned_and_a_cancelled_task_is_not_planned() -> None:
    table = quarters_table(REPORT.promises[1], "sv")
    assert table.header == ("Kvartal", "K1", "K2", "K3", "K4", "Året")
    assert table.rows == (("Genomförda", "1", "0", "0", "0", "1"),
                          ("Planerade", "1", "0", "0", "1", "2"))


def test_the_public_version_names_nobody_and_gives_no_police_only_time() -> None:
    text = _all_text(build_document(REPORT))
    for secret in ("Petra", "Anna Polis", "Sam Samordnare", "Kalle", "Nils",
                   "måndag 10 augusti", "tisdag 10 november", "tisdag 10 mars"):
        assert secret not in text, secret
    assert "en alkoholhandläggare" in text and "besökta ställen: 3" in text
    assert "K3: inställd – sjukdom i laget" in text
    assert "K4: missad – ingen bekräftade passet inom en vecka" in text
    assert "Sex krogtillsyner." in text and "Bra år." in text
    assert "flyttad från fredag 1 maj kl. 21.00 till söndag 10 maj kl. 21.00" in text
    assert "tisdag 10 februari kl. 21.00–01.00" in text  # partner-visible work keeps its time


def test_the_internal_version_has_the_names_notes_and_every_time() -> None:
    text = _all_text(build_document(REPORT, public=False))
    for said in ("Petra Alkohol", "Anna Polis", "Träffade Kalle.", "Krögaren Nils",
                 "av Sam Samordnare", "Bra år. (Sam Samordnare, söndag 20 december)",
                 "måndag 10 augusti kl. 21.00", "tisdag 10 november: missad",
                 "tisdag 10 mars kl. 21.00"):
        assert said in text, said
