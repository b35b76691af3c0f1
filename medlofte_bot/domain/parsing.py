"""Reading what people type: task numbers, done-replies, times ("fre 22:00"), follow-ups."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DONE_WORDS = ("klar", "klart", "gjort", "genomförd", "genomfört", "done", "✅")
# a done-word, then the end or punctuation/space (\b does not work after "✅")
_DONE = re.compile(r"^\s*(" + "|".join(re.escape(w) for w in DONE_WORDS)
                   + r")(?=$|[\s,.:;!-])[\s,.:;!-]*", re.IGNORECASE)
_WEEKDAYS = {
    "mån": 0, "måndag": 0, "mon": 0, "monday": 0, "tis": 1, "tisdag": 1, "tue": 1,
    "tuesday": 1, "ons": 2, "onsdag": 2, "wed": 2, "wednesday": 2, "tor": 3, "tors": 3,
    "torsdag": 3, "thu": 3, "thursday": 3, "fre": 4, "fredag": 4, "fri": 4, "friday": 4,
    "lör": 5, "lördag": 5, "sat": 5, "saturday": 5, "sön": 6, "söndag": 6, "sun": 6,
    "sunday": 6,
}
_RELATIVE = {"idag": 0, "i dag": 0, "today": 0, "imorgon": 1, "i morgon": 1, "tomorrow": 1,
             "övermorgon": 2, "i övermorgon": 2}
_MONTHS = {name: n for n, names in enumerate((
    ("jan", "januari", "january"), ("feb", "februari", "february"), ("mar", "mars", "march"),
    ("apr", "april"), ("maj", "may"), ("jun", "juni", "june"), ("jul", "juli", "july"),
    ("aug", "augusti", "august"), ("sep", "sept", "september"),
    ("okt", "oktober", "oct", "october"), ("nov", "november"), ("dec", "december")),
    start=1) for name in names}
_NAMED_DATE = re.compile(r"(?:(\w+),?\s+)?(?:den\s+)?(\d{1,2})\s+([a-zåäö]+\.?)(?:\s+(\d{4}))?")
_TIME = re.compile(r"(?:kl\.?\s*|at\s+)?(\d{1,2})(?:[:.](\d{2}))?\s*$")
TASK_NUMBER_MAX = 2_147_483_647  # PostgreSQL's integer: a larger id is no task, and no query
_TASK_NUMBER = re.compile(r"#?([0-9]{1,10})")  # ASCII only: "²" and "٣" are digits to isdigit()
_KEPT_CONTROLS = frozenset("\n\t")
_DROPPED_CATEGORIES = frozenset({"Cc", "Cs"})  # controls (NUL, ESC, DEL …), lone surrogates


def task_number(text: str) -> int | None:
    """The task number in "17" or "#17" (ASCII digits, 1..2 147 483 647), else None."""
    match = _TASK_NUMBER.fullmatch(text)
    if match is None:
        return None
    number = int(match[1])
    return number if 1 <= number <= TASK_NUMBER_MAX else None


def clean_text(text: str) -> str:
    """The text without NUL and other control characters (line breaks and tabs kept).

    PostgreSQL refuses a NUL in a text column, and nobody means to send one.
    """
    if text.isprintable():  # the common case, in C: nothing to drop
        return text
    return "".join(c for c in text if c in _KEPT_CONTROLS
                   or unicodedata.category(c) not in _DROPPED_CATEGORIES)


def done_note(text: str) -> str | None:
    """The note after a done-word ("klar, 3 ställen" -> "3 ställen"); None if not a done reply."""
    match = _DONE.match(text)
    if not match:
        return None
    return text[match.end():].strip()


def _day_part(text: str, today: date) -> date | None:
    text = text.strip().lower().rstrip(",")
    if not text:
        return None
    if text in _RELATIVE:
        return today + timedelta(days=_RELATIVE[text])
    if text in _WEEKDAYS:
        ahead = (_WEEKDAYS[text] - today.weekday()) % 7
        return today + timedelta(days=ahead)
    iso = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", text)
    if iso:
        return date(int(iso[1]), int(iso[2]), int(iso[3]))
    named = _NAMED_DATE.fullmatch(text)
    if named:
        return _named_day(named, today)
    dm = re.fullmatch(r"(\d{1,2})[/.](\d{1,2})(?:[/.](\d{2,4}))?", text)
    if dm:
        year = int(dm[3]) if dm[3] else today.year
        year = year + 2000 if year < 100 else year
        candidate = date(year, int(dm[2]), int(dm[1]))
        if not dm[3] and candidate < today:
            candidate = candidate.replace(year=year + 1)
        return candidate
    return None


def _named_day(found: re.Match[str], today: date) -> date | None:
    """'lördag 21 mars', '21 mars 2015', 'den 3 juni': the next such date (this year, or
    next if it has passed); a weekday that is not that date's makes it unreadable."""
    weekday, number, month_word, year_text = found.groups()
    weekday = None if weekday == "den" else weekday  # "den 3 juni"
    month = _MONTHS.get(month_word.rstrip("."))
    if month is None or (weekday is not None and weekday not in _WEEKDAYS):
        return None
    year = int(year_text) if year_text else today.year
    candidate = date(year, month, int(number))
    if not year_text and candidate < today:
        candidate = candidate.replace(year=year + 1)
    if weekday is not None and candidate.weekday() != _WEEKDAYS[weekday]:
        return None
    return candidate


