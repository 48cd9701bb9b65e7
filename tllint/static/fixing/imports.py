"""Merging the `from M import N` lines that fixes added into the file's own import of M, with libcst.

A fix adds its import as a line of its own (`fixing.import_edits`), which is always right but leaves
`from torchvision.models import resnet50` and, below it, `from torchvision.models import ResNet50_Weights`. Adding
the name to the existing statement is where a concrete syntax tree earns its place: a parenthesised import keeps
its parentheses, its trailing comma, one name per line and the comment after each name, which text edits at
`ast` positions would have to re-derive from tokens.

libcst only ever sees the lines of the one statement it rewrites, never the module. libcst 1.9 is not lossless on
a whole module: `parse_module("z = 3\\n  # a\\n\\n  # b\\n").code` drops `# a`, a comment in the layout that
follows a module's last statement. The lines of a single `from ... import` statement have no such trailer, and
libcst must give those lines back byte for byte before anything is changed, or the statement is left alone. The
caller (`apply._merge_added_imports`) still checks the whole merged file: it compiles, keeps every comment and
re-checks with the same findings, else the unmerged file is kept.

libcst is imported inside `merge_added_imports`, and only once a statement to merge into is found: a plain
`tllint check`, and a `--fix` whose added imports have nowhere to go, never pay its import.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import libcst

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")  # the line endings CPython's tokenizer counts


def merge_added_imports(text: str, added: Iterable[str]) -> str:
    """The text with each added `from M import N` line (as the fix wrote it) merged into the first earlier
    top-level `from M import ...` of the same module (absolute, not `*`, not `__future__`, not inside an `if` or a
    `try`), whose layout is kept, and removed; a line with no such statement above it stays as it is. Added lines
    of one module merge into the first of them."""
    for line in dict.fromkeys(added):
        merged = _merge_one(text, line)
        if merged is not None:
            text = merged
    return text


def _merge_one(text: str, added_line: str) -> str | None:
    wanted = _import_of(added_line)
    if wanted is None:
        return None
    module, name = wanted
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    lines = _LINE.findall(text)
    target: ast.ImportFrom | None = None
    for statement in tree.body:  # top-level statements only: nothing inside an `if` or a `try`
        if not isinstance(statement, ast.ImportFrom) or statement.module != module or statement.level:
            continue
        if target is not None and _is_added(statement, name, lines, added_line):
            rewritten = _with_name(lines, target, name)
            if rewritten is None:
                return None
            first, last = target.lineno - 1, target.end_lineno or target.lineno
            kept = [*lines[:first], rewritten, *lines[last:]]
            del kept[statement.lineno - 1 - (last - first - 1)]  # the added line, below the target
            return "".join(kept)
        if target is None and module != "__future__" and all(alias.name != "*" for alias in statement.names):
            target = statement
    return None


def _import_of(line: str) -> tuple[str, str] | None:
    """(M, N) of a `from M import N` line."""
    try:
        statements = ast.parse(line).body
    except SyntaxError:
        return None
    if len(statements) != 1 or not isinstance(statement := statements[0], ast.ImportFrom):
        return None
    if statement.level or statement.module is None or len(statement.names) != 1 or statement.names[0].asname:
        return None
    return statement.module, statement.names[0].name


def _is_added(statement: ast.ImportFrom, name: str, lines: list[str], added_line: str) -> bool:
    """The statement is the added line itself: one line, exactly as the fix wrote it."""
    return (statement.lineno == statement.end_lineno and [a.name for a in statement.names] == [name]
            and lines[statement.lineno - 1].rstrip("\r\n") == added_line.rstrip("\n"))


def _with_name(lines: list[str], target: ast.ImportFrom, name: str) -> str | None:
    """The target statement's lines with `name` appended to its names, through libcst; None where libcst does not
    read them back unchanged or their layout is one this does not extend."""
    import libcst

    source = "".join(lines[target.lineno - 1:target.end_lineno])
    try:
        module = libcst.parse_module(source)
    except (libcst.ParserSyntaxError, RecursionError):
        return None
    if module.code != source or len(module.body) != 1 or not isinstance(module.body[0], libcst.SimpleStatementLine):
        return None
    line = module.body[0]
    if len(line.body) != 1 or not isinstance(statement := line.body[0], libcst.ImportFrom):
        return None
    try:
        appended = _appended(statement, name)
        return None if appended is None else module.with_changes(body=[line.with_changes(body=[appended])]).code
    except (SyntaxError, ValueError):  # libcst's CSTValidationError is a SyntaxError: a layout it refuses to build
        return None


def _appended(statement: libcst.ImportFrom, name: str) -> libcst.ImportFrom | None:
    """`from M import a, b` -> `from M import a, b, name`, in the statement's own layout: the new name is
    separated from the last one as the last one is from the one before it (or, for a single name, as the opening
    parenthesis is from it), and takes over the last name's trailing comma; comments stay where they were."""
    import libcst

    if isinstance(statement.names, libcst.ImportStar) or not statement.names:
        return None
    *earlier, last = statement.names
    separator = _separator(statement, earlier)
    if isinstance(last.comma, libcst.Comma):
        joined = _join(last.comma, separator)
        closing = _uncommented(last.comma, keep_comment_lines=True)
    elif _comment_in(statement.rpar.whitespace_before if statement.rpar else None):
        return None  # `b  # note\n)`: the comment would end up after the new name
    else:
        joined, closing = separator, libcst.MaybeSentinel.DEFAULT
    if joined is None:
        return None
    names = [*earlier, last.with_changes(comma=joined), libcst.ImportAlias(name=libcst.Name(name), comma=closing)]
    return statement.with_changes(names=names)


