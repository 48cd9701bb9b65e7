"""Applying fixes to one file: rounds of check, apply, verify, until nothing more applies; then a safe write.

Edits are applied to the text as decoded, with its own line endings (a CRLF file stays CRLF, a file with mixed
endings keeps each line's), and encoded back with the file's encoding and BOM. Every round re-checks the result,
so a fix that makes another possible (a misspelling fixed on a module becomes TL002, fixed in the next round) is
applied too, and edits that overlap wait for the next round. A round's result must compile and must keep every
comment of the file (read by Python's tokenizer; `ast` drops them): a fix that breaks either is dropped and
reported as an internal error, and the text stays as it was before it. After the rounds, the import lines that
fixes added are merged into the file's own imports of their modules (`imports`), where that is sound.
"""

from __future__ import annotations

import codecs
import contextlib
import difflib
import io
import os
import re
import stat
import tempfile
import tokenize
import warnings
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from tllint import REPOSITORY_URL
from tllint.findings.model import Edit, Finding
from tllint.static.engine import check_source
from tllint.static.fixing import AddedImport
from tllint.static.fixing.imports import merge_added_imports
from tllint.static.notebook import is_notebook
from tllint.static.outcome import FileOutcome

MAX_ROUNDS = 6  # a fix may enable another; more rounds than this would mean fixes feeding each other
_NEWLINE = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True)
class FixPolicy:
    """Which fixes a run applies in one file: its fixable codes (`fixable` less `unfixable`) and whether unsafe
    fixes are wanted (`unsafe-fixes`)."""

    fixable: frozenset[str]
    unsafe: bool = False

    def applies(self, finding: Finding) -> bool:
        return (finding.fix is not None and finding.code in self.fixable
                and (finding.fix.safe or self.unsafe))


@dataclass
class FixResult:
    """What fixing one file gave: its new bytes, the findings whose fixes were applied, the check of the result,
    the fixes dropped because their result was broken (internal errors, for stderr) and why a file was left as it
    was (notes: a notebook that cannot be rewritten in its own layout)."""

    original: bytes
    data: bytes
    fixed: list[Finding]
    outcome: FileOutcome
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.data != self.original


@dataclass(frozen=True)
class _Encoded:
    """How a file's text goes back to bytes."""

    encoding: str
    bom: bool

    @classmethod
    def of(cls, data: bytes) -> _Encoded | None:
        try:
            encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        except SyntaxError:
            return None
        bom = data.startswith(codecs.BOM_UTF8)
        return cls("utf-8" if encoding == "utf-8-sig" else encoding, bom)

    def decode(self, data: bytes) -> str:
        return data[len(codecs.BOM_UTF8) if self.bom else 0:].decode(self.encoding)

    def encode(self, text: str) -> bytes:
        return (codecs.BOM_UTF8 if self.bom else b"") + text.encode(self.encoding)


def fix_bytes(data: bytes, path: str, codes: frozenset[str], policy: FixPolicy) -> FixResult:
    """Fix the file's bytes as far as the policy allows; the file on disk is not touched."""
    result = FixResult(data, data, [], check_source(data, path, codes))
    rejected: set[tuple[str, str]] = set()
    for _ in range(MAX_ROUNDS):
        if not any(policy.applies(f) for f in result.outcome.findings):
            break
        text = _text_of(result.data, path)
        if isinstance(text, str):
            result.notes.append(f"{path}: not fixed: {text}")
            break
        if text is None:
            break
        located = (text.located(f) for f in result.outcome.findings if policy.applies(f))
        chosen = [f for f in located if f is not None and _identity(f) not in rejected]
        if not chosen:
            break
        applied = _round(text.text, chosen, _Comments(text.text, text.parts, text.flags), result, rejected)
        if applied is None:
            break
        fixed_text, fixed = applied
        try:
            new_data = text.encode(fixed_text)
        except UnicodeEncodeError as error:
            result.problems.append(f"{path}: a fix needs a character the file's encoding cannot hold ({error}); "
                                   "the file was not fixed")
            return FixResult(data, data, [], check_source(data, path, codes), result.problems)
        result.fixed.extend(fixed)
        result.data = new_data
        result.outcome = check_source(new_data, path, codes)
    return _merge_added_imports(result, path, codes)


def _merge_added_imports(result: FixResult, path: str, codes: frozenset[str]) -> FixResult:
    """The result with the import lines its fixes added merged into the file's imports of the same modules, where
    `_sound_merge` accepts it; otherwise as it was, silently: the fixes themselves were sound, only their imports
    stay on lines of their own. (A notebook keeps them: the import a fix adds goes into the cell that uses it.)"""
    added = [edit.replacement for finding in result.fixed for edit in finding.fix.edits  # type: ignore[union-attr]
             if isinstance(edit, AddedImport)]
    text = _text_of(result.data, path) if added and not is_notebook(path) else None
    if not isinstance(text, _FileText):
        return result
    merged = merge_added_imports(text.text, added)
    sound = _sound_merge(text, merged, path, codes, result.outcome.findings) if merged != text.text else None
    if sound is not None:
        result.data, result.outcome = sound
    return result


