"""The people and chats of a hostile run, on an end-to-end Harness with Arvidsjaur 2015.

A coordinator (named in the settings), two officers (lag-1: the legitimate officer the runner
watches; lag-2: one of the hostile actors), a chief, two partners (the alcohol licensing
officer and a field worker), a stranger; lag-1's group registered with /grupp, with everyone
in it (partners and the stranger too); a group registered to no team; a channel.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from e2e.conftest import COORDINATOR, Harness, start_bot

START = datetime(2015, 6, 1, 9, 0, tzinfo=ZoneInfo("Europe/Stockholm"))
WATCH = 2001  # the legitimate officer (lag-1): never hostile, asked /mina now and then
PEOPLE = {"coordinator": COORDINATOR, "officer": 2002, "chief": 4001, "partner": 3001,
          "fieldworker": 3002, "stranger": 9999}
NAMES = {COORDINATOR: "Cora", WATCH: "Olle", 2002: "Lina", 4001: "Kim", 3001: "Pia",
         3002: "Fredrik", 9999: "Sven"}
INVITES = {WATCH: "polis lag-1", 2002: "polis lag-2", 4001: "chef",
           3001: "partner alkoholhandlaggare", 3002: "partner faltarbetare"}
TEAM_GROUP, LOOSE_GROUP, CHANNEL = -500, -600, -1001000
FIRST_NEWCOMER = 9100
_CODE = re.compile(r"start=([\w-]+)")


@dataclass
class World:
    """The running bot and who is who in it."""

    bot: Harness
    used_codes: list[str] = field(default_factory=list)
    next_newcomer: int = FIRST_NEWCOMER

    def chat_of(self, actor: str, chat: str) -> int:
        """The chat id an actor writes in."""
        if chat == "team_group":
            return TEAM_GROUP
        if chat == "loose_group":
            return LOOSE_GROUP
        return PEOPLE[actor]

    async def newcomer(self) -> int:
        """A new Telegram user, never seen before."""
        uid = self.next_newcomer
        self.next_newcomer += 1
        await self.bot.emu.add_user(uid, f"Ny{uid}")
        return uid


def invite_code(text: str) -> str:
    """The code in an invite link."""
    match = _CODE.search(text)
    if match is None:
        raise AssertionError(f"no invite link in {text!r}")
    return match[1]


async def make_world(folder: Path, db_url: str | None = None) -> World:
    """Start the bot on June 1 2015 and register everyone; each chat has a bot message."""
    bot = await start_bot(folder, START, db_url)
    world = World(bot)
    emu = bot.emu
    for uid in (WATCH, *PEOPLE.values()):
        if uid != COORDINATOR:
            await emu.add_user(uid, NAMES[uid])
    for uid, words in INVITES.items():
        code = invite_code(await bot.say(COORDINATOR, f"/bjud {words}"))
        welcome = await bot.say(uid, f"/start {code}")
        assert "Välkommen" in welcome, welcome
        world.used_codes.append(code)
    everyone = [COORDINATOR, WATCH, *PEOPLE.values()]
    await emu.add_group(TEAM_GROUP, "Lag 1", members=sorted(set(everyone)))
    await emu.add_group(LOOSE_GROUP, "Arvidsjaur trygghet", members=sorted(set(everyone)))
    await emu.add_channel(CHANNEL, "Medlöften Arvidsjaur")
    answer = await bot.say(COORDINATOR, "/grupp lag-1", chat=TEAM_GROUP)
    assert "lag 1" in answer.lower(), answer
    await bot.say(COORDINATOR, "/hjalp", chat=LOOSE_GROUP)
    for uid in PEOPLE.values():
        await bot.say(uid, "/hjalp")
    await bot.say(WATCH, "/hjalp")
    return world
