"""Values from a plan are shown, never interpreted: templates, Markdown, HTML, CSV, YAML and Mermaid."""

from __future__ import annotations

import csv
import io
import re

import jinja2
import pytest

from personalization_engine.render import render_deliverables
from personalization_engine.render.environment import environment
from personalization_engine.render.escaping import csv_cell, fence, md_cell, mermaid_label, yaml_scalar

from .helpers import example_plan, hostile

TEMPLATE_TEXT = "{{ plan.plan_id }}{% if true %}x{% endif %}"
# Plan text keeps newlines and tabs only in multi-line fields (control characters are refused), and
# single-line fields hold it on one line.
NASTY = "a | b\nc\nd <script>alert(1)</script> & *bold* [link](javascript:x) `tick` ```fence"
NASTY_LINE = " ".join(NASTY.split())


@pytest.fixture(scope="module")
def nasty_files() -> dict[str, str]:
    return render_deliverables(hostile(example_plan(), NASTY))


def table_cells(line: str) -> list[str]:
    return re.split(r"(?<!\\)\|", line.strip())[1:-1]


def test_template_syntax_in_values_renders_literally_in_every_deliverable():
    files = render_deliverables(hostile(example_plan(), TEMPLATE_TEXT))
    for name, text in files.items():
        assert "{{ plan.plan_id }}" in text, name
        assert "{% if true %}" in text, name


def test_pipes_and_newlines_in_values_do_not_break_markdown_tables(nasty_files):
    for name in ("profile-schema.md", "profiles.md", "plan.md"):
        lines = nasty_files[name].splitlines()
        for i, line in enumerate(lines):
            if line.startswith("|---"):
                width = len(table_cells(lines[i - 1]))
                rows = lines[i + 1 :]
                rows = rows[: next((k for k, r in enumerate(rows) if not r.startswith("|")), len(rows))]
                assert rows, f"{name}: a table with no rows after line {i}"
                for row in rows:
                    assert len(table_cells(row)) == width, f"{name}: {row!r}"
    schema_rows = [line for line in nasty_files["profile-schema.md"].splitlines() if line.startswith("| `")]
    assert len(schema_rows) == len(example_plan().attributes)
    assert "a \\| b<br>c<br>d \\<script\\>" in nasty_files["profile-schema.md"]


def test_markdown_values_cannot_open_html_links_or_code(nasty_files):
    for name in ("profile-schema.md", "profiles.md", "plan.md", "activation-checklist.md"):
        text = nasty_files[name]
        assert "<script>" not in text, name
        assert "[link](javascript" not in text, name
        assert "\\[link\\](javascript:x)" in text, name


def test_html_is_autoescaped_and_the_page_carries_no_script(nasty_files):
    page = nasty_files["report.html"]
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "default-src 'none'" in page


def test_autoescape_is_on_for_html_templates_only():
    env = environment()
    assert env.autoescape("report.html.j2") is True
    assert env.autoescape("profiles.md.j2") is False


def test_csv_cells_that_a_spreadsheet_would_run_as_formulas_are_neutralised():
    for text in ("=SUM(A1:A9)", "+1+2", "-3", "@cmd", "\tx"):
        files = render_deliverables(hostile(example_plan(), text))
        rows = list(csv.reader(io.StringIO(files["profile-schema.csv"])))
        header, body = rows[0], rows[1:]
        description = header.index("description")
        assert body and all(row[description] == "'" + text for row in body), text
        assert not any(cell.startswith(("=", "+", "-", "@")) for row in body for cell in row)
    assert csv_cell("plain") == "plain"
    assert csv_cell(None) == ""


def test_csv_keeps_newlines_and_commas_inside_one_cell(nasty_files):
    rows = list(csv.reader(io.StringIO(nasty_files["profile-schema.csv"])))
    assert len(rows) == 1 + len(example_plan().attributes)
    assert rows[1][2] == NASTY


def test_yaml_strings_are_double_quoted_with_every_special_character_escaped():
    assert yaml_scalar('a "b" \\ c\nd') == '"a \\"b\\" \\\\ c\\nd"'
    assert yaml_scalar("\x07bell\u2028") == '"\\u0007bell\\u2028"'
    assert yaml_scalar("yes") == '"yes"'
    assert yaml_scalar(True) == "true"
    assert yaml_scalar(None) == "null"
    assert yaml_scalar(1.5) == "1.5"


def test_yaml_values_round_trip_through_a_yaml_parser(nasty_files):
    yaml = pytest.importorskip("yaml")
    contract = yaml.safe_load(nasty_files["data-contract.odcs.yaml"])
    properties = contract["schema"][0]["properties"]
    assert all(p["description"] == NASTY for p in properties)
    assert contract["name"] == NASTY_LINE[:200] + ": profile attributes"


def test_mermaid_labels_cannot_close_their_node_or_add_statements(nasty_files):
    breakout = 'x"]) --> evil["y'
    files = render_deliverables(hostile(example_plan(), breakout))
    label = re.compile(r'^  n\d+(\(\["[^"]*"\]\)|\{"[^"]*"\}|\["[^"]*"\])$')
    blocks = re.findall(r"```mermaid\n(.*?)\n```", files["profiles.md"], re.S)
    assert blocks
    for block in blocks:
        for line in block.splitlines():
            if re.match(r"^  n\d+[\[{(]", line):
                assert label.match(line), line
    assert mermaid_label('a"b<c>#') == "a#34;b#60;c#62;#35;"


def test_a_code_fence_is_longer_than_any_backtick_run_in_its_content():
    assert fence("SELECT '```'", "sql").startswith("````sql\n")
    assert fence("SELECT 1", "sql") == "```sql\nSELECT 1\n```"
    data = example_plan().model_dump(mode="json", by_alias=True)
    data["profiles"][0]["eligibility"] = {"op": "eq", "attr": "plan_tier", "value": "```\n# not a heading"}
    from personalization_engine.model import Plan

    profiles = render_deliverables(Plan.model_validate(data))["profiles.md"]
    assert "````sql\n" in profiles


def test_markdown_cells_escape_pipes_and_turn_line_breaks_into_br():
    assert md_cell("a|b\nc") == "a\\|b<br>c"
    assert md_cell("") == " "


def test_templates_use_strict_undefined_so_a_missing_field_fails_instead_of_rendering_empty():
    env = environment()
    assert env.undefined is jinja2.StrictUndefined
    with pytest.raises(jinja2.UndefinedError):
        env.get_template("plan.md.j2").render(plan=example_plan())
