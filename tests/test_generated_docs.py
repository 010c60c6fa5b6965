"""Generated reference docs are checked in and current."""

from __future__ import annotations

from pathlib import Path

import pytest

from personalization_engine.docgen import generated_docs

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("relative", sorted(generated_docs()))
def test_generated_doc_is_current(relative):
    assert (ROOT / relative).read_text() == generated_docs()[relative], (
        f"{relative} is stale: run python -m personalization_engine.docgen"
    )
