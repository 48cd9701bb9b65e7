"""Jupyter notebooks (`.ipynb`): the code cells, in order, read as one program; each finding placed in its cell.

IPython rewrites what is not Python before it runs a cell: magics (`%load_ext`, `%%capture`), shell lines
(`!pip install`, `files = !ls`), help (`?model`, `model.fc??`). Such a line is masked one for one (a `pass` at its
indentation, or `files = None`), so that line numbers stay and the rest parses; `%time stmt` keeps its statement.
A cell whose body is not Python (`%%bash`, a cell of another language in a polyglot notebook, any cell of an R or
Julia kernel's notebook) is left out. Each cell must compile on its own, as IPython compiles it (top-level `await`
included); the cells are then parsed as one module, the program the rules read. A script the notebook writes with
`%%writefile NAME.py` is a program of its own.

A finding names its cell (`cell`: the cell's 1-based position among all the notebook's cells, markdown included,
as editors number them); its line and column count within that cell.
"""

from __future__ import annotations

import ast
import json
import re
import warnings
from dataclasses import dataclass, replace
from typing import Any

from tllint.findings.model import Edit, Finding, Fix, Span
from tllint.static.outcome import FileOutcome, Skipped
from tllint.static.prefilter import input_finding, skip_reason
from tllint.static.source import Source

NOTEBOOK_SUFFIX = ".ipynb"
PYTHON_LANGUAGES = frozenset({"python", "python3", "ipython", "ipython3"})
BODY_IS_PYTHON = frozenset({"time", "timeit", "capture", "prun", "debug"})  # cell magics that run their body here
_MAGIC_NAME = re.compile(r"%%\s*(\w*)")
_INDENT = re.compile(r"[ \t]*")
# Pasted interactive sessions: IPython strips the prompts when the cell's first (or second) line has one.
_PROMPTS = ((re.compile(r">>>( |$)"), re.compile(r"(>>>|\.\.\.)( |$)")),
            (re.compile(r"In \[\d+\]: |\s*\.\.\.+: ?"), re.compile(r"In \[\d+\]: |\s*\.\.\.+: ?")))
# A cell of one line that is not Python may call a magic without its `%` (IPython's automagic, on by default).
_AUTOMAGIC = re.compile(r"[ \t]*(pip|conda|mamba|cd|ls|pwd|env|set_env|mkdir|rm|cp|mv|cat|load_ext|reload_ext|"
                        r"autoreload|matplotlib|time|timeit|run|who|whos|tensorboard|history|reset|config)\b")
_WRITEFILE = re.compile(r"%%writefile[ \t]+(-a[ \t]+|--append[ \t]+)?(\S+\.py)[ \t]*$")
_TIME = re.compile(r"%time[ \t]+(?=\S)")  # `%time stmt` runs stmt in the notebook's namespace
_ESCAPES = "%!?/;,"  # IPython's escapes at the start of a statement: magic, shell, help, autocall
_ASSIGNED_ESCAPE = re.compile(r"[ \t]*[A-Za-z_][\w.]*(?:[ \t]*,[ \t]*[A-Za-z_][\w.]*)*[ \t]*=(?=[ \t]*[!%])")
_MAY_ESCAPE = re.compile(r"^[ \t]*[%!?/;,]|\?[ \t]*$|=[ \t]*[!%]", re.MULTILINE)  # a cell that may need masking
_SPECIAL = re.compile(r"""[#\\'"()\[\]{}]""")
_STRING_END = {quote: re.compile(r"\\(?:.|$)|" + re.escape(quote)) for quote in ("'", '"', "'''", '"""')}


def is_notebook(path: str) -> bool:
    return path.lower().endswith(NOTEBOOK_SUFFIX)


class NotANotebook(ValueError):
    """The file cannot be read as a notebook: TL000 at a position of the file, or in a cell."""

    def __init__(self, message: str, line: int = 1, column: int = 1, cell: int | None = None) -> None:
        super().__init__(message)
        self.line, self.column, self.cell = line, column, cell

    def finding(self, path: str) -> Finding:
        return replace(input_finding(path, self.line, self.column, f"{self}; the notebook was not checked"),
                       cell=self.cell)


