"""The demo's scripted people and what they answer. Deterministic: the same year every run."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

COORDINATOR, OLLE, LINA, KIM, PIA, FREDRIK = 1, 2001, 2002, 4001, 3001, 3002


@dataclass(frozen=True)
class Person:
    """A scripted member: Telegram id, name, and the /bjud words that invite them."""

    user_id: int
    name: str
    invite: str | None


PEOPLE = [
    Person(COORDINATOR, "Cora (samordnare)", None),
    Person(OLLE, "Olle", "polis lag-1"),
    Person(LINA, "Lina", "polis lag-2"),
    Person(KIM, "Kim (chef)", "chef"),
    Person(PIA, "Pia (alkoholhandläggare)", "partner alkoholhandlaggare"),
    Person(FREDRIK, "Fredrik (fältarbetare)", "partner faltarbetare"),
]
OFFICERS = (OLLE, LINA)
# the reminders an officer acts on: two hours before, "was it done?" after; a sealed task
# (secret_details = "web") is reminded without saying when, so the first reminder counts
ACT_ON = ("Om två timmar", "Blev det gjort", "Påminnelse: uppgift #", "Blev uppgift #")
# a sealed task's follow-up names no field: the officer knows them from the task's page
SEALED_FOLLOW_UP = "Vill du lägga till uppföljningen?"


def misses(task_id: int) -> bool:
    """Officers forget to confirm a few tasks (they become missed, and the plan adapts)."""
    return task_id % 13 == 7


def by_reply(task_id: int) -> bool:
    """Some confirm by replying "klar …" to the reminder instead of pressing ✅."""
    return task_id % 3 == 0


def plain_done(task_id: int) -> bool:
    """Some just write "klar" in their chat with the bot, not as a reply to anything."""
    return task_id % 3 == 1


WEEKDAYS_SV = ("måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag", "söndag")
MONTHS_SV = ("januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti",
             "september", "oktober", "november", "december")


def spoken_time(moment: datetime) -> str:
    """'lördag 6 juni 21:00', as an officer types a new time."""
    return (f"{WEEKDAYS_SV[moment.weekday()]} {moment.day} {MONTHS_SV[moment.month - 1]} "
            f"{moment:%H:%M}")


def follow_up_answer(prompt: str, task_id: int) -> str:
    """What an officer answers to the follow-up question the bot asked."""
    if "Hur många?" in prompt:  # the counters: some in order, some labelled, any order
        young = 6 + task_id % 9
        if task_id % 2:
            checked = f", fordon {4 + task_id % 7}" if "fordon" in prompt else ""
            return (f"upphällningar {young // 3}, unga {young}, vårdnadshavare kontaktade "
                    f"{young // 4}, hämtade {young // 5}, orosanmälningar {task_id % 2}"
                    f"{checked}")
        return f"{young} {young // 3} {young // 4} {young // 5} {task_id % 2} {task_id % 3 // 2}"
    if "ställen" in prompt:
        return f"{2 + task_id % 3} ställen, inga anmärkningar"
    if "fordon" in prompt:
        return f"{'civil' if task_id % 2 else 'polismålad'} {8 + task_id % 11}"
    return "Genomfört enligt plan, inga anmärkningar."


def reply_note(kind: str, task_id: int) -> str:
    """The note after "klar" when confirming by reply."""
    return {"bar_inspection": f"klar, {2 + task_id % 3} ställen",
            "school_traffic_control": f"klar, civil {8 + task_id % 11}"}.get(kind, "klar")


def comes_to(invitation: str) -> bool:
    """Fredrik comes to every risk night he is asked to, but midsummer eve."""
    return "Midsommarafton" not in invitation
