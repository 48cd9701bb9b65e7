"""Per-file result cache, so that a second run over an unchanged tree costs one read and one hash per file.

An entry is named after the file's path and holds the key it was computed under: a hash of the file's bytes,
the tllint build (its version and the size and mtime of every file of the package, so that an edited checkout
never serves stale results), the Python version (its parser decides what is a syntax error) and the codes enabled
for that file. Beside the findings, an entry names the other files of the project the analysis looked at (the
helpers it followed, and where it looked for them) with the hash each had, None where none was there: it is served
only while each still hashes the same, so editing `models.py` (or creating one) makes `train.py`'s entry stale. A
lookup that finds another key is a miss, and the next store overwrites it: the cache grows with the number of files,
not with the number of edits. Anything wrong with the cache (unreadable, corrupt, written by
another version, read-only) makes it a miss or a no-op, never an error: the cache may only make runs faster, never
change what they report.

The cache folder sits in the user's tree, which may come from anyone: a committed `.tllint_cache`, or anything in
it, can be a symbolic link. So every folder and file in it is opened relative to its parent's descriptor without
following links (a link inside is a miss and is never written through: a check writes nothing outside the cache
folder), a cache folder that is itself a link turns the cache off for the run with a warning, and an entry is used
only when its whole shape is right (any other JSON, however valid, is a miss).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import tllint
from tllint.findings.model import Applicability, Edit, Finding, Fix, Severity, Span
from tllint.findings.registry import catalog
from tllint.static.project import current_digest

CACHE_DIR = ".tllint_cache"
FORMAT = 1
MAX_ENTRY = 16_000_000  # bytes: an entry holds the findings of one file under the size limit
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
_DIRECTORY = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | _NOFOLLOW
_READ = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | _NOFOLLOW
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW
SUPPORTED = (hasattr(os, "O_NOFOLLOW") and hasattr(os, "O_DIRECTORY") and os.open in os.supports_dir_fd
             and os.mkdir in os.supports_dir_fd)
_MARKERS = {".gitignore": "# created by tllint\n*\n",
            "CACHEDIR.TAG": "Signature: 8a477f597d28d172789f06886806bc55\n# created by tllint\n"}


@dataclass(frozen=True)
class Cache:
    """A cache folder and the salt (tllint build) its keys are computed with. Picklable, for worker processes."""

    folder: Path
    salt: str

    @staticmethod
    def folder_beside(config_source: Path | None) -> Path:
        """The cache folder beside the configuration file, or in the current folder when there is none."""
        return (config_source.parent if config_source is not None else Path.cwd()) / CACHE_DIR

    @classmethod
    def open(cls, folder: Path, warn: Callable[[str], None] | None = None) -> Cache | None:
        """The cache in `folder`; None (no cache) where links cannot be refused safely, and, with a warning, when
        `folder` is a symbolic link."""
        if not SUPPORTED:
            return None
        try:
            if stat.S_ISLNK(os.lstat(folder).st_mode):
                if warn is not None:
                    warn(f"{folder} is a symbolic link; the cache is off for this run (tllint never writes "
                         "through a link)")
                return None
        except OSError:
            pass  # absent: created by the first store; unusable: every lookup misses
        return cls(folder, build_fingerprint())

    def key(self, data: bytes, codes: Iterable[str]) -> str:
        digest = hashlib.blake2b(data, digest_size=20)
        digest.update(f"\0{self.salt}\0{','.join(sorted(codes))}".encode())
        return digest.hexdigest()

    def load(self, path: Path, key: str, display: str) -> list[Finding] | None:
        """The findings stored for `path` under `key` (shown as `display`), or None on any miss."""
        shard, name = self._entry(path)
        try:
            with _Folders(self.folder, shard, create=False) as folder:
                raw = _read(name, folder.descriptor)
            entry = json.loads(raw)
            if not _valid(entry) or entry["key"] != key:
                return None
            if any(current_digest(used) != hashed for used, hashed in entry["dependencies"]):
                return None
            return [_finding(item, display) for item in entry["findings"]]
        except Exception:  # unreadable, a link, not JSON, nested too deeply: a miss
            return None

    def store(self, path: Path, key: str, findings: list[Finding],
              dependencies: Iterable[tuple[str, str | None]] = ()) -> None:
        """Write atomically (a reader sees the old entry or the new one); give up silently when it cannot."""
        shard, name = self._entry(path)
        try:
            text = json.dumps({"format": FORMAT, "key": key, "dependencies": [list(d) for d in dependencies],
                               "findings": [_record(f) for f in findings]}, separators=(",", ":"))
            with _Folders(self.folder, shard, create=True) as folder:
                _write_atomically(name, text.encode(), folder.descriptor)
        except (OSError, TypeError, ValueError):
            return

    def _entry(self, path: Path) -> tuple[tuple[str, str], str]:
        name = hashlib.blake2b(os.fsencode(os.path.abspath(path)), digest_size=16).hexdigest()
        return (f"v{FORMAT}", name[:2]), name


class _Folders:
    """The descriptor of `folder/v1/ab`, each level opened without following links, and created when asked (the
    top one with a `.gitignore` of `*` and a CACHEDIR.TAG, so that neither git nor backups pick it up)."""

    def __init__(self, folder: Path, below: tuple[str, ...], create: bool) -> None:
        self.folder, self.below, self.create = folder, below, create
        self.descriptor = -1
        self._opened: list[int] = []

    def __enter__(self) -> _Folders:
        try:
            descriptor = self._open(os.fspath(self.folder), None)
            for name in self.below:
                descriptor = self._open(name, descriptor)
        except BaseException:
            self.__exit__()
            raise
        self.descriptor = descriptor
        return self

    def __exit__(self, *_: object) -> None:
        for descriptor in self._opened:
            with contextlib.suppress(OSError):
                os.close(descriptor)
        self._opened.clear()

    def _open(self, name: str, parent: int | None) -> int:
        try:
            descriptor = os.open(name, _DIRECTORY, dir_fd=parent)
        except FileNotFoundError:
            if not self.create:
                raise
            with contextlib.suppress(FileExistsError):
                os.mkdir(name, 0o755, dir_fd=parent)
            descriptor = os.open(name, _DIRECTORY, dir_fd=parent)
            self._opened.append(descriptor)
            if parent is None:
                for marker, text in _MARKERS.items():
                    _create(marker, text.encode(), descriptor)
            return descriptor
        self._opened.append(descriptor)
        return descriptor


def _read(name: str, folder: int) -> bytes:
    """A regular file's bytes: a link, a FIFO or anything over MAX_ENTRY is an OSError (a miss)."""
    descriptor = os.open(name, _READ, dir_fd=folder)
    with open(descriptor, "rb", closefd=True) as handle:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_ENTRY:
            raise OSError(f"{name}: not a cache entry")
        return handle.read(MAX_ENTRY + 1)


