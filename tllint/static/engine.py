"""Check one file: read, pre-filter, parse, build facts, run rules, locate, suppress.

Cheap steps come first so that most files never reach the expensive ones: a byte search for the words
the enabled rules need skips the parse, and positions (libcst's costliest metadata) are computed only
for files that have a finding.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

import libcst as cst
from libcst.metadata import CodeRange
from libcst.metadata.position_provider import PositionProvidingCodegenState

from tllint.findings.catalog import rule_info
from tllint.findings.model import Finding, Span
from tllint.static.analysis import analyse
from tllint.static.prefilter import SKIP_FILE, decode, input_finding, triggered
from tllint.static.rules import STATIC_RULES, Report

NOQA = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]*(?:[\s,]+[A-Z]+[0-9]*)*))?", re.IGNORECASE)


@dataclass
class FileResult:
    """What checking one file produced. `errors` are internal errors (a rule or the pass crashed)."""

    path: str
    findings: list[Finding] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    parsed: bool = False


MAX_BRACKET_DEPTH = 200  # CPython's own limit ("too many nested parentheses"); deeper input crashes parsers
_BRACKETS = re.compile(r"[()\[\]{}]")


def parse(text: str, path: str) -> cst.Module | Finding:
    """libcst's tree, or TL000 at the position CPython itself reports for the error."""
    if _bracket_depth(text) > MAX_BRACKET_DEPTH:
        error = _compile_error(text)
        if error is not None:
            return _syntax_finding(path, error)
    try:
        module = cst.parse_module(text)
    except (cst.ParserSyntaxError, RecursionError, MemoryError):
        error = _compile_error(text)
        if error is None:
            return input_finding(path, 1, 1, "tllint cannot parse this file (valid for Python, too complex for "
                                  "libcst); it was not checked")
        return _syntax_finding(path, error)
    # libcst accepts some files CPython rejects: a NUL byte, or what CPython's compiler (not its parser) refuses,
    # such as `return` outside a function. Compiling costs a few per cent of the parse. Where only CPython's
    # parser objects, libcst is trusted: it knows grammar newer than the running Python (3.12 `type` statements).
    error = _compile_error(text)
    if error is not None and ("\0" in text or _parser_accepts(text)):
        return _syntax_finding(path, error)
    return module


def _bracket_depth(text: str) -> int:
    """Nesting depth of brackets, counting those in strings and comments too: an upper bound, cheaply."""
    depth = deepest = 0
    for match in _BRACKETS.finditer(text):
        depth += 1 if match.group() in "([{" else -1
        deepest = max(deepest, depth)
    return deepest


def _compile_error(text: str) -> SyntaxError | None:
    """CPython's own verdict, including the compiler's checks (`break` outside a loop), warnings silenced."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(text, "<tllint>", "exec", dont_inherit=True)
    except SyntaxError as error:
        return error
    except (RecursionError, MemoryError, ValueError) as error:
        return SyntaxError(str(error) or type(error).__name__)
    return None


def _parser_accepts(text: str) -> bool:
    try:
        compile(text, "<tllint>", "exec", flags=ast.PyCF_ONLY_AST, dont_inherit=True)
    except (SyntaxError, RecursionError, MemoryError, ValueError):
        return False
    return True


def _syntax_finding(path: str, error: SyntaxError) -> Finding:
    line, column = max(error.lineno or 1, 1), max(error.offset or 1, 1)
    return input_finding(path, line, column, f"syntax error, the file was not checked: {error.msg}")


class Locator:
    """Positions and source text of nodes, computed on first use only."""

    def __init__(self, module: cst.Module) -> None:
        self.module = module

    @cached_property
    def _positions(self) -> dict[cst.CSTNode, CodeRange]:
        """The same ranges as libcst's PositionProvider, from one code generation without its metadata
        machinery (a tenth of the cost on large files)."""
        state = _PositionState(default_indent=self.module.default_indent,
                               default_newline=self.module.default_newline, provider=_Ranges())
        self.module._codegen(state)
        return state.provider._computed

    def range(self, node: cst.CSTNode) -> CodeRange:
        return self._positions[node]

    def span(self, node: cst.CSTNode) -> Span:
        """The span to show: a compound statement is shown by its header."""
        start = self.range(node).start
        end = self.range(_header(node)).end
        return Span(start.line, start.column + 1, end.line, max(end.column, start.column + 1))

    def line(self, node: cst.CSTNode) -> int:
        return self.range(node).start.line

    def text(self, node: cst.CSTNode) -> str:
        return " ".join(self.module.code_for_node(node).split())


class _Ranges:
    """Stands in for the metadata provider the codegen state writes ranges into."""

    def __init__(self) -> None:
        self._computed: dict[cst.CSTNode, CodeRange] = {}


class _PositionState(PositionProvidingCodegenState):
    """PositionProvider's codegen state with a cheaper position update (the source has `\n` newlines only)."""

    def _update_position(self, value: str) -> None:
        newlines = value.count("\n")
        if newlines:
            self.line += newlines
            self.column = len(value) - value.rfind("\n") - 1
        else:
            self.column += len(value)


def _header(node: cst.CSTNode) -> cst.CSTNode:
    if isinstance(node, cst.For):
        return node.iter
    if isinstance(node, cst.If | cst.While):
        return node.test
    if isinstance(node, cst.SimpleStatementLine) and node.body:
        return node.body[-1]
    return node


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
    module = parse(text, path)
    if isinstance(module, Finding):
        result.findings.append(module)
        return _selected(result, codes)
    result.parsed = True
    try:
        facts = analyse(module)
    except RecursionError:
        result.errors.append(f"{path}: the file nests too deeply to analyse; it was skipped")
        return result
    except Exception as error:  # one file's internal error must not stop the run
        result.errors.append(f"{path}: internal error while analysing: {type(error).__name__}: {error}")
        return result
    locator = Locator(module)
    reports: list[Report] = []
    for code in sorted(codes):
        rule = STATIC_RULES.get(code)
        if rule is None:
            continue
        try:
            reports.extend(rule.check(facts, locator))
        except Exception as error:  # a crashing rule is reported, the other rules still run
            result.errors.append(f"{path}: internal error in rule {code}: {type(error).__name__}: {error}")
    if reports:
        result.findings.extend(_locate(reports, locator, text, path))
    return result


def _selected(result: FileResult, codes: frozenset[str]) -> FileResult:
    result.findings = [f for f in result.findings if f.code in codes]
    return result


def _locate(reports: list[Report], locator: Locator, text: str, path: str) -> list[Finding]:
    comments = noqa_comments(text)
    lines = text.split("\n")
    findings: dict[tuple[str, Span], Finding] = {}
    for report in reports:
        info = rule_info(report.code)
        span = locator.span(report.node)
        source_line = lines[span.line - 1] if span.line <= len(lines) else ""
        finding = Finding(info.code, info.name, info.severity, report.message, path, span,
                          extra={"source_line": source_line})
        if suppressed(finding, (span.line, span.end_line), comments):
            continue
        findings.setdefault((report.code, span), finding)
    return sorted(findings.values(), key=lambda f: f.sort_key)
