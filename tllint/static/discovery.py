"""Which files a `tllint check PATHS` run looks at.

Directories are walked in sorted order, skipping the default and configured excludes and whatever the
`.gitignore` files say (the walked tree's own, nested ones included, and those of its parent folders up to the
repository root): a linter that reads generated or vendored code is slow and noisy. Paths named on the command
line are always checked, unless `--force-exclude` applies the excludes to them too.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path
from typing import TYPE_CHECKING

from tllint.config import DEFAULT_EXCLUDE, Config

if TYPE_CHECKING:
    from pathspec import GitIgnoreSpec


@dataclass(frozen=True)
class Target:
    """A file to check and the path to show for it (as the user wrote it, or joined below it)."""

    path: Path
    display: str


@dataclass(frozen=True)
class _Ignore:
    """The patterns of one `.gitignore` and the folder they are relative to."""

    base: Path
    spec: GitIgnoreSpec

    def verdict(self, path: Path, is_dir: bool) -> bool | None:
        """True: ignored; False: re-included by a `!` pattern; None: this file says nothing about it."""
        try:
            relative = path.relative_to(self.base).as_posix()
        except ValueError:
            return None
        return self.spec.check_file(relative + "/" if is_dir else relative).include


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
    top = _resolved(root)  # `.gitignore` patterns are matched in resolved coordinates, outer files included
    ignores: dict[Path, list[_Ignore]] = {root: _outer_ignores(top)}
    for folder, dirs, files in os.walk(root, followlinks=False):
        base = Path(folder)
        here = top / base.relative_to(root)
        inherited = ignores.pop(base, [])
        own = _load_ignore(base / ".gitignore", here) if ".gitignore" in files else None
        active = [*inherited, own] if own is not None else inherited
        dirs[:] = sorted(d for d in dirs if not _excluded(base / d, config) and not _ignored(here / d, True, active))
        for name in dirs:
            ignores[base / name] = active
        for name in sorted(files):
            path = base / name
            if (name.endswith(".py") and not _excluded(path, config) and not _ignored(here / name, False, active)
                    and _first_visit(path, seen)):
                relative = path.relative_to(root)
                yield Target(path, os.path.join(shown, str(relative)) if shown != "." else str(relative))


def _outer_ignores(top: Path) -> list[_Ignore]:
    """The `.gitignore` files of the folders above `top`, up to the repository's top (none outside a repository)."""
    chain = []
    for folder in top.parents:
        chain.append(folder)
        if (folder / ".git").exists():
            break
    else:
        return []
    loaded = (_load_ignore(folder / ".gitignore", folder) for folder in reversed(chain))
    return [ignore for ignore in loaded if ignore is not None]


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return path.absolute()


def _load_ignore(path: Path, base: Path) -> _Ignore | None:
    """A `.gitignore` that cannot be read is treated as absent, like git does."""
    from pathspec import GitIgnoreSpec  # only where there is a .gitignore: it costs a pre-commit run 15 ms

    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    return _Ignore(base, GitIgnoreSpec.from_lines(lines)) if lines else None


def _ignored(path: Path, is_dir: bool, ignores: list[_Ignore]) -> bool:
    """Git's precedence: a deeper `.gitignore` overrides a shallower one; within one file the last match wins."""
    for ignore in reversed(ignores):
        verdict = ignore.verdict(path, is_dir)
        if verdict is not None:
            return verdict
    return False


def _excluded(path: Path, config: Config) -> bool:
    return any(fnmatch(path.name, pattern) for pattern in DEFAULT_EXCLUDE) or config.excluded(path)


def _first_visit(path: Path, seen: set[Path]) -> bool:
    key = _resolved(path)
    if key in seen:
        return False
    seen.add(key)
    return True
