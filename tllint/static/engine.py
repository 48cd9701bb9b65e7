"""Check one file: read, pre-filter, parse, build facts, run rules, locate, suppress.

Cheap steps come first so that most files never reach the expensive ones: a byte search for the words
the enabled rules need skips the parse. The parser is CPython's own (`ast`): it costs nothing to import,
parses about ten times faster than libcst, and its verdict on a file is exactly the interpreter's.
"""

from __future__ import annotations

import ast
import sys
import warnings
from functools import cache

from tllint.findings.model import Finding, Span
from tllint.findings.registry import Half, Rule, Violation, rules
from tllint.static.facts import FileFacts
from tllint.static.interpreter import build_facts
from tllint.static.noqa import MENTIONS_NOQA, Directive, NoqaComment, comment_node, directives, suppressing
from tllint.static.notebook import is_notebook
from tllint.static.outcome import FileOutcome
from tllint.static.prefilter import decode, input_finding
from tllint.static.project import ProjectFiles
from tllint.static.project import skip_reason as project_skip_reason
from tllint.static.source import Source

PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"


@cache
def static_rules() -> dict[str, Rule]:
    """The registered static rules that have a check, by code."""
    return {r.info.code: r for r in rules(Half.STATIC) if r.check is not None}


def parse(text: str, path: str) -> ast.Module | Finding:
    """The file's tree, or TL000 where CPython rejects it (its parser, or its compiler: `break` outside a loop,
    `return` outside a function) at the position CPython reports."""
    error = compile_error(text, path)
    return syntax_tree(text, path) if error is None else error


def compile_error(text: str, path: str, flags: int = 0) -> Finding | None:
    """TL000 where CPython's parser or compiler rejects the text (compiled with `flags`), else None.

    The compiler's verdict comes from compiling the text, not the tree: handing a tree back to `compile()` walks
    it with Python's recursion limit and fails on long but valid expressions that CPython compiles."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escape sequences and the like are warnings, not errors
            compile(text, path, "exec", flags=flags, dont_inherit=True)
    except SyntaxError as error:
        return _syntax_finding(path, error)
    except (RecursionError, MemoryError, ValueError) as error:  # too deep to compile, or a NUL byte (3.11)
        return _syntax_finding(path, SyntaxError(str(error) or type(error).__name__))
    return None


def syntax_tree(text: str, path: str) -> ast.Module | Finding:
    """The tree of text that compiles, or TL000 where it nests too deeply for the parser's tree."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(text, path)
    except (SyntaxError, RecursionError, MemoryError):
        return input_finding(path, 1, 1, "the file is valid Python but nests too deeply for tllint's parser; it "
                             "was not checked")


def _syntax_finding(path: str, error: SyntaxError) -> Finding:
    line, column = max(error.lineno or 1, 1), max(error.offset or 1, 1)
    return input_finding(path, line, column, f"syntax error for Python {PYTHON} (which runs tllint), the file "
                         f"was not checked: {error.msg}")


def check_source(data: bytes, path: str, codes: frozenset[str], *, noqa: bool = True,
                 project: ProjectFiles | None = None) -> FileOutcome:
    """Check the bytes of one file with the enabled `codes`. `noqa=False` leaves `# noqa` comments to the caller
    (flake8 applies its own). With `project` (where the file is), helpers it imports from the project are followed,
    and the files looked at are the outcome's dependencies."""
    if is_notebook(path):
        from tllint.static.notebook import check_notebook

        return check_notebook(data, path, codes, noqa=noqa)
    outcome = FileOutcome()
    outcome.skipped = project_skip_reason(data, codes, project)
    if outcome.skipped is not None:
        return outcome
    text = decode(data, path)
    if isinstance(text, Finding):
        outcome.findings.append(text)
        return _selected(outcome, codes)
    tree = parse(text, path)
    if isinstance(tree, Finding):
        outcome.findings.append(tree)
        return _selected(outcome, codes)
    return analyse(Source(text, tree), text, tree, path, codes, noqa=noqa,
                   mentions_noqa=MENTIONS_NOQA.search(data) is not None, project=project)


