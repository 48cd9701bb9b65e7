"""The human format: `path:line:col: CODE [severity] message` (`path:cell N:line:col:` in a notebook), the source
line, a caret, a summary; and the `--statistics` table."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence

import click

from tllint.findings.model import Finding, Severity
from tllint.output import Report

_COLOURS = {Severity.ERROR: "red", Severity.WARNING: "yellow", Severity.INFO: "blue"}


def render_text(report: Report) -> str:
    out: list[str] = []
    for finding in report.findings:
        out.extend(_finding(finding, report.colour))
    if report.summary:
        out.append(summary(report))
    return "".join(line + "\n" for line in out)


def _finding(finding: Finding, colour: bool) -> list[str]:
    def style(text: str, **kwargs: object) -> str:
        return click.style(text, **kwargs) if colour else text  # type: ignore[arg-type]

    span = finding.span
    head = (f"{style(finding.path, bold=True)}:{finding.location}: "
            f"{style(finding.code, fg=_COLOURS[finding.severity], bold=True)} [{finding.severity.value}] "
            f"{finding.message}")
    lines = [head]
    source = finding.extra.get("source_line")
    if source:
        gutter = f"{span.line:>5} | "
        visible = source.expandtabs(1).rstrip()
        width = (span.end_column - span.column + 1) if span.end_line == span.line else len(visible) - span.column + 1
        caret = " " * (span.column - 1) + "^" * max(1, width)
        lines += [gutter + visible, " " * (len(gutter) - 2) + "| " + style(caret, fg=_COLOURS[finding.severity])]
    if finding.fix is not None:
        kind = "safe fix" if finding.fix.safe else "unsafe fix, applied with --unsafe-fixes"
        lines.append(f"      = fix ({kind}): {finding.fix.description}")
    if source:
        lines.append("")
    return lines


def summary(report: Report) -> str:
    """`1 finding in 1 file (1 error); 12 files checked, 40 without training code skipped.`"""
    findings = report.findings
    counted = _files(report.checked, "checked")
    skipped = [f"{count} without training code skipped" if reason == "no training code" else
               f"{count} skipped by `{reason}`" for reason, count in report.skipped.items() if count]
    fixes = _fixes(report)
    if not findings:
        return f"No findings in {', '.join([counted, *skipped])}{fixes}."
    counts = Counter(f.severity for f in findings)
    parts = [f"{counts[s]} {s.value}{'s' if counts[s] != 1 else ''}" for s in Severity if counts[s]]
    noun = "finding" if len(findings) == 1 else "findings"
    files = len({f.path for f in findings})
    return (f"{len(findings)} {noun} in {_files(files)} ({', '.join(parts)}); "
            f"{', '.join([counted, *skipped])}{fixes}.")


def _fixes(report: Report) -> str:
    """`; 5 fixed; 2 fixable with --fix; 1 unsafe fix available with --unsafe-fixes`, the parts that apply."""
    parts = []
    if report.fixed:
        parts.append(f"{report.fixed} fixed")
    if report.fixable:
        parts.append(f"{report.fixable} fixable with --fix")
    if report.unsafe_fixable:
        noun = "fix" if report.unsafe_fixable == 1 else "fixes"
        parts.append(f"{report.unsafe_fixable} unsafe {noun} available with --unsafe-fixes")
    return "".join(f"; {part}" for part in parts)


def _files(count: int, verb: str = "") -> str:
    return f"{count} file{'s' if count != 1 else ''}{' ' + verb if verb else ''}"


def statistics(findings: Sequence[Finding], as_json: bool) -> str:
    """How many findings of each code, most frequent first (ruff's `--statistics`)."""
    counts = Counter((f.code, f.name) for f in findings)
    rows = sorted(counts.items(), key=lambda item: (-item[1], item[0][0]))
    if as_json:
        return json.dumps([{"code": code, "name": name, "count": count} for (code, name), count in rows],
                          indent=2) + "\n"
    width = max((len(str(count)) for _, count in rows), default=1)
    return "".join(f"{count:>{width}}  {code}  {name}\n" for (code, name), count in rows)
