"""Webhook mode: updates posted over real HTTP to the ASGI app, in the JSON Telegram sends."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update

from medlofte_bot.services.inbox import LEASE, Inbox
from medlofte_bot.storage import models as m
from medlofte_bot.web.server import SECRET_HEADER

from .conftest import (
    COORDINATOR,
    SECRET,
    WebhookHarness,
    invite_code,
    start_webhook_bot,
    stop_webhook_bot,
)

OFFICER, STRANGER = 2001, 777
QUIET = 0.3  # seconds to wait for a reply that must not come
MARCH = datetime(2015, 3, 1, 9, tzinfo=ZoneInfo("Europe/Stockholm"))


def _inbox(h: WebhookHarness) -> dict[int, m.UpdateInbox]:
    with h.db.sessions() as s:
        return {r.update_id: r for r in s.scalars(select(m.UpdateInbox))}


async def _until(check: Callable[[], object], what: str, timeout: float = 5.0) -> None:
    for _ in range(int(timeout / 0.02)):
        if check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"no {what} within {timeout} s")


def _done(h: WebhookHarness, update_id: int) -> bool:
    row = _inbox(h).get(update_id)
    return row is not None and row.done_at is not None


async def test_an_update_posted_with_the_secret_is_answered_and_marked_done(
        webhook_bot: WebhookHarness) -> None:
    h = webhook_bot
    answer = await h.say(COORDINATOR, "/hjalp")
    assert "/mina" in answer
    update_id = h.emu.last_update_id
    await _until(lambda: _done(h, update_id), "done mark")
    row = _inbox(h)[update_id]
    assert row.payload["message"]["text"] == "/hjalp" and row.attempts == 1


async def test_a_wrong_or_missing_secret_gets_403_and_changes_nothing(
        webhook_bot: WebhookHarness) -> None:
    h = webhook_bot
    await h.emu.add_user(OFFICER, "Olle")
    code = invite_code(await h.say(COORDINATOR, "/bjud polis lag-1"))
    action = await h.emu.send_text(OFFICER, f"/start {code}")
    for secret in (None, "", "wrong", "e2e-webhook-secret_"):
        answer = await h.deliver(action.update_id, secret=secret)
        assert answer.status_code == 403, secret
    await asyncio.sleep(QUIET)
    assert h.emu.messages_to(OFFICER) == []
    metrics = (await h.http.get(f"{h.base()}/metrics")).text
    assert 'medlofte_webhook_posts_total{result="forbidden"} 4.0' in metrics
    assert action.update_id not in _inbox(h)
    with h.db.sessions() as s:
        assert s.scalar(select(m.Member).where(m.Member.telegram_id == OFFICER)) is None
    # the same update with the secret: it was never taken, so it runs now
    assert (await h.deliver(action.update_id)).status_code == 200
    welcome = await h.emu.wait_for_message(OFFICER, timeout=5)
    assert "Välkommen, Olle" in (welcome.text or "")


async def test_a_resend_of_an_accepted_update_is_answered_200_and_not_run_again(
        webhook_bot: WebhookHarness) -> None:
    h = webhook_bot
    await h.emu.add_user(STRANGER, "Sven")
    action = await h.emu.send_text(STRANGER, "/mina")
    first, second = await asyncio.gather(h.deliver(action.update_id),
                                         h.deliver(action.update_id))
    assert (first.status_code, second.status_code) == (200, 200)
    await h.emu.wait_for_message(STRANGER, timeout=5)
    assert (await h.deliver(action.update_id)).status_code == 200, "resent after the answer"
    await asyncio.sleep(QUIET)
    assert len(h.emu.messages_to(STRANGER)) == 1
    metrics = (await h.http.get(f"{h.base()}/metrics")).text
    assert 'medlofte_webhook_posts_total{result="new"} 1.0' in metrics
    assert 'medlofte_webhook_posts_total{result="repeat"} 2.0' in metrics


async def test_a_body_that_is_no_update_is_refused_and_stores_nothing(
        webhook_bot: WebhookHarness) -> None:
    h = webhook_bot
    bodies: list[object] = [[1, 2], {"message": {}}, {"update_id": "7"}]
    for body in bodies:
        answer = await h.http.post(h.url, json=body, headers={SECRET_HEADER: SECRET})
        assert answer.status_code == 400, body
    raw = await h.http.post(h.url, content=b"{not json", headers={SECRET_HEADER: SECRET})
    assert raw.status_code == 400
    assert (await h.http.get(h.url)).status_code == 405
    assert _inbox(h) == {}


async def test_health_readiness_and_metrics_are_served_beside_the_webhook(
        webhook_bot: WebhookHarness) -> None:
    h = webhook_bot
    healthz = await h.http.get(f"{h.base()}/healthz")
    assert (healthz.status_code, healthz.text) == (200, "ok")
    readyz = await h.http.get(f"{h.base()}/readyz")
    assert (readyz.status_code, readyz.text) == (200, "ok")
    await h.say(COORDINATOR, "/mina")
    await h.emu.add_user(STRANGER, "Sven")
    await h.say(STRANGER, "hej")
    update_id = h.emu.last_update_id
    await _until(lambda: _done(h, update_id), "done mark")
    metrics = await h.http.get(f"{h.base()}/metrics")
    assert metrics.status_code == 200
    assert metrics.headers["content-type"].startswith("text/plain")
    text = metrics.text
    assert 'medlofte_updates_total{kind="command"} 1.0' in text
    assert 'medlofte_updates_total{kind="message"} 1.0' in text
    assert "medlofte_reply_seconds_count 2.0" in text
    assert "medlofte_telegram_429_total 0.0" in text
    assert "medlofte_reminders_due 0.0" in text and "medlofte_updates_open 0.0" in text


async def test_readiness_fails_with_a_reason_when_migrations_are_behind(
        webhook_bot: WebhookHarness) -> None:
    h = webhook_bot
    with h.db.transaction() as s:
        s.connection().exec_driver_sql("UPDATE alembic_version SET version_num = '0009'")
    readyz = await h.http.get(f"{h.base()}/readyz")
    assert (readyz.status_code, readyz.text) == (503, "migrations not at head")
    assert (await h.http.get(f"{h.base()}/healthz")).status_code == 200


def _task_of_lag_1(h: WebhookHarness, promise: str) -> m.Task:
    with h.db.sessions() as s:
        task = s.scalars(select(m.Task).join(m.Promise).join(m.Team).where(
            m.Promise.key == promise, m.Team.key == "lag-1").order_by(m.Task.start_at)).first()
        assert task is not None
        return task


def _completions(h: WebhookHarness, task_id: int) -> int:
    with h.db.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(m.Completion)
                            .where(m.Completion.task_id == task_id)) or 0)


def _left_by_a_dead_process(h: WebhookHarness, update_ids: list[int]) -> None:
    """As if the process that accepted these died before marking them done."""
    stale = h.lease_clock.now() - LEASE - timedelta(seconds=5)
    with h.db.transaction() as s:
        s.execute(update(m.UpdateInbox).where(m.UpdateInbox.update_id.in_(update_ids))
                  .values(done_at=None, claimed_by="bot-dead", claimed_at=stale))


async def test_updates_left_by_a_dead_process_run_in_another_and_store_one_confirmation(
        db_url: str, tmp_path: Path) -> None:
    """A /klar and a done button handled, then the process died before marking them done:
    another process takes them up and runs them again, and nothing is counted twice. An
    update accepted and never run at all is answered too. SQLite and PostgreSQL."""
    first = await start_webhook_bot(tmp_path / "first", MARCH, db_url=db_url)
    try:
        await _left_and_taken_up(first, tmp_path)
    finally:
        await stop_webhook_bot(first)


async def _left_and_taken_up(first: WebhookHarness, tmp_path: Path) -> None:
    await first.emu.add_user(OFFICER, "Olle")
    code = invite_code(await first.say(COORDINATOR, "/bjud polis lag-1"))
    assert "Välkommen" in await first.say(OFFICER, f"/start {code}")
    task = _task_of_lag_1(first, "narkotika")
    first.clock.current = task.start_at - timedelta(hours=2)
    sent = (await first.tick()).get("sent", 0)
    assert sent >= 1
    metrics = (await first.http.get(f"{first.base()}/metrics")).text
    assert f'medlofte_reminders_total{{outcome="sent"}} {float(sent)}' in metrics
    reminder = next(x for x in first.emu.messages_to(OFFICER) if f"#{task.id} " in (x.text or ""))
    await first.emu.press_button(OFFICER, OFFICER, reminder.message_id, f"d:{task.id}")
    button = first.emu.last_update_id
    assert (await first.deliver(button)).status_code == 200
    await first.emu.wait_for_message(OFFICER, lambda x: "genomförd" in (x.text or ""))
    klar = await first.say(OFFICER, f"/klar {task.id}")
    assert "Redan registrerad" in klar
    klar_id = first.emu.last_update_id
    await _until(lambda: _done(first, button) and _done(first, klar_id), "done marks")
    assert _completions(first, task.id) == 1
    # a third update accepted by the dead process and never run
    never_run = await first.emu.send_text(OFFICER, "/mina")
    payload = first.emu.update_json(never_run.update_id)
    assert payload is not None
    Inbox(first.db, "bot-dead").accept(never_run.update_id, payload, first.lease_clock.now())
    _left_by_a_dead_process(first, [button, klar_id, never_run.update_id])
    before = len(first.emu.messages_to(OFFICER))

    # the other process takes them up at its start (then every few seconds)
    second = await start_webhook_bot(tmp_path / "second", first.clock.current,
                                     db_url=first.db.url, emu=first.emu, worker="bot-2")
    try:
        await _until(lambda: all(_done(second, u) for u in (button, klar_id,
                                                              never_run.update_id)),
                     "done marks after recovery")
        rows = _inbox(second)
        assert {rows[u].claimed_by for u in (button, klar_id)} == {"bot-2"}
        assert rows[button].attempts == 2
        assert _completions(second, task.id) == 1
        answers = [x.text or "" for x in second.emu.messages_to(OFFICER)[before:]]
        assert sum("Redan registrerad" in a for a in answers) >= 2, answers
        assert any(a.startswith("#") for a in answers), f"/mina answered: {answers}"
        assert await second.web.intake.recover() == 0, "taken once"
    finally:
        await stop_webhook_bot(second)


async def test_a_stopped_bot_handles_what_it_accepted_and_leaves_the_webhook_set(
        tmp_path: Path) -> None:
    h = await start_webhook_bot(tmp_path, MARCH)
    try:
        await h.emu.add_user(STRANGER, "Sven")
        actions = [await h.emu.send_text(STRANGER, f"/mina {i}") for i in range(5)]
        for action in actions:
            assert (await h.deliver(action.update_id)).status_code == 200
    finally:
        await stop_webhook_bot(h)
    assert all(_done(h, a.update_id) for a in actions)
    assert h.emu.requests_for("deleteWebhook") == []
    assert h.emu.webhook_url == h.url


async def test_an_update_that_cannot_be_stored_gets_503_and_runs_when_sent_again(
        webhook_bot: WebhookHarness) -> None:
    """Nothing is answered 200 before it is stored: Telegram's resend is the retry."""
    h = webhook_bot
    await h.emu.add_user(STRANGER, "Sven")
    action = await h.emu.send_text(STRANGER, "/mina")
    with h.db.transaction() as s:
        s.connection().exec_driver_sql("ALTER TABLE update_inbox RENAME TO inbox_away")
    try:
        assert (await h.deliver(action.update_id)).status_code == 503
    finally:
        with h.db.transaction() as s:
            s.connection().exec_driver_sql("ALTER TABLE inbox_away RENAME TO update_inbox")
    await asyncio.sleep(QUIET)
    assert h.emu.messages_to(STRANGER) == []
    assert (await h.deliver(action.update_id)).status_code == 200
    await h.emu.wait_for_message(STRANGER, timeout=5)
    await _until(lambda: _done(h, action.update_id), "done mark")
