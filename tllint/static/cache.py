"""Per-file result cache, so that a second run over an unchanged tree costs one read and one hash per file.

An entry is named after the file's path and holds the key it was computed under: a hash of the file's bytes,
the tllint build (its version and the size and mtime of every file of the package, so that an edited checkout
never serves stale results), the Python version (its parser decides what is a syntax error) and the codes enabled
for that file. A lookup that finds another key is a miss,
and the next store overwrites it: the cache grows with the number of files, not with the number of edits.
Anything wrong with the cache (unreadable, corrupt, written by another version, read-only) makes it a miss
or a no-op, never an error: the cache may only make runs faster, never change what they report.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import tllint
from tllint.findings.model import Edit, Finding, Fix, Severity, Span

CACHE_DIR = ".tllint_cache"
FORMAT = 1


@dataclass(frozen=True)
class Cache:
    """A cache folder and the salt (tllint build) its keys are computed with. Picklable, for worker processes."""

    folder: Path
    salt: str

    @classmethod
    def beside(cls, config_source: Path | None) -> Cache:
        """The cache beside the configuration file, or in the current folder when there is none."""
        folder = (config_source.parent if config_source is not None else Path.cwd()) / CACHE_DIR
        return cls(folder, build_fingerprint())

    def key(self, data: bytes, codes: Iterable[str]) -> str:
        digest = hashlib.blake2b(data, digest_size=20)
        digest.update(f"\0{self.salt}\0{','.join(sorted(codes))}".encode())
        return digest.hexdigest()

    def load(self, path: Path, key: str, display: str) -> list[Finding] | None:
        """The findings stored for `path` under `key` (shown as `display`), or None on any miss."""
        try:
            entry = json.loads(self._entry(path).read_bytes())
            if entry["key"] != key or entry["format"] != FORMAT:
                return None
            return [_finding(item, display) for item in entry["findings"]]
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None

    def store(self, path: Path, key: str, findings: list[Finding]) -> None:
        """Write atomically (a reader sees the old entry or the new one); give up silently when it cannot."""
        target = self._entry(path)
        try:
            text = json.dumps({"format": FORMAT, "key": key, "findings": [_record(f) for f in findings]},
                              separators=(",", ":"))
            self._prepare(target.parent)
            handle, temporary = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
        except (OSError, TypeError, ValueError):
            return
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(text)
            os.replace(temporary, target)
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(temporary)

    def _entry(self, path: Path) -> Path:
        name = hashlib.blake2b(os.fsencode(os.path.abspath(path)), digest_size=16).hexdigest()
        return self.folder / f"v{FORMAT}" / name[:2] / name

    def _prepare(self, shard: Path) -> None:
        if not shard.is_dir():
            _ensure_folder(self.folder)
            shard.mkdir(parents=True, exist_ok=True)


def _ensure_folder(folder: Path) -> None:
    """Create the cache folder with a `.gitignore` of `*` and a CACHEDIR.TAG, so that neither git nor backups
    pick it up."""
    folder.mkdir(parents=True, exist_ok=True)
    ignore = folder / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# created by tllint\n*\n", encoding="utf-8")
    tag = folder / "CACHEDIR.TAG"
    if not tag.exists():
        tag.write_text("Signature: 8a477f597d28d172789f06886806bc55\n# created by tllint\n", encoding="utf-8")


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
        fix = [finding.fix.description, [[*_span(e.span), e.replacement] for e in finding.fix.edits]]
    return {"code": finding.code, "name": finding.name, "severity": finding.severity.value,
            "message": finding.message, "span": _span(span), "fix": fix, "cell": finding.cell,
            "extra": finding.extra}


def _span(span: Span) -> list[int]:
    return [span.line, span.column, span.end_line, span.end_column]


def _finding(item: dict[str, Any], display: str) -> Finding:
    fix = None
    if item["fix"] is not None:
        description, edits = item["fix"]
        fix = Fix(description, tuple(Edit(Span(*edit[:4]), edit[4]) for edit in edits))
    return Finding(item["code"], item["name"], Severity(item["severity"]), item["message"], display,
                   Span(*item["span"]), fix=fix, cell=item["cell"], extra=dict(item["extra"]))
