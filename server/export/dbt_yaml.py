"""YAML for the dbt export, written by hand: the export layer has no YAML library, and a small block
style emitter with every string as a JSON string (valid YAML, one escaping rule) keeps the files
readable and deterministic.

dbt renders most YAML values and every description as Jinja, so plan text passes through `text()`
first: one line, no Jinja delimiters.
"""

from __future__ import annotations

import json
import re
from typing import Any

_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Words YAML 1.1 (PyYAML, which dbt uses) reads as booleans or null even as keys: quoted.
_YAML11_WORDS = {"y", "n", "yes", "no", "on", "off", "true", "false", "null"}
# Characters a YAML reader refuses or folds as line breaks inside a quoted scalar: escaped.
_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\ufffe\uffff]")
_JINJA = re.compile(r"\{(?=[{%#])|(?<=[}%#])\}")


def text(value: str, limit: int = 300) -> str:
    """Free text from the plan as dbt may render it: on one line, with '{{', '{%', '{#' (and their
    closers) broken by a space so Jinja reads them as plain text."""
    line = " ".join("".join(c if c.isprintable() else " " for c in value).split())
    return _JINJA.sub(lambda m: m.group(0) + " " if m.group(0) == "{" else " " + m.group(0), line)[:limit]


def has_jinja(value: str) -> bool:
    return bool(re.search(r"\{[{%#]", value))


def _string(value: str) -> str:
    quoted = json.dumps(value, ensure_ascii=False)
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", quoted)


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        # YAML 1.1 reads 1e+308 as text: a float keeps its point
        text = repr(value)
        return text.replace("e", ".0e", 1) if "e" in text and "." not in text else text
    if isinstance(value, int):
        return str(value)
    return _string(str(value))


def _key(key: str) -> str:
    plain = _PLAIN_KEY.match(key) and key.lower() not in _YAML11_WORDS
    return key if plain else _string(key)


def dump(value: Any, indent: int = 0) -> str:
    """Block-style YAML for dicts and lists of scalars, dicts and lists."""
    return "\n".join(_lines(value, indent)) + "\n"


def _lines(value: Any, indent: int) -> list[str]:
    pad = " " * indent
    if isinstance(value, dict):
        if not value:
            return [pad + "{}"]
        lines = []
        for key, item in value.items():
            if isinstance(item, (dict, list)) and item:
                lines.append(f"{pad}{_key(key)}:")
                lines += _lines(item, indent + 2)
            else:
                empty = "{}" if isinstance(item, dict) else "[]" if isinstance(item, list) else None
                lines.append(f"{pad}{_key(key)}: {empty or _scalar(item)}")
        return lines
    if isinstance(value, list):
        if not value:
            return [pad + "[]"]
        lines = []
        for item in value:
            inner = _lines(item, indent + 2)
            lines.append(f"{pad}- {inner[0].lstrip()}")
            lines += inner[1:]
        return lines
    return [pad + _scalar(value)]
