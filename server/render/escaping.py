"""Escaping for every output format, so that values from a plan are shown and never interpreted.

Jinja never evaluates text it inserts, so `{{ ... }}` in a value is inert already; what is left is
each format's own syntax: Markdown tables and inline markup, Mermaid labels, CSV formulas, YAML
scalars and code fences.
"""

from __future__ import annotations

import re
from typing import Any

# Characters with a meaning in (GitHub-flavoured) Markdown inline text, including raw HTML (<, &),
# tables (|), math ($) and autolinks. CommonMark lets any ASCII punctuation be backslash-escaped.
# "_" is left alone: GitHub ignores it inside words, and snake_case names stay readable in the raw file.
_MD_SPECIAL = re.compile(r"([\\`*\[\]<>|&~$!#])")
_LINE_BREAKS = re.compile(r"\r\n|\r|\n|\u2028|\u2029|\x85")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# A character that starts a block (heading, list, quote, rule) when it opens a line.
_BLOCK_START = re.compile(r"^(\s*)([#>+\-=]|\d+[.)])")


def plain(value: Any) -> str:
    """The text of a value for display; None is empty, booleans are yes/no."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def md_inline(value: Any) -> str:
    """Markdown text on one line: markup is escaped and line breaks become spaces."""
    text = _CONTROL.sub("", plain(value))
    text = _LINE_BREAKS.sub(" ", text)
    return _MD_SPECIAL.sub(r"\\\1", text)


def md_cell(value: Any) -> str:
    """A Markdown table cell: like md_inline, but line breaks are kept as <br> (ours, not the value's)."""
    lines = _LINE_BREAKS.split(_CONTROL.sub("", plain(value)))
    return "<br>".join(_MD_SPECIAL.sub(r"\\\1", line) for line in lines).strip() or " "


def md_block(value: Any) -> str:
    """Multi-line Markdown text: each line escaped, and a line that would open a block is neutralised."""
    lines = _LINE_BREAKS.split(_CONTROL.sub("", plain(value)).strip())
    escaped = [_BLOCK_START.sub(r"\1\\\2", _MD_SPECIAL.sub(r"\\\1", line)) for line in lines]
    return "  \n".join(line for line in escaped)


def fence(text: str, info: str = "") -> str:
    """A fenced code block whose fence is longer than any backtick run inside the text."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    marker = "`" * max(3, longest + 1)
    return f"{marker}{info}\n{text.rstrip()}\n{marker}"


def mermaid_label(value: Any, limit: int = 80) -> str:
    """Text for a quoted Mermaid label: anything beyond plain characters becomes an entity code."""
    text = _LINE_BREAKS.sub(" ", plain(value))
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return "".join(ch if _MERMAID_SAFE.fullmatch(ch) else f"#{ord(ch)};" for ch in text)


_MERMAID_SAFE = re.compile(r"[A-Za-z0-9 _.,:'=+*/%()\-]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> str:
    """A CSV cell that a spreadsheet will not run as a formula: a leading = + - @ gets a quote mark."""
    text = plain(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def yaml_scalar(value: Any) -> str:
    """A YAML scalar: numbers and booleans plain, every string double-quoted with escapes."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if value == value and value not in (float("inf"), float("-inf")) else '".nan"'
    text = str(value)
    if _YAML_PLAIN.fullmatch(text):  # the common case, without a per-character pass
        return f'"{text}"'
    return '"' + "".join(_yaml_char(ch) for ch in text) + '"'


_YAML_PLAIN = re.compile(r"[ !#-\[\]-~]*")


_YAML_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r", "\0": "\\0"}


def _yaml_char(ch: str) -> str:
    if ch in _YAML_ESCAPES:
        return _YAML_ESCAPES[ch]
    code = ord(ch)
    # YAML allows only printable characters in a document; everything else is written as an escape.
    printable = code in (0x09, 0x0A, 0x0D) or 0x20 <= code <= 0x7E or code == 0x85
    printable = printable or 0xA0 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD or 0x10000 <= code <= 0x10FFFF
    if printable and code not in (0x85, 0x2028, 0x2029, 0xFEFF):
        return ch
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"