@dataclass(frozen=True)
class CodeCell:
    """A Python code cell: its number (1-based, among all cells) and its lines, without their newlines; `lf_only`:
    they end with `\n` alone (a fix rewrites only such a cell, whose lines it can put back as they were)."""

    number: int
    lines: list[str]
    lf_only: bool = True


@dataclass(frozen=True)
class _Origin:
    """Where a line of the program comes from: its cell, its line there, the columns removed before its code (a
    dedented cell, `%time `), the line as written and whether a fix may edit it (the cell can be rewritten and the
    line reads in the program as written)."""

    cell: int
    line: int
    shift: int
    written: str
    editable: bool


@dataclass(frozen=True)
class _Part:
    """One cell's masked text in the program, from its first line there."""

    cell: CodeCell
    first: int
    text: str


class CellLine(int):
    """A line of the program that prints as its place in the notebook: rules write `on line {ctx.line(node)}`, and
    a notebook's message reads `on line 3 of cell 2`."""

    cell: int
    in_cell: int

    def __new__(cls, line: int, origin: _Origin) -> CellLine:
        value = super().__new__(cls, line)
        value.cell, value.in_cell = origin.cell, origin.line
        return value

    def __str__(self) -> str:
        return f"{self.in_cell} of cell {self.cell}"


Rows = list[tuple[str, int]]  # a cell's lines as Python, each with the columns removed before its code


class Program:
    """Cells joined into one program, with where each line comes from, and the flags their code compiles with."""

    def __init__(self, cells: list[tuple[CodeCell, Rows]], flags: int = 0) -> None:
        self.lines: list[str] = []
        self.flags = flags
        self.origins: list[_Origin] = []
        self.parts: list[_Part] = []
        for cell, masked in cells:
            self.parts.append(_Part(cell, len(self.lines) + 1, "".join(text + "\n" for text, _ in masked)))
            self.lines.extend(text for text, _ in masked)
            rows = zip(masked, cell.lines, strict=True)
            self.origins.extend(
                _Origin(cell.number, number, shift, written, cell.lf_only and not shift and text == written)
                for number, ((text, shift), written) in enumerate(rows, start=1))
        self.text = "".join(line + "\n" for line in self.lines)

    @classmethod
    def of_notebook(cls, cells: list[CodeCell]) -> Program:
        """The notebook's own program: its Python cells, masked, compiled as IPython compiles them."""
        masked = ((cell, python_lines(cell.lines)) for cell in cells)
        return cls([(cell, rows) for cell, rows in masked if rows is not None], ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)

    def place(self, finding: Finding, part: _Part | None = None) -> Finding:
        """The finding in its cell, with its fix's edits in theirs. `part`: its span counts lines of that cell alone
        (a cell's syntax error)."""
        span = finding.span
        line, end_line = span.line, span.end_line
        if part is not None:
            last = len(part.cell.lines)
            line, end_line = part.first + min(line, last) - 1, part.first + min(end_line, last) - 1
        start, end = self.origins[line - 1], self.origins[end_line - 1]
        extra = {**finding.extra, "source_line": start.written} if "source_line" in finding.extra else finding.extra
        fix = None if finding.fix is None or part is not None else self._in_cells(finding.fix, start.cell)
        return replace(finding, span=Span(start.line, span.column + start.shift, end.line, span.end_column + end.shift),
                       cell=start.cell, extra=extra, fix=fix)

    def _in_cells(self, fix: Fix, home: int) -> Fix | None:
        """The fix with each edit counted in its cell; None where an edit would touch a line IPython rewrites (a
        magic, a dedented or prompted cell, `%time`) or one of a cell with `\r` line endings, or would span two
        cells. An insertion between two cells goes to the one the fix's other edits (or its finding) are in, else
        to the start of the second (where the line it goes before is)."""
        placements = [self._placements(edit) for edit in fix.edits]
        if not all(placements):
            return None
        cells = {home} | {options[0].cell for options in placements if len(options) == 1}
        edits = [next((edit for edit in options if edit.cell in cells), options[0]) for options in placements]
        return replace(fix, edits=tuple(edits))

    def _placements(self, edit: Edit) -> list[Edit]:
        """Where the edit can go in the cells: none, one place, or two for an insertion between two cells."""
        span = edit.span
        starts = self._positions(span.line, span.column)
        ends = starts if (span.end_line, span.end_column) == (span.line, span.column) else self._positions(
            span.end_line, span.end_column)
        last = span.end_line if span.end_column > 1 else span.end_line - 1  # the last line the edit changes
        changed = self.origins[span.line - 1:last]
        if any(not origin.editable for origin in changed):
            return []
        return [Edit(Span(line, column, end_line, end_column), edit.replacement, cell)
                for cell, line, column in starts for end_cell, end_line, end_column in ends if cell == end_cell]

    def _positions(self, line: int, column: int) -> list[tuple[int, int, int]]:
        """The places in cells of a position of the program: (cell, line, column). A position at the start of a
        cell's first line is also the end of the cell before it (its line count + 1, column 1)."""
        places = []
        if line <= len(self.origins):
            origin = self.origins[line - 1]
            if origin.editable:
                places.append((origin.cell, origin.line, column))
        if column == 1 and 1 < line <= len(self.origins) + 1:
            before = self.origins[line - 2]
            if line > len(self.origins) or self.origins[line - 1].cell != before.cell:
                places.append((before.cell, before.line + 1, 1))
        return places


