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
from functools import lru_cache
from pathlib import Path

from tllint.settings import MAX_FILE_SIZE
from tllint.static import prefilter
from tllint.static.outcome import Skipped
from tllint.static.reading import TooLarge, read_limited

Digest = str | None  # the blake2b of a file's bytes; None: absent, unreadable or too large
MAX_FOLLOWED = 3  # files followed in a chain: train.py -> models/__init__.py -> models/factory.py -> ...

# `from X import a, b as c` (X relative or not; names in brackets over several lines) and `import X, Y as Z` at the
# start of a line, as bytes
_IMPORT = re.compile(rb"^[ \t]*(?:from[ \t]+(\.*[\w.]*)[ \t]+import[ \t]+(\([^)]*\)|[\w., \t]+)"
                     rb"|import[ \t]+([\w., \t]+))", re.MULTILINE)
_NAME = re.compile(rb"[A-Za-z_][\w.]*")
# The answers of `training_function` and `defines_training_function` for a run. Keys and values are strings and
# tuples of them (no Path, no set): the garbage collector skips them, however many there are.
_FUNCTIONS: dict[tuple[str, str, str, int, str], tuple[bool, tuple[tuple[str, Digest], ...]]] = {}
_TRAINING_FUNCTIONS: dict[tuple[str, str, str, str, int], tuple[bool, tuple[tuple[str, Digest], ...]]] = {}
_DEFINITION = re.compile(rb"^(?:async[ \t]+)?def[ \t]+(\w+)", re.MULTILINE)
_TOP_LEVEL = re.compile(rb"^[A-Za-z_@]", re.MULTILINE)  # a statement at column 0: ends a function
_CHAIN_AT = re.compile(rb"((?:[ \t]*\.[ \t]*\w+)*)[ \t]*\(")  # after a name: `.build(` or `(`
_CALLED = re.compile(rb"(?<![\w.])([A-Za-z_]\w*)[ \t]*\(")


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
_LISTINGS: dict[str, str] = {}  # folder -> "\0name\0name\0"
_DIGESTS: dict[str, Digest] = {}
_RESOLVED: dict[tuple[tuple[str, ...], tuple[str, ...]], tuple[tuple[tuple[str, Digest], ...], int]] = {}


def _listed(folder: str, name: str) -> bool:
    if folder not in _LISTINGS:
        try:
            _LISTINGS[folder] = "\0" + "\0".join(os.listdir(folder)) + "\0"
        except (OSError, ValueError):
            _LISTINGS[folder] = ""
    return f"\0{name}\0" in _LISTINGS[folder]


def _digest_of(path: str) -> Digest:
    if path not in _DIGESTS:
        _DIGESTS[path] = current_digest(path) if _listed(*os.path.split(path)) else None
    return _DIGESTS[path]


def _resolve(folders: tuple[str, ...], parts: tuple[str, ...]) -> tuple[tuple[tuple[str, Digest], ...], int]:
    """The files a module may be, in Python's order, each with its hash, and the index of the first one present
    (-1 when none is): all of them before it, and it, decide where the import leads."""
    key = (folders, parts)
    if key not in _RESOLVED:
        if not parts:
            paths = [os.path.join(folder, "__init__.py") for folder in folders]
        else:
            paths = [path for folder in folders for path in (os.path.join(folder, *parts, "__init__.py"),
                                                              os.path.join(folder, *parts[:-1], f"{parts[-1]}.py"))]
        looked = tuple((path, _digest_of(path)) for path in paths)
        found = next((index for index, (_, hashed) in enumerate(looked) if hashed is not None), -1)
        _RESOLVED[key] = (looked if found < 0 else looked[:found + 1], found)
    return _RESOLVED[key]


@lru_cache(maxsize=4096)
def _roots(folder: str, project_root: str) -> tuple[str, ...]:
    """The checked file's folder (sys.path[0] for a script), its package root (where `python -m` runs from) and
    the project root (none: ""), once each."""
    package_root = folder
    while _listed(package_root, "__init__.py") and os.path.dirname(package_root) != package_root:
        package_root = os.path.dirname(package_root)
    return tuple(dict.fromkeys(path for path in (folder, package_root, project_root) if path))


