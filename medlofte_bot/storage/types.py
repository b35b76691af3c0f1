"""Column types: times are aware UTC on every backend."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import DateTime, Dialect, String
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """An aware datetime stored as UTC; SQLite drops the zone, so it is put back on read."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        """Refuse naive times; store UTC (naive UTC on SQLite)."""
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r} given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None,
                             _dialect: Dialect) -> datetime | None:
        """Always hand back an aware UTC datetime."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


E = TypeVar("E", bound=StrEnum)


class StrEnumColumn(TypeDecorator[E]):
    """A StrEnum stored as its plain word in a VARCHAR; read back as the enum member."""

    impl = String
    cache_ok = True

    def __init__(self, enum: type[E], length: int = 12) -> None:
        super().__init__(length)
        self.enum = enum

    def process_bind_param(self, value: E | str | None,
                           _dialect: Dialect) -> str | None:
        """Refuse a word the enum does not know; store the value."""
        return None if value is None else self.enum(value).value

    def process_result_value(self, value: str | None,
                             _dialect: Dialect) -> E | None:
        """The enum member for a stored word."""
        return None if value is None else self.enum(value)
