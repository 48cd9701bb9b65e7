"""A parsed file's source text: where a node is (as a `Span`) and what it says (for messages).

The tree is the standard library's `ast`, whose offsets count UTF-8 bytes; spans and texts count characters.
"""

from __future__ import annotations

import ast

from tllint.findings.model import Span


class Source:
    """The text of one file (with `\\n` newlines only, as `prefilter.decode` returns it), and its tree, which only
    fixes read (`tllint.static.fixing`: where a statement's block is, where an import goes)."""

    def __init__(self, text: str, tree: ast.Module | None = None) -> None:
        self.lines = text.split("\n")
        self.tree = tree

    def line(self, node: ast.AST) -> int:
        return node.lineno  # type: ignore[attr-defined, no-any-return]

    def text(self, node: ast.AST) -> str:
        """The node's source with runs of whitespace (newlines included) collapsed: one line for a message.
        A node the pass built itself (`setattr(m, "fc", x)` read as `m.fc = x`) has no source: it is unparsed."""
        if not hasattr(node, "lineno"):
            return ast.unparse(node)
        return " ".join(self.segment(node).split())

    def segment(self, node: ast.AST) -> str:
        first, last = node.lineno, node.end_lineno  # type: ignore[attr-defined]
        start, end = node.col_offset, node.end_col_offset  # type: ignore[attr-defined]
        if first == last:
            return _slice(self.lines[first - 1], start, end)
        rows = self.lines[first - 1:last]
        return "\n".join([_slice(rows[0], start, None), *rows[1:-1], _slice(rows[-1], 0, end)])

    def span(self, node: ast.AST) -> Span:
        """The span to show: a compound statement is shown by its header (`for p in model.parameters()`)."""
        header = _header(node)
        line, end_line = node.lineno, header.end_lineno  # type: ignore[attr-defined]
        column = self._column(line, node.col_offset) + 1  # type: ignore[attr-defined]
        end_column = self._column(end_line, header.end_col_offset)  # type: ignore[attr-defined]
        return Span(line, column, end_line, max(end_column, column))

    def noqa_lines(self, node: ast.AST) -> tuple[int, int]:
        """The lines a `# noqa` for this node may sit on: its first and its last; for a compound statement, the
        last line of its header, where the `:` is (after any closing brackets around the iterable or test)."""
        header = _header(node)
        last = header.end_lineno  # type: ignore[attr-defined]
        if header is node:
            return node.lineno, last  # type: ignore[attr-defined]
        column = self._column(last, header.end_col_offset)  # type: ignore[attr-defined]
        for line in range(last, len(self.lines) + 1):
            for char in self.lines[line - 1][column:]:
                if char == ":":
                    return node.lineno, line  # type: ignore[attr-defined]
                if char == "#":
                    break
                if char not in " \t\f)]\\":
                    return node.lineno, last  # type: ignore[attr-defined]
            column = 0
        return node.lineno, last  # type: ignore[attr-defined]

    def column(self, line: int, offset: int) -> int:
        """ast's byte offset in a line as a 1-based character column."""
        return self._column(line, offset) + 1

    def _column(self, line: int, offset: int) -> int:
        """ast's byte offset in a line as a character offset."""
        row = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        return offset if row.isascii() else len(row.encode()[:offset].decode("utf-8", "replace"))


def _slice(row: str, start: int, end: int | None) -> str:
    if row.isascii():
        return row[start:end]
    return row.encode()[start:end].decode("utf-8", "replace")


def _header(node: ast.AST) -> ast.AST:
    if isinstance(node, ast.For | ast.AsyncFor):
        return node.iter
    if isinstance(node, ast.If | ast.While):
        return node.test
    return node
