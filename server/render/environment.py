"""The jinja2 environment: templates from package data, StrictUndefined, and escaping filters.

HTML templates (*.html.j2) are autoescaped; every other format escapes through explicit filters,
because Markdown, YAML and CSV each need their own rules (see escaping.py).
"""

from __future__ import annotations

import functools
import re
from datetime import date, datetime

import jinja2
from markupsafe import Markup, escape

from .dates import as_utc, readable
from .escaping import fence, md_block, md_cell, md_inline, mermaid_label, plain, yaml_scalar
from .matrix import SYMBOLS
from .rule_text import duration_words

_IDENTIFIER = re.compile(r"[A-Za-z0-9_.:-]+")


def _iso(value: datetime | date | str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    return value


def _when(value: datetime | date | str | None) -> Markup:
    """A time as people read it ("24 Nov 2026, 09:00 UTC"), keeping the exact instant in the markup.

    The page is for people deciding on a launch, so its text drops seconds and microseconds; the
    `datetime` attribute keeps the exact instant for tools. Strings pass through, escaped.
    """
    if value is None:
        return Markup("")
    if not isinstance(value, date):
        return escape(value)
    if not isinstance(value, datetime):
        return Markup('<time datetime="{0}">{1}</time>').format(value.isoformat(), readable(value))
    return Markup('<time datetime="{0}">{1}</time>').format(_iso(as_utc(value)), readable(value))


def _pct(value: float | None) -> str:
    return "\u2014" if value is None else f"{value:g}%"


def _count(value: int | None) -> str:
    return "\u2014" if value is None else f"{value:,}"


def _code(name: str | None) -> str:
    """An identifier (attribute, profile or plan id) as a code span; anything else as escaped text."""
    if not name:
        return ""
    return f"`{name}`" if _IDENTIFIER.fullmatch(name) else md_inline(name)


def _grants(consent) -> str:
    return "; ".join(f"{g.purpose}: {g.lawful_basis}" for g in consent)


@functools.lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("personalization_engine.render", "templates"),
        undefined=jinja2.StrictUndefined,
        autoescape=lambda name: bool(name and name.endswith(".html.j2")),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        md=md_inline,
        cell=md_cell,
        block=md_block,
        yaml=yaml_scalar,
        fence=fence,
        mermaid=mermaid_label,
        text=plain,
        iso=_iso,
        when=_when,
        date=readable,
        pct=_pct,
        count=_count,
        code=_code,
        words=duration_words,
        grants=_grants,
    )
    env.globals.update(symbols=SYMBOLS)
    return env


def render_template(name: str, **context: object) -> str:
    return environment().get_template(name).render(**context)
