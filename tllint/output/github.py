"""GitHub Actions workflow commands: each finding becomes an annotation on the pull request.

The workflow-command format (`::error file=...,line=...::message`) reads `%`, `\\r` and `\\n` as escapes in the
message, and also `:` and `,` in property values, so each is percent-encoded there. A finding in a notebook is
annotated on the file, its cell and line in the title: the line of a cell is no line of the `.ipynb` file.
"""

from __future__ import annotations

from tllint.findings.model import Severity
from tllint.output import Report

_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(report: Report) -> str:
    lines = []
    for f in report.findings:
        s = f.span
        if f.cell is None:
            where, title = f"line={s.line},col={s.column},endLine={s.end_line},endColumn={s.end_column},", ""
        else:
            where, title = "", f" (cell {f.cell}, line {s.line}, column {s.column})"
        lines.append(
            f"::{_LEVEL[f.severity]} file={escape_property(f.path)},{where}"
            f"title={escape_property(f'{f.code} {f.name}{title}')}::{escape_data(f.message)}"
        )
    return "".join(line + "\n" for line in lines)
