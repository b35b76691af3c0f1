"""What a clock is: the one way code learns the time (implementations in scheduling)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class Clock(Protocol):
    """Tells the current instant (aware UTC) and how long a real sleep is in clock time."""

    def now(self) -> datetime:
        """The current instant, aware UTC."""
        ...

    def real_seconds(self, clock_seconds: float) -> float:
        """How many real seconds pass while ``clock_seconds`` pass on this clock."""
        ...
