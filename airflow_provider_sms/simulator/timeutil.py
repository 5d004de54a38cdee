"""Virtual epoch seconds to and from the date formats gateways use."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

#: How far ahead a message may be scheduled (both BulkSMS APIs say "two years").
MAX_SCHEDULE_AHEAD = 2 * 366 * 86400.0


@lru_cache(maxsize=64)
def zone(name: str) -> dt.tzinfo:
    """The time zone called ``name`` (UTC works even without a tz database)."""
    try:
        return ZoneInfo(name)
    except ZoneInfoNotFoundError:
        if name.upper() in {"UTC", "GMT", "Z"}:
            return dt.UTC
        raise


def format_local(epoch: float, tz_name: str, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    """``epoch`` as local time in ``tz_name``, formatted with ``fmt``."""
    return dt.datetime.fromtimestamp(epoch, zone(tz_name)).strftime(fmt)


def parse_local(text: str, tz_name: str, fmt: str = "%Y-%m-%d %H:%M:%S") -> float:
    """Epoch seconds of a local time string in ``tz_name``; ValueError when malformed."""
    naive = dt.datetime.strptime(text.strip(), fmt)
    return naive.replace(tzinfo=zone(tz_name)).timestamp()


def iso_utc(epoch: float) -> str:
    """``epoch`` as ISO-8601 UTC with millisecond precision, e.g. ``2024-05-01T10:00:00.000Z``."""
    moment = dt.datetime.fromtimestamp(epoch, dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_iso_with_offset(text: str) -> float:
    """Epoch seconds of an ISO-8601 date-time that names its offset; ValueError otherwise."""
    moment = dt.datetime.fromisoformat(text.strip())
    if moment.tzinfo is None:
        raise ValueError("the date-time must include a UTC offset")
    return moment.timestamp()
