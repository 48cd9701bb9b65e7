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


class Applicability(str, enum.Enum):
    """Whether `--fix` applies a fix (as ruff): a safe fix does what the code evidently meant and changes nothing
    else; an unsafe one changes what trains, so it is applied only with `--unsafe-fixes`."""

    SAFE = "safe"
    UNSAFE = "unsafe"


@dataclass(frozen=True)
class Edit:
    """One text replacement of a fix. Its span counts lines and columns from 1 like a finding's, but its end is
    exclusive (the position after the last replaced character, as in SARIF), so an insertion has end == start. In a
    notebook, `cell` names the cell its lines count within (a fix may edit two cells: an import added to the first)."""

    span: Span
    replacement: str
    cell: int | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"line": self.span.line, "column": self.span.column, "end_line": self.span.end_line,
                                "end_column": self.span.end_column, "replacement": self.replacement}
        if self.cell is not None:
            data["cell"] = self.cell
        return data


@dataclass(frozen=True)
class Fix:
    """A fix: what it does, the edits that apply it (together or not at all), and whether it is safe."""

    description: str
    edits: tuple[Edit, ...]
    applicability: Applicability = Applicability.SAFE

    @property
    def safe(self) -> bool:
        return self.applicability is Applicability.SAFE


@dataclass(frozen=True)
class Finding:
    """One problem found in one place.

    `cell` is set in notebooks: the cell's 1-based position among all the notebook's cells, which the span's lines
    count within; `fix` is the finding's fix, if its rule can make one here.
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
    def location(self) -> str:
        """Where it is within its file, as text output writes it: `12:5`, or `cell 3:12:5` in a notebook."""
        cell = f"cell {self.cell}:" if self.cell is not None else ""
        return f"{cell}{self.span.line}:{self.span.column}"

    @property
    def sort_key(self) -> tuple[str, int, int, int, str]:
        return (self.path, self.cell or 0, self.span.line, self.span.column, self.code)

    def to_dict(self) -> dict[str, Any]:
        fix = None
        if self.fix is not None:
            fix = {
                "description": self.fix.description,
                "applicability": self.fix.applicability.value,
                "edits": [edit.to_dict() for edit in self.fix.edits],
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
