"""Quiet hours: a daily window of local time in which non-urgent alerts are held or dropped."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["QuietAction", "QuietHours"]

QuietAction = Literal["hold", "drop"]


def _parse_time(value: str | dt.time, name: str) -> dt.time:
    if isinstance(value, dt.time):
        return value
    try:
        return dt.time.fromisoformat(str(value).strip())
    except ValueError:
        raise ValueError(f"quiet_hours {name} must be a time such as '22:00', got {value!r}") from None


@dataclass(frozen=True)
class QuietHours:
    """Local times ``start``..``end`` in ``time_zone``, every day; ``start > end`` spans midnight.

    :param action: ``hold`` (send when the window ends, scheduled at the gateway) or ``drop``.
    """

    start: dt.time
    end: dt.time
    time_zone: str = "UTC"
    action: QuietAction = "hold"

    @classmethod
    def parse(cls, window: tuple[str | dt.time, str | dt.time], time_zone: str = "UTC",
              action: str = "hold") -> QuietHours:
        """Build from ``("22:00", "07:00")``; raises ``ValueError`` naming the bad input."""
        if len(window) != 2:
            raise ValueError(f"quiet_hours must be (start, end), got {window!r}")
        start, end = _parse_time(window[0], "start"), _parse_time(window[1], "end")
        if start == end:
            raise ValueError("quiet_hours start and end are equal; leave quiet_hours unset for none")
        try:
            ZoneInfo(time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"quiet_hours_time_zone {time_zone!r} is not a known time zone") from None
        if action not in ("hold", "drop"):
            raise ValueError(f"quiet_hours_action must be 'hold' or 'drop', got {action!r}")
        return cls(start, end, time_zone, action)  # type: ignore[arg-type]

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def contains(self, now: dt.datetime) -> bool:
        """Whether the aware instant ``now`` falls in the window (local wall time)."""
        local = now.astimezone(self.zone).time().replace(tzinfo=None)
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def ends_after(self, now: dt.datetime) -> dt.datetime:
        """The first end of the window after ``now``, as an aware UTC instant (DST-safe)."""
        local = now.astimezone(self.zone)
        candidate = dt.datetime.combine(local.date(), self.end, tzinfo=self.zone)
        if candidate <= local:
            candidate = dt.datetime.combine(local.date() + dt.timedelta(days=1), self.end, tzinfo=self.zone)
        return candidate.astimezone(dt.UTC)