@dataclass
class ProjectFiles:
    """The imports of one checked (or followed) file: where they are looked for, and every file looked at.

    `used` maps each file looked at to its hash (None: absent); what is looked at on behalf of this file (in the
    files it follows) is added to it, so that the checked file's cache entry names them all. `depth` counts the
    files followed to get here."""

    file: str  # absolute
    project_root: str  # absolute; "" when none
    codes: frozenset[str]  # the enabled rules: a file that leads to none of their words is not followed
    used: dict[str, Digest] = field(default_factory=dict)
    depth: int = 0
    answers: dict[str, bool] = field(default_factory=dict)  # `training_function`'s, for this file

    @classmethod
    def of(cls, file: Path, project_root: Path | None, codes: frozenset[str]) -> ProjectFiles:
        return cls(os.path.abspath(file), "" if project_root is None else os.path.abspath(project_root), codes)

    def followed(self, file: str) -> ProjectFiles:
        """The context of a file this one imports: its own folders, the same project, a `used` of its own."""
        return ProjectFiles(file, self.project_root, self.codes, depth=self.depth + 1)

    @property
    def folder(self) -> str:
        return os.path.dirname(self.file)

    @property
    def codes_key(self) -> str:
        return ",".join(sorted(self.codes))

    @property
    def roots(self) -> tuple[str, ...]:
        """Where an absolute import is looked for, in Python's order."""
        return _roots(self.folder, self.project_root)

    def module_file(self, module: str) -> tuple[str, str] | None:
        """The file of a dotted module name (`models`, `pkg.models`, `.models`, `..utils.freezing`) and its
        hash, or None when it is not in the project or cannot be read. A package's `__init__.py` comes first, as
        in Python. Every file looked at is remembered in `used`, found or not."""
        level = len(module) - len(module.lstrip("."))
        parts = [part for part in module[level:].split(".") if part]
        if level:
            base = self.folder
            for _ in range(level - 1):
                base = os.path.dirname(base)
            bases: tuple[str, ...] = (base,)
        else:
            bases = self.roots
        looked, found = _resolve(bases, tuple(parts))
        self.used.update(looked)
        return None if found < 0 else (looked[found][0], looked[found][1] or "")

    def dependencies(self) -> tuple[tuple[str, Digest], ...]:
        return tuple(sorted(self.used.items()))

    def uses_training_code(self, data: bytes) -> bool:
        """Whether a file calls a function of the project that holds training code (`training_function`): then it
        is analysed though it mentions no word of the enabled rules itself (`train.py` that only calls
        `build_model()` and `freeze_backbone(model)`)."""
        return any(self.training_function(target + rest.decode())
                   for local, target in _imports(data) for rest in _uses(data, local))

    def function_file(self, name: str) -> tuple[str, str] | None:
        """The file of the module a called dotted name (`models.build_model`, `.models.build`) is taken from."""
        level = len(name) - len(name.lstrip("."))
        module, _, attr = name[level:].rpartition(".")
        return self.module_file("." * level + module) if attr and (module or level) else None

    def training_function(self, name: str) -> bool:
        """Whether a called dotted name is a module-level function of the project whose text mentions a word of
        the enabled rules, or a name imported with one (`resnet18` from `torchvision.models`), or calls such a
        function (of its file, or of the project up to MAX_FOLLOWED files deep). Read from the bytes, before any
        parse, once per run: only such helpers are worth parsing their file for. The files looked at are added to
        `used`."""
        if name in self.answers:  # asked before for this file: nothing new to record
            return self.answers[name]
        key = (self.folder, self.project_root, self.codes_key, self.depth, name)  # all a lookup depends on
        if key not in _FUNCTIONS:
            looking = ProjectFiles(self.file, self.project_root, self.codes, depth=self.depth)
            found = looking.function_file(name)
            result = False
            if found is not None:
                imported = looking.followed(found[0])
                result = imported.defines_training_function(found[1], name.rpartition(".")[2])
                looking.used.update(imported.used)
            _FUNCTIONS[key] = result, tuple(looking.used.items())
        result, used = _FUNCTIONS[key]
        self.used.update(used)
        self.answers[name] = result
        return result

    def defines_training_function(self, hashed: str, name: str) -> bool:
        """`training_function` for a name of this file. Each file followed is one deeper (up to MAX_FOLLOWED), so
        an import cycle ends there and every answer is the same whatever was asked first."""
        key = (self.file, hashed, name, self.codes_key, self.depth)
        if key not in _TRAINING_FUNCTIONS:
            _TRAINING_FUNCTIONS[key] = self._defines_training_function(hashed, name), tuple(self.used.items())
        found, used = _TRAINING_FUNCTIONS[key]
        self.used.update(used)
        return found

    def _defines_training_function(self, hashed: str, name: str) -> bool:
        data = read(Path(self.file))
        if data is None or digest(data) != hashed:
            return False
        definitions = _definitions(data)
        imports = _imports(data)
        if name not in definitions:  # re-exported (`from .factory import build` in a package's __init__.py)
            return self.depth < MAX_FOLLOWED and any(
                self.training_function(target) for local, target in imports if local == name.encode())
        pending, seen = [name], {name}
        while pending:
            body = definitions[pending.pop()]
            if prefilter.triggered(body, self.codes):
                return True
            for local, target in imports:
                if local in body and prefilter.triggered(target.encode(), self.codes) and _mentions(body, local):
                    return True
                if self.depth < MAX_FOLLOWED and any(self.training_function(target + rest.decode())
                                                     for rest in _uses(body, local)):
                    return True
            for called in _called_names(body):
                if called in definitions and called not in seen:
                    seen.add(called)
                    pending.append(called)
        return False


