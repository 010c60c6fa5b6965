"""The finding type every check returns: a stable code, a severity, a JSON Pointer and a message."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from .common import without_titles

Severity = Literal["error", "warning", "info"]
SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


class Finding(BaseModel):
    model_config = ConfigDict(frozen=True, json_schema_extra=without_titles)

    code: str
    severity: Severity
    pointer: str
    message: str
    stage: str

    @property
    def identity(self) -> tuple[str, str]:
        """Two findings are the same finding across revisions when code and pointer match."""
        return (self.code, self.pointer)


def sort_findings(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (SEVERITY_ORDER[f.severity], f.stage, f.pointer, f.code))
