"""Which files a `tllint check PATHS` run looks at.

Directories are walked in sorted order, skipping the configured excludes and whatever the `.gitignore` files say
(the walked tree's own, nested ones included, and those of its parent folders up to the repository root): a linter
that reads generated or vendored code is slow and noisy. Paths named on the command line are always checked,
unless `--force-exclude` applies the excludes to them too.

Nothing in the tree can stop or hang the walk: only regular files are checked (a FIFO, socket or device named
`*.py` is reported and skipped, never opened for reading here), symbolic links to files are followed and a link
that loops or leads nowhere is reported, links to folders inside a walked tree are not followed (as git does not:
a `data -> /mnt/datasets` link is common in training repositories), and a folder that cannot be listed or a name
too long for the system is reported. Each of these is one error line; the run goes on and exits 2.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tllint.config import Config, Resolver

if TYPE_CHECKING:
    from tllint.static.gitignore import IgnoreFile

SOURCE_SUFFIXES = (".py", ".ipynb")  # the file names a walk picks up: Python files and Jupyter notebooks


@dataclass(frozen=True)
class Target:
    """A file to check, the path to show for it (as the user wrote it, or joined below it) and the configuration
    that governs it."""

    path: Path
    display: str
    config: Config


def discover(paths: Sequence[str], resolver: Resolver, force_exclude: bool = False) -> Iterator[Target | str]:
    """Files to check, in a stable order; a string is a path that cannot be checked (an error to report)."""
    seen: set[str] = set()
    for raw in paths:
        try:
            info = os.stat(raw)
        except (OSError, ValueError) as error:
            yield f"{raw}: {_why(raw, error)}"
            continue
        if stat.S_ISDIR(info.st_mode):
            yield from _walk(raw, resolver, seen)
            continue
        config = resolver.for_path(raw)
        if force_exclude and config.excluded(raw):
            continue
        if not stat.S_ISREG(info.st_mode):
            yield f"{raw}: {_not_regular(info.st_mode)}"
        elif _first_visit(raw, seen):
            yield Target(Path(raw), raw, config)


def _walk(root: str, resolver: Resolver, seen: set[str]) -> Iterator[Target | str]:
    from tllint.static.gitignore import IgnoreFile, ignored  # walks only: pre-commit names its files

    top = os.path.abspath(root)
    stack: list[tuple[str, str, list[IgnoreFile]]] = [(root, top, _outer_ignores(top))]
    while stack:
        folder, absolute, inherited = stack.pop()
        try:
            with os.scandir(folder) as listing:
                entries = sorted(listing, key=lambda entry: entry.name)
        except OSError as error:
            yield f"{_shown(folder, root)}: cannot list this folder: {_why(folder, error)}"
            continue
        names = {entry.name for entry in entries}
        config = resolver.for_folder(absolute, names)
        own = IgnoreFile.read(Path(absolute) / ".gitignore", absolute) if ".gitignore" in names else None
        active = [*inherited, own] if own is not None else inherited
        folders = []
        for entry in entries:
            path = os.path.join(folder, entry.name)
            where = os.path.join(absolute, entry.name)
            try:
                is_folder = entry.is_dir(follow_symlinks=False)
            except OSError as error:
                yield f"{_shown(path, root)}: {_why(path, error)}"
                continue
            if config.excluded(where) or ignored(where, is_folder, active):
                continue
            if is_folder:
                folders.append((path, where, active))
            elif entry.name.endswith(SOURCE_SUFFIXES):
                yield from _file(entry, path, _shown(path, root), config, seen)
        stack.extend(reversed(folders))


def _file(entry: os.DirEntry[str], path: str, shown: str, config: Config, seen: set[str]) -> Iterator[Target | str]:
    """A `*.py` entry of a walked folder: a regular file (or a link to one) is checked; anything else is an error,
    except a link to a folder, which is not followed."""
    try:
        info = entry.stat(follow_symlinks=True)
    except OSError as error:
        yield f"{shown}: {_why(path, error)}"
        return
    if stat.S_ISDIR(info.st_mode):
        return
    if not stat.S_ISREG(info.st_mode):
        yield f"{shown}: {_not_regular(info.st_mode)}"
    elif _first_visit(path, seen, entry.is_symlink()):
        yield Target(Path(path), shown, config)


def _why(path: str, error: BaseException) -> str:
    """The reason a path cannot be used, in words."""
    if isinstance(error, OSError):
        if error.errno == errno.ELOOP:
            return "symbolic link loop, skipped"
        if error.errno == errno.ENOENT and os.path.islink(path):
            return f"cannot read: broken symbolic link (to {os.readlink(path)}), skipped"
        if error.errno == errno.ENOENT:
            return "no such file or directory"
        if error.errno == errno.ENAMETOOLONG:
            return "the path is too long for this system, skipped"
        return f"cannot read: {error.strerror or error}"
    return f"cannot read: {error}"  # ValueError: a NUL byte in the name


def _not_regular(mode: int) -> str:
    kind = ("a FIFO" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode)
            else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "not a file")
    return f"not a regular file ({kind}), skipped"


def _shown(path: str, root: str) -> str:
    """How a walked path is displayed: below the path the user wrote (without a leading `./`)."""
    return path[2:] if root == "." and path.startswith("./") else path


def _outer_ignores(top: str) -> list[IgnoreFile]:
    """The `.gitignore` files of the folders above `top`, up to the repository's top (none outside a repository)."""
    chain = []
    folder = top
    while True:
        parent = os.path.dirname(folder)
        if parent == folder:
            return []
        folder = parent
        chain.append(folder)
        if os.path.exists(os.path.join(folder, ".git")):
            break
    from tllint.static.gitignore import IgnoreFile

    loaded = (IgnoreFile.read(Path(folder) / ".gitignore", folder) for folder in reversed(chain))
    return [ignore for ignore in loaded if ignore is not None]


def _first_visit(path: str, seen: set[str], through_link: bool = False) -> bool:
    """Each file once, when named twice or reached again through a link."""
    key = os.path.realpath(path) if through_link else os.path.abspath(path)
    if key in seen:
        return False
    seen.add(key)
    return True
