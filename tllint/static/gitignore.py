"""`.gitignore` patterns, matched with work bounded per path, whatever the file says.

A general glob-to-regex translation lets a crafted line (`a*a*a*...*b`) make a backtracking matcher run for
minutes on one path. Here a pattern is split at `/` into segments; a segment is matched against one name of the
path by the standard library's translation, whose stars are atomic (each star finds the next literal once, so a
match costs about the name's length times the number of stars, and a name is at most 255 bytes), and the segments
against the names of the path by the classic one-backtrack wildcard algorithm with `**` as the star (a path has
few names). Semantics are git's (`gitignore(5)`): blank lines and `#` comments are skipped, trailing spaces
dropped unless escaped, `!` negates, a trailing `/` matches folders only, a pattern with a `/` before its end is
anchored at the file's folder (else it matches at any depth), `**/`, `/**/` and a trailing `/**` match any
number of folders, and a backslash quotes the next character.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from pathlib import Path

NAME_MAX = 255  # no single file or folder name is longer: a segment that needs more characters never matches
_ANY = "**"


@dataclass(frozen=True)
class _Segment:
    """One `/`-free part of a pattern: a literal name (compared as text) or a compiled glob."""

    literal: str | None
    glob: re.Pattern[str] | None
    minimum: int  # characters it needs at least

    def matches(self, name: str) -> bool:
        if self.literal is not None:
            return name == self.literal
        return self.minimum <= len(name) and self.glob is not None and self.glob.match(name) is not None


@dataclass(frozen=True)
class Pattern:
    negated: bool
    folders_only: bool
    segments: tuple[_Segment | str, ...]  # `_ANY` for `**`
    basename_only: bool  # one segment matched against the last name at any depth (the common `*.pyc`)

    def matches(self, parts: list[str], is_dir: bool) -> bool:
        if self.folders_only and not is_dir:
            return False
        if self.basename_only:
            return self.segments[0].matches(parts[-1])  # type: ignore[union-attr]
        return _match_parts(self.segments, parts)


def _match_parts(segments: tuple[_Segment | str, ...], parts: list[str]) -> bool:
    """Wildcard matching over names, `**` matching any number of them; one backtrack point, so at most
    len(segments) * len(parts) segment tests."""
    if sum(1 for s in segments if s != _ANY) > len(parts):
        return False
    p = s = 0
    star, resume = -1, 0
    while s < len(parts):
        segment = segments[p] if p < len(segments) else None
        if segment == _ANY:
            star, resume = p, s
            p += 1
        elif segment is not None and segment.matches(parts[s]):  # type: ignore[union-attr]
            p += 1
            s += 1
        elif star >= 0:
            p, resume = star + 1, resume + 1
            s = resume
        else:
            return False
    while p < len(segments) and segments[p] == _ANY:
        p += 1
    return p == len(segments)


def _segment(text: str) -> _Segment:
    """A segment with git's backslash quoting turned into fnmatch's `[c]` and `[^...]` into `[!...]`."""
    if not any(c in text for c in "*?[\\"):
        return _Segment(text, None, len(text))
    glob: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text):
            index += 1
            glob.append(f"[{text[index]}]" if text[index] in "*?[]!" else text[index])
        elif char == "*":
            if not glob or glob[-1] != "*":
                glob.append("*")
        elif char == "[" and text[index + 1:index + 2] == "^":
            glob.append("[!")
            index += 1
        else:
            glob.append(char)
        index += 1
    pattern = "".join(glob)
    minimum = len(_CLASS.sub("?", pattern).replace("*", ""))
    return _Segment(None, re.compile(fnmatch.translate(pattern)), min(minimum, NAME_MAX + 1))


_CLASS = re.compile(r"\[!?\]?[^\]]*\]")  # a bracket expression matches one character


def parse(line: str) -> Pattern | None:
    """One line of a `.gitignore`, or None for a blank line or a comment."""
    line = line.rstrip("\n\r")
    while line.endswith(" ") and not line.endswith("\\ "):
        line = line[:-1]
    if not line or line.startswith("#"):
        return None
    negated = line.startswith("!")
    if negated or line.startswith(("\\!", "\\#")):
        line = line[1:]
    folders_only = line.endswith("/") and not line.endswith("\\/")
    line = line.rstrip("/")
    if not line:
        return None
    anchored = "/" in line
    names = [name for name in line.split("/") if name]
    segments: list[_Segment | str] = [_ANY if name == _ANY else _segment(name) for name in names]
    if segments and segments[-1] == _ANY:  # a trailing `/**` matches what is inside, not the folder itself
        segments[-1:] = [_segment("*"), _ANY]
    if not anchored:
        return Pattern(negated, folders_only, tuple(segments), basename_only=segments[0] != _ANY)
    return Pattern(negated, folders_only, tuple(segments), basename_only=False)


@dataclass(frozen=True)
class IgnoreFile:
    """The patterns of one `.gitignore` and the folder they are relative to (absolute, `/`-separated, with a
    trailing `/`)."""

    base: str
    patterns: tuple[Pattern, ...]

    @classmethod
    def read(cls, path: Path, base: str) -> IgnoreFile | None:
        """A `.gitignore` that cannot be read (or is not a regular file) is treated as absent, as git does."""
        try:
            if not path.is_file():
                return None
            text = path.read_text(encoding="utf-8", errors="replace")
        except (OSError, ValueError):
            return None
        patterns = tuple(p for p in map(parse, text.splitlines()) if p is not None)
        return cls(base.rstrip("/") + "/", patterns) if patterns else None

    def verdict(self, path: str, is_dir: bool) -> bool | None:
        """True: ignored; False: re-included by a `!` pattern; None: this file says nothing about `path`."""
        if not path.startswith(self.base):
            return None
        parts = path[len(self.base):].split("/")
        for pattern in reversed(self.patterns):  # the last matching line decides
            if pattern.matches(parts, is_dir):
                return not pattern.negated
        return None


def ignored(path: str, is_dir: bool, files: list[IgnoreFile]) -> bool:
    """Git's precedence: a deeper `.gitignore` overrides a shallower one; within one file the last match wins."""
    for ignore in reversed(files):
        verdict = ignore.verdict(path, is_dir)
        if verdict is not None:
            return verdict
    return False
