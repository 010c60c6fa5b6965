"""Times as people read them: "24 Nov 2026, 09:00 UTC", with no seconds or microseconds.

Spelled out rather than strftime's %b, which follows the process locale: a render is the same anywhere.
"""

from __future__ import annotations

from datetime import date, datetime, timezone

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def as_utc(value: datetime) -> datetime:
    # A naive time is taken as UTC: the model stores UTC, and guessing a local zone would be worse.
    return value.astimezone(timezone.utc) if value.tzinfo else value.replace(tzinfo=timezone.utc)


def readable(value: datetime | date | str | None) -> str:
    """A date as "24 Nov 2026", a time as "24 Nov 2026, 09:00 UTC"; strings pass through."""
    if value is None:
        return ""
    if not isinstance(value, date):
        return value
    if not isinstance(value, datetime):
        return f"{value.day} {_MONTHS[value.month - 1]} {value.year}"
    utc = as_utc(value)
    return f"{utc.day} {_MONTHS[utc.month - 1]} {utc.year}, {utc:%H:%M} UTC"