def _create(name: str, data: bytes, folder: int) -> None:
    """A new file: an existing one (or a link of that name) is left as it is."""
    try:
        descriptor = os.open(name, _CREATE, 0o644, dir_fd=folder)
    except FileExistsError:
        return
    with open(descriptor, "wb", closefd=True) as out:
        out.write(data)


def _write_atomically(name: str, data: bytes, folder: int) -> None:
    """A new temporary file renamed over `name`: the rename replaces a link of that name, never follows it."""
    temporary = f"{name}.{os.getpid()}.{os.urandom(4).hex()}.tmp"
    descriptor = os.open(temporary, _CREATE, 0o644, dir_fd=folder)
    try:
        with open(descriptor, "wb", closefd=True) as out:
            out.write(data)
        os.replace(temporary, name, src_dir_fd=folder, dst_dir_fd=folder)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temporary, dir_fd=folder)
        raise


@cache
def build_fingerprint() -> str:
    """The tllint version, the Python version, and the size and mtime of each file of the package: stat calls only,
    no reads."""
    root = Path(tllint.__file__).parent
    parts = [tllint.__version__, f"python {sys.version_info.major}.{sys.version_info.minor}"]
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            stat = os.stat(os.path.join(folder, name))
            parts.append(f"{os.path.relpath(os.path.join(folder, name), root)}:{stat.st_size}:{stat.st_mtime_ns}")
    return hashlib.blake2b("\n".join(parts).encode(), digest_size=16).hexdigest()


