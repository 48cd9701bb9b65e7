"""Other files of the checked file's project: where its imports lead, and which files its result depends on.

A name imported from the project (`from models import build_model`, `from .models import ...`, `import models as
M`) is looked for the way Python would find it: in the checked file's folder (sys.path[0] when it runs as a
script), in its package root (the folder above the outermost folder holding an `__init__.py`: where `python -m`
runs from) and in the project root (the configuration's folder). Only files under those folders are followed:
an installed library of the same name is not the project's and stays unknown.

Every file looked at, found or not, is remembered with the hash of its bytes: the per-file result cache stores
them beside the findings and serves the entry only while each still hashes the same (or is still absent), so
editing `models.py`, or creating one, invalidates the cached result of `train.py`.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from tllint.settings import MAX_FILE_SIZE
from tllint.static import prefilter
from tllint.static.outcome import Skipped
from tllint.static.reading import TooLarge, read_limited

Digest = str | None  # the blake2b of a file's bytes; None: absent, unreadable or too large
MAX_FOLLOWED = 3  # files followed in a chain: train.py -> models/__init__.py -> models/factory.py -> ...

# `from X import a, b` (X relative or not) and `import X, Y as Z` at the start of a line, as bytes
_IMPORT = re.compile(rb"^[ \t]*(?:from[ \t]+(\.*[\w.]*)[ \t]+import[ \t]+\(?([\w., \t]*)|import[ \t]+([\w., \t]+))",
                     re.MULTILINE)


def digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def read(path: Path) -> bytes | None:
    """A regular file's bytes up to the size limit, or None."""
    try:
        return read_limited(path, MAX_FILE_SIZE)
    except (OSError, ValueError, TooLarge):
        return None


def current_digest(path: str) -> Digest:
    data = read(Path(path))
    return None if data is None else digest(data)


# What one run saw (files do not change during a run): each folder's names (one listing per folder, as Python's
# own finder caches them, instead of a failed open per candidate), each file's hash, and the files a module name
# may be, in order, for each set of search folders.
_LISTINGS: dict[str, frozenset[str]] = {}
_DIGESTS: dict[str, Digest] = {}
_RESOLVED: dict[tuple[tuple[Path, ...], tuple[str, ...]], tuple[tuple[tuple[str, Digest], ...], int]] = {}


def _listed(folder: str) -> frozenset[str]:
    if folder not in _LISTINGS:
        try:
            _LISTINGS[folder] = frozenset(os.listdir(folder))
        except (OSError, ValueError):
            _LISTINGS[folder] = frozenset()
    return _LISTINGS[folder]


def _digest_of(path: str) -> Digest:
    if path not in _DIGESTS:
        folder, name = os.path.split(path)
        _DIGESTS[path] = current_digest(path) if name in _listed(folder) else None
    return _DIGESTS[path]


def _resolve(bases: tuple[Path, ...], parts: tuple[str, ...]) -> tuple[tuple[tuple[str, Digest], ...], int]:
    """The files a module may be, in Python's order, each with its hash, and the index of the first one present
    (-1 when none is): all of them before it, and it, decide where the import leads."""
    key = (bases, parts)
    if key not in _RESOLVED:
        folders = [os.fspath(base) for base in bases]
        if not parts:
            paths = [os.path.join(folder, "__init__.py") for folder in folders]
        else:
            paths = [path for folder in folders for path in (os.path.join(folder, *parts, "__init__.py"),
                                                              os.path.join(folder, *parts[:-1], f"{parts[-1]}.py"))]
        looked = tuple((path, _digest_of(path)) for path in paths)
        found = next((index for index, (_, hashed) in enumerate(looked) if hashed is not None), -1)
        _RESOLVED[key] = (looked if found < 0 else looked[:found + 1], found)
    return _RESOLVED[key]


def package_root(file: Path) -> Path:
    """The folder above the outermost package holding `file` (its own folder when that is no package)."""
    folder = file.parent
    while (folder / "__init__.py").is_file() and folder.parent != folder:
        folder = folder.parent
    return folder