def _separator(statement: libcst.ImportFrom, earlier: list[libcst.ImportAlias]) -> libcst.Comma:
    """The comma, and the whitespace after it, that goes between two names of this statement (no comment)."""
    import libcst

    if earlier and isinstance(earlier[-1].comma, libcst.Comma):
        return _uncommented(earlier[-1].comma)
    opening = statement.lpar.whitespace_after if statement.lpar else None
    if isinstance(opening, libcst.ParenthesizedWhitespace):  # `(\n    resnet50,\n)`: one name per line
        return libcst.Comma(whitespace_after=libcst.ParenthesizedWhitespace(indent=opening.indent,
                                                                             last_line=opening.last_line))
    return libcst.Comma(whitespace_after=libcst.SimpleWhitespace(" "))


def _join(comma: libcst.Comma, separator: libcst.Comma) -> libcst.Comma | None:
    """The last name's own comma (and the comment after it) followed by the separator's indentation."""
    import libcst

    after, between = comma.whitespace_after, separator.whitespace_after
    if not isinstance(after, libcst.ParenthesizedWhitespace):
        return separator
    if not isinstance(between, libcst.ParenthesizedWhitespace):
        return None  # names on one line, the closing parenthesis on the next: no layout to follow
    return comma.with_changes(whitespace_after=after.with_changes(empty_lines=[], indent=between.indent,
                                                                  last_line=between.last_line))


def _uncommented(comma: libcst.Comma, keep_comment_lines: bool = False) -> libcst.Comma:
    """The comma with its whitespace but without the comment after it on its line, nor (unless kept: the last
    name's, which stay above the closing parenthesis) the comment lines below it."""
    import libcst

    after = comma.whitespace_after
    if not isinstance(after, libcst.ParenthesizedWhitespace):
        return comma
    return comma.with_changes(whitespace_after=after.with_changes(
        first_line=libcst.TrailingWhitespace(), empty_lines=after.empty_lines if keep_comment_lines else []))


def _comment_in(whitespace: libcst.BaseParenthesizableWhitespace | None) -> bool:
    import libcst

    return isinstance(whitespace, libcst.ParenthesizedWhitespace) and (
        whitespace.first_line.comment is not None or any(line.comment for line in whitespace.empty_lines))