def skip_reason(data: bytes, codes: frozenset[str], project: ProjectFiles | None, notebook: bool = False
                ) -> Skipped | None:
    """`prefilter.skip_reason`, except that a file using training code from the project is analysed."""
    reason = prefilter.skip_reason(data, codes, notebook)
    if reason is Skipped.NO_TRAINING_CODE and project is not None and project.uses_training_code(data):
        return None
    return reason


@lru_cache(maxsize=256)
def _imports(data: bytes) -> tuple[tuple[bytes, str], ...]:
    """(the name an import binds, what it names) for each import in a file's bytes: `import a.b` binds `a` to
    `a`, `import a.b as M` binds `M` to `a.b`, `from .m import f as g` binds `g` to `.m.f`. Found by bytes: an
    import written in a string is a harmless extra look."""
    bound: list[tuple[bytes, str]] = []
    for match in _IMPORT.finditer(data):
        source, names, plain = match.groups()
        for part in (plain if plain is not None else names.strip(b"()")).split(b","):
            words = part.split()
            if not words or not _NAME.fullmatch(words[0]):
                continue
            local = words[2] if len(words) == 3 and words[1] == b"as" else words[0].split(b".")[0]
            if plain is not None:
                bound.append((local, (words[0] if len(words) == 3 else local).decode()))
            else:
                module = source.decode()
                bound.append((local, module + ("" if module.endswith(".") else ".") + words[0].decode()))
    return tuple(bound)


@lru_cache(maxsize=1024)
def _uses(data: bytes, local: bytes) -> frozenset[bytes]:
    """The attribute chains after each call of an imported name: `{b""}` for `f(...)`, `{b".build"}` for
    `M.build(...)` (a substring search, then a match at each place: much faster than a scan for every call)."""
    rests: set[bytes] = set()
    at = data.find(local)
    while at >= 0:
        end = at + len(local)
        if at == 0 or not (data[at - 1:at].isalnum() or data[at - 1:at] in b"_."):
            chain = _CHAIN_AT.match(data, end)
            if chain is not None:
                rests.add(re.sub(rb"\s", b"", chain.group(1)))
        at = data.find(local, end)
    return frozenset(rests)


def _called_names(body: bytes) -> set[str]:
    """The plain names a function's text calls (`_make_head(...)`): same-file helpers it may run."""
    return {match.group(1).decode() for match in _CALLED.finditer(body)}


def _mentions(data: bytes, local: bytes) -> bool:
    return re.search(rb"(?<![\w.])" + re.escape(local) + rb"\b", data) is not None


@lru_cache(maxsize=256)
def _definitions(data: bytes) -> dict[str, bytes]:
    """The module-level functions of a file's bytes, each with its text (to the next statement at column 0)."""
    definitions: dict[str, bytes] = {}
    for match in _DEFINITION.finditer(data):
        end = _TOP_LEVEL.search(data, match.end())
        definitions.setdefault(match.group(1).decode(), data[match.start():end.start() if end else len(data)])
    return definitions
