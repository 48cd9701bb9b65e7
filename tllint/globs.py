"""Path patterns of `exclude` and `per-file-ignores`, compiled once into regular expressions.

A pattern is an fnmatch glob (`*` matches any characters, `/` included; `?` one; `[seq]` a set) matched against a
path relative to the configuration's folder, written with `/`. It matches when it matches the whole path, a
trailing part of it (`scripts/*.py` matches `pkg/scripts/a.py`) or a folder in it (`legacy` matches everything
under any `legacy` folder). Each pattern becomes one anchored regular expression with possessive stars (the
standard library's translation), so a run costs one match per distinct set of codes, not one per pattern and path
part, and no pattern can make a match backtrack for long.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping


def _body(pattern: str) -> str:
    """The regular expression of one glob, without the standard library's `(?s:...)\\Z` wrapper."""
    translated = fnmatch.translate(pattern.strip().rstrip("/").removeprefix("./"))
    if not (translated.startswith("(?s:") and translated.endswith(")\\Z")):  # pragma: no cover - other Pythons
        raise RuntimeError(f"unexpected fnmatch translation {translated!r}")
    return translated[4:-3]


def compile_globs(patterns: Iterable[str]) -> re.Pattern[str] | None:
    """One expression that matches a relative path when any of the patterns does; None for no pattern."""
    bodies = [_body(pattern) for pattern in patterns if pattern.strip()]
    if not bodies:
        return None
    return re.compile(r"(?s:(?:.*/)?(?:" + "|".join(bodies) + r")(?:/.*)?)\Z")


class PerFileIgnores:
    """`glob = [codes]` pairs: which codes to drop for a path. Globs that drop the same codes share one
    expression, and one expression over every glob answers the common case (no glob matches) at once."""

    def __init__(self, table: Mapping[str, tuple[str, ...]]) -> None:
        by_codes: dict[tuple[str, ...], list[str]] = {}
        for glob, codes in table.items():
            by_codes.setdefault(tuple(sorted(set(codes))), []).append(glob)
        self._any = compile_globs(table)
        self._groups = [(codes, compile_globs(globs)) for codes, globs in by_codes.items()]

    def dropped(self, relative: str) -> tuple[str, ...]:
        """The code prefixes disabled for `relative` (a `/`-separated path)."""
        if self._any is None or not self._any.match(relative):
            return ()
        return tuple(code for codes, expression in self._groups
                     if expression is not None and expression.match(relative) for code in codes)
