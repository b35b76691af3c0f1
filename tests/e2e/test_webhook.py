"""Webhook mode: updates posted over HTTP to the ASGI app, as Telegram posts them."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from medlofte_bot.storage import models as m

from .conftest import COORDINATOR, WebhookHarness

STRANGER = 777


def _inbox(h: WebhookHarness) -> dict[int, m.UpdateInbox]:
    with h.db.sessions() as s:
        return {r.update_id: r for r in s.scalars(select(m.UpdateInbox))}


async def test_an_update_posted_with_the_secret_is_answered_and_marked_done(
        webhook_bot: WebhookHarness) -> None:
    h = webhook_bot
    answer = await h.say(COORDINATOR, "/hjalp")
    assert "/mina" in answer
    update_id = h.emu.last_update_id
    await h.emu.wait_until(lambda: True, timeout=0.1)
    for _ in range(100):
        row = _inbox(h).get(update_id)
        if row is not None and row.done_at is not None:
            break
        await asyncio.sleep(0.02)
    row = _inbox(h)[update_id]
    assert row.done_at is not None and row.payload["message"]["text"] == "/hjalp"