def parse_when(text: str, now: datetime, tz: ZoneInfo) -> datetime | None:
    """An aware local datetime from Swedish or English text, or None if unreadable.

    Understands "fre 22:00", "fredag kl 22", "12/6 21.00", "2015-06-12 21:00",
    "lördag 21 mars 22:00", "21 mars kl 22", "tomorrow 7:30", "i morgon 7.30". A weekday
    means the next one (today if later).
    """
    text = " ".join(text.strip().split())
    match = _TIME.search(text)
    if not match:
        return None
    hour, minute = int(match[1]), int(match[2] or 0)
    if hour > 23 or minute > 59:
        return None
    local_now = now.astimezone(tz)
    try:
        day = _day_part(text[:match.start()], local_now.date())
    except ValueError:
        return None
    if day is None:
        return None
    moment = datetime.combine(day, time(hour, minute)).replace(tzinfo=tz)
    if moment <= local_now and text[:match.start()].strip().lower() in _WEEKDAYS:
        moment += timedelta(days=7)
    return moment


# the words people use for the standard counters, Swedish and English; a word of the answer
# that starts with one of these names the counter (other counters answer to their own id)
COUNTER_WORDS: dict[str, tuple[str, ...]] = {
    "young_people_met": ("unga", "ungdom", "young", "youth"),
    "pour_outs": ("upphäll", "häll", "pour"),
    "guardians_contacted": ("kontakt", "contact"),
    "fetched_by_guardians": ("hämta", "fetch", "picked"),
    "concern_reports": ("oro", "anmäl", "concern"),
    "suspected_suppliers": ("langare", "langn", "supplier"),
    "vehicles_checked": ("fordon", "bil", "vehicle", "car"),
}
_TOKEN = re.compile(r"\d+|[^\W\d_]+")
_FILLER = {"st", "stycken", "och", "and", "av", "of", "by", "med", "mötta", "met", "vid",
           "kontrollerade", "checked", "misstänkta", "suspected", "reports"}


def _counter_of(word: str, names: list[str]) -> set[str]:
    word = word.lower()
    found = set()
    for name in names:
        aliases = COUNTER_WORDS.get(name, ()) + tuple(p for p in name.split("_") if len(p) > 2)
        if any(word.startswith(a) for a in aliases):
            found.add(name)
    return found


def parse_counters(text: str, names: list[str], required: int | None = None
                   ) -> dict[str, int] | None:
    """Counts for ``names`` from an answer: labelled in any order ("unga 12, upphällningar 3",
    "12 unga och 3 upphällningar"), or bare numbers in the names' order ("12 4 3 2 1 0",
    the first ``required`` of them needed; all when not given). None when the answer
    cannot be read: a number without a counter, a word that names none or several, a
    counter given twice, or too few bare numbers."""
    tokens = _TOKEN.findall(text)
    numbers = [t for t in tokens if t.isdigit()]
    words = [t for t in tokens if not t.isdigit() and t.lower() not in _FILLER]
    if not numbers:
        return None
    if not words:  # bare numbers, in order
        if len(numbers) < (len(names) if required is None else required):
            return None
        return dict(zip(names, (int(n) for n in numbers), strict=False))
    # labelled: each number goes with the words on the side the answer starts with
    number_first = tokens[0].isdigit()
    pairs: list[tuple[list[str], int]] = []
    label: list[str] = []
    for token in tokens:
        if token.isdigit():
            if number_first:
                pairs.append(([], int(token)))
            else:
                pairs.append((label, int(token)))
                label = []
        elif token.lower() in _FILLER:
            continue
        elif number_first:
            if not pairs:
                return None
            pairs[-1][0].append(token)
        else:
            label.append(token)
    if label:  # words after the last number name nothing
        return None
    out: dict[str, int] = {}
    for label_words, value in pairs:
        meant = set().union(*(_counter_of(w, names) for w in label_words)) if label_words \
            else set()
        if len(meant) != 1:
            return None
        name = meant.pop()
        if name in out:
            return None
        out[name] = value
    return out


def first_number(text: str) -> int | None:
    """The first whole number in the text, if any."""
    match = re.search(r"\d+", text)
    return int(match[0]) if match else None


def vehicle_word(text: str) -> str | None:
    """'marked' or 'unmarked' from Swedish or English words."""
    lowered = text.lower()
    if any(w in lowered for w in ("civil", "unmarked", "omärkt")):
        return "unmarked"
    if any(w in lowered for w in ("polismålad", "målad", "marked", "märkt")):
        return "marked"
    return None
