"""The time model every target shares: instants are whole microseconds since 1970-01-01T00:00:00Z.

Python datetimes, SQL timestamps and JSON Logic numbers disagree as soon as time passes through a
float (epoch seconds as a double lose microseconds before about 1697 and after about 2242) or through
a session time zone. So the evaluators compare integers: an instant is `epoch_us(moment)`, a date is
the microsecond of its midnight UTC, and a window start is `now_us - window_us`, all exact.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone

from ..errors import InputError

MICROS = 1_000_000
DAY_US = 86_400 * MICROS
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_ONE_US = timedelta(microseconds=1)

# JSON Logic consumers (JavaScript engines, flagd) hold numbers as doubles, which are exact for whole
# numbers up to 2**53: in microseconds, 1684-07-28 to 2255-06-05. The JSON Logic target accepts
# instants inside the whole years of that span only.
JSONLOGIC_EXACT = 2**53
JSONLOGIC_FIRST = datetime(1685, 1, 1, tzinfo=timezone.utc)
JSONLOGIC_END = datetime(2255, 1, 1, tzinfo=timezone.utc)

_FRACTION = re.compile(r"[T ]\d{2}:\d{2}:\d{2}[.,](\d+)")
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def as_utc(moment: datetime | date) -> datetime:
    """Dates are midnight UTC; naive date-times are taken as UTC."""
    if not isinstance(moment, datetime):
        moment = datetime.combine(moment, time(), tzinfo=timezone.utc)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def epoch_us(moment: datetime | date) -> int:
    """Microseconds since 1970 UTC, exactly (timedelta arithmetic also works for years 1 and 9999
    with any offset, where converting to UTC would leave datetime's range)."""
    return (as_utc(moment) - _EPOCH) // _ONE_US


JSONLOGIC_FIRST_US = epoch_us(JSONLOGIC_FIRST)
JSONLOGIC_END_US = epoch_us(JSONLOGIC_END)


def from_epoch_us(micros: int) -> datetime | None:
    """The UTC datetime for an instant, or None outside datetime's years 1 to 9999."""
    try:
        return _EPOCH + timedelta(microseconds=micros)
    except OverflowError:
        return None


def show_instant(micros: int, *, as_date: bool = False) -> str:
    """An instant as ISO 8601 for messages; the raw microseconds when it is outside years 1-9999."""
    moment = from_epoch_us(micros)
    if moment is None:
        return f"{micros} microseconds since 1970"
    return moment.date().isoformat() if as_date else moment.isoformat().replace("+00:00", "Z")


def parse_instant(text: str) -> datetime | date | None:
    """An ISO 8601 date or date-time (Z allowed), or None when the text is neither or has digits
    below the microsecond (which targets would truncate or round differently)."""
    match = _FRACTION.search(text)
    if match is not None and len(match.group(1)) > 6:
        return None
    try:
        if _DATE_ONLY.match(text):
            return date.fromisoformat(text)
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def is_date_only(text: str) -> bool:
    return bool(_DATE_ONLY.match(text))


def parse_time_option(text: str, *, field: str) -> datetime:
    """An evaluation time given as text (--now, a tool's `now`): microseconds are kept, finer digits
    and unparseable text are refused, naming the field. A date is midnight UTC."""
    parsed = parse_instant(text.strip())
    if parsed is None:
        raise InputError(
            f"{text!r} is not an ISO 8601 date or date-time with at most 6 fractional digits, e.g. "
            "'2026-11-24T09:00:00.250000Z'",
            field=field,
        )
    return as_utc(parsed)


def in_jsonlogic_range(micros: int) -> bool:
    return JSONLOGIC_FIRST_US <= micros < JSONLOGIC_END_US


_SUB_MICROSECOND = re.compile(r"\d{7}")
_from_iso = datetime.fromisoformat


def fast_iso_us(text: str) -> int:
    """epoch_us(parse_instant(text)) for the column loader's 100,000 timestamps, in a third of the
    time; raises ValueError where parse_instant returns None."""
    dot = text.find(".")
    if dot == -1:
        dot = text.find(",")
    if dot != -1 and _SUB_MICROSECOND.match(text, dot + 1):
        raise ValueError(text)
    moment = _from_iso(text[:-1] + "+00:00" if text.endswith("Z") else text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return (moment - _EPOCH) // _ONE_US