def _record(finding: Finding) -> dict[str, Any]:
    span = finding.span
    fix = None
    if finding.fix is not None:
        fix = [finding.fix.description, [[*_span(e.span), e.replacement, e.cell] for e in finding.fix.edits],
               finding.fix.applicability.value]
    return {"code": finding.code, "name": finding.name, "severity": finding.severity.value,
            "message": finding.message, "span": _span(span), "fix": fix, "cell": finding.cell,
            "extra": finding.extra}


def _span(span: Span) -> list[int]:
    return [span.line, span.column, span.end_line, span.end_column]


def _finding(item: dict[str, Any], display: str) -> Finding:
    fix = None
    if item["fix"] is not None:
        description, edits, applicability = item["fix"]
        fix = Fix(description, tuple(Edit(Span(*edit[:4]), edit[4], edit[5]) for edit in edits),
                  Applicability(applicability))
    return Finding(item["code"], item["name"], Severity(item["severity"]), item["message"], display,
                   Span(*item["span"]), fix=fix, cell=item["cell"], extra=dict(item["extra"]))


_FIELDS = {"code", "name", "severity", "message", "span", "fix", "cell", "extra"}
_SEVERITIES = {severity.value for severity in Severity}
_APPLICABILITIES = {applicability.value for applicability in Applicability}


def _valid(entry: Any) -> bool:
    """The whole shape of an entry, every field and type, before anything reads it."""
    return (isinstance(entry, dict) and entry.keys() == {"format", "key", "dependencies", "findings"}
            and entry["format"] == FORMAT and isinstance(entry["key"], str)
            and isinstance(entry["dependencies"], list) and all(_valid_dependency(d) for d in entry["dependencies"])
            and isinstance(entry["findings"], list) and all(_valid_finding(item) for item in entry["findings"]))


def _valid_dependency(item: Any) -> bool:
    return (isinstance(item, list) and len(item) == 2 and isinstance(item[0], str)
            and (item[1] is None or isinstance(item[1], str)))


def _valid_finding(item: Any) -> bool:
    if not (isinstance(item, dict) and item.keys() == _FIELDS):
        return False
    known = catalog().get(item["code"]) if isinstance(item["code"], str) else None
    return (known is not None and item["name"] == known.name and item["severity"] in _SEVERITIES
            and isinstance(item["message"], str) and _valid_span(item["span"])
            and (item["fix"] is None or _valid_fix(item["fix"]))
            and (item["cell"] is None or _integer(item["cell"]))
            and isinstance(item["extra"], dict) and isinstance(item["extra"].get("source_line", ""), str)
            and all(isinstance(v, str | int | float | bool | None) for v in item["extra"].values()))


def _valid_fix(fix: Any) -> bool:
    return (isinstance(fix, list) and len(fix) == 3 and isinstance(fix[0], str) and isinstance(fix[1], list)
            and fix[2] in _APPLICABILITIES
            and all(isinstance(e, list) and len(e) == 6 and _valid_span(e[:4]) and isinstance(e[4], str)
                    and (e[5] is None or _integer(e[5]))
                    for e in fix[1]))


def _valid_span(span: Any) -> bool:
    return isinstance(span, list) and len(span) == 4 and all(_integer(n) and n >= 0 for n in span)


def _integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
