"""Plays generated hostile steps through the real bot and the emulator, judging each one.

After every step (the bot has dealt with all of its updates: each one went through the
handlers, or the bot polled again and has nothing running) the oracle compares the database
before and after, reads every message and callback answer the bot sent, and looks at the
error log. Now and then (at most once a second of wall time, so the legitimate officer never
looks like a flood) the legitimate officer asks /mina and must be answered within
``WATCH_TIMEOUT`` seconds. Every ``TICK_EVERY`` steps the reminder tick runs; the clock moves
``CLOCK_STEP`` per step.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import func, select
from telegram import Update
from telegram.ext import ContextTypes, TypeHandler

from botapi_emulator import SentMessage
from medlofte_bot.storage import models as m

from . import oracle
from .generator import (
    Edit,
    Flood,
    Join,
    Moment,
    Post,
    Press,
    Ref,
    Repeat,
    ReplyTo,
    Send,
    Step,
    Text,
    steps,
)
from .world import CHANNEL, PEOPLE, WATCH, World, invite_code

WATCH_TIMEOUT = 3.0  # seconds the legitimate officer may wait for /mina
WATCH_GAP = 1.0  # seconds of wall time between two /mina of the legitimate officer
SETTLE_TIMEOUT = 10.0
TICK_EVERY = 150
CLOCK_STEP = timedelta(minutes=10)
FLOOD_ANSWERS_MAX = 25  # of FLOOD_SIZE updates: "answered once and ignored for a minute"
HANDLED_GROUP = 1_000  # after every group the bot may use
DATA_MAX = 64  # bytes of callback_data Telegram carries


@dataclass(frozen=True)
class Violation:
    """One thing the oracle found: which step, whose input, what went wrong."""

    step: int
    family: str
    actor: str
    input: str
    check: str
    detail: str

    def __str__(self) -> str:
        return (f"step {self.step} [{self.family}] {self.actor}: {self.input} -> "
                f"{self.check}: {self.detail}")


@dataclass
class Report:
    """What a run did and found."""

    steps: Counter[str] = field(default_factory=Counter)
    updates: Counter[str] = field(default_factory=Counter)
    violations: list[Violation] = field(default_factory=list)
    watches: int = 0
    slowest_watch: float = 0.0
    dropped: dict[int, int] = field(default_factory=dict)  # update id -> deliveries not run
    seconds: float = 0.0

    @property
    def unsignalled(self) -> int:
        """Deliveries the bot took without running a handler to the end (repeats, floods)."""
        return sum(self.dropped.values())

    @property
    def total_updates(self) -> int:
        """Updates sent in the run, the legitimate officer's included."""
        return sum(self.updates.values())

    def summary(self, examples: int = 2) -> str:
        """The violations grouped by check and family, biggest first, with examples of each."""
        groups: dict[tuple[str, str], list[Violation]] = {}
        for v in self.violations:
            groups.setdefault((v.check, v.family), []).append(v)
        lines = [f"{len(self.violations)} violations in {self.total_updates} updates:"]
        for (check, family), found in sorted(groups.items(), key=lambda kv: -len(kv[1])):
            lines.append(f"  {check} / {family}: {len(found)}, e.g.")
            lines += [f"    {v}"[:400] for v in found[:examples]]
        return "\n".join(lines)


class ErrorLog(logging.Handler):
    """Every ERROR the bot (or python-telegram-bot) logs."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Keep the record."""
        self.records.append(record)


def describe_record(record: logging.LogRecord) -> str:
    """'update 17 failed: ValueError(...)'."""
    exc = record.exc_info[1] if record.exc_info else None
    return record.getMessage() + (f": {exc!r}"[:300] if exc is not None else "")


def short(text: str, keep: int = 70) -> str:
    """A repr that fits a line: long texts say how long they were."""
    if len(text) <= keep:
        return repr(text)
    return f"{text[:keep]!r}…({len(text)} chars)"


def _listed(items: list[str], keep: int = 4) -> str:
    more = f" and {len(items) - keep} more" if len(items) > keep else ""
    return ", ".join(items[:keep]) + more


@dataclass
class Performed:
    """What a step sent: update ids (with how many deliveries each), texts typed, senders."""

    deliveries: Counter[int] = field(default_factory=Counter)
    typed: list[str] = field(default_factory=list)
    senders: set[int] = field(default_factory=set)
    inputs: list[str] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)  # (check, detail)
    replied: SentMessage | None = None