def analyse(source: Source, text: str, tree: ast.Module, path: str, codes: frozenset[str], *, noqa: bool,
            mentions_noqa: bool, project: ProjectFiles | None = None) -> FileOutcome:
    """Build the facts of a parsed file, run the enabled rules and locate their findings. `mentions_noqa`: the
    text holds the word anywhere (the rule that judges comments then reads them all); `project`: see
    `check_source`."""
    outcome = FileOutcome(analysed=True)
    try:
        facts = build_facts(tree, source, project)
    except RecursionError:
        outcome.problems.append(f"{path}: the file nests too deeply to analyse; it was skipped")
        return outcome
    except Exception as error:  # one file's internal error must not stop the run
        outcome.internal_error(path, " while analysing", error)
        return outcome
    enabled = static_rules()
    first = [enabled[code] for code in sorted(codes & enabled.keys()) if not enabled[code].reads_noqa]
    last = [enabled[code] for code in sorted(codes & enabled.keys()) if enabled[code].reads_noqa]
    report = _Report(path, source, text, noqa, tokenize_all=bool(last) and mentions_noqa)
    report.add(_run(first, facts, source, outcome, path))
    if last:
        facts.noqa = report.noqa_facts(codes)
        report.add(_run(last, facts, source, outcome, path))
    outcome.findings.extend(sorted(report.findings.values(), key=lambda f: f.sort_key))
    if project is not None:
        outcome.dependencies = project.dependencies()
    return outcome


def _run(selected: list[Rule], facts: FileFacts, source: Source, outcome: FileOutcome,
         path: str) -> list[tuple[Rule, Violation]]:
    violations: list[tuple[Rule, Violation]] = []
    for rule in selected:
        try:
            violations.extend((rule, violation) for violation in rule.check(facts, source))  # type: ignore[misc]
        except Exception as error:  # a crashing rule is reported, the other rules still run
            outcome.internal_error(path, f" in rule {rule.info.code}", error)
    return violations


def _selected(outcome: FileOutcome, codes: frozenset[str]) -> FileOutcome:
    outcome.findings = [f for f in outcome.findings if f.code in codes]
    return outcome


def not_checked(finding: Finding, codes: frozenset[str]) -> FileOutcome:
    """A file that could not be analysed: its TL000, when that code is enabled."""
    return _selected(FileOutcome([finding]), codes)


class _Report:
    """Turns violations into located findings and applies `# noqa`, remembering what each comment silenced.

    Tokenizing the file to find real comments costs more than the whole analysis, so it happens only when a
    reported line mentions noqa, or, when a rule judges the comments themselves, when the file mentions it."""

    def __init__(self, path: str, source: Source, text: str, noqa: bool, tokenize_all: bool) -> None:
        self.path, self.source, self.text, self.noqa = path, source, text, noqa
        self.comments: dict[int, Directive] | None = directives(text) if noqa and tokenize_all else None
        self.silenced: dict[int, set[str]] = {}
        self.findings: dict[tuple[str, Span], Finding] = {}

    def add(self, violations: list[tuple[Rule, Violation]]) -> None:
        for rule, violation in violations:
            info = rule.info
            span = self.source.span(violation.node)
            lines = self.source.noqa_lines(violation.node)
            source_line = self.source.lines[span.line - 1] if span.line <= len(self.source.lines) else ""
            finding = Finding(info.code, info.name, violation.severity or info.severity, violation.message, self.path,
                              span, fix=violation.fix, extra={"source_line": source_line})
            if self.noqa and self._suppressed(finding, lines):
                continue
            self.findings.setdefault((info.code, span), finding)

    def _suppressed(self, finding: Finding, lines: tuple[int, int]) -> bool:
        if self.comments is None:
            if not any("noqa" in self.source.lines[line - 1].lower() for line in lines
                       if line <= len(self.source.lines)):
                return False
            self.comments = directives(self.text)
        by = suppressing(finding, lines, self.comments)
        for directive in by:
            self.silenced.setdefault(directive.line, set()).add(finding.code)
        return bool(by)

    def noqa_facts(self, ran: frozenset[str]) -> tuple[NoqaComment, ...]:
        """Every `# noqa` comment with the codes it silenced so far."""
        if self.comments is None:
            return ()
        return tuple(NoqaComment(d, comment_node(d, self.source.lines[d.line - 1]),
                                 frozenset(self.silenced.get(d.line, ())), ran)
                     for d in self.comments.values())
