"""Which files a `tllint check PATHS` run looks at."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path

from tllint.config import DEFAULT_EXCLUDE, Config


@dataclass(frozen=True)
class Target:
    """A file to check and the path to show for it (as the user wrote it, or joined below it)."""

    path: Path
    display: str


def discover(paths: Sequence[str], config: Config, force_exclude: bool = False) -> Iterator[Target | str]:
    """Files to check, in a stable order; a string is a path that does not exist (an error to report)."""
    seen: set[Path] = set()
    for raw in paths:
        path = Path(raw)
        if not path.exists() and not path.is_symlink():
            yield f"{raw}: no such file or directory"
            continue
        if path.is_dir():
            yield from _walk(path, raw, config, seen)
        elif not (force_exclude and _excluded(path, config)) and _first_visit(path, seen):
            yield Target(path, raw)


def _walk(root: Path, shown: str, config: Config, seen: set[Path]) -> Iterator[Target]:
    for folder, dirs, files in os.walk(root, followlinks=False):
        base = Path(folder)
        dirs[:] = sorted(d for d in dirs if not _excluded(base / d, config))
        for name in sorted(files):
            path = base / name
            if name.endswith(".py") and not _excluded(path, config) and _first_visit(path, seen):
                relative = path.relative_to(root)
                yield Target(path, os.path.join(shown, str(relative)) if shown != "." else str(relative))


def _excluded(path: Path, config: Config) -> bool:
    return any(fnmatch(path.name, pattern) for pattern in DEFAULT_EXCLUDE) or config.excluded(path)


def _first_visit(path: Path, seen: set[Path]) -> bool:
    try:
        key = path.resolve()
    except (OSError, RuntimeError):
        key = path.absolute()
    if key in seen:
        return False
    seen.add(key)
    return True