class Runner:
    """One hostile run over a World."""

    def __init__(self, world: World, seed: int) -> None:
        self.world = world
        self.bot = world.bot
        self.emu = world.bot.emu
        self.seed = seed
        self.handled: Counter[int] = Counter()
        self.errors = ErrorLog()
        self.report = Report()
        self.bot_msgs: dict[int, list[SentMessage]] = {}
        self.user_msgs: dict[int, list[tuple[int, int]]] = {}  # chat -> (message id, sender)
        self.presser: dict[str, int] = {}
        self.sent_seen = 0
        self.answers_seen = 0
        self.edit_counts: dict[tuple[int, int], int] = {}
        self.edits_seen = 0
        self.last_watch = 0.0
        self.snapshot, _ = self._take(0)
        self._index_sent()

    # ----- plumbing --------------------------------------------------------------------------

    async def _on_update(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        self.handled[update.update_id] += 1

    def _take(self, audit_after: int) -> tuple[oracle.Snapshot, list[oracle.AuditRow]]:
        with self.bot.db.sessions() as session:
            return oracle.take_snapshot(session, audit_after)

    async def _settle(self, deliveries: Counter[int], what: Performed) -> None:
        """Wait until the bot has dealt with every update of the step."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SETTLE_TIMEOUT
        app = self.bot.app
        quiet = 0
        while True:
            if all(self.handled[u] >= n for u, n in deliveries.items()):
                return
            idle = (all(self.emu.acknowledged(u) for u in deliveries)
                    and app.update_queue.empty()
                    and app.update_processor.current_concurrent_updates == 0)
            quiet = quiet + 1 if idle else 0
            if quiet >= 3:  # taken, and nothing running: dropped before any handler ended
                for u, n in deliveries.items():  # a step settles more than once: count once
                    if self.handled[u] < n:
                        self.report.dropped[u] = n - self.handled[u]
                return
            if loop.time() > deadline:
                what.problems.append(("timeout", f"updates {sorted(deliveries)} not dealt "
                                                 f"with within {SETTLE_TIMEOUT} s"))
                return
            await asyncio.sleep(0.002)

    def _index_sent(self) -> list[SentMessage]:
        """New bot messages since the last call (and old ones edited since), indexed by chat."""
        sent = self.emu.all_sent()
        new = sent[self.sent_seen:]
        self.sent_seen = len(sent)
        for message in new:
            self.bot_msgs.setdefault(message.chat_id, []).append(message)
            self.edit_counts[(message.chat_id, message.message_id)] = len(message.edits)
        edits = sum(self.emu.count_by_method[name] for name in (
            "editMessageText", "editMessageReplyMarkup", "editMessageCaption"))
        if edits != self.edits_seen:
            self.edits_seen = edits
            for message in sent[: len(sent) - len(new)]:
                key = (message.chat_id, message.message_id)
                if len(message.edits) != self.edit_counts.get(key, 0):
                    self.edit_counts[key] = len(message.edits)
                    new.append(message)
        return new

    # ----- resolving what the generator left open -------------------------------------------

    def _pool(self, ref: Ref, actor: str) -> list[int]:
        tasks = self.snapshot.tasks.values()
        pool = ref.pool
        if pool == "own":
            pool = {"officer": "lag2", "partner": "joint", "fieldworker": "risk"}.get(actor, "any")
        if pool == "missing":
            return [max(self.snapshot.tasks, default=0) + 1 + ref.pick % 50]
        chosen = [t for t in tasks if (
            pool == "any" or (pool == "lag2" and t.team == "lag-2")
            or (pool == "joint" and t.joint) or (pool == "risk" and t.kind == "risk_night")
            or (pool.endswith("_police") and t.visibility == "police"
                and t.team == f"lag-{pool[3]}"))]
        pending = [t.id for t in chosen if t.status == "pending"]
        return sorted(pending or [t.id for t in chosen]) or [1]

    def _resolve(self, text: Text, actor: str) -> str:
        out: list[str] = []
        for piece in text:
            if isinstance(piece, Ref):
                pool = self._pool(piece, actor)
                out.append(str(pool[piece.pick % len(pool)]))
            elif isinstance(piece, Moment):
                pool = self._pool(piece.ref, actor)
                task = self.snapshot.tasks.get(pool[piece.ref.pick % len(pool)])
                start = task.start_at if task else self.bot.clock.now()
                out.append((start + timedelta(days=piece.days)).astimezone(oracle.TZ).isoformat())
            else:
                out.append(piece)
        return "".join(out)

    def _bot_message(self, chat: int, back: int) -> SentMessage | None:
        found = self.bot_msgs.get(chat) or []
        return found[-1 - back % len(found)] if found else None

    def _reply_target(self, chat: int, reply: ReplyTo | None, uid: int,
                      what: Performed) -> int | None:
        if reply is None:
            return None
        if reply.whose == "bot":
            message = self._bot_message(chat, reply.back)
            what.replied = message
            return message.message_id if message else None
        mine = self.user_msgs.get(chat) or []
        others = [mid for mid, sender in mine if sender != uid] or [mid for mid, _ in mine]
        return others[-1 - reply.back % len(others)] if others else None

    # ----- acting -----------------------------------------------------------------------------

    async def _send(self, uid: int, chat: int, text: str, what: Performed,
                    reply_to: int | None = None) -> int:
        action = await self.emu.send_text(uid, text, chat_id=None if chat == uid else chat,
                                          reply_to=reply_to)
        self.user_msgs.setdefault(chat, []).append((action.message_id, uid))
        what.deliveries[action.update_id] += 1
        what.typed.append(text)
        what.senders.add(uid)
        return action.update_id

    async def _press(self, uid: int, chat: int, back: int, data: str, what: Performed) -> int:
        target = self._bot_message(chat, back)
        if target is None:  # nothing to press on yet: ask for something first
            await self._send(uid, chat, "/hjalp", what)
            await self._settle(what.deliveries, what)
            target = self.emu.last_message(chat)
        if target is None:
            what.problems.append(("setup", f"no bot message to press on in {chat}"))
            return 0
        raw = data.encode()[:DATA_MAX].decode(errors="ignore")
        query = await self.emu.press_button(uid, chat, target.message_id, raw, check=False)
        self.presser[query] = uid
        update_id = self.emu.last_update_id
        what.deliveries[update_id] += 1
        what.typed.append(raw)
        what.senders.add(uid)
        what.inputs.append(f"press {short(raw)} on message {target.message_id} in {chat}")
        return update_id

    async def _perform(self, step: Step, what: Performed) -> None:
        action, actor = step.action, step.actor
        uid = PEOPLE.get(actor, 0)
        if isinstance(action, Send):
            await self._do_send(action, actor, uid, what)
        elif isinstance(action, Press):
            chat = self.world.chat_of(actor, action.chat)
            data = self._resolve(action.data, actor)
            await self._press(uid, chat, action.back, data, what)
            if action.twice:
                await self._press(uid, chat, action.back, data, what)
            await self._settle(what.deliveries, what)
        elif isinstance(action, Edit):
            await self._do_edit(action, actor, uid, what)
        elif isinstance(action, Repeat):
            await self._do_repeat(action, actor, uid, what)
        elif isinstance(action, Flood):
            await self._do_flood(action, actor, uid, what)
        elif isinstance(action, Post):
            await self._do_post(action, actor, what)
        else:
            await self._do_join(step, action, uid, what)

    async def _do_send(self, action: Send, actor: str, uid: int, what: Performed) -> None:
        chat = self.world.chat_of(actor, action.chat)
        text = self._resolve(action.text, actor)
        reply_to = self._reply_target(chat, action.reply, uid, what)
        if text.startswith("/"):  # a command sent as a reply is a command: its own scope
            what.replied = None
        what.inputs.append(f"{short(text)} in {chat}"
                           + (f" replying to message {reply_to}" if reply_to else ""))
        await self._send(uid, chat, text, what, reply_to)
        await self._settle(what.deliveries, what)

    async def _do_edit(self, action: Edit, actor: str, uid: int, what: Performed) -> None:
        chat = self.world.chat_of(actor, action.chat)
        original = self._resolve(action.original, actor)
        await self._send(uid, chat, original, what)
        await self._settle(what.deliveries, what)
        mid, _ = self._take(self.snapshot.audit_max)
        sent_before = len(self.emu.all_sent())
        message_id = self.user_msgs[chat][-1][0]
        edited = self._resolve(action.edited, actor)
        what.inputs.append(f"{short(original)} in {chat}, edited to {short(edited)}")
        edit = await self.emu.edit_text(uid, None if chat == uid else chat, message_id, edited)
        what.deliveries[edit.update_id] += 1
        what.typed.append(edited)
        await self._settle(what.deliveries, what)
        after, _ = self._take(mid.audit_max)
        for _entity, _ident, change in oracle.changes(mid, after):
            what.problems.append(("edit", f"the edit changed {change}"))
        ran = [x.text or "" for x in self.emu.all_sent()[sent_before:]]
        if len(ran) > 1:
            what.problems.append(("edit", f"the edit got {len(ran)} answers: "
                                          f"{[short(t, 50) for t in ran[:3]]}"))

    async def _do_repeat(self, action: Repeat, actor: str, uid: int, what: Performed) -> None:
        first = action.first
        if isinstance(first, Send):
            await self._do_send(first, actor, uid, what)
        else:
            chat = self.world.chat_of(actor, first.chat)
            await self._press(uid, chat, first.back, self._resolve(first.data, actor), what)
            await self._settle(what.deliveries, what)
        update_id = max(what.deliveries)
        mid, _ = self._take(self.snapshot.audit_max)
        sent_before = len(self.emu.all_sent())
        what.inputs.append(f"then update {update_id} delivered again")
        await self.emu.repeat_update(update_id)
        what.deliveries[update_id] += 1
        await self._settle(what.deliveries, what)
        after, _ = self._take(mid.audit_max)
        for _entity, _ident, change in oracle.changes(mid, after):
            what.problems.append(("repeat", f"the repeated update changed {change}"))
        again = self.emu.all_sent()[sent_before:]
        if again:
            what.problems.append(("repeat", f"the repeated update was answered: "
                                            f"{[short(x.text or '', 50) for x in again[:3]]}"))

    async def _do_flood(self, action: Flood, actor: str, uid: int, what: Performed) -> None:
        chat = self.world.chat_of(actor, action.chat)
        sent_before = len(self.emu.all_sent())
        texts = [self._resolve(t, actor) for t in action.texts]
        what.inputs.append(f"{len(texts)} messages at once in {chat}, e.g. "
                           f"{[short(t, 20) for t in texts[:4]]}")
        for text in texts:
            await self._send(uid, chat, text, what)
        await self._watch(what, force=True)
        await self._settle(what.deliveries, what)
        answers = [x for x in self.emu.all_sent()[sent_before:] if x.chat_id == chat]
        if len(answers) > FLOOD_ANSWERS_MAX and uid > 0:
            what.problems.append(("flood", f"{len(answers)} answers to {len(texts)} updates "
                                           f"from one person at once (at most "
                                           f"{FLOOD_ANSWERS_MAX} expected)"))

    async def _do_post(self, action: Post, actor: str, what: Performed) -> None:
        del actor
        text = self._resolve(action.text, "stranger")
        post = await self.emu.post_to_channel(CHANNEL, text)
        what.deliveries[post.update_id] += 1
        what.typed.append(text)
        what.inputs.append(f"channel post {short(text)}")
        if action.edit_to is not None:
            edited = self._resolve(action.edit_to, "stranger")
            edit = await self.emu.edit_channel_post(CHANNEL, post.message_id, edited)
            what.deliveries[edit.update_id] += 1
            what.typed.append(edited)
            what.inputs.append(f"edited to {short(edited)}")
        await self._settle(what.deliveries, what)

    async def _do_join(self, step: Step, action: Join, uid: int, what: Performed) -> None:
        if action.code != "fresh":
            code = self.world.used_codes[step.index % len(self.world.used_codes)] \
                if action.code == "reused" else action.code
            text = f"/start {code}".rstrip()
            what.inputs.append(short(text))
            await self._send(uid, uid, text, what)
            await self._settle(what.deliveries, what)
            return
        coordinator = PEOPLE["coordinator"]
        seen = len(self.emu.messages_to(coordinator))
        await self._send(coordinator, coordinator, "/bjud partner alkoholhandlaggare", what)
        await self._settle(what.deliveries, what)
        links = [x.text or "" for x in self.emu.messages_to(coordinator)[seen:]
                 if "start=" in (x.text or "")]
        if not links:
            what.problems.append(("invites", "the coordinator's /bjud made no link"))
            return
        code = invite_code(links[-1])
        self.world.used_codes.append(code)
        racers = [await self.world.newcomer() for _ in range(action.racers)]
        what.inputs.append(f"a fresh invite redeemed at once by {racers}")
        for racer in racers:
            await self._send(racer, racer, f"/start {code}", what)
        await self._settle(what.deliveries, what)
        with self.bot.db.sessions() as session:
            joined = session.scalar(select(func.count()).select_from(m.Member).where(
                m.Member.telegram_id.in_(racers)))
        if (joined or 0) > 1:
            what.problems.append(("invites", f"one invite registered {joined} people"))

    async def _watch(self, what: Performed, force: bool = False) -> None:
        """The legitimate officer asks /mina and must be answered in time."""
        now = time.monotonic()
        if now - self.last_watch < (WATCH_GAP / 2 if force else WATCH_GAP):
            return
        self.last_watch = now
        seen = len(self.emu.messages_to(WATCH))
        action = await self.emu.send_text(WATCH, "/mina")
        what.deliveries[action.update_id] += 1
        what.senders.add(WATCH)
        self.report.watches += 1
        self.report.updates["watch"] += 1
        try:
            await self.emu.wait_until(lambda: len(self.emu.messages_to(WATCH)) > seen,
                                      WATCH_TIMEOUT)
        except TimeoutError:
            what.problems.append(("watch", f"the legitimate officer's /mina was not answered "
                                           f"within {WATCH_TIMEOUT} s"))
        self.report.slowest_watch = max(self.report.slowest_watch, time.monotonic() - now)

    # ----- judging ----------------------------------------------------------------------------

    def _judge(self, step: Step, what: Performed, tick: bool) -> None:
        after, audits = self._take(self.snapshot.audit_max)
        found: list[tuple[str, str]] = list(what.problems)
        found += [("change", p) for p in oracle.check_changes(
            self.snapshot, after, audits, what.senders, tick)]
        if what.replied is not None:
            found += self._reply_scope(what.replied, audits)
        secrets = oracle.secrets_of(self.snapshot, after)
        typed = "\n".join(what.typed)
        for message in self._index_sent():
            content = message.content or ""
            for generic in oracle.GENERIC_ERRORS:
                if generic in content:
                    found.append(("generic_error", f"{message.chat_id} was told {generic!r}"))
            who = oracle.audience(message.chat_id, self.snapshot, after, secrets)
            leaked = oracle.leaks(content, message.button_data(), message.kind == "photo",
                                  who, secrets, typed)
            if leaked:
                found.append(("leak", f"{who.name} got {_listed(leaked)} in message "
                                      f"{message.message_id}: {short(content, 90)}"))
        answers = self.emu.answered_callbacks[self.answers_seen:]
        self.answers_seen += len(answers)
        for answer in answers:
            if answer.text:
                user = self.presser.get(answer.callback_query_id, 0)
                who = oracle.audience(user, self.snapshot, after, secrets)
                leaked = oracle.leaks(answer.text, [], False, who, secrets, typed)
                if leaked:
                    found.append(("leak", f"{who.name} got {_listed(leaked)} in a callback "
                                          f"answer: {short(answer.text, 90)}"))
        errors = self.errors.records
        found += [("exception", describe_record(r)) for r in errors]
        errors.clear()
        self.snapshot = after
        text = "; ".join(what.inputs) or "-"
        for check, detail in found:
            self.report.violations.append(
                Violation(step.index, step.family, step.actor, text, check, detail))

    def _reply_scope(self, replied: SentMessage, audits: list[oracle.AuditRow]
                     ) -> list[tuple[str, str]]:
        """A reply may change only a task the message it answers is about."""
        about = (replied.content or "") + " " + " ".join(replied.button_data())
        numbers = set(re.findall(r"\d+", about))
        return [("reply", f"a reply to message {replied.message_id} "
                          f"({short(replied.content or '', 50)}) made {a.action} on task "
                          f"{a.entity_id}, which that message is not about")
                for a in audits if a.action in oracle.TASK_ACTIONS and a.entity_id not in numbers]

    # ----- the run ----------------------------------------------------------------------------

    async def run(self, updates: int) -> Report:
        """Play steps until ``updates`` updates were sent; return what was found."""
        started = time.monotonic()
        self.bot.app.add_handler(TypeHandler(Update, self._on_update), group=HANDLED_GROUP)
        root = logging.getLogger()
        root.addHandler(self.errors)
        self.last_watch = time.monotonic()
        try:
            for step in steps(self.seed):
                if self.report.total_updates >= updates:
                    break
                await self._step(step)
                if step.index % TICK_EVERY == TICK_EVERY - 1:
                    await self._tick(step.index)
        finally:
            root.removeHandler(self.errors)
        self.report.seconds = time.monotonic() - started
        return self.report

    async def _step(self, step: Step) -> None:
        self.bot.clock.current += CLOCK_STEP
        what = Performed()
        await self._perform(step, what)
        await self._watch(what)
        await self._settle(what.deliveries, what)
        self.report.steps[step.family] += 1
        self.report.updates[step.family] += step.updates
        self._judge(step, what, tick=False)

    async def _tick(self, index: int) -> None:
        what = Performed(inputs=[f"reminder tick at {self.bot.clock.now().isoformat()}"])
        await self.bot.tick()
        self.report.steps["tick"] += 1
        self._judge(Step(index, "tick", "system", Post(())), what, tick=True)
