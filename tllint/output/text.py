"""The human format: `path:line:col: CODE [severity] message`, the source line, a caret, a summary."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import click

from tllint.findings.model import Finding, Severity

_COLOURS = {Severity.ERROR: "red", Severity.WARNING: "yellow", Severity.INFO: "blue"}


def render_text(findings: Sequence[Finding], files_checked: int, colour: bool) -> str:
    out: list[str] = []
    for finding in findings:
        out.extend(_finding(finding, colour))
    out.append(summary(findings, files_checked))
    return "\n".join(out) + "\n"


def _finding(finding: Finding, colour: bool) -> list[str]:
    def style(text: str, **kwargs: object) -> str:
        return click.style(text, **kwargs) if colour else text  # type: ignore[arg-type]

    span = finding.span
    head = (f"{style(finding.path, bold=True)}:{span.line}:{span.column}: "
            f"{style(finding.code, fg=_COLOURS[finding.severity], bold=True)} [{finding.severity.value}] "
            f"{finding.message}")
    lines = [head]
    source = finding.extra.get("source_line")
    if source:
        gutter = f"{span.line:>5} | "
        visible = source.expandtabs(1).rstrip()
        width = (span.end_column - span.column + 1) if span.end_line == span.line else len(visible) - span.column + 1
        caret = " " * (span.column - 1) + "^" * max(1, width)
        lines += [gutter + visible, " " * (len(gutter) - 2) + "| " + style(caret, fg=_COLOURS[finding.severity]), ""]
    return lines


def summary(findings: Sequence[Finding], files_checked: int) -> str:
    files = len({f.path for f in findings})
    if not findings:
        return f"No findings in {files_checked} file{'s' if files_checked != 1 else ''} checked."
    counts = Counter(f.severity for f in findings)
    parts = [f"{counts[s]} {s.value}{'s' if counts[s] != 1 else ''}" for s in Severity if counts[s]]
    noun = "finding" if len(findings) == 1 else "findings"
    return f"{len(findings)} {noun} in {files} file{'s' if files != 1 else ''} ({', '.join(parts)})."
