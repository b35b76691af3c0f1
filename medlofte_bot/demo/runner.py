"""Play a promise set's year through the real bot and the emulator, on a stepped clock.

The clock jumps from one due moment to the next (reminders, Monday summaries, the
scripted people's answers, and at least once a day), so a year takes well under a
minute while every message still goes over loopback HTTP through python-telegram-bot.
"""

from __future__ import annotations

import asyncio
import json
import re
import tempfile
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from botapi_emulator.records import SentMessage
from sqlalchemy import func, select
from telegram import Update
from telegram.ext import ContextTypes, TypeHandler

from botapi_emulator import BotApiEmulator
from medlofte_bot import texts
from medlofte_bot.bootstrap import build_bot, prepare
from medlofte_bot.chat.app import publish_commands
from medlofte_bot.chat.ratelimit import Pacer
from medlofte_bot.chat.render import follow_up_question
from medlofte_bot.chat.sender import TelegramSender
from medlofte_bot.demo import people as pp
from medlofte_bot.scheduling.clock import ManualClock
from medlofte_bot.scheduling.jobs import tick
from medlofte_bot.services.report import year_report
from medlofte_bot.services.summary import next_monday_morning
from medlofte_bot.services.tasks import MISSED_AFTER, view
from medlofte_bot.settings import Settings
from medlofte_bot.storage import models as m
from medlofte_bot.views.year_report import report_markdown

TOKEN = "123456:OFFLINE-DEMO"
DEMO_DB = "demo.db"  # in the demo's folder: ./data for `make run`
TASK_ID = re.compile(r"#(\d+) ")
SUMMER_NIGHTS = (2, 3, 4, 5)  # the summer nights' Wednesday to Saturday
Action = Callable[[], Awaitable[None]]


