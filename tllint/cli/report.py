"""What `tllint check` prints: the report in the chosen format (or `--statistics`), errors and notes on stderr,
`--show-settings` and `--show-files`."""

from __future__ import annotations

import os
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import click

from tllint.cli.errors import Failure, verbose
from tllint.cli.fixes import FixCounts
from tllint.config import Config
from tllint.findings.model import Finding
from tllint.output import Report, renderer
from tllint.output.text import statistics
from tllint.settings import SETTINGS, render
from tllint.static import prefilter
from tllint.static.notebook import is_notebook
from tllint.static.outcome import FileOutcome
from tllint.static.reading import TooLarge, read_limited

if TYPE_CHECKING:
    from tllint.cli.check import CheckOptions
    from tllint.static.parallel import Job


@dataclass
class RunResult:
    """Everything a run gathered: findings, errors for stderr, and the counts the summary gives."""

    findings: list[Finding] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    details: list[str] = field(default_factory=list)  # tracebacks, shown with --verbose
    notes: list[str] = field(default_factory=list)
    checked: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    codes: set[str] = field(default_factory=set)  # the codes that ran on some file
    enabled: dict[int, frozenset[str]] = field(default_factory=dict)  # per configuration, computed once
    fixes: FixCounts = field(default_factory=FixCounts)

    def add(self, outcome: FileOutcome, codes: frozenset[str]) -> None:
        self.findings.extend(outcome.findings)
        self.problems.extend(outcome.problems)
        self.details.extend(outcome.details)
        if outcome.skipped is not None:
            self.skipped[outcome.skipped.value] += 1
        elif not outcome.unread:
            self.checked += 1
        self.codes |= codes

    def exit_code(self, exit_zero: bool, diff: bool = False) -> int:
        """2 for a problem; else 1 for findings (with `--diff`: for a change to show), unless `--exit-zero`."""
        if self.problems:
            return 2
        return 1 if (self.fixes.diffs if diff else self.findings) and not exit_zero else 0


def write_report(result: RunResult, options: CheckOptions) -> None:
    """The report on stdout (or `--output-file`), then one line per problem on stderr."""
    colour = _colour(options)
    if options.diff:
        _write_diffs(result, options)
    elif not options.silent:
        findings = sorted(result.findings, key=lambda f: f.sort_key)
        fixes = result.fixes
        if options.statistics:
            text = statistics(findings, as_json=options.output_format == "json")
        else:
            report = Report(findings, result.checked, dict(result.skipped), frozenset(result.codes),
                            os.getcwd(), colour, summary=not options.quiet, fixed=len(fixes.fixed),
                            fixable=fixes.fixable, unsafe_fixable=fixes.unsafe_fixable)
            text = renderer(options.output_format)(report)
            if options.show_fixes and options.output_format == "text":
                text += fixed_list(fixes.fixed)
        if options.output_file is not None:
            try:
                Path(options.output_file).write_text(text, encoding="utf-8")
            except OSError as error:
                raise Failure(f"{options.output_file}: cannot write the report: {error.strerror or error}") from error
        else:
            click.echo(text, nl=False, color=colour)
    for problem in sorted(result.problems):  # each starts with its path: in path order, like the findings
        click.echo(f"tllint: error: {problem}", err=True)
    if verbose():
        for detail in result.details:
            click.echo(detail, err=True, nl=False)


def _write_diffs(result: RunResult, options: CheckOptions) -> None:
    """`--diff`: the changes on stdout, and how many fixes they hold on stderr."""
    if not options.silent:
        click.echo("".join(result.fixes.diffs), nl=False)
    count = len(result.fixes.fixed)
    if not (options.quiet or options.silent):
        noun = "fix" if count == 1 else "fixes"
        click.echo(f"Would apply {count} {noun}." if count else "No fixes to apply.", err=True)


def fixed_list(fixed: list[Finding]) -> str:
    """`--show-fixes`: each applied fix, where it was (before the change) and what it did."""
    if not fixed:
        return "No fixes applied.\n"
    lines = [f"Applied {len(fixed)} fix{'es' if len(fixed) != 1 else ''}:"]
    for finding in sorted(fixed, key=lambda f: f.sort_key):
        lines.append(f"  {finding.path}:{finding.location}: {finding.code} "
                     f"{finding.fix.description if finding.fix is not None else ''}")
    return "".join(line + "\n" for line in lines)


def _colour(options: CheckOptions) -> bool:
    """Colour for the text format on a terminal; NO_COLOR turns it off and FORCE_COLOR on (no-color.org,
    force-color.org: set and not empty), NO_COLOR first. Never in a file."""
    if options.output_format != "text" or options.output_file is not None or options.statistics:
        return False
    if os.environ.get("NO_COLOR"):
        return False
    return bool(os.environ.get("FORCE_COLOR")) or sys.stdout.isatty()


def show_settings(path: str, config: Config, cache: Path | None) -> str:
    """The settings that apply to `path`, each with where it comes from, and what they enable."""
    lines = [f"# settings for {path}",
             f"# configuration file: {config.file.origin if config.source is not None else 'none (defaults)'}",
             f"# patterns are relative to: {config.root}"]
    for key in SETTINGS:
        lines.append(f"{key} = {render(config.value(key))}  # {config.origin(key)}")
    enabled = config.codes_for(path, config.enabled_codes())
    lines.append(f"# enabled codes: {', '.join(sorted(enabled))}")
    lines.append(f"# cache: {cache if cache is not None else 'off (--no-cache)'}")
    return "\n".join(lines) + "\n"


def show_files(jobs: list[Job], result: RunResult) -> str:
    """Every file the run would look at: checked, or skipped from its bytes and why."""
    lines = []
    for job in jobs:
        try:
            reason = prefilter.skip_reason(read_limited(job.path, job.max_size), job.codes, is_notebook(job.display))
        except TooLarge:
            reason = None
        except (OSError, ValueError) as error:
            result.problems.append(f"{job.display}: cannot read: {getattr(error, 'strerror', None) or error}")
            continue
        lines.append(job.display if reason is None else f"{job.display}  (skipped: {reason.value})")
    for problem in result.problems:
        click.echo(f"tllint: error: {problem}", err=True)
    return "".join(line + "\n" for line in lines)
