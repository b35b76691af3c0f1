"""A seeded generator of hostile steps: who does what to the bot, as a Telegram user can.

Pure: ``steps(seed)`` yields the same steps for the same seed, and knows nothing of a running
bot. What only the running world knows (which tasks exist, which message to reply to, a fresh
invite code) is named here and resolved by the runner: a ``Ref`` is "some task of this pool",
a ``Moment`` "that task's start moved by n days", a reply target "the n-th last message".
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal

FAMILIES = ("unicode", "commands", "callbacks", "replies", "edits", "groups", "duplicates",
            "double_press", "invites", "floods")
#: the people the generator makes act; "watch" (the legitimate officer) is the runner's own
ACTORS = ("coordinator", "officer", "chief", "partner", "fieldworker", "stranger")
#: pools a task number is drawn from at run time (see runner.resolve)
POOLS = ("own", "lag1_police", "lag2_police", "joint", "risk", "any", "missing")
CHATS = ("private", "team_group", "loose_group")
FLOOD_SIZE = 40  # more than "about 20 updates in 10 seconds" (issue 8)

Chat = Literal["private", "team_group", "loose_group"]


@dataclass(frozen=True)
class Ref:
    """A task number picked at run time: ``pool``'s tasks, the ``pick``-th (modulo)."""

    pool: str
    pick: int


@dataclass(frozen=True)
class Moment:
    """An ISO instant: the start of the ``ref`` task moved by ``days`` (a plausible move)."""

    ref: Ref
    days: int


Piece = str | Ref | Moment
Text = tuple[Piece, ...]


@dataclass(frozen=True)
class ReplyTo:
    """The message a reply answers: the ``back``-th last bot message in the chat, or the
    ``back``-th last message of another person there."""

    whose: Literal["bot", "user"]
    back: int


@dataclass(frozen=True)
class Send:
    """A text message (a command or not), perhaps a reply."""

    text: Text
    chat: Chat = "private"
    reply: ReplyTo | None = None

    @property
    def updates(self) -> int:
        """How many updates the step makes."""
        return 1


@dataclass(frozen=True)
class Edit:
    """Send ``original``, then edit it into ``edited``: an edit must never run a command."""

    original: Text
    edited: Text
    chat: Chat = "private"

    @property
    def updates(self) -> int:
        """How many updates the step makes."""
        return 2


@dataclass(frozen=True)
class Press:
    """A callback query with ``data`` (forged or not) on the ``back``-th last bot message in
    the chat; ``twice``: the same button pressed again before the first press is answered."""

    data: Text
    chat: Chat = "private"
    back: int = 0
    twice: bool = False

    @property
    def updates(self) -> int:
        """How many updates the step makes."""
        return 2 if self.twice else 1


@dataclass(frozen=True)
class Repeat:
    """``first``, then Telegram delivers the very same update (same update_id) again."""

    first: Send | Press

    @property
    def updates(self) -> int:
        """How many updates the step makes."""
        return self.first.updates + 1


@dataclass(frozen=True)
class Flood:
    """Many messages from one person at once."""

    texts: tuple[Text, ...]
    chat: Chat = "private"

    @property
    def updates(self) -> int:
        """How many updates the step makes."""
        return len(self.texts)


@dataclass(frozen=True)
class Post:
    """A post in the channel the bot is in, perhaps edited afterwards."""

    text: Text
    edit_to: Text | None = None

    @property
    def updates(self) -> int:
        """How many updates the step makes."""
        return 1 if self.edit_to is None else 2


@dataclass(frozen=True)
class Join:
    """/start with a code: "guessed" (made up), "reused" (already used), "fresh" (a new invite
    the coordinator makes in the step, then ``racers`` newcomers redeem it at once), or a
    literal string."""

    code: str
    racers: int = 1

    @property
    def updates(self) -> int:
        """How many updates the step makes."""
        return 1 + self.racers if self.code == "fresh" else 1


Action = Send | Edit | Press | Repeat | Flood | Post | Join


