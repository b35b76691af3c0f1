"""The year report in chat: /kommentar stores the coordinator's comment, /arsrapport sends the
chief the internal PDF as a document (through sendDocument on the emulator), others are
refused, and a group is answered in private."""

from __future__ import annotations

import io
from datetime import timedelta

import pypdf
from sqlalchemy import select

from medlofte_bot.storage import models as m

from .conftest import Harness

OFFICER, PARTNER, CHIEF = 2001, 3001, 4001
GROUP = -610
COMMENT = "Två pass blev polisens egna när handläggaren var sjuk."






def _pdf_text(bot: Harness, file_id: str | None) -> str:
    assert file_id is not None
    data = bot.emu.files[file_id].data
    assert data.startswith(b"%PDF-")
    reader = pypdf.PdfReader(io.BytesIO(data))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


async def test_the_chief_gets_the_internal_year_report_as_a_pdf_with_the_comment(
        bot: Harness) -> None:
    await bot.join(OFFICER, "Olle", "/bjud polis lag-1")
    await bot.join(CHIEF, "Kim", "/bjud chef")
    with bot.db.sessions() as s:
        task = s.scalars(select(m.Task).join(m.Promise).join(m.Team).where(
            m.Promise.key == "narkotika", m.Team.key == "lag-1")
            .order_by(m.Task.start_at)).first()
        assert task is not None
    bot.clock.current = task.end_at + timedelta(hours=1)
    await bot.say(OFFICER, f"/klar {task.id} lugnt")

    saved = await bot.say(1, f"/kommentar krogtillsyn {COMMENT}")
    assert "Kommentaren till Krogtillsyner (Arvidsjaur 2015) är sparad" in saved
    assert "är ändrad" in await bot.say(CHIEF, f"/kommentar krogtillsyn {COMMENT}")
    with bot.db.sessions() as s:
        audit = s.scalars(select(m.AuditEntry).where(m.AuditEntry.action == "commented")).all()
        assert len(audit) == 2

    assert "Jag gör årsrapporten för 2015" in await bot.say(CHIEF, "/arsrapport")
    doc = await bot.emu.wait_for_message(CHIEF, lambda x: x.kind == "document", timeout=30)
    assert doc.file_name == "arsrapport-2015-intern.pdf"
    assert "intern version" in (doc.caption or "") and "Arvidsjaur" in (doc.caption or "")
    text = _pdf_text(bot, doc.file_id)
    assert "Intern version" in text and "Olle" in text  # names and times: internal
    assert f"{COMMENT} (Kim, " in text  # the chief wrote it last
    assert "Utfall: 1 av 6" in text


async def test_officers_and_partners_are_refused_and_a_group_is_answered_in_private(
        bot: Harness) -> None:
    await bot.join(OFFICER, "Olle", "/bjud polis lag-1")
    await bot.join(PARTNER, "Pia", "/bjud partner alkoholhandlaggare")
    await bot.join(CHIEF, "Kim", "/bjud chef")
    for user in (OFFICER, PARTNER):
        assert "är för lokalpolisområdeschefen och samordnare" in await bot.say(
            user, "/arsrapport")
        assert "skrivs av lokalpolisområdeschefen" in await bot.say(
            user, "/kommentar krogtillsyn bra")
    assert "Inget löfte 'krog'" in await bot.say(CHIEF, "/kommentar krog bra")
    assert "/kommentar LÖFTE TEXT" in await bot.say(CHIEF, "/kommentar krogtillsyn")
    assert "Inget är sparat för 2014" in await bot.say(CHIEF, "/arsrapport 2014")
    assert not any(x.kind == "document" for u in (OFFICER, PARTNER, CHIEF)
                   for x in bot.emu.messages_to(u))
    with bot.db.sessions() as s:
        assert s.scalars(select(m.Promise.comment).where(m.Promise.comment.is_not(None))
                         ).all() == []

    await bot.emu.add_group(GROUP, "Rådet", members=[1, OFFICER, PARTNER, CHIEF])
    assert await bot.say(CHIEF, "/arsrapport", chat=GROUP) == "Jag svarar dig privat."
    doc = await bot.emu.wait_for_message(CHIEF, lambda x: x.kind == "document", timeout=30)
    assert doc.file_name == "arsrapport-2015-intern.pdf"
    assert all(x.kind != "document" for x in bot.emu.messages_to(GROUP))
