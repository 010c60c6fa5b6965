"""The LaunchDarkly bundle's text: flags.json written so that JSON and YAML readers agree, and README.md.

The Python SDK's file data source parses flags.json with PyYAML when it is installed (YAML 1.1), which
reads `1e+308` as a string and raw U+2028 as a line break. So floats always carry a '.' and a signed
exponent, and characters YAML treats specially are escaped; a test checks both readers agree.
"""

from __future__ import annotations

import json
from typing import Any

# Characters that YAML 1.1 does not take literally inside a double-quoted scalar (line breaks other
# than \n, C1 controls, the byte order mark, surrogates); JSON's \uXXXX escape means the same to both.
_ESCAPED = {0x7F, 0x85, 0x2028, 0x2029, 0xFEFF} | set(range(0x80, 0xA0)) | set(range(0xD800, 0xE000))


def number(value: float) -> str:
    """A double as JSON that YAML 1.1 also reads as the same double: '7.0', '1.0e+308', '5.0e-324'."""
    text = repr(value)
    if "e" not in text:
        return text if "." in text else text + ".0"
    mantissa, exponent = text.split("e")
    if "." not in mantissa:
        mantissa += ".0"
    if exponent[0] not in "+-":
        exponent = "+" + exponent
    return f"{mantissa}e{exponent}"


def string(value: str) -> str:
    text = json.dumps(value, ensure_ascii=False)
    if not any(ord(c) in _ESCAPED for c in text):
        return text
    return "".join(f"\\u{ord(c):04x}" if ord(c) in _ESCAPED else c for c in text)


def dumps(value: Any, indent: int = 0) -> str:
    """JSON with two-space indentation, keys in the order given."""
    pad, inner = "  " * indent, "  " * (indent + 1)
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = [f"{inner}{string(k)}: {dumps(v, indent + 1)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + f"\n{pad}}}"
    if isinstance(value, (list, tuple)):
        if not value:
            return "[]"
        if all(not isinstance(v, (dict, list, tuple)) for v in value):
            return "[" + ", ".join(dumps(v) for v in value) + "]"
        return "[\n" + ",\n".join(inner + dumps(v, indent + 1) for v in value) + f"\n{pad}]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return number(value)
    return string(str(value))


def readme(plan_id: str, revision: int, draft: bool, flags: list[str], refused: list[str]) -> str:
    """How to load the bundle into LaunchDarkly (the same text as docs/exports.md, in short)."""
    lines = [
        f"# LaunchDarkly export of {plan_id}, revision {revision}",
        "",
    ]
    if draft:
        lines += ["**DRAFT**: exported from a revision that is not final, or with open error findings.", ""]
    lines += [
        "`flags.json` holds one segment per profile (`profile-<id>`: its eligibility and suppression)",
        "and one flag per channel (`personalization-<channel>`) whose variations are the profiles",
        "activated there through LaunchDarkly plus `none`. Its rules walk every profile in priority",
        "order, so a context gets the winning profile when its activation's consent gate holds and",
        "`none` otherwise. Segments named `has-<attribute>` are helpers for `is_null` conditions.",
        "",
        "## Load it",
        "- Offline or in tests: the server SDKs' file data source reads `flags.json` as it is, e.g. in",
        "  Python `Config(sdk_key, update_processor_class=Files.new_data_source(paths=['flags.json']),",
        "  send_events=False)`.",
        "- Into a LaunchDarkly project: create each segment, then each flag, with the REST API",
        "  (`POST /api/v2/segments/{project}/{env}` and `POST /api/v2/flags/{project}`), copying the rules",
        "  and clauses from `flags.json`; or use the file as the source of a relay proxy in offline mode.",
        "",
        "## The evaluation context",
        "A `user` context whose custom attributes are the plan's attributes by inventory name: strings,",
        "numbers and booleans as JSON, timestamps and dates as Unix epoch milliseconds (a date is its",
        "midnight UTC; microseconds travel as the fraction), nulls left out. Direct, sensitive and",
        "special-category personal data never travel in the context.",
    ]
    if flags:
        lines += ["", "Flags: " + ", ".join(f"`{f}`" for f in flags) + "."]
    if refused:
        lines += [
            "",
            "## Not carried",
            "These profiles have no segment here, and their members are not recognised by the flags",
            "(they get the next profile in priority order that they belong to); see `_meta.refusals`:",
            *(f"- {text}" for text in refused),
        ]
    return "\n".join(lines) + "\n"
