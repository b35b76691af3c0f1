"""A promise set: what one police area and one municipality promise for one year.

Validated value objects, built from a TOML file by ``medlofte_bot.configuration``.
Kinds of promises are data (a free string) and their scheduling rules are fields,
so other municipalities can promise other things without code changes.
"""

from __future__ import annotations

import datetime as dt
import re
from datetime import date, time
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Visibility = Literal["police", "partners", "public"]
Vehicle = Literal["marked", "unmarked"]
RoleWord = Literal["officer", "partner", "chief", "coordinator"]
SecretDetails = Literal["chat", "web"]
DEFAULT_QUIET_HOURS: dict[str, str] = {"partner": "21:00-07:00"}
Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")]

_WINDOW = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TimeWindow(_Frozen):
    """A daily window in local time; ``end <= start`` means it ends the next day."""

    start: time
    end: time

    @model_validator(mode="before")
    @classmethod
    def _parse(cls, value: object) -> object:
        if isinstance(value, str):
            match = _WINDOW.match(value.strip())
            if not match:
                raise ValueError(f"a time window like '22:00-02:00', got {value!r}")
            h1, m1, h2, m2 = (int(g) for g in match.groups())
            return {"start": time(h1, m1), "end": time(h2, m2)}
        return value

    @property
    def minutes(self) -> int:
        """Length of the window in minutes (crossing midnight if needed)."""
        a = self.start.hour * 60 + self.start.minute
        b = self.end.hour * 60 + self.end.minute
        return (b - a) % (24 * 60) or 24 * 60

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


class DateRange(_Frozen):
    """An inclusive range of dates, optionally named."""

    start: date
    end: date
    name: str = ""

    @model_validator(mode="after")
    def _ordered(self) -> DateRange:
        if self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        return self

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end


class Team(_Frozen):
    """A police team that takes tasks."""

    id: Slug
    name: str


class PartnerRole(_Frozen):
    """A municipal partner role, e.g. the alcohol licensing officer."""

    id: Slug
    title: str
    organisation: str
    weekdays: list[Weekday] = Field(default_factory=lambda: list(WEEKDAYS))
    unavailable: list[DateRange] = Field(default_factory=list)

    def available_on(self, day: date) -> bool:
        """Whether someone in this role can take part on ``day``."""
        return WEEKDAYS[day.weekday()] in self.weekdays and not any(
            day in r for r in self.unavailable
        )


class School(_Frozen):
    """The local school year: terms, breaks and the daily control windows."""

    terms: list[DateRange]
    breaks: list[DateRange] = Field(default_factory=list)
    windows: dict[str, TimeWindow]


RiskRule = Literal["fixed", "date", "weekday_between", "last_weekday_of_month",
                   "nth_weekday_of_month", "payday_weekend"]


class RiskNight(_Frozen):
    """A rule that yields one or more risk nights in a year."""

    name: str
    rule: RiskRule
    month: int | None = Field(default=None, ge=1, le=12)
    day: int | None = Field(default=None, ge=1, le=31)
    date: dt.date | None = None
    weekday: Weekday | None = None
    between: tuple[str, str] | None = None  # ("06-19", "06-25")
    n: int | None = Field(default=None, ge=1, le=5)
    payday: int = Field(default=25, ge=1, le=28)
    hours: TimeWindow | None = None

    @model_validator(mode="after")
    def _complete(self) -> RiskNight:
        needs: dict[str, tuple[str, ...]] = {
            "fixed": ("month", "day"),
            "date": ("date",),
            "weekday_between": ("weekday", "between"),
            "last_weekday_of_month": ("weekday", "month"),
            "nth_weekday_of_month": ("weekday", "month", "n"),
            "payday_weekend": (),
        }
        missing = [f for f in needs[self.rule] if getattr(self, f) is None]
        if missing:
            raise ValueError(f"rule '{self.rule}' needs {', '.join(missing)}")
        if self.between is not None:
            for part in self.between:
                if not re.match(r"^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$", part):
                    raise ValueError(f"'between' takes two 'MM-DD' dates, got {part!r}")
        return self


class Frequency(_Frozen):
    """How often: ``count`` tasks in every ``per`` bucket of the promise's period."""

    count: int = Field(ge=1, le=50)
    per: Literal["year", "term", "month", "week"]


class Joint(_Frozen):
    """How many of a promise's tasks are done together with a partner role."""

    count: int = Field(ge=1)
    partner_role: Slug


_OFFSET = re.compile(r"^(\d{1,3})([dhm])$")


class ReminderRule(_Frozen):
    """A reminder sent ``before`` a task starts (e.g. "7d", "2h", "30m") to an audience."""

    kind: Slug
    audience: Literal["team", "assignees", "partners", "coordinators"]
    before: str

    @field_validator("before")
    @classmethod
    def _offset(cls, value: str) -> str:
        if not _OFFSET.match(value):
            raise ValueError(f"an offset like '7d', '2h' or '30m', got {value!r}")
        return value

    @property
    def minutes(self) -> int:
        """The offset in minutes."""
        match = _OFFSET.match(self.before)
        assert match
        return int(match[1]) * {"d": 1440, "h": 60, "m": 1}[match[2]]