@dataclass(frozen=True)
class Step:
    """One step: its number, its family, who acts, what they do."""

    index: int
    family: str
    actor: str
    action: Action

    @property
    def updates(self) -> int:
        """How many updates the step makes."""
        return self.action.updates


COMMANDS = ("start", "hjalp", "help", "mina", "mine", "plan", "status", "klar", "done",
            "flytta", "move", "stallin", "cancel", "sprak", "lang", "bjud", "invite", "rapport",
            "report", "grupp", "group")
TASK_COMMANDS = ("klar", "done", "flytta", "move", "stallin", "cancel")
SHOW_COMMANDS = ("mina", "mine", "plan", "status", "rapport", "report", "hjalp")
ID_JUNK = ("0", "-1", "2147483648", "9223372036854775808", "18446744073709551616", "#", "²",
           "١٢", "１２", "1e3", "0x10", "17abc", "#0", "000000000000000000017", "99999999",
           "-0", "+5", "5.0", "½")
WHEN_TEXTS = ("fre 22:00", "12/6 21.00", "9999-12-31 22:00", "31/2 22:00", "i morgon 7:30",
              "99:99", "0/0 0:00", "29/2 22.00", "2016-01-01 22:00", "2030-06-14 22:00",
              "tomorrow 7:30", "lör kl 23", "2015-06-13 22:00", "idag 25:00", "1/13 22:00")
ISO_JUNK = ("2015-06-12T22:00:00+02:00", "2015-06-12T22:00:00", "2015-02-30T22:00:00+01:00",
            "9999-12-31T23:59:59+00:00", "0001-01-01T00:00:00+00:00",
            "2016-06-10T22:00:00+02:00", "2030-06-14T22:00:00+02:00", "x", "",
            "2015-06-12T22:00:00+25:00", "2015-06-12 22:00+02:00", "-1", "2015-06-13")
JUNK = (
    "\x00", "a\x00b", "\x01\x02\x03\x07\x08\x1b[2J", "\u202eklar\u202c", "\u200f\u200eשלום",
    "👮\u200d♀️🚓💥" * 3, "Z̷̢͉a̵l̶g̷o̸", "x" * 5000, "y" * 4096, "ä" * 4096,
    "'; DROP TABLE task; --", "<b>fet</b> <a href='x'>l</a>", "*_`[]()~>#+-=|{}.!",
    "{0} {name} %s %(x)s {{}}", "\n" * 50, " ", "\t", "🏳️\u200d🌈" * 200, "١٢٣", "ℌ𝔢𝔧",
    "\ufeff/klar 1", "/klar\u00a01", "klar\u2028", "klar\x00", "\u0000/stallin 1 x",
)
REPLY_TEXTS = ("klar", "Klar, 3 ställen", "gjort", "✅", "done", "genomförd!", "fre 22:00",
               "sjukdom", "12 4 3 2 1 0", "civil 5", "", "klar " + "n" * 4090, "nej")
REASONS = ("sjukdom", "x", "ändrat", "r" * 4085, "\x00", "\u202e", "🚓" * 50)


def _pick(rng: random.Random, items: tuple[str, ...]) -> str:
    return items[rng.randrange(len(items))]


def _ref(rng: random.Random, pools: tuple[str, ...] = POOLS) -> Ref:
    return Ref(_pick(rng, pools), rng.randrange(1_000))


def _task_id(rng: random.Random) -> Text:
    """A task number as typed: a real one, '#'-prefixed, or junk."""
    roll = rng.random()
    if roll < 0.55:
        return (_ref(rng),)
    if roll < 0.65:
        return ("#", _ref(rng))
    return (_pick(rng, ID_JUNK),)


def _chat(rng: random.Random, private: float = 0.7) -> Chat:
    roll = rng.random()
    if roll < private:
        return "private"
    return "team_group" if roll < private + (1 - private) / 2 else "loose_group"