class _Text(Protocol):
    """What fixes edit in a file: its text, the fixes' edits located in it, the Python its parts compile as (each
    alone, with `flags`), and how a fixed text goes back to bytes."""

    text: str
    flags: int

    def located(self, finding: Finding) -> Finding | None: ...

    def parts(self, text: str) -> list[str] | None: ...

    def encode(self, text: str) -> bytes: ...


@dataclass(frozen=True)
class _FileText:
    """A Python file's text, which is its one part."""

    text: str
    encoded: _Encoded
    flags: int = 0

    def located(self, finding: Finding) -> Finding:
        return finding

    def parts(self, text: str) -> list[str]:
        return [text]

    def encode(self, text: str) -> bytes:
        return self.encoded.encode(text)


def _text_of(data: bytes, path: str) -> _Text | str | None:
    """What fixes edit in the file; why not (for stderr) when a notebook cannot be rewritten; None when the file
    cannot be decoded (it was reported as TL000)."""
    if is_notebook(path):
        from tllint.static.fixing.notebooks import NotebookText

        return NotebookText.of(data)
    encoded = _Encoded.of(data)
    if encoded is None:
        return None
    try:
        return _FileText(encoded.decode(data), encoded)
    except (UnicodeDecodeError, LookupError):
        return None


def _sound_merge(text: _FileText, merged: str, path: str, codes: frozenset[str],
                 findings: list[Finding]) -> tuple[bytes, FileOutcome] | None:
    """The merged text's bytes and check, when it compiles, keeps every comment of `text` (libcst's output is not
    trusted to touch only the statement it rewrote: all comments are counted) and re-checks with the same
    `findings`; else None."""
    if _Comments(text.text).accept(merged, removed=text.text) is not None:
        return None
    try:
        data = text.encode(merged)
    except UnicodeEncodeError:
        return None
    outcome = check_source(data, path, codes)
    return (data, outcome) if _said(outcome.findings) == _said(findings) else None


def _said(findings: list[Finding]) -> Counter[tuple[str, str]]:
    """What the findings say, wherever they are: a merge removes lines, which moves findings and changes the line
    numbers their messages cite."""
    return Counter((finding.code, re.sub(r"\d+", "#", finding.message)) for finding in findings)


def _round(text: str, chosen: list[Finding], comments: _Comments, result: FixResult,
           rejected: set[tuple[str, str]]) -> tuple[str, list[Finding]] | None:
    """Apply the fixes that do not overlap; where their result is broken, find the fix to blame, drop it and
    apply the first good one alone. None when no fix could be applied."""
    batch = _without_overlaps(chosen)
    candidate, removed = _apply(text, [edit for finding in batch for edit in finding.fix.edits])  # type: ignore
    if comments.accept(candidate, removed) is None:
        return candidate, batch
    for finding in batch:
        candidate, removed = _apply(text, finding.fix.edits)  # type: ignore[union-attr]
        reason = comments.accept(candidate, removed)
        if reason is None:
            return candidate, [finding]
        rejected.add(_identity(finding))
        result.problems.append(
            f"{finding.path}:{finding.span.line}:{finding.span.column}: internal error: the {finding.code} fix "
            f"({finding.fix.description}) {reason}, so it was not applied (a bug in tllint: please report it "  # type: ignore[union-attr]
            f"with this file at {REPOSITORY_URL}/issues)")
    return None


def _identity(finding: Finding) -> tuple[str, str]:
    """What stays the same about a fix when other fixes move it: its code and its new text."""
    return finding.code, "\0".join(edit.replacement for edit in finding.fix.edits)  # type: ignore[union-attr]


def _without_overlaps(findings: list[Finding]) -> list[Finding]:
    """Fixes in source order, leaving out each one that touches a range an earlier one edits (the next round
    applies it); the same edit in two fixes (one import for two calls) is no overlap."""
    taken: list[Edit] = []
    batch = []
    for finding in sorted(findings, key=lambda f: f.sort_key):
        edits = [edit for edit in finding.fix.edits if edit not in taken]  # type: ignore[union-attr]
        if any(_overlap(edit, other) for edit in edits for other in taken):
            continue
        taken.extend(edits)
        batch.append(finding)
    return batch