class _NotebookSource(Source):
    """The program's source, whose line numbers print as lines of cells in messages."""

    def __init__(self, program: Program, tree: ast.Module) -> None:
        super().__init__(program.text, tree)
        self.program = program

    def line(self, node: ast.AST) -> int:
        line: int = node.lineno  # type: ignore[attr-defined]
        return CellLine(line, self.program.origins[line - 1])


def written_scripts(cells: list[CodeCell]) -> list[Program]:
    """The Python files the notebook writes with `%%writefile NAME.py` (`-a` appends to one it wrote before), each
    its own program: often the training script itself, launched with `!accelerate launch`. The magic's line reads
    as a blank line; the last version of a file is the one checked."""
    scripts: dict[str, list[tuple[CodeCell, Rows]]] = {}
    for cell in cells:
        written = _written(cell.lines)
        if written is None or (written[1] and written[0] not in scripts):
            continue
        name, append, rows = written
        scripts[name] = [*scripts[name], (cell, rows)] if append else [(cell, rows)]
    return [Program(parts) for parts in scripts.values()]


def _written(lines: list[str]) -> tuple[str, bool, Rows] | None:
    """A `%%writefile NAME.py` cell: the file's name, whether it appends, and its lines as Python (the magic's line
    blank); None for another cell."""
    first = next((index for index, line in enumerate(lines) if line.strip()), None)
    written = None if first is None else _WRITEFILE.match(lines[first].strip())
    if written is None:
        return None
    return written.group(2), bool(written.group(1)), [("" if index == first else line, 0)
                                                      for index, line in enumerate(lines)]


def cell_python(source: str) -> str | None:
    """The Python a code cell's source runs as (a script it writes included), to check a fixed cell; None when
    its body is not Python."""
    lines = source_lines(source)
    written = _written(lines)
    rows = written[2] if written is not None else python_lines(lines)
    return None if rows is None else "".join(text + "\n" for text, _ in rows)


def check_notebook(data: bytes, path: str, codes: frozenset[str], *, noqa: bool = True) -> FileOutcome:
    """Check a notebook's bytes as `engine.check_source` checks a file's (which hands notebooks here): its own
    program, then each script it writes."""
    from tllint.static.engine import not_checked

    skipped = skip_reason(data, codes, notebook=True)
    if skipped is not None:
        return FileOutcome(skipped=skipped)
    try:
        cells = read_cells(data)
    except NotANotebook as problem:
        return not_checked(problem.finding(path), codes)
    own = _check(Program.of_notebook(cells), path, codes, noqa)
    if own.skipped is Skipped.SKIP_FILE:
        return own
    outcomes = [own, *(_check(script, path, codes, noqa) for script in written_scripts(cells))]
    if all(outcome.skipped is not None for outcome in outcomes):
        return own
    merged = FileOutcome(analysed=any(outcome.analysed for outcome in outcomes))
    for outcome in outcomes:
        merged.findings.extend(outcome.findings)
        merged.problems.extend(outcome.problems)
        merged.details.extend(outcome.details)
    merged.findings.sort(key=lambda f: f.sort_key)
    return merged


