"""The web view's access and pages as use cases, on SQLite and PostgreSQL: tokens stored
hashed, a link spent once (also when two open it at once), sessions that end, a feed that
holds only what its member may see, the area's numbers as /status gives them, the report's
versions, and Monday summaries kept as they were sent."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text, update
from webworld import CHIEF_SUMMARY, World, build_world

from medlofte_bot.cli import main
from medlofte_bot.domain.errors import NotFound, UserError
from medlofte_bot.domain.states import SendOutcome
from medlofte_bot.services.outbox import Delivery, Outbox, Outgoing
from medlofte_bot.services.reminders import SUMMARY_KIND
from medlofte_bot.services.summary import Summary
from medlofte_bot.services.web import NotSignedIn, WebAccess
from medlofte_bot.services.webpages import WebPages
from medlofte_bot.settings import Settings
from medlofte_bot.storage import models as m


@pytest.fixture
def world(db_url: str) -> World:
    return build_world(db_url)


def signed_in(world: World, who: str) -> str:
    access = WebAccess(world.ctx)
    return access.redeem(access.login_link(world.people[who]).token).token


def test_no_token_is_stored_as_it_was_handed_out(world: World) -> None:
    access = WebAccess(world.ctx)
    link = access.login_link(world.people["kim"])
    session = access.redeem(link.token).token
    feed = access.new_feed(session)
    with world.db.engine.connect() as conn:
        stored = " ".join(str(row) for table in ("web_login", "web_session", "calendar_feed")
                          for row in conn.execute(text(f"SELECT * FROM {table}")))
    for token in (link.token, session, feed):
        assert token not in stored
    assert len({link.token, session, feed}) == 3


def test_a_link_is_spent_once_even_when_two_open_it_at_once(world: World) -> None:
    access = WebAccess(world.ctx)
    token = access.login_link(world.people["olle"]).token
    results: list[str] = []
    start = threading.Barrier(4)

    def spend() -> None:
        start.wait()
        try:
            access.redeem(token)
            results.append("in")
        except UserError as exc:
            results.append(exc.key)

    threads = [threading.Thread(target=spend) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["in", "web.link_used", "web.link_used", "web.link_used"]


def test_a_link_lasts_ten_minutes_of_the_clock_and_a_session_twelve_hours(
        world: World) -> None:
    access = WebAccess(world.ctx)
    first, second = (access.login_link(world.people["olle"]).token for _ in range(2))
    world.clock.advance(minutes=9, seconds=59)
    session = access.redeem(first).token
    world.clock.advance(seconds=1)
    with pytest.raises(UserError) as late:
        access.redeem(second)
    assert late.value.key == "web.link_expired"
    with pytest.raises(UserError) as unknown:
        access.redeem("no-such-link")
    assert unknown.value.key == "web.link_unknown"
    assert access.who(session).name == "Olle"
    world.clock.advance(hours=11, minutes=59)
    assert access.who(session).name == "Olle"
    world.clock.advance(minutes=1)
    with pytest.raises(NotSignedIn):
        access.who(session)


def test_logout_and_deactivation_end_a_session_and_strangers_get_no_link(
        world: World) -> None:
    access = WebAccess(world.ctx)
    session = signed_in(world, "olle")
    assert access.logout(session) is True
    assert access.logout(session) is False
    with pytest.raises(NotSignedIn):
        access.who(session)
    other = signed_in(world, "gone")
    with world.db.transaction() as s:
        s.execute(update(m.Member).where(m.Member.telegram_id == world.people["gone"])
                  .values(active=False))
    with pytest.raises(NotSignedIn):
        access.who(other)
    for telegram_id in (world.people["gone"], 999):
        with pytest.raises(NotFound):
            access.login_link(telegram_id)


def test_the_cookie_key_is_made_once_for_every_process_unless_set(world: World) -> None:
    one, two = WebAccess(world.ctx), WebAccess(world.ctx)
    made = one.signing_key(None)
    assert len(made) == 64 and two.signing_key(None) == made
    assert one.signing_key("s" * 40) == b"s" * 40


def _feed_kinds(world: World, who: str) -> list[tuple[str, str, str]]:
    access = WebAccess(world.ctx)
    secret = access.new_feed(signed_in(world, who))
    feed = WebPages(world.ctx, access).feed(secret)
    assert feed is not None
    return [(ps.slug, t.kind, t.visibility) for ps, t, _ in feed.events]


def test_each_feed_holds_what_its_member_may_see_and_a_new_one_revokes_the_last(
        world: World) -> None:
    partner = _feed_kinds(world, "pia")
    assert partner and all(v != "police" and slug == "arvidsjaur" for slug, _, v in partner)
    chief = _feed_kinds(world, "kim")
    assert {slug for slug, _, _ in chief} == {"arvidsjaur", "arjeplog", "alvsbyn"}
    assert any(v == "police" for _, _, v in chief)
    officer = _feed_kinds(world, "olle")
    assert 0 < len(officer) < len(chief)
    access = WebAccess(world.ctx)
    session = signed_in(world, "pia")
    old = access.new_feed(session)
    new = access.new_feed(session)
    pages = WebPages(world.ctx, access)
    assert pages.feed(old) is None and pages.feed(new) is not None


def test_the_area_page_has_the_numbers_of_status(world: World) -> None:
    for who in ("kim", "olle", "pia"):
        page = WebPages(world.ctx, WebAccess(world.ctx)).area(signed_in(world, who))
        assert list(page.rows) == world.usecases.status(world.actor(who)).value.rows


def test_a_month_and_a_task_follow_the_policy(world: World) -> None:
    pages = WebPages(world.ctx, WebAccess(world.ctx))
    chief, partner = signed_in(world, "kim"), signed_in(world, "pia")
    january = pages.month(chief, 2015, 1)
    assert world.tasks["police_done"] in {t.id for t in january.tasks}
    assert world.tasks["other_area"] not in {t.id for t in january.tasks}
    assert all(t.visibility != "police" for m_ in range(1, 13)
               for t in pages.month(partner, 2015, m_).tasks)
    with pytest.raises(NotFound):
        pages.task(partner, world.tasks["police_done"])
    with pytest.raises(NotFound):
        pages.task(chief, world.tasks["other_area"])
    for year, month in ((2015, 13), (2015, 0), (9999, 12), (0, 1)):
        with pytest.raises(NotFound):  # never a stack trace: 9999's December overflowed
            pages.month(chief, year, month)
    full = pages.task(chief, world.tasks["police_done"])
    assert full.details and full.done_by and full.note == "klar, 3 ställen"
    joint = pages.task(partner, world.tasks["joint"])
    assert not joint.details and joint.joined == ("Pia",) and joint.done_by == ""


def test_the_report_is_internal_for_leaders_and_public_without_police_work_until_new_year(
        world: World) -> None:
    pages = WebPages(world.ctx, WebAccess(world.ctx))
    chief = pages.report(signed_in(world, "kim"))
    assert not chief.public and {r.municipality for r in chief.reports} == {
        "Arjeplog", "Arvidsjaur", "Älvsbyn"}
    partner = pages.report(signed_in(world, "pia"))
    assert partner.public and partner.police_counts_left_out
    assert [r.municipality for r in partner.reports] == ["Arvidsjaur"]
    assert not any(p.police_only for r in partner.reports for p in r.promises)
    world.clock.current = datetime(2016, 1, 2, tzinfo=UTC)
    after = pages.report(signed_in(world, "pia"), 2015)
    assert not after.police_counts_left_out
    assert any(p.police_only for r in after.reports for p in r.promises)


def test_a_sent_summary_keeps_its_text_and_is_read_again_by_its_reader_only(
        world: World) -> None:
    pages = WebPages(world.ctx, WebAccess(world.ctx))
    assert [s.text for s in pages.summaries(signed_in(world, "kim")).summaries] == \
        [CHIEF_SUMMARY]
    assert "Narkotika" not in " ".join(
        s.text for s in pages.summaries(signed_in(world, "pia")).summaries)
    # the outbox keeps what the sender says it sent
    now = world.clock.now()
    with world.db.transaction() as s:
        cora = s.scalar(select(m.Member).where(m.Member.telegram_id == world.people["cora"]))
        assert cora is not None
        row = m.Reminder(subject="week:2015-03-16", kind=SUMMARY_KIND, member_id=cora.id,
                         due_at=now, state="claimed")
        s.add(row)
        s.flush()
        row_id = row.id
    summary = Summary(now, ZoneInfo("Europe/Stockholm"), True, [])
    Outbox(world.ctx).record(Outgoing((row_id,), 105, "sv", SUMMARY_KIND, summary=summary),
                             Delivery(SendOutcome.SENT, 77, text="Måndag 16 mars\n…"), now)
    kept = pages.summaries(signed_in(world, "cora"))
    assert [s.text for s in kept.summaries] == ["Måndag 16 mars\n…"]
    # a member who became a partner no longer reads the police summary she was sent
    with world.db.transaction() as s:
        s.execute(update(m.Member).where(m.Member.telegram_id == world.people["kim"])
                  .values(role="partner", partner_role="alkoholhandlaggare"))
    assert pages.summaries(signed_in(world, "kim")).summaries == ()


def test_login_link_prints_a_link_and_says_so_plainly_for_an_unknown_id(
        world: World, capsys: pytest.CaptureFixture[str]) -> None:
    settings = Settings(database_url=world.db.url, web_url="https://medlofte.example.se/")
    assert main(["login-link", "--telegram-id", str(world.people["kim"])], world.clock,
                settings) == 0
    out = capsys.readouterr().out
    assert "Inloggningslänk för Kim, gäller till tisdag 10 mars kl. 12.10" in out
    token = out.split("https://medlofte.example.se/webb/logga-in/")[1].strip()
    assert WebAccess(world.ctx).redeem(token).member.name == "Kim"
    assert main(["login-link", "--telegram-id", "999"], world.clock, settings) == 2
    assert "Ingen aktiv medlem har Telegram-id 999." in capsys.readouterr().err
    world.clock.advance(minutes=1)
    assert main(["--lang", "en", "login-link", "--telegram-id", "101"], world.clock,
                Settings(database_url=world.db.url)) == 0
    both = capsys.readouterr()
    assert "http://127.0.0.1:8080/webb/logga-in/" in both.out
    assert "MEDLOFTE_WEB_URL is not set" in both.err


def test_over_http_the_cookie_is_secure_behind_https_and_foreign_posts_change_nothing(
        world: World) -> None:
    import httpx
    from webserve import serve

    access = WebAccess(world.ctx)
    settings = Settings(web_url="https://medlofte.example.se")
    with serve(world.ctx, settings) as base, httpx.Client(base_url=base, timeout=60) as client:
        token = access.login_link(world.people["kim"]).token
        page = client.get(f"/webb/logga-in/{token}")
        assert page.status_code == 200 and "Logga in" in page.text
        assert page.headers["content-security-policy"].startswith("default-src 'none'")
        assert page.headers["referrer-policy"] == "same-origin"
        assert page.headers["cache-control"] == "no-store"
        foreign = client.post(f"/webb/logga-in/{token}", headers={"origin": "https://evil.example"})
        assert foreign.status_code == 403  # and the link is still unspent:
        signed = client.post(f"/webb/logga-in/{token}",
                             headers={"origin": "https://medlofte.example.se"})
        assert signed.status_code == 303 and signed.headers["location"] == "/webb/"
        cookie = signed.headers["set-cookie"]
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
        value = cookie.split(";")[0].split("=", 1)[1]
        jar = {"cookie": f"medlofte_session={value}"}
        # the cookie is Secure: a browser would send it only over https; send it by hand
        assert client.get("/webb/", headers=jar).status_code == 200
        refused = client.post("/webb/logga-ut", content="csrf=wrong",
                              headers={**jar, "origin": "https://medlofte.example.se",
                                       "content-type": "application/x-www-form-urlencoded"})
        assert refused.status_code == 403
        assert client.get("/webb/", headers=jar).status_code == 200  # still signed in
        assert client.get("/webb/kalender/no-such-feed.ics").status_code == 404