def _command(rng: random.Random, name: str | None = None) -> Text:
    """A command with malformed (or now and then well-formed) arguments."""
    name = name or _pick(rng, COMMANDS)
    head = f"/{name}" + (_pick(rng, ("", "", "", "@medlofte_bot", "@other_bot"))
                         if rng.random() < 0.2 else "")
    if name in TASK_COMMANDS:
        rest: Text = _task_id(rng)
        if name in ("flytta", "move"):
            rest += (" ", _pick(rng, WHEN_TEXTS + JUNK[:6]))
        elif name in ("stallin", "cancel") and rng.random() < 0.8:
            rest += (" ", _pick(rng, REASONS + JUNK[:4]))
        elif rng.random() < 0.3:
            rest += (" ", _pick(rng, REPLY_TEXTS + JUNK[:4]))
        return (head, " ", *rest)
    if name in ("bjud", "invite"):
        args = _pick(rng, ("polis lag-1", "polis lag-9", "partner alkoholhandlaggare",
                           "partner alkohol", "chef", "chef arvidsjaur", "chef stockholm",
                           "samordnare", "kung", "", "polis", "partner", "\x00", "x" * 300))
        return (head, " ", args)
    if name in ("grupp", "group"):
        return (head, " ", _pick(rng, ("lag-1", "lag-2", "lag-9", "", "\u202e", "x" * 300)))
    if name in ("sprak", "lang"):
        return (head, " ", _pick(rng, ("sv", "en", "de", "", "SV", "\x00", "en" * 100)))
    if name == "start":
        return (head, " ", _pick(rng, ("", "abc", "\x00", "x" * 64, "../../etc", "%00")))
    if rng.random() < 0.5:
        return (head,)
    return (head, " ", _pick(rng, JUNK + ID_JUNK))


def _callback(rng: random.Random) -> Text:
    """Callback data of every format the bot makes, forged, and garbage."""
    task = _task_id(rng)
    kind = rng.randrange(12)
    if kind < 4:
        return (_pick(rng, ("d", "m", "c", "s")), ":", *task)
    if kind < 6:
        return ("j:", *task, ":", _pick(rng, ("1", "0", "2", "", "ja", "1:1")))
    if kind < 8:
        iso: Text = (Moment(_ref(rng), rng.choice((1, 7, -3, 400))),) if rng.random() < 0.4 \
            else (_pick(rng, ISO_JUNK),)
        return ("mv:", *task, ":", *iso)
    return (_pick(rng, ("", ":", "d:", "d", "x:1", "d:1:2:3", "D:1", "ä:1", "d: 1", "mv:1",
                        "mv:1:", "d:" + "9" * 62, "j::1", "s:²", "c:-1", "m:0x1", "d:\x00",
                        "d:١")),)


def _reply(rng: random.Random) -> ReplyTo:
    return ReplyTo("bot" if rng.random() < 0.8 else "user", rng.randrange(6))


Builder = Callable[[random.Random, str], tuple[str, Action]]


def _unicode(rng: random.Random, actor: str) -> tuple[str, Action]:
    junk = _pick(rng, JUNK)
    if rng.random() < 0.4:
        return actor, Send((*_command(rng)[:1], " ", junk), _chat(rng))
    reply = _reply(rng) if rng.random() < 0.4 else None
    return actor, Send((junk,), _chat(rng), reply)


def _commands(rng: random.Random, actor: str) -> tuple[str, Action]:
    return actor, Send(_command(rng), _chat(rng, 0.85))


def _callbacks(rng: random.Random, actor: str) -> tuple[str, Action]:
    return actor, Press(_callback(rng), _chat(rng, 0.85), rng.randrange(4))


def _replies(rng: random.Random, actor: str) -> tuple[str, Action]:
    text = _pick(rng, REPLY_TEXTS) if rng.random() < 0.85 else _pick(rng, JUNK)
    return actor, Send((text,), _chat(rng, 0.5), _reply(rng))


def _edits(rng: random.Random, actor: str) -> tuple[str, Action]:
    original = _pick(rng, ("hej", "/plan", "/hjalp", "/mina", "/status"))
    edited = _command(rng, _pick(rng, ("stallin", "klar", "flytta", "bjud", "grupp", "sprak",
                                       "cancel", "done")))
    return actor, Edit((original,), edited, _chat(rng, 0.6))


