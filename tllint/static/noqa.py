"""`# noqa` comments: a bare one silences every code on its line, `# noqa: TL001,TL010` the codes it names (or
code prefixes), as flake8 and ruff read them. A finding on a statement that spans several lines is silenced by a
comment on its first or its last line (for a compound statement, the last line of its header, the one with `:`).

What each comment silenced in a run is recorded as a fact (`NoqaComment`) for the rules that judge comments
themselves (unused `noqa`), which run after the others.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections.abc import Iterable
from dataclasses import dataclass

from tllint.findings.model import Finding

NOQA = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]+(?:[\s,]+[A-Z]+[0-9]+)*))?", re.IGNORECASE)
MENTIONS_NOQA = re.compile(rb"noqa", re.IGNORECASE)


@dataclass(frozen=True)
class Directive:
    """One `# noqa` comment: its line, its character columns (0-based, of the directive) and its codes (None for
    a bare `# noqa`)."""

    line: int
    column: int
    end_column: int
    codes: tuple[str, ...] | None

    def covers(self, code: str) -> bool:
        return self.codes is None or any(code.startswith(named) for named in self.codes)


@dataclass(frozen=True)
class NoqaComment:
    """A fact for rules: a `# noqa` comment, where it is, which codes it names, which codes of this run's
    findings it silenced, and which codes ran on the file (a code that did not run cannot be judged)."""

    directive: Directive
    node: ast.AST  # a positioned stand-in for the comment (comments have no syntax node)
    silenced: frozenset[str]
    ran: frozenset[str]


def directives(text: str) -> dict[int, Directive]:
    """`# noqa` comments by line. Only real comments count (the tokenizer's), not `# noqa` inside a string."""
    found: dict[int, Directive] = {}
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError):
        return found
    for token in tokens:
        if token.type != tokenize.COMMENT:
            continue
        match = NOQA.search(token.string)
        if match is None:
            continue
        codes = match.group("codes")
        line, column = token.start
        found[line] = Directive(line, column + match.start(), column + match.end(), None if codes is None else
                                tuple(c.upper() for c in re.split(r"[\s,]+", codes) if c))
    return found


def suppressing(finding: Finding, lines: Iterable[int], found: dict[int, Directive]) -> list[Directive]:
    """The comments on `lines` that silence the finding (name its code or a prefix of it, or are bare)."""
    return [found[line] for line in dict.fromkeys(lines) if line in found and found[line].covers(finding.code)]


def comment_node(directive: Directive, row: str) -> ast.AST:
    """A node positioned at the directive (in UTF-8 byte offsets, as the parser's nodes are)."""
    start = len(row[:directive.column].encode())
    end = len(row[:directive.end_column].encode())
    return ast.Constant(value=None, lineno=directive.line, col_offset=start, end_lineno=directive.line,
                        end_col_offset=end)
