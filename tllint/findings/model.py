"""The types every part of tllint reports with: severities, source spans and findings."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class Severity(str, enum.Enum):
    """How bad a finding is; ordered from worst to mildest."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


@dataclass(frozen=True, order=True)
class Span:
    """A source range: 1-based lines and 1-based columns, end inclusive of its last character."""

    line: int
    column: int
    end_line: int
    end_column: int


@dataclass(frozen=True)
class Edit:
    """One text replacement of an autofix (reserved: no rule offers fixes yet)."""

    span: Span
    replacement: str


@dataclass(frozen=True)
class Fix:
    """An autofix: a description and the edits that apply it."""

    description: str
    edits: tuple[Edit, ...]


@dataclass(frozen=True)
class Finding:
    """One problem found in one place.

    `cell` is set in notebooks: the cell's 1-based position among all the notebook's cells, which the span's lines
    count within; `fix` is reserved for autofixes. Both are serialised from the start so that adding them later
    does not change the JSON schema.
    """

    code: str
    name: str
    severity: Severity
    message: str
    path: str
    span: Span
    fix: Fix | None = None
    cell: int | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def sort_key(self) -> tuple[str, int, int, int, str]:
        return (self.path, self.cell or 0, self.span.line, self.span.column, self.code)

    def to_dict(self) -> dict[str, Any]:
        fix = None
        if self.fix is not None:
            fix = {
                "description": self.fix.description,
                "edits": [
                    {
                        "line": e.span.line,
                        "column": e.span.column,
                        "end_line": e.span.end_line,
                        "end_column": e.span.end_column,
                        "replacement": e.replacement,
                    }
                    for e in self.fix.edits
                ],
            }
        data: dict[str, Any] = {
            "code": self.code,
            "name": self.name,
            "severity": self.severity.value,
            "path": self.path,
            "line": self.span.line,
            "column": self.span.column,
            "end_line": self.span.end_line,
            "end_column": self.span.end_column,
            "message": self.message,
            "fix": fix,
        }
        if self.cell is not None:
            data["cell"] = self.cell
        return data