def _groups(rng: random.Random, actor: str) -> tuple[str, Action]:
    if rng.random() < 0.2:
        edit = _command(rng) if rng.random() < 0.5 else None
        return "channel", Post(_command(rng), edit)
    name = _pick(rng, SHOW_COMMANDS + TASK_COMMANDS + ("grupp", "bjud"))
    chat: Chat = "team_group" if rng.random() < 0.5 else "loose_group"
    return actor, Send(_command(rng, name), chat)


def _duplicates(rng: random.Random, actor: str) -> tuple[str, Action]:
    if rng.random() < 0.4:
        data = (_pick(rng, ("d", "c", "m", "s")), ":", _ref(rng))
        first: Send | Press = Press(data, _chat(rng, 0.8))
    elif rng.random() < 0.5:
        first = Send(_command(rng, _pick(rng, (*TASK_COMMANDS, "bjud", "sprak"))),
                     _chat(rng, 0.8))
    else:
        first = Send((_pick(rng, REPLY_TEXTS[:6]),), _chat(rng, 0.6), _reply(rng))
    return actor, Repeat(first)


def _double_press(rng: random.Random, actor: str) -> tuple[str, Action]:
    ref = _ref(rng)
    data = _pick(rng, ("d", "m", "c", "s", "j1", "j0", "mv"))
    text: Text = (f"j:{data[1]}" if data.startswith("j") else data, ":", ref)
    if data == "mv":
        text = ("mv:", ref, ":", Moment(ref, 1))
    elif data.startswith("j"):
        text = ("j:", ref, ":", data[1])
    return actor, Press(text, _chat(rng, 0.85), rng.randrange(3), twice=True)


def _invites(rng: random.Random, actor: str) -> tuple[str, Action]:
    roll = rng.random()
    if roll < 0.2:
        return "coordinator", Join("fresh", racers=rng.choice((2, 3)))
    if roll < 0.55:
        return actor, Join("reused")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    guessed = "".join(rng.choice(alphabet) for _ in range(16))
    return actor, Join(rng.choice((guessed, guessed[:8], "", "0" * 16, guessed + "\x00")))


def _floods(rng: random.Random, actor: str) -> tuple[str, Action]:
    # texts the bot answers with one message each, so answers can be counted against updates
    pool: tuple[Text, ...] = (("hej",), ("/hjalp",), ("/status",), ("/plan",), ("/finnsinte",),
                              ("x" * 500,), ("/klar ", _ref(rng)), ("/sprak sv",))
    texts = tuple(pool[rng.randrange(len(pool))] for _ in range(FLOOD_SIZE))
    return actor, Flood(texts, "private" if rng.random() < 0.8 else "team_group")


BUILDERS: dict[str, Builder] = {
    "unicode": _unicode, "commands": _commands, "callbacks": _callbacks, "replies": _replies,
    "edits": _edits, "groups": _groups, "duplicates": _duplicates,
    "double_press": _double_press, "invites": _invites, "floods": _floods,
}
#: how often each family comes; floods are big (40 updates) so they come seldom
WEIGHTS = {"unicode": 10, "commands": 20, "callbacks": 16, "replies": 12, "edits": 7,
           "groups": 10, "duplicates": 8, "double_press": 7, "invites": 5, "floods": 1}


def steps(seed: int) -> Iterator[Step]:
    """Hostile steps without end, the same for the same seed; every family comes early."""
    rng = random.Random(seed)
    names = list(WEIGHTS)
    weights = [WEIGHTS[n] for n in names]
    index = 0
    order = list(FAMILIES)
    rng.shuffle(order)
    while True:
        family = order[index] if index < len(order) else rng.choices(names, weights)[0]
        actor, action = BUILDERS[family](rng, _pick(rng, ACTORS))
        yield Step(index, family, actor, action)
        index += 1
