"""Checks on a requested send time, done before anything is sent."""

from __future__ import annotations

import datetime as dt

from airflow_provider_sms.exceptions import Problem

__all__ = ["MAX_SCHEDULE_AHEAD", "schedule_problems"]

MAX_SCHEDULE_AHEAD = dt.timedelta(days=730)  # "a maximum of two years in advance" (BulkSMS)


def schedule_problems(
    send_at: dt.datetime | None,
    now: dt.datetime,
    *,
    max_ahead: dt.timedelta = MAX_SCHEDULE_AHEAD,
    field: str = "send_at",
) -> list[Problem]:
    """Return what is wrong with ``send_at`` (empty when fine or not scheduled).

    A naive datetime is refused: the gateways read times in the account's zone, and guessing it
    sends texts at the wrong hour.
    """
    if send_at is None:
        return []
    if send_at.tzinfo is None or send_at.utcoffset() is None:
        hint = "must be timezone-aware (e.g. pendulum.datetime(..., tz='Europe/London'))"
        return [Problem(field, hint, str(send_at))]
    if send_at <= now:
        return [Problem(field, f"is in the past (now is {now.isoformat(timespec='seconds')})", send_at.isoformat())]
    if send_at - now > max_ahead:
        return [Problem(field, f"is more than {max_ahead.days} days ahead", send_at.isoformat())]
    return []
