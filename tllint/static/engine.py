"""Check one file: read, pre-filter, parse, build facts, run rules, locate, suppress.

Cheap steps come first so that most files never reach the expensive ones: a byte search for the words
the enabled rules need skips the parse. The parser is CPython's own (`ast`): it costs nothing to import,
parses about ten times faster than libcst, and its verdict on a file is exactly the interpreter's.
"""

from __future__ import annotations

import ast
import io
import re
import sys
import tokenize
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field

from tllint.findings.catalog import rule_info
from tllint.findings.model import Finding, Span
from tllint.static.analysis import analyse
from tllint.static.prefilter import SKIP_FILE, decode, input_finding, triggered
from tllint.static.rules import STATIC_RULES, Report
from tllint.static.source import Source

NOQA = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]*(?:[\s,]+[A-Z]+[0-9]*)*))?", re.IGNORECASE)


@dataclass
class FileResult:
    """What checking one file produced. `errors` are internal errors (a rule or the pass crashed)."""

    path: str
    findings: list[Finding] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    parsed: bool = False


PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"


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


def noqa_comments(text: str) -> dict[int, frozenset[str] | None]:
    """`# noqa` comments by line: None for a bare one (all codes), else the codes it names."""
    comments: dict[int, frozenset[str] | None] = {}
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError):
        return comments
    for token in tokens:
        if token.type != tokenize.COMMENT:
            continue
        match = NOQA.search(token.string)
        if match is None:
            continue
        codes = match.group("codes")
        comments[token.start[0]] = (
            None if codes is None else frozenset(c.upper() for c in re.split(r"[\s,]+", codes) if c)
        )
    return comments


def suppressed(finding: Finding, lines: Iterable[int], comments: dict[int, frozenset[str] | None]) -> bool:
    for line in lines:
        if line not in comments:
            continue
        codes = comments[line]
        if codes is None or any(finding.code.startswith(code) for code in codes):
            return True
    return False


def check_source(data: bytes, path: str, codes: frozenset[str]) -> FileResult:
    """Check the bytes of one file with the enabled `codes`."""
    result = FileResult(path)
    if SKIP_FILE.search(data):
        return result
    text = decode(data, path)
    if isinstance(text, Finding):
        result.findings.append(text)
        return _selected(result, codes)
    if not triggered(data, codes):
        return result
    tree = parse(text, path)
    if isinstance(tree, Finding):
        result.findings.append(tree)
        return _selected(result, codes)
    result.parsed = True
    source = Source(text)
    try:
        facts = analyse(tree, source)
    except RecursionError:
        result.errors.append(f"{path}: the file nests too deeply to analyse; it was skipped")
        return result
    except Exception as error:  # one file's internal error must not stop the run
        result.errors.append(f"{path}: internal error while analysing: {type(error).__name__}: {error}")
        return result
    reports: list[Report] = []
    for code in sorted(codes):
        rule = STATIC_RULES.get(code)
        if rule is None:
            continue
        try:
            reports.extend(rule.check(facts, source))
        except Exception as error:  # a crashing rule is reported, the other rules still run
            result.errors.append(f"{path}: internal error in rule {code}: {type(error).__name__}: {error}")
    if reports:
        result.findings.extend(_locate(reports, source, text, path))
    return result


def _selected(result: FileResult, codes: frozenset[str]) -> FileResult:
    result.findings = [f for f in result.findings if f.code in codes]
    return result


def _locate(reports: list[Report], source: Source, text: str, path: str) -> list[Finding]:
    spans = [source.span(report.node) for report in reports]
    # Tokenizing the file to find real comments costs more than the whole analysis: only when a reported line
    # mentions noqa at all.
    lines = {line for span in spans for line in (span.line, span.end_line)}
    mentioned = any("noqa" in source.lines[line - 1].lower() for line in lines if line <= len(source.lines))
    comments = noqa_comments(text) if mentioned else {}
    findings: dict[tuple[str, Span], Finding] = {}
    for report, span in zip(reports, spans, strict=True):
        info = rule_info(report.code)
        source_line = source.lines[span.line - 1] if span.line <= len(source.lines) else ""
        finding = Finding(info.code, info.name, info.severity, report.message, path, span,
                          extra={"source_line": source_line})
        if suppressed(finding, (span.line, span.end_line), comments):
            continue
        findings.setdefault((report.code, span), finding)
    return sorted(findings.values(), key=lambda f: f.sort_key)