@dataclass
class ProjectFiles:
    """The imports of one checked (or followed) file: where they are looked for, and every file looked at.

    `used` maps a path to its digest, shared by the files followed from this one so that the checked file's
    cache entry names them all. `depth` counts the files followed to get here."""

    file: Path
    project_root: Path | None
    used: dict[str, Digest] = field(default_factory=dict)
    depth: int = 0
    _roots: tuple[Path, ...] | None = None

    @classmethod
    def of(cls, file: Path, project_root: Path | None) -> ProjectFiles:
        return cls(Path(os.path.abspath(file)), None if project_root is None else Path(os.path.abspath(project_root)))

    def followed(self, file: Path) -> ProjectFiles:
        """The context of a file this one imports: its own folders, the same project and the same `used`."""
        return ProjectFiles(file, self.project_root, self.used, self.depth + 1)

    @property
    def roots(self) -> tuple[Path, ...]:
        """Where an absolute import is looked for, in Python's order (computed on first use: a stat per level)."""
        if self._roots is None:
            candidates = [self.file.parent, package_root(self.file)]
            if self.project_root is not None:
                candidates.append(self.project_root)
            self._roots = tuple(dict.fromkeys(candidates))
        return self._roots

    def module_file(self, module: str) -> tuple[str, str] | None:
        """The file of a dotted module name (`models`, `pkg.models`, `.models`, `..utils.freezing`) and its
        hash, or None when it is not in the project or cannot be read. A package's `__init__.py` comes first, as
        in Python. Every file looked at is remembered in `used`, found or not."""
        level = len(module) - len(module.lstrip("."))
        parts = [part for part in module[level:].split(".") if part]
        if level:
            base = self.file.parent
            for _ in range(level - 1):
                base = base.parent
            bases: tuple[Path, ...] = (base,)
        else:
            bases = self.roots
        looked, found = _resolve(bases, tuple(parts))
        self.used.update(looked)
        return None if found < 0 else (looked[found][0], looked[found][1] or "")

    def dependencies(self) -> tuple[tuple[str, Digest], ...]:
        return tuple(sorted(self.used.items()))

    def imports_training_code(self, data: bytes, codes: frozenset[str], seen: set[Path] | None = None) -> bool:
        """Whether a file that mentions no word of the enabled rules imports a file of the project that does (or
        that imports one in turn): its helpers may hold the training code the rules need (`train.py` that only
        calls `build_model()` and `freeze_backbone(model)`)."""
        seen = set() if seen is None else seen
        seen.add(self.file)
        for module in _imported_modules(data):
            found = self.module_file(module)
            if found is None or Path(found[0]) in seen:
                continue
            path = Path(found[0])
            imported = read(path)
            if imported is not None and (prefilter.triggered(imported, codes) or (
                    self.depth + 1 < MAX_FOLLOWED
                    and self.followed(path).imports_training_code(imported, codes, seen))):
                return True
        return False


def skip_reason(data: bytes, codes: frozenset[str], project: ProjectFiles | None) -> Skipped | None:
    """`prefilter.skip_reason`, except that a file importing training code from the project is analysed."""
    reason = prefilter.skip_reason(data, codes)
    if reason is Skipped.NO_TRAINING_CODE and project is not None and project.imports_training_code(data, codes):
        return None
    return reason


def _imported_modules(data: bytes) -> list[str]:
    """The modules a file's import lines name, and what `from X import a` may name (`X.a`, a submodule); found by
    bytes: a line in a string is a harmless extra look."""
    modules: list[str] = []
    for match in _IMPORT.finditer(data):
        source, names, plain = match.groups()
        if plain is not None:
            modules += [part.split()[0].decode() for part in plain.split(b",") if part.split()]
            continue
        module = source.decode()
        modules.append(module)
        separator = "" if module.endswith(".") else "."
        modules += [module + separator + part.split()[0].decode() for part in names.split(b",") if part.split()]
    return modules
