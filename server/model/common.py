"""Shared field types for the plan model.

Every string and list is bounded so that an over-long value is refused by validation (naming the
field) instead of being written into the plan or a git commit.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

SCHEMA_VERSION = "1.0"

MAX_SHORT_TEXT = 200
MAX_LONG_TEXT = 4000
MAX_ITEMS = 20_000

Channel = Literal["web", "in-app", "email", "ads", "sales"]
CHANNELS: tuple[str, ...] = ("web", "in-app", "email", "ads", "sales")

StageName = Literal["intake", "attributes", "profiles", "activation", "governance"]
STAGES: tuple[str, ...] = ("intake", "attributes", "profiles", "activation", "governance")

Slug = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,62}$"),
    Field(description="Lower-case id: a letter, then letters, digits, '_' or '-' (max 63)."),
]
AttributeName = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,62}$"),
    Field(
        description="snake_case column name: a letter, then letters, digits or '_' (max 63). "
        "It is the column name in data and compiled SQL."
    ),
]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=MAX_SHORT_TEXT)]
LongText = Annotated[str, StringConstraints(max_length=MAX_LONG_TEXT)]

DURATION_PATTERN = r"^[1-9][0-9]{0,5}(m|h|d|w)$"
# Windows and decays are bounded so that every target (Python, five SQL dialects, JSON Logic) can
# compute `now - window` for any evaluation time from 0001 to 9999 without overflow.
MAX_DURATION_DAYS = 36_525  # 100 years of 365.25 days
MAX_DURATION_SECONDS = MAX_DURATION_DAYS * 86_400
MAX_DURATION_TEXT = "100 years (876600h, 36525d or 5217w)"


def _within_max_duration(value: str) -> str:
    if duration_seconds(value) > MAX_DURATION_SECONDS:
        raise ValueError(f"{value!r} is longer than the maximum duration, {MAX_DURATION_TEXT}")
    return value


Duration = Annotated[
    str,
    StringConstraints(pattern=DURATION_PATTERN),
    AfterValidator(_within_max_duration),
    Field(description="A duration: a positive whole number and a unit m, h, d or w, e.g. '15m', '14d'."),
]
CADENCE_PATTERN = r"^(real_time|hourly|daily|weekly|monthly|[1-9][0-9]{0,5}(m|h|d|w))$"
Cadence = Annotated[
    str,
    StringConstraints(pattern=CADENCE_PATTERN),
    Field(
        description="How often the value is refreshed: real_time, hourly, daily, weekly, monthly, "
        "or a duration such as '15m'."
    ),
]

_UNIT_SECONDS = {"m": 60, "h": 3600, "d": 86_400, "w": 604_800}
_CADENCE_SECONDS = {
    "real_time": 60,  # streaming sources land within about a minute
    "hourly": 3600,
    "daily": 86_400,
    "weekly": 604_800,
    "monthly": 2_592_000,
}
_DURATION_RE = re.compile(DURATION_PATTERN)


def duration_seconds(value: str) -> int:
    """Seconds in a duration or cadence string; raises ValueError naming the value."""
    if value in _CADENCE_SECONDS:
        return _CADENCE_SECONDS[value]
    if not _DURATION_RE.match(value):
        raise ValueError(
            f"{value!r} is not a duration: use a positive whole number and a unit m, h, d or w, e.g. '14d'"
        )
    return int(value[:-1]) * _UNIT_SECONDS[value[-1]]


class Strict(BaseModel):
    """Base for every plan model: unknown fields are errors, not silently dropped."""

    model_config = ConfigDict(extra="forbid")
