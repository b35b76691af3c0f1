"""Everything stored about one person, as readable text (``person --telegram-id N``)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from medlofte_bot import texts
from medlofte_bot.services.records import PersonRecord

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def _value(value: Any, lang: str) -> str:
    if value is None or value == "" or value == {}:
        return "–"
    if isinstance(value, bool):
        return texts.t("person.yes" if value else "person.no", lang)
    if isinstance(value, datetime):  # people read Swedish time
        return value.astimezone(STOCKHOLM).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return str(value)


def _line(row: Mapping[str, Any], lang: str) -> str:
    return "; ".join(f"{texts.t(f'person.field.{k}', lang)}: {_value(v, lang)}"
                     for k, v in row.items())


def person_text(record: PersonRecord, lang: str) -> str:
    """The record in sections: the member, then each kind of row, each row on one line."""
    lines = [texts.t("person.title", lang, name=record.member["display_name"],
                     telegram_id=record.member["telegram_id"]), ""]
    member = {**record.member, "role": texts.label("role", str(record.member["role"]), lang)}
    lines += [f"  {texts.t(f'person.field.{k}', lang)}: {_value(v, lang)}"
              for k, v in member.items()]
    sections: list[tuple[str, tuple[Mapping[str, Any], ...]]] = [
        ("person.invites", record.invites), ("person.completions", record.completions),
        ("person.participations", record.participations),
        ("person.reminders", record.reminders), ("person.audit", record.audit)]
    for key, rows in sections:
        lines += ["", texts.plural(key, len(rows), lang)]
        lines += [f"  - {_line(row, lang)}" for row in rows]
    lines += ["", texts.plural("person.messages", record.messages, lang)]
    return "\n".join(lines) + "\n"
