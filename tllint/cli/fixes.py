"""`tllint check --fix / --unsafe-fixes / --diff`: which files to fix, with which fixes, and what to say about it.

Checking runs first, as in any run (in parallel, through the cache). Only a file whose findings carry a fix the
policy applies is read again and fixed, in this process: most runs fix nothing, and a file with no fixable finding
is never written. `tllint.static.fixing.apply` is imported only then.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tllint.config import Config
from tllint.findings.model import Finding
from tllint.static.outcome import FileOutcome
from tllint.static.reading import TooLarge, read_limited

if TYPE_CHECKING:
    from tllint.static.fixing.apply import FixPolicy
    from tllint.static.parallel import Job


def fixable_codes(config: Config, codes: frozenset[str]) -> frozenset[str]:
    """The enabled codes whose fixes may be applied: `fixable` less `unfixable` (as in ruff, `unfixable` wins)."""
    fixable, unfixable = config.value("fixable"), config.value("unfixable")
    return frozenset(code for code in codes if _matches(code, fixable) and not _matches(code, unfixable))


def _matches(code: str, selectors: Iterable[str]) -> bool:
    return any(selector == "ALL" or code.startswith(selector) for selector in selectors)


@dataclass
class FixCounts:
    """What the summary says about fixes: how many were applied, and how many more `--fix` and
    `--unsafe-fixes` would apply."""

    fixed: list[Finding] = field(default_factory=list)
    fixable: int = 0
    unsafe_fixable: int = 0
    diffs: list[str] = field(default_factory=list)


@dataclass
class Fixer:
    """Fixes the files of one run (or, with `diff`, only computes the change)."""

    diff: bool
    counts: FixCounts = field(default_factory=FixCounts)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def file(self, job: Job, config: Config, outcome: FileOutcome) -> FileOutcome:
        """The outcome to report for the file: after fixing it when its settings ask for that."""
        fixable = fixable_codes(config, job.codes)
        unsafe = bool(config.value("unsafe-fixes"))
        if (self.diff or config.value("fix")) and any(
            f.fix is not None and f.code in fixable and (f.fix.safe or unsafe) for f in outcome.findings
        ):
            outcome = self._fix(job, _policy(fixable, unsafe), outcome)
        self.count(outcome.findings, fixable, unsafe)
        return outcome

    def _fix(self, job: Job, policy: FixPolicy, outcome: FileOutcome) -> FileOutcome:
        from tllint.static.fixing.apply import fix_bytes, unified_diff, write_atomically

        try:
            data = read_limited(job.path, job.max_size)
        except (OSError, TooLarge):
            return outcome  # it was read moments ago: report what the check found, fix nothing
        result = fix_bytes(data, job.display, job.codes, policy)
        self.problems.extend(result.problems)
        self.notes.extend(result.notes)
        if not result.changed:
            return result.outcome
        if self.diff:
            self.counts.diffs.append(unified_diff(result, job.display))
        else:
            failure = write_atomically(job.path, data, result.data)
            if failure is not None:
                self.problems.append(f"{job.display}: {failure}")
                return outcome
        self.counts.fixed.extend(result.fixed)
        return outcome if self.diff else result.outcome

    def count(self, findings: list[Finding], fixable: frozenset[str], unsafe: bool) -> None:
        """Count the reported findings that `--fix` would fix, and those only `--unsafe-fixes` would."""
        for finding in findings:
            if finding.fix is None or finding.code not in fixable:
                continue
            if finding.fix.safe or unsafe:
                self.counts.fixable += 1
            else:
                self.counts.unsafe_fixable += 1


def _policy(fixable: frozenset[str], unsafe: bool) -> FixPolicy:
    from tllint.static.fixing.apply import FixPolicy

    return FixPolicy(fixable, unsafe)
