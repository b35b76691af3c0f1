"""secret_details = "web": how a sealed task is said in chat, and who decides (issue 10.5).

A police-only task of a set in "web" mode is sealed (the policy decides); every rendering
of it names its number, that it is due or done, and its web page, and no kind, time, place,
team, car, label, promise or note.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from medlofte_bot import texts
from medlofte_bot.bootstrap import log_secret_details
from medlofte_bot.chat import render
from medlofte_bot.chat.sender import render_outgoing
from medlofte_bot.configuration import load_promise_set
from medlofte_bot.domain.errors import ConfigError
from medlofte_bot.domain.policy import (
    TaskFacts,
    Viewer,
    carries_details,
    chat_report_version,
)
from medlofte_bot.planning.planner import plan_year
from medlofte_bot.services.disclosure import Disclosure
from medlofte_bot.services.outbox import DIGEST, Notice, Outgoing
from medlofte_bot.services.summary import Completed, Summary
from medlofte_bot.services.tasks import TaskView
from medlofte_bot.settings import load_settings
from medlofte_bot.views.plan_views import plan_ics

CONFIG = Path(__file__).parents[2] / "config" / "arvidsjaur-2015.toml"
TZ = ZoneInfo("Europe/Stockholm")
START = datetime(2015, 6, 12, 22, 0, tzinfo=TZ)
PAGE = "https://medlofte.example.se/webb/uppdrag/17"
OPEN = TaskView(17, "k", "krogtillsyn", "Krogtillsyner", "bar_inspection", START,
                START + timedelta(hours=4), "Arvidsjaur lag 1", False, "unmarked", "Centrum",
                "pending", "police", 0, ("places_visited", "remarks"), (), 1, "Arvidsjaur")
SEALED = replace(OPEN, sealed=True, page=PAGE)
# everything a sealed task's messages must not say, in both languages
DETAILS = ("Krogtillsyn", "Bar inspection", "Krogtillsyner", "12 juni", "12 June", "22.00",
           "22:00", "fredag", "Friday", "Arvidsjaur", "lag 1", "civil", "unmarked", "Centrum",
           "ställen", "places", "i morgon", "I morgon", "Om två", "Tomorrow", "In two")


def _clean(text: str) -> None:
    assert not [word for word in DETAILS if word in text], text


def test_the_policy_keeps_only_police_only_details_off_chat_and_only_in_web_mode() -> None:
    def task(visibility: str) -> TaskFacts:
        return TaskFacts("x", visibility, 1, 1, (), "pending")

    assert not carries_details(task("police"), "web")
    assert carries_details(task("police"), "chat")
    assert carries_details(task("partners"), "web") and carries_details(task("public"), "web")
    assert not carries_details(task("police"), "telegram"), "an unknown mode fails closed"


def test_a_leader_gets_the_public_year_report_in_chat_when_a_set_is_in_web_mode() -> None:
    chief = Viewer("chief", municipality_id=1, area=frozenset({1}))
    assert chat_report_version(chief, ["chat", "chat"]) == "internal"
    assert chat_report_version(chief, ["chat", "web"]) == "public"
    assert chat_report_version(Viewer("officer", team_id=1), ["web"]) is None


def test_secret_details_is_chat_by_default_web_when_asked_and_nothing_else(
        tmp_path: Path) -> None:
    assert load_promise_set(CONFIG).promise_set.secret_details == "chat"
    shipped = CONFIG.read_text(encoding="utf-8")
    for value, ok in (('"web"', True), ('"telegram"', False), ("true", False)):
        path = tmp_path / "set.toml"
        path.write_text(shipped.replace("partner_summary = false",
                                        f"partner_summary = false\nsecret_details = {value}"),
                        encoding="utf-8")
        if ok:
            assert load_promise_set(path).promise_set.secret_details == "web"
            continue
        with pytest.raises(ConfigError) as caught:
            load_promise_set(path)
        said = texts.t(caught.value.key, "sv", **caught.value.params)
        assert "secret_details" in said and "'chat'" in said and "'web'" in said, said


def test_the_mode_of_a_year_not_loaded_is_the_municipalitys_latest() -> None:
    disclosure = Disclosure({("arvidsjaur", 2015): "chat", ("arvidsjaur", 2016): "web"},
                            "https://x.se")
    assert disclosure.mode("arvidsjaur", 2015) == "chat"
    assert disclosure.mode("arvidsjaur", 2014) == "web"
    assert disclosure.mode("arjeplog", 2015) == "chat"
    assert disclosure.page(5) == "https://x.se/webb/uppdrag/5"
    assert Disclosure().page(5) is None


def test_a_sealed_task_line_is_its_number_and_its_page_or_that_the_web_is_not_set_up() -> None:
    assert render.task_line(OPEN, "sv").startswith("#17 fredag 12 juni kl. 22.00 – Krogtillsyn")
    line = render.task_line(SEALED, "sv", place=True)
    assert line == f"#17 (detaljer i webbvyn efter inloggning: {PAGE})"
    _clean(line)
    bare = render.task_line(replace(SEALED, page=None), "en")
    assert bare.startswith("#17 (") and "not set up" in bare and "http" not in bare
    assert render.task_line(replace(SEALED, status="done"), "sv").startswith("#17 ✅ (")


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_every_reminder_of_a_sealed_task_says_only_that_it_is_due(lang: str) -> None:
    for kind in ("team_7d", "team_1d", "assignee_1d", "assignee_2h", "generic"):
        text = render.reminder_text(SEALED, kind, lang)
        assert "#17" in text and PAGE in text
        _clean(text)
    asked = render.reminder_text(SEALED, "was_it_done", lang)
    assert "#17" in asked and PAGE in asked and ("klar" in asked or "done" in asked)
    _clean(asked)
    assert "Krogtillsyn" in render.reminder_text(OPEN, "assignee_2h", "sv")


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_answers_about_a_sealed_task_name_no_time_kind_or_promise(lang: str) -> None:
    said = [render.early_confirm_text(SEALED, lang), render.moved_text(SEALED, lang),
            render.already_done_text(SEALED, "Olle", START, lang),
            render.follow_up_question(SEALED, lang), render.promise_title(SEALED, lang),
            *(label for label, _ in render.move_options(SEALED, lang))]
    for text in said:
        _clean(text)
    assert PAGE in render.moved_text(SEALED, lang)
    assert [iso for _, iso in render.move_options(SEALED, lang)] == [
        (START + timedelta(days=n)).isoformat() for n in (1, 7)]
    buttons = render.choose_done([SEALED, replace(OPEN, id=18)], lang).inline_keyboard
    assert buttons[0][0].text.startswith("✅ #18 ") and buttons[1][0].text == "✅ #17"
    assert "22" in render.early_confirm_text(OPEN, lang)  # the open task keeps its time


def test_lists_put_sealed_tasks_last_and_under_no_municipality() -> None:
    other = replace(OPEN, id=20, municipality="Arjeplog", start=START + timedelta(days=3))
    first = replace(OPEN, id=19, start=START - timedelta(days=2))
    text = render.task_list("plan_title", [first, SEALED, other], "sv", 14)
    lines = text.splitlines()
    assert lines[-1] == render.task_line(SEALED, "sv")
    assert lines.index("Arvidsjaur:") < lines.index("Arjeplog:") < len(lines) - 2
    assert [t.id for t in render.in_order([SEALED, other, first])] == [20, 19, 17]
    assert not render.several_places([SEALED, replace(OPEN, municipality="Arjeplog")])


def test_a_summary_says_a_sealed_task_by_number_and_leaves_its_note_out() -> None:
    summary = Summary(START, TZ, True, [], completed=[
        Completed(SEALED, "Olle", "tre ställen i Centrum"),
        Completed(replace(OPEN, id=15, kind="risk_night", visibility="partners",
                          vehicle=None, label="Studenten"), "Lina", "lugnt")],
        upcoming=[SEALED])
    text = render.summary_text(summary, "sv")
    done = text.split("Förra veckan genomfört:\n")[1].split("\n\n")[0].splitlines()
    assert done[0].startswith("• #15 ") and done[0].endswith("– Lina: lugnt")
    assert done[1] == f"• {render.task_line(SEALED, 'sv')} – Olle"
    body = text.replace("Arvidsjaur lag 1), fre", "")  # the risk night's own line is open
    for line in body.splitlines():
        if "#17" in line:
            _clean(line)


def test_the_outbox_messages_of_a_sealed_task_carry_only_number_and_page() -> None:
    reminder = Outgoing((1,), 5, "sv", "assignee_2h", buttons="task", task=SEALED)
    texts_, markup = render_outgoing(reminder, "medlofte_bot")
    assert len(texts_) == 1 and PAGE in texts_[0] and markup is not None
    _clean(texts_[0])
    labels = [b.text for row in markup.inline_keyboard for b in row]
    assert labels == ["✅ Klar", "📅 Flytta", "✖️ Ställ in"]  # no details on buttons
    missed = replace(reminder, kind="task_missed", buttons=None, notice=Notice(
        replaced_by=(replace(SEALED, id=48, page=PAGE.replace("17", "48")),),
        target_holds=True, target=6))
    said = render_outgoing(missed, "medlofte_bot")[0][0]
    assert "#17" in said and "#48" in said and PAGE.replace("17", "48") in said
    _clean(said)
    digest = Outgoing((1, 2), 5, "sv", DIGEST, tasks=(SEALED, replace(OPEN, id=3)), late=True)
    lines = render_outgoing(digest, "medlofte_bot")[0][0].splitlines()
    assert lines[1].startswith("#3 ") and lines[2] == render.task_line(SEALED, "sv")


def test_the_web_base_is_the_web_url_else_the_webhook_hosts_else_none() -> None:
    assert load_settings({}).web_base() is None
    assert load_settings({"MEDLOFTE_WEB_URL": "https://m.example.se/"}).web_base() == \
        "https://m.example.se"
    with pytest.raises(ConfigError) as caught:
        load_settings({"MEDLOFTE_WEB_URL": "m.example.se"})
    assert caught.value.params["variable"] == "MEDLOFTE_WEB_URL"


def test_a_set_in_web_mode_without_a_web_url_is_warned_about_once_at_start(
        caplog: pytest.LogCaptureFixture) -> None:
    ps = load_promise_set(CONFIG).promise_set
    web = ps.model_copy(update={"secret_details": "web"})
    with caplog.at_level(logging.WARNING, logger="medlofte_bot.bootstrap"):
        log_secret_details([ps], None)
        log_secret_details([web], "https://m.example.se")
        assert not caplog.records
        log_secret_details([ps, web], None)
    assert len(caplog.records) == 1
    assert "Arvidsjaur 2015" in caplog.text and "MEDLOFTE_WEB_URL" in caplog.text


def test_a_calendar_file_leaves_police_only_tasks_out_in_web_mode_even_when_asked() -> None:
    ps = load_promise_set(CONFIG).promise_set
    web = ps.model_copy(update={"secret_details": "web"})
    plan = plan_year(ps)
    police = sum(1 for t in plan.tasks if t.visibility == "police")
    data, left_out = plan_ics(plan, ps, START, include_police_only=True)
    assert left_out == 0 and b"Narkotikainsats" in data
    data, left_out = plan_ics(plan_year(web), web, START, include_police_only=True)
    assert left_out == police > 0 and b"Narkotikainsats" not in data
    assert data.count(b"BEGIN:VEVENT") == len(plan.tasks) - police
