"""GitHub Actions workflow commands: each finding becomes an annotation on the pull request."""

from __future__ import annotations

from collections.abc import Sequence

from tllint.findings.model import Finding, Severity

_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def _escape(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape(text).replace(":", "%3A").replace(",", "%2C")


def render_github(findings: Sequence[Finding], files_checked: int, colour: bool) -> str:
    lines = []
    for f in findings:
        s = f.span
        lines.append(
            f"::{_LEVEL[f.severity]} file={_escape_property(f.path)},line={s.line},col={s.column},"
            f"endLine={s.end_line},endColumn={s.end_column},title={_escape_property(f'{f.code} {f.name}')}"
            f"::{_escape(f.message)}"
        )
    return "".join(line + "\n" for line in lines)
