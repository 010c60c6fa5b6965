"""Shared field types for the plan model.

Every string and list is bounded so that an over-long value is refused by validation (naming the
field) instead of being written into the plan or a git commit.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints
from typing_extensions import TypeAliasType

SCHEMA_VERSION = "1.4"

MAX_SHORT_TEXT = 200
MAX_LONG_TEXT = 4000
MAX_ITEMS = 20_000

Channel = Literal["web", "in-app", "email", "ads", "sales"]
CHANNELS: tuple[str, ...] = ("web", "in-app", "email", "ads", "sales")

StageName = Literal["intake", "attributes", "profiles", "activation", "governance"]
STAGES: tuple[str, ...] = ("intake", "attributes", "profiles", "activation", "governance")

# Named aliases: JSON Schemas define them once ($defs) and refer to them, which keeps every tool
# schema the model reads short.
Slug = TypeAliasType(
    "Slug",
    Annotated[
        str,
        StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,62}$"),
        Field(description="Lower-case id: a letter, then letters, digits, '_' or '-' (max 63)."),
    ],
)
AttributeName = TypeAliasType(
    "AttributeName",
    Annotated[
        str,
        StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,62}$"),
        Field(description="snake_case column name."),
    ],
)


def control_characters(text: str, *, multi_line: bool) -> list[str]:
    """The control characters (and lone surrogates) in `text`, as escapes; multi-line text may keep
    newline and tab. They would reach commit messages, reports and terminals."""
    allowed = {"\n", "\t"} if multi_line else set()
    return [
        repr(ch)
        for ch in dict.fromkeys(text)
        if ch not in allowed and (unicodedata.category(ch) in ("Cc", "Cs") or ch in "\u2028\u2029")
    ]


def _single_line(text: str) -> str:
    found = control_characters(text, multi_line=False)
    if found:
        raise ValueError(f"contains control characters ({', '.join(found)}); one line of plain text only")
    return text


def _multi_line(text: str) -> str:
    found = control_characters(text, multi_line=True)
    if found:
        raise ValueError(
            f"contains control characters ({', '.join(found)}); only newline and tab are allowed"
        )
    return text


# Validators, not patterns: they keep the JSON Schemas (and so the tool list) short.
ShortText = Annotated[
    str, StringConstraints(min_length=1, max_length=MAX_SHORT_TEXT), AfterValidator(_single_line)
]
LongText = Annotated[str, StringConstraints(max_length=MAX_LONG_TEXT), AfterValidator(_multi_line)]

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
    Field(description="A whole number and m, h, d or w, e.g. '14d'."),
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


def without_titles(schema: dict[str, Any]) -> None:
    """Drop the titles pydantic derives from names: they repeat the key, and every tool schema the
    model reads in each session would carry them (docs/performance.md, tool-list budget)."""
    schema.pop("title", None)
    for prop in schema.get("properties", {}).values():
        if isinstance(prop, dict):
            prop.pop("title", None)


class Strict(BaseModel):
    """Base for every plan model: unknown fields are errors, not silently dropped; instances are
    frozen, so a revision never changes once built (operations return new ones)."""

    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra=without_titles)