def _overlap(a: Edit, b: Edit) -> bool:
    start_a, end_a = (a.span.line, a.span.column), (a.span.end_line, a.span.end_column)
    start_b, end_b = (b.span.line, b.span.column), (b.span.end_line, b.span.end_column)
    if start_a == end_a or start_b == end_b:  # an insertion overlaps what starts or ends where it goes
        return start_a <= end_b and start_b <= end_a
    return start_a < end_b and start_b < end_a


def _apply(text: str, edits: Iterable[Edit]) -> tuple[str, str]:
    """The text with the edits applied (from the last to the first, so that positions stay valid), and the text
    they removed. A newline in a replacement is written as the line ending of the line where the edit starts."""
    starts = [0] + [match.end() for match in _NEWLINE.finditer(text)]
    endings = [match.group() for match in _NEWLINE.finditer(text)]
    removed = []

    def offset(line: int, column: int) -> int:
        if line > len(starts):
            return len(text)
        return min(starts[line - 1] + column - 1, len(text))

    for edit in sorted(set(edits), key=lambda e: (e.span.line, e.span.column, e.span.end_line, e.span.end_column),
                       reverse=True):
        span = edit.span
        ending = endings[min(span.line, len(endings)) - 1] if endings else "\n"
        replacement = edit.replacement.replace("\n", ending)
        if span.line > len(starts) and text and not text.endswith(("\n", "\r")):
            replacement = ending + replacement  # lines added after a last line that has no newline
        start, end = offset(span.line, span.column), offset(span.end_line, span.end_column)
        removed.append(text[start:end])
        text = text[:start] + replacement + text[end:]
    return text, "".join(removed)


class _Comments:
    """Checks that a fix's result compiles and keeps every comment of the current text. Edits only replace the
    text they remove, so comments can only be lost where that text holds a `#`; only then are the comments of the
    whole file counted (Python's tokenizer, which costs more than the checking itself)."""

    def __init__(self, text: str, parts: Callable[[str], list[str] | None] = lambda text: [text],
                 flags: int = 0) -> None:
        self.text = text
        self.parts = parts
        self.flags = flags
        self.counted: Counter[str] | None = None

    def accept(self, text: str, removed: str) -> str | None:
        """Why the text cannot replace the current one; None when it can, and then it becomes the current one."""
        parts = self.parts(text)
        if parts is None:
            return "edited across two cells"
        for part in parts:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    compile(part, "<fixed>", "exec", flags=self.flags, dont_inherit=True)
            except (SyntaxError, ValueError, RecursionError, MemoryError) as error:
                return f"gave code that does not compile ({getattr(error, 'msg', error)})"
        counted = None
        if "#" in removed:
            if self.counted is None:
                self.counted = _comments(self.parts(self.text) or [])
            counted = _comments(parts)
            if self.counted - counted:
                return "would have lost a comment"
        self.text, self.counted = text, counted
        return None


def _comments(parts: list[str]) -> Counter[str]:
    """Every comment of the parts, as Python's own tokenizer reads them. (libcst 1.9 is not lossless here: it drops
    the first of two comment lines separated by a blank line at the end of a module, `z = 3\n  # a\n\n  # b\n`.)"""
    counted: Counter[str] = Counter()
    for text in parts:
        try:
            tokens = list(tokenize.generate_tokens(io.StringIO(text, newline="").readline))  # lone `\r` ends a line
        except (tokenize.TokenError, SyntaxError):
            continue
        counted.update(token.string.rstrip() for token in tokens if token.type == tokenize.COMMENT)
    return counted


def unified_diff(result: FixResult, display: str) -> str:
    """The change as a unified diff (`--diff`), in the file's own text."""
    encoded = _Encoded.of(result.original)
    if encoded is None:
        return ""
    before, after = encoded.decode(result.original), encoded.decode(result.data)
    names = (display, display) if os.path.isabs(display) else (f"a/{display}", f"b/{display}")  # `patch -p1`
    lines = difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True), *names)
    return "".join(line if line.endswith(("\n", "\r")) else line + "\n\\ No newline at end of file\n"
                   for line in lines)


def write_atomically(path: Path, original: bytes, data: bytes) -> str | None:
    """Replace the file's bytes `original` by `data` through a temporary file in its folder, keeping its mode;
    a reason (for stderr) when it changed on disk since it was read or cannot be written, else None."""
    target = Path(os.path.realpath(path))  # a symlink keeps pointing at the fixed file
    try:
        if target.read_bytes() != original:
            return "it changed on disk while tllint was fixing it; it was left as it is"
        mode = stat.S_IMODE(target.stat().st_mode)
        descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tllint")
    except OSError as error:
        return f"cannot write the fixed file: {error.strerror or error}"
    try:
        with open(descriptor, "wb", closefd=True) as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except OSError as error:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        return f"cannot write the fixed file: {error.strerror or error}"
    return None
