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
from tllint.static.interpreter import build_facts
from tllint.static.noqa import noqa_comments, suppressed
from tllint.static.outcome import FileOutcome
from tllint.static.prefilter import SKIP_FILE, decode, input_finding, triggered
from tllint.static.source import Source

PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"


@cache
def static_rules() -> dict[str, Rule]:
    """The registered static rules that have a check, by code."""
    return {r.info.code: r for r in rules(Half.STATIC) if r.check is not None}


def parse(text: str, path: str) -> ast.Module | Finding:
    """The file's tree, or TL000 where CPython rejects it (its parser, or its compiler: `break` outside a loop,
    `return` outside a function) at the position CPython reports.

    The compiler's verdict comes from compiling the text, not the tree: handing a tree back to `compile()` walks
    it with Python's recursion limit and fails on long but valid expressions that CPython compiles."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escape sequences and the like are warnings, not errors
            compile(text, path, "exec", dont_inherit=True)
    except SyntaxError as error:
        return _syntax_finding(path, error)
    except (RecursionError, MemoryError, ValueError) as error:  # too deep to compile, or a NUL byte (3.11)
        return _syntax_finding(path, SyntaxError(str(error) or type(error).__name__))
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


def check_source(data: bytes, path: str, codes: frozenset[str]) -> FileOutcome:
    """Check the bytes of one file with the enabled `codes`."""
    outcome = FileOutcome()
    if SKIP_FILE.search(data):
        return outcome
    text = decode(data, path)
    if isinstance(text, Finding):
        outcome.findings.append(text)
        return _selected(outcome, codes)
    if not triggered(data, codes):
        return outcome
    tree = parse(text, path)
    if isinstance(tree, Finding):
        outcome.findings.append(tree)
        return _selected(outcome, codes)
    outcome.analysed = True
    source = Source(text)
    try:
        facts = build_facts(tree, source)
    except RecursionError:
        outcome.problems.append(f"{path}: the file nests too deeply to analyse; it was skipped")
        return outcome
    except Exception as error:  # one file's internal error must not stop the run
        outcome.problems.append(f"{path}: internal error while analysing: {type(error).__name__}: {error}")
        return outcome
    violations: list[tuple[Rule, Violation]] = []
    enabled = static_rules()
    for code in sorted(codes & enabled.keys()):
        rule = enabled[code]
        try:
            violations.extend((rule, violation) for violation in rule.check(facts, source))  # type: ignore[misc]
        except Exception as error:  # a crashing rule is reported, the other rules still run
            outcome.problems.append(f"{path}: internal error in rule {code}: {type(error).__name__}: {error}")
    if violations:
        outcome.findings.extend(_locate(violations, source, text, path))
    return outcome


def _selected(outcome: FileOutcome, codes: frozenset[str]) -> FileOutcome:
    outcome.findings = [f for f in outcome.findings if f.code in codes]
    return outcome


def _locate(violations: list[tuple[Rule, Violation]], source: Source, text: str, path: str) -> list[Finding]:
    spans = [source.span(violation.node) for _, violation in violations]
    # Tokenizing the file to find real comments costs more than the whole analysis: only when a reported line
    # mentions noqa at all.
    lines = {line for span in spans for line in (span.line, span.end_line)}
    mentioned = any("noqa" in source.lines[line - 1].lower() for line in lines if line <= len(source.lines))
    comments = noqa_comments(text) if mentioned else {}
    findings: dict[tuple[str, Span], Finding] = {}
    for (rule, violation), span in zip(violations, spans, strict=True):
        info = rule.info
        source_line = source.lines[span.line - 1] if span.line <= len(source.lines) else ""
        finding = Finding(info.code, info.name, info.severity, violation.message, path, span,
                          extra={"source_line": source_line})
        if suppressed(finding, (span.line, span.end_line), comments):
            continue
        findings.setdefault((info.code, span), finding)
    return sorted(findings.values(), key=lambda f: f.sort_key)