class Demo:
    """One scripted year: people, their answers, the transcript and the final figures."""

    def __init__(self, config: Path, start: datetime, out: TextIO,
                 web_url: str | None = None) -> None:
        self.config, self.out, self.web_url = config, out, web_url
        self.clock = ManualClock(start)
        self.emu = BotApiEmulator(token=TOKEN, bot_username="medlofte_bot",
                                  clock=lambda: self.clock.now().timestamp())
        self.names = {p.user_id: p.name for p in pp.PEOPLE}
        self.sent_updates = self.processed = 0
        self.cursor = 0
        self.actions: list[tuple[datetime, int, Action]] = []
        self.handled: set[tuple[int, int]] = set()
        self.moved = False
        self.choosing: dict[int, int] = {}  # officer -> the task a plain "klar" means
        self.moving: dict[int, int] = {}  # officer -> the task whose move buttons come next
        self.invitations = 0

    # --- plumbing ------------------------------------------------------------------------

    async def _count(self, _update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        self.processed += 1
        self._progress.set()

    async def _settled(self) -> None:
        """Wait until the bot has handled every update the people sent (it runs last)."""
        while self.processed < self.sent_updates:
            self._progress.clear()
            await asyncio.wait_for(self._progress.wait(), timeout=10.0)
        await self._drain()

    def _local(self) -> str:
        return self.clock.now().astimezone(self.tz).strftime("%Y-%m-%d %H:%M")

    def _print(self, who: str, whom: str, text: str) -> None:
        lines = text.strip().splitlines() or [""]
        more = f"  (+{len(lines) - 1} rader)" if len(lines) > 1 else ""
        self.out.write(f"{self._local()}  {who} → {whom}: {lines[0][:150]}{more}\n")

    async def say(self, user: int, text: str, reply_to: int | None = None) -> None:
        """A scripted person writes to the bot."""
        self._print(self.names[user], "bot", text)
        self.sent_updates += 1
        await self.emu.send_text(user, text, reply_to=reply_to)
        await self._settled()

    async def press(self, user: int, message: SentMessage, data: str, label: str) -> None:
        """A scripted person presses a button."""
        self._print(self.names[user], "bot", f"[{label}]")
        self.sent_updates += 1
        await self.emu.press_button(user, message.chat_id, message.message_id, data)
        await self._settled()

    async def _drain(self) -> None:
        sent = self.emu.all_sent()
        while self.cursor < len(sent):
            msg = sent[self.cursor]
            self.cursor += 1
            whom = self.names.get(msg.chat_id, str(msg.chat_id))
            self._print("bot", whom, msg.text or f"[bild] {msg.caption or ''}")
            await self._react(msg)
            sent = self.emu.all_sent()

    # --- what the scripted people do -----------------------------------------------------

    def _task(self, task_id: int) -> m.Task | None:
        with self.services.ctx.db.sessions() as s:
            task = s.get(m.Task, task_id)
            if task is not None:
                s.expunge(task)
            return task

    def _web_question(self, task_id: int, asked: str) -> str:
        """The follow-up questions as the officer knows them: from chat, or (a sealed task,
        secret_details = "web") from the task, which they read on its web page."""
        if pp.SEALED_FOLLOW_UP not in asked:
            return asked
        with self.services.ctx.db.sessions() as s:
            row = s.get(m.Task, task_id)
            assert row is not None
            return follow_up_question(view(s, row), "sv")

    def later(self, at: datetime, action: Action) -> None:
        """Queue an action for a moment on the demo's clock."""
        self.actions.append((at, len(self.actions), action))

    async def _react(self, msg: SentMessage) -> None:
        text, user = msg.text or "", msg.chat_id
        found = TASK_ID.search(text)
        task_id = int(found[1]) if found else None
        if user in pp.OFFICERS:
            await self._officer(user, msg, text, task_id)
        elif user == pp.PIA and task_id and text.startswith("Inbjudan"):
            self.invitations += 1
            joins = self.invitations != 2  # she declines the second joint inspection
            await self.press(user, msg, f"j:{task_id}:{int(joins)}",
                             "Jag deltar" if joins else "Kan inte")
        elif user == pp.FREDRIK and task_id and f"j:{task_id}:1" in msg.button_data():
            comes = pp.comes_to(text)
            await self.press(user, msg, f"j:{task_id}:{int(comes)}",
                             "Jag kommer" if comes else "Kan inte")
        elif user == pp.COORDINATOR and task_id and f"po:{task_id}" in msg.button_data():
            # nobody can join: the inspection is run by the police alone (not joint)
            await self.press(user, msg, f"po:{task_id}", "👮 Bara polis")

    async def _officer(self, user: int, msg: SentMessage, text: str,
                       task_id: int | None) -> None:
        moving = self.moving.pop(user, None)
        if moving is not None:  # the suggested times: the first on an allowed evening
            for data in msg.button_data():
                if data.startswith(f"mv:{moving}:") and datetime.fromisoformat(
                        data.split(":", 2)[2]).weekday() in SUMMER_NIGHTS:
                    await self.press(user, msg, data, "📅")
                    return
        meant = self.choosing.pop(user, None)
        if meant is not None and f"d:{meant}" in msg.button_data():  # "Vilken uppgift är klar?"
            await self.press(user, msg, f"d:{meant}", "✅")
            return
        skip = [b for b in msg.button_data() if b.startswith("s:")]
        if skip:  # the follow-up question after a confirmation
            asked = int(skip[0][2:])
            await self.say(user, pp.follow_up_answer(self._web_question(asked, text), asked),
                           reply_to=msg.message_id)
            return
        if task_id is None or (user, task_id) in self.handled:
            return
        task = self._task(task_id)
        if task is None or task.status != "pending":
            return
        if text.startswith(pp.ACT_ON):
            self.handled.add((user, task_id))
            if pp.misses(task_id):
                return
            if task.kind == "summer_night_patrol" and not self.moved:
                self.moved = True
                await self._move(user, task, msg)
                return
            self.later(max(task.end_at + timedelta(minutes=30), self.clock.now()),
                       lambda: self._confirm(user, msg, task_id, task.kind))

    async def _confirm(self, user: int, msg: SentMessage, task_id: int, kind: str) -> None:
        task = self._task(task_id)
        if task is None or task.status != "pending":
            return
        if pp.by_reply(task_id):
            await self.say(user, pp.reply_note(kind, task_id), reply_to=msg.message_id)
        elif pp.plain_done(task_id):  # "klar" alone: the bot knows which task, or asks
            self.choosing[user] = task_id
            await self.say(user, "klar")
        else:
            await self.press(user, msg, f"d:{task_id}", "✅ Klar")

    async def _move(self, user: int, task: m.Task, reminder: SentMessage) -> None:
        """Lina moves the first summer night by a day or two, to an allowed evening. When
        its details stay off chat (secret_details = "web") she types no time: she presses
        📅 Flytta and one of the suggested times."""
        if self.web_url is not None:
            self.handled.discard((user, task.id))
            self.moving[user] = task.id
            await self.press(user, reminder, f"m:{task.id}", "📅 Flytta")
            return
        local = task.start_at.astimezone(self.tz)
        for days in range(1, 7):
            day = local + timedelta(days=days)
            if day.weekday() in SUMMER_NIGHTS:
                self.handled.discard((user, task.id))
                await self.say(user, f"/flytta {task.id} {pp.spoken_time(day)}")
                return

    # --- the year ------------------------------------------------------------------------

    async def _onboard(self) -> None:
        for person in pp.PEOPLE:
            await self.emu.add_user(person.user_id, person.name.split(" ")[0])
        for person in pp.PEOPLE:
            if person.invite is None:
                continue
            await self.say(pp.COORDINATOR, f"/bjud {person.invite}")
            link = self.emu.last_message(pp.COORDINATOR)
            code = re.search(r"start=([\w-]+)", link.text or "") if link else None
            if code:
                await self.say(person.user_id, f"/start {code[1]}")

    def _next_moment(self, now: datetime) -> datetime:
        with self.services.ctx.db.sessions() as s:
            due = s.scalar(select(func.min(m.Reminder.due_at)).where(
                m.Reminder.state == "pending", m.Reminder.due_at > now))
            # the moment the next unconfirmed task turns missed (its team is told then)
            ended = s.scalar(select(func.min(m.Task.end_at)).where(
                m.Task.status == "pending", m.Task.end_at > now - MISSED_AFTER))
        moments = [now + timedelta(days=1), next_monday_morning(now, self.tz)]
        if due is not None:
            moments.append(due)
        if ended is not None:
            moments.append(ended + MISSED_AFTER + timedelta(seconds=1))
        moments += [at for at, _, _ in self.actions]
        return max(min(moments), now + timedelta(seconds=1))

    async def _step(self) -> None:
        await tick(self.services.outbox, TelegramSender(self.app.bot), self.clock)
        await self._drain()
        now = self.clock.now()
        due = sorted(a for a in self.actions if a[0] <= now)
        self.actions = [a for a in self.actions if a[0] > now]
        for _, _, action in due:
            await action()

    async def run(self, until: datetime, workdir: Path | None = None) -> dict[str, Any]:
        """Play from the clock's start to ``until``; returns the final figures.

        The database lives in ``workdir`` (kept: ``make run`` leaves it in ./data/demo.db
        for the report command, and tests read it) or a temporary folder; a database left
        there by an earlier run is replaced.
        """
        self._progress = asyncio.Event()
        with tempfile.TemporaryDirectory(prefix="medlofte-demo-") as scratch:
            tmp = workdir or Path(scratch)
            tmp.mkdir(parents=True, exist_ok=True)
            (tmp / DEMO_DB).unlink(missing_ok=True)
            await self.emu.start()
            settings = Settings(token=TOKEN, base_url=self.emu.base_url,
                                database_url=f"sqlite:///{tmp}/{DEMO_DB}", configs=[self.config],
                                admin_ids=frozenset({pp.COORDINATOR}), web_url=self.web_url)
            # the demo's clock jumps: pacing in real time would only slow the replay down
            self.services = prepare(settings, self.clock, worker="demo",
                                    pacer=Pacer(per_second=0, private_gap=0, group_gap=0))
            self.tz = self.services.ctx.tz
            self.app = build_bot(self.services, tick_enabled=False)
            self.app.add_handler(TypeHandler(Update, self._count), group=1)
            await self.app.initialize()
            await publish_commands(self.app)
            await self.app.start()
            assert self.app.updater is not None
            await self.app.updater.start_polling(poll_interval=0.0, timeout=1)
            try:
                await self._onboard()
                while self.clock.now() < until:
                    self.clock.current = self._next_moment(self.clock.now())
                    await self._step()
                return self._figures()
            finally:
                await self.app.updater.stop()
                await self.app.stop()
                await self.app.shutdown()
                await self.emu.stop()
                self.services.dispose()

    def _figures(self) -> dict[str, Any]:
        with self.services.ctx.db.sessions() as s:
            planned = s.scalar(select(func.count(m.Task.id)).where(m.Task.status != "cancelled"))
            done = s.scalar(select(func.count(m.Task.id)).where(m.Task.status == "done"))
            summaries = s.scalar(select(func.count(m.Reminder.id)).where(
                m.Reminder.kind == "weekly_summary", m.Reminder.state == "sent"))
            reports = [r for ps in self.services.ctx.sets.values()
                       if (r := year_report(s, ps, self.clock.now())) is not None]
        self.report = report_markdown(reports, "sv")
        verdicts = [p.met for r in reports for p in r.promises if p.met is not None]
        return {"demo": "ok", "messages": len(self.emu.all_sent()),
                "weekly_summaries": summaries or 0, "tasks_planned": planned or 0,
                "tasks_done": done or 0, "promises_met": sum(verdicts),
                "promises": len(verdicts)}


async def play(config: Path, start: datetime, until: datetime, out: TextIO,
               workdir: Path | None = None) -> dict[str, Any]:
    """Run the demo and print the transcript, the year report, how to get it as a file,
    and one JSON line. The database is kept in ``workdir`` when one is given."""
    demo = Demo(config, start, out)
    figures = await demo.run(until, workdir)
    out.write("\n" + demo.report + "\n")
    if workdir is not None:
        out.write(texts.t("demo.report_command", "sv", db=workdir / DEMO_DB, config=config,
                          year=start.year) + "\n\n")
    out.write(json.dumps(figures, ensure_ascii=False) + "\n")
    return figures