def _check(program: Program, path: str, codes: frozenset[str], noqa: bool) -> FileOutcome:
    """One program of the notebook: each cell compiled alone, then the whole analysed, findings in their cells."""
    from tllint.static.engine import analyse, compile_error, not_checked, syntax_tree

    text = program.text
    skipped = skip_reason(text.encode(), codes)
    if skipped is not None:
        return FileOutcome(skipped=skipped)
    for part in program.parts:  # named apart from the file: CPython would read the error's line from the JSON
        error = compile_error(part.text, f"<cell {part.cell.number}>", program.flags)
        if error is not None:
            return not_checked(program.place(replace(error, path=path), part), codes)
    tree = syntax_tree(text, path)
    if isinstance(tree, Finding):
        return not_checked(program.place(tree), codes)
    outcome = analyse(_NotebookSource(program, tree), text, tree, path, codes, noqa=noqa,
                      mentions_noqa="noqa" in text.lower())
    outcome.findings = sorted((program.place(finding) for finding in outcome.findings), key=lambda f: f.sort_key)
    return outcome


def read_cells(data: bytes) -> list[CodeCell]:
    """The notebook's Python code cells (nbformat 4, or 3's worksheets); none for another kernel's language."""
    return code_cells(_json(data))


def cell_list(document: Any) -> tuple[list[Any], str]:
    """All the cells of a notebook's JSON document (the same objects, in order) and the key of their source."""
    if not isinstance(document, dict):
        raise NotANotebook("not a Jupyter notebook: the file holds JSON, but not an object with a `cells` list")
    cells, key = document.get("cells"), "source"
    worksheets = document.get("worksheets")
    if cells is None and isinstance(worksheets, list) and all(_has_list(sheet, "cells") for sheet in worksheets):
        cells, key = [cell for sheet in worksheets for cell in sheet["cells"]], "input"
    if not isinstance(cells, list):
        raise NotANotebook("not a Jupyter notebook: the JSON object has no `cells` list")
    return cells, key


def code_cells(document: Any) -> list[CodeCell]:
    """The Python code cells of a notebook's JSON document."""
    cells, key = cell_list(document)
    if not _python(document.get("metadata"), ("kernelspec", "language"), ("language_info", "name")):
        return []
    code = []
    for number, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict) or not isinstance(cell.get("cell_type"), str):
            raise NotANotebook(f"not a Jupyter notebook: cell {number} is not an object with a `cell_type`",
                               cell=number)
        if cell["cell_type"] != "code" or not _python(cell, ("metadata", "vscode", "languageId"), ("language",)):
            continue
        source = cell.get(key, "")
        if isinstance(source, list) and all(isinstance(part, str) for part in source):
            source = "".join(source)
        elif not isinstance(source, str):
            raise NotANotebook(f"not a Jupyter notebook: the source of cell {number} is neither a string nor a list "
                               "of strings", cell=number)
        code.append(CodeCell(number, source_lines(source), "\r" not in source))
    return code


def source_lines(source: str) -> list[str]:
    """A cell's lines, without their endings (a last empty line only when the cell is empty)."""
    lines = source.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return lines[:-1] if len(lines) > 1 and not lines[-1] else lines


def _json(data: bytes) -> Any:
    try:
        return json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        raise NotANotebook(f"the notebook is not valid UTF-8: {error.reason}", line, column) from None
    except json.JSONDecodeError as error:
        raise NotANotebook(f"the notebook is not valid JSON: {error.msg}", error.lineno, error.colno) from None
    except RecursionError:
        raise NotANotebook("the notebook's JSON nests too deeply to read") from None


def _has_list(value: Any, key: str) -> bool:
    return isinstance(value, dict) and isinstance(value.get(key), list)


def _python(value: Any, *paths: tuple[str, ...]) -> bool:
    """Whether no language named at these key paths (where present) is another than Python."""
    for path in paths:
        named = value
        for key in path:
            named = named.get(key) if isinstance(named, dict) else None
        if isinstance(named, str) and named.lower() not in PYTHON_LANGUAGES:
            return False
    return True


