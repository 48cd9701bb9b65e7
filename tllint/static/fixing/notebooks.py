"""Fixing a notebook: its code cells as one text that fixes edit like a file's, and its JSON written back with only
the changed cells' sources different.

The sources of the Python code cells are joined, each followed by a separator line that no edit reaches (a NUL,
which no cell holds), so that an edit counted in its cell becomes a position of the joined text, and a fix that
touches two cells (an import added to the first) is applied whole or not at all. Each fixed cell must still
compile alone, as IPython compiles it. The JSON is written back in the layout the file has (indentation, ASCII
escapes, key order, final newline, line endings, BOM): that layout must reproduce the file's bytes exactly before
anything changes, or the notebook is not rewritten, so outputs and metadata stay byte for byte as they were.
"""

from __future__ import annotations

import ast
import codecs
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from tllint.findings.model import Finding, Span
from tllint.static.notebook import NotANotebook, cell_list, cell_python, code_cells

SEPARATOR = "\0\n"
_LINE = re.compile(r"[^\n]*\n|[^\n]+\Z")
_INDENT = re.compile(r"\{\r?\n([ \t]+)\"")


@dataclass(frozen=True)
class NotebookText:
    """A notebook's code cells as one text: where each cell starts in it, and how to write the JSON back."""

    text: str
    data: bytes
    starts: dict[int, int]  # a cell's number: the line of the text its first line is
    sources: dict[int, str]  # a cell's number: its source as the notebook has it
    dump: Callable[[Any], str]
    flags: int = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT

    @classmethod
    def of(cls, data: bytes) -> NotebookText | str:
        """The notebook's text, or why it cannot be rewritten without changing more than its cells' sources."""
        bom = data.startswith(codecs.BOM_UTF8)
        try:
            written = data.decode("utf-8-sig")
            document = json.loads(written)
            cells = code_cells(document)
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError, NotANotebook):
            return "it is not a notebook that can be read"
        dump = _layout(written, document, bom)
        if dump is None:
            return ("its JSON is not laid out as json.dumps writes it (indentation, escapes or numbers), so it could "
                    "not be rewritten without changing more than the fixed cells")
        if any("\0" in line for cell in cells for line in cell.lines):
            return "a cell holds a NUL character"
        starts, sources, lines = {}, {}, []
        all_cells, key = cell_list(document)
        for cell in cells:
            starts[cell.number] = len(lines) + 1
            sources[cell.number] = _source(all_cells[cell.number - 1][key])
            lines.extend([*cell.lines, SEPARATOR[:-1]])
        return cls("".join(line + "\n" for line in lines), data, starts, sources, dump)

    def located(self, finding: Finding) -> Finding | None:
        """The finding with its fix's edits counted in the joined text; None for an edit that names no cell."""
        assert finding.fix is not None
        edits = []
        for edit in finding.fix.edits:
            if edit.cell not in self.starts:
                return None
            first = self.starts[edit.cell] - 1
            span = edit.span
            edits.append(replace(edit, span=Span(span.line + first, span.column, span.end_line + first,
                                                 span.end_column), cell=None))
        return replace(finding, fix=replace(finding.fix, edits=tuple(edits)))

    def parts(self, text: str) -> list[str] | None:
        """The Python of each cell of a fixed text, each compiled alone; None when the cells are no longer whole
        (an edit crossed a separator)."""
        segments = text.split(SEPARATOR)
        if len(segments) != len(self.starts) + 1 or segments[-1]:
            return None
        return [python for python in map(cell_python, segments[:-1]) if python is not None]

    def encode(self, text: str) -> bytes:
        """The notebook's bytes with the cells' sources of the fixed text; every other byte as it was."""
        document = json.loads(self.data.decode("utf-8-sig"))
        cells, key = cell_list(document)
        for number, segment in zip(self.starts, text.split(SEPARATOR), strict=False):
            before = self.sources[number]
            after = segment if before.endswith("\n") or not segment.endswith("\n") else segment[:-1]
            if after != before:
                cells[number - 1][key] = _LINE.findall(after) if isinstance(cells[number - 1][key], list) else after
        return self.dump(document).encode()


def _source(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else value


def _layout(written: str, document: Any, bom: bool) -> Callable[[Any], str] | None:
    """How to write a document as this notebook is written, or None when json.dumps cannot reproduce it. Jupyter
    writes one space of indentation, non-ASCII characters as they are and a final newline; other tools differ."""
    found = _INDENT.match(written)
    indent: int | str | None = None
    if found is not None:
        indent = found.group(1) if "\t" in found.group(1) else len(found.group(1))
    crlf = "\r\n" in written
    ending = "\r\n" if written.endswith("\r\n") else "\n" if written.endswith("\n") else ""
    options = [{"separators": (",", ": ")}] if indent is not None else [{}, {"separators": (",", ":")}]
    for extra in options:
        def dump(doc: Any, extra: dict[str, Any] = extra) -> str:
            text = json.dumps(doc, indent=indent, ensure_ascii=written.isascii(), **extra)
            text = text.replace("\n", "\r\n") if crlf else text
            return ("\ufeff" if bom else "") + text + ending

        if dump(document) == ("\ufeff" if bom else "") + written:
            return dump
    return None