class Promise(_Frozen):
    """One promise: what is done, how often, when, by whom, and who may see it."""

    id: Slug
    title: str
    kind: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{1,39}$")]
    placement: Literal["spread", "risk_nights", "none"] = "spread"
    target: int | None = Field(default=None, ge=0, le=2000)
    frequency: Frequency | None = None
    period: DateRange | None = None
    weekdays: list[Weekday] = Field(default_factory=lambda: list(WEEKDAYS))
    hours: list[TimeWindow] = Field(default_factory=list)
    use_school_windows: bool = False
    school_days_only: bool = False
    duration_minutes: int | None = Field(default=None, ge=15, le=24 * 60)
    teams: list[Slug] = Field(default_factory=list)
    vehicles: list[Vehicle] = Field(default_factory=list)
    joint: Joint | None = None
    invite: list[Slug] = Field(default_factory=list)
    visibility: Visibility = "police"
    counters: list[Slug] = Field(default_factory=list)
    follow_up: list[Slug] = Field(default_factory=list)
    applies_to: list[Slug] = Field(default_factory=list)
    reminders: list[ReminderRule] | None = None
    note: str = ""
    comment: str = ""  # the coordinator's comment for the year report (chat's /kommentar wins)

    @model_validator(mode="after")
    def _coherent(self) -> Promise:
        if self.placement == "spread":
            if (self.target is None) == (self.frequency is None):
                raise ValueError("a spread promise needs exactly one of 'target' or 'frequency'")
            if not self.hours and not self.use_school_windows:
                raise ValueError("a spread promise needs 'hours' or 'use_school_windows = true'")
        if self.placement != "spread" and self.frequency is not None:
            raise ValueError("'frequency' only applies to placement 'spread'")
        if self.joint and self.target is not None and self.joint.count > self.target:
            raise ValueError(f"joint.count {self.joint.count} exceeds target {self.target}")
        if self.counters and self.placement != "none" and "counters" not in self.follow_up:
            raise ValueError(
                f"declares counters ({', '.join(self.counters)}) that its follow-up never "
                "asks for: add \"counters\" to follow_up")
        if len(set(self.weekdays)) != len(self.weekdays) or not self.weekdays:
            raise ValueError("'weekdays' must list each day at most once, and at least one")
        return self


def default_quiet_windows() -> dict[str, TimeWindow]:
    """The quiet hours of a promise set that names none: partners 21:00-07:00."""
    return {role: TimeWindow.model_validate(w) for role, w in DEFAULT_QUIET_HOURS.items()}


class PromiseSet(_Frozen):
    """Everything one municipality and its police area promise for one year."""

    municipality: str
    slug: Slug
    police_area: str
    year: int = Field(ge=2000, le=2100)
    timezone: str = "Europe/Stockholm"
    seed: int = 0
    language: Literal["sv", "en"] = "sv"
    teams: list[Team] = Field(min_length=1)
    partner_roles: list[PartnerRole] = Field(default_factory=list)
    school: School | None = None
    risk_nights: list[RiskNight] = Field(default_factory=list)
    risk_night_hours: TimeWindow = TimeWindow.model_validate("20:00-02:00")
    partner_summary: bool = False
    # free-text notes and reasons are cleared this many months after the year ends (None: kept)
    notes_kept_months: int | None = Field(default=None, ge=0, le=1200)
    # per role: "21:00-07:00", or "none"; a role not named keeps its default (partners
    # 21:00-07:00, police roles none)
    quiet_hours: dict[RoleWord, TimeWindow | Literal["none"]] = Field(default_factory=dict)
    # "web": chat messages about police-only tasks carry only the number, that something is
    # due or done, and a link to the task's web page (see domain/policy.carries_details)
    secret_details: SecretDetails = "chat"
    promises: list[Promise] = Field(min_length=1)

    @field_validator("secret_details", mode="before")
    @classmethod
    def _secret_details(cls, value: object) -> object:
        if value not in ("chat", "web"):
            raise ValueError(
                f"'chat' (the default: task details in chat) or 'web' (police-only tasks' "
                f"details only in the web view), got {value!r}")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"an IANA time zone such as 'Europe/Stockholm', got {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _references(self) -> PromiseSet:
        team_ids = {t.id for t in self.teams}
        role_ids = {r.id for r in self.partner_roles}
        promise_ids = [p.id for p in self.promises]
        if len(set(promise_ids)) != len(promise_ids):
            raise ValueError("promise ids must be unique")
        for p in self.promises:
            if unknown := set(p.teams) - team_ids:
                raise ValueError(f"promise '{p.id}' names unknown team(s) {sorted(unknown)}")
            roles = set(p.invite) | ({p.joint.partner_role} if p.joint else set())
            if unknown := roles - role_ids:
                raise ValueError(
                    f"promise '{p.id}' names unknown partner role(s) {sorted(unknown)}")
            if (p.use_school_windows or p.school_days_only) and self.school is None:
                raise ValueError(f"promise '{p.id}' needs a [school] section")
            if p.period and (p.period.start.year != self.year or p.period.end.year != self.year):
                raise ValueError(f"promise '{p.id}' has a period outside {self.year}")
            if p.frequency and p.frequency.per == "term" and self.school is None:
                raise ValueError(f"promise '{p.id}' counts per term but there is no [school]")
        return self

    @property
    def tz(self) -> ZoneInfo:
        """The promise set's time zone."""
        return ZoneInfo(self.timezone)

    def quiet_windows(self) -> dict[str, TimeWindow]:
        """Each role's quiet hours: the file's, else the default (partners 21:00-07:00)."""
        out = default_quiet_windows()
        for role, window in self.quiet_hours.items():
            if isinstance(window, TimeWindow):
                out[role] = window
            else:
                out.pop(role, None)
        return out

    def promise(self, promise_id: str) -> Promise:
        """The promise with this id."""
        for p in self.promises:
            if p.id == promise_id:
                return p
        raise KeyError(promise_id)

    def partner_role(self, role_id: str) -> PartnerRole:
        """The partner role with this id."""
        for r in self.partner_roles:
            if r.id == role_id:
                return r
        raise KeyError(role_id)