def python_lines(lines: list[str]) -> list[tuple[str, int]] | None:
    """A cell's lines as Python, each with the columns removed before its code; None when the cell's body is not
    Python. IPython's order: a cell whose first line is indented is dedented, pasted prompts are stripped, a
    `%%magic` on its first line decides what the body is, lines that start a statement with an escape are masked,
    and a cell of one line that is not Python may be a magic without its `%`."""
    first = next((index for index, line in enumerate(lines) if line.strip()), None)
    if first is None:
        return [(line, 0) for line in lines]
    indent = _INDENT.match(lines[first]).group()  # type: ignore[union-attr]
    rows = [(line[len(indent):], len(indent)) if indent and line.startswith(indent) else (line, 0) for line in lines]
    rows = _without_prompts(rows, first)
    head = rows[first][0]
    if head.startswith("%%"):
        if _MAGIC_NAME.match(head).group(1) not in BODY_IS_PYTHON:  # type: ignore[union-attr]
            return None
        rows[first] = ("pass", 0)
    if _MAY_ESCAPE.search("\n".join(text for text, _ in rows)) is not None:
        rows = _masked(rows)
    alone = sum(1 for text, _ in rows if text.strip()) == 1
    if alone and _AUTOMAGIC.match(rows[first][0]) and not _parses(rows[first][0]):
        rows[first] = ("pass", 0)
    return rows


def _without_prompts(rows: list[tuple[str, int]], first: int) -> list[tuple[str, int]]:
    for initial, prompt in _PROMPTS:
        if initial.match(rows[first][0]) or (len(rows) > first + 1 and prompt.match(rows[first + 1][0])):
            stripped = []
            for text, shift in rows:
                found = prompt.match(text)
                stripped.append((text, shift) if found is None else (text[found.end():], shift + found.end()))
            rows = stripped
    return rows


def _parses(line: str) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # an invalid escape sequence is a warning, not our output
            ast.parse(line)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def _masked(rows: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """Mask the escaped lines, reading where each line starts (in brackets, in a string, after a `\\`) as the
    tokenizer would."""
    scanner = _Scanner()
    out: list[tuple[str, int]] = []
    joined = False  # the previous line was masked and ended with `\`: IPython joins this one to it
    for text, shift in rows:
        if joined:
            out.append(("", shift))
            joined = text.endswith("\\")
            continue
        if scanner.at_statement_start():
            escaped = _escaped(text)
            if escaped is not None:
                code, removed = escaped
                joined = removed == 0 and text.endswith("\\")
                scanner.scan(code)
                out.append((code, shift + removed))
                continue
            comment = scanner.scan(text)
            if scanner.at_statement_start() and text[:comment].rstrip().endswith("?"):  # `model.fc?`: help
                out.append((_INDENT.match(text).group() + "pass", shift))  # type: ignore[union-attr]
                continue
        else:
            scanner.scan(text)
        out.append((text, shift))
    return out


def _escaped(text: str) -> tuple[str, int] | None:
    """What a line that starts a statement becomes when IPython would rewrite it, and the columns removed before
    its code; None for a line of Python."""
    code = text.lstrip(" \t")
    indent = text[:len(text) - len(code)]
    if code[:1] and code[0] in _ESCAPES:
        time = _TIME.match(code)
        if time is not None:
            return indent + code[time.end():], time.end()
        return indent + "pass", 0
    assigned = _ASSIGNED_ESCAPE.match(text)
    if assigned is not None:
        return assigned.group() + " None", 0
    return None


class _Scanner:
    """Where the lines read so far leave Python's tokenizer: inside brackets, inside a string, after a `\\`."""

    def __init__(self) -> None:
        self.depth = 0
        self.quote: str | None = None
        self.continued = False

    def at_statement_start(self) -> bool:
        return self.depth == 0 and self.quote is None and not self.continued

    def scan(self, line: str) -> int:
        """Read one line; return where its comment starts (its length when it has none)."""
        self.continued = False
        position = 0
        while True:
            if self.quote is not None:
                end = next((m.end() for m in _STRING_END[self.quote].finditer(line, position)
                            if m.group() == self.quote), None)
                if end is None:
                    if len(self.quote) == 1 and not line.endswith("\\"):
                        self.quote = None  # an unterminated string: the compiler reports it
                    return len(line)
                self.quote, position = None, end
                continue
            match = _SPECIAL.search(line, position)
            if match is None:
                return len(line)
            char, position = match.group(), match.end()
            if char == "#":
                return match.start()
            if char == "\\":
                self.continued = position == len(line)
            elif char in "'\"":
                self.quote = char * 3 if line.startswith(char * 3, match.start()) else char
                position = match.start() + len(self.quote)
            elif char in "([{":
                self.depth += 1
            else:
                self.depth = max(0, self.depth - 1)
