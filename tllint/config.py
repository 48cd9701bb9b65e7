"""`[tool.tllint]` configuration: which codes run, per-file ignores and excludes.

The file is found by walking up from the checked paths (the first `pyproject.toml` with a `[tool.tllint]`
table wins); `--config FILE` names it explicitly. Unknown keys or codes are errors, never ignored silently.
"""

from __future__ import annotations

import fnmatch
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from tllint.findings.registry import Half, catalog
from tllint.static.rules.parse_error import PARSE_ERROR

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

KNOWN_KEYS = frozenset({"select", "ignore", "extend-select", "per-file-ignores", "exclude"})
DEFAULT_EXCLUDE = (".git", ".hg", ".svn", ".venv", "venv", ".tox", ".nox", "__pycache__", "build", "dist",
                   "node_modules", ".eggs", "*.egg-info", ".mypy_cache", ".pytest_cache", ".ruff_cache",
                   ".tllint_cache", "site-packages")


class ConfigError(Exception):
    """A configuration problem the user must fix; the CLI exits 2 with this message."""


@dataclass(frozen=True)
class Config:
    select: tuple[str, ...] = ("TL0",)
    ignore: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()
    per_file_ignores: dict[str, tuple[str, ...]] = field(default_factory=dict)
    exclude: tuple[str, ...] = ()
    root: Path = field(default_factory=Path.cwd)  # the folder paths in `exclude` and per-file-ignores are relative to
    source: Path | None = None

    def enabled_codes(self) -> frozenset[str]:
        """Static codes that run: selected by code or prefix; opt-in rules only when named or selected by an
        explicit prefix other than the family default."""
        chosen = set()
        for info in catalog().values():
            if info.half is not Half.STATIC:
                continue
            selectors = self.select + self.extend_select
            hit = _most_specific(info.code, selectors)
            if hit is None or (info.opt_in and hit in ("TL", "TL0")):
                continue
            ignored = _most_specific(info.code, self.ignore)
            if ignored is not None and len(ignored) >= len(hit):
                continue
            chosen.add(info.code)
        chosen.add(PARSE_ERROR.code)  # a file that cannot be read is reported whatever is selected
        return frozenset(chosen)

    def runtime_codes(self) -> frozenset[str]:
        """Runtime codes that report (`tllint audit`, `tllint run`): every one unless `select` names some
        (a selection of static codes only leaves the runtime default, `TL1`), minus `ignore`."""
        codes = [info.code for info in catalog().values() if info.half is Half.RUNTIME]
        selectors = self.select + self.extend_select
        if not any(_most_specific(code, selectors) for code in codes):
            selectors = (*selectors, "TL1")
        chosen = set()
        for code in codes:
            hit = _most_specific(code, selectors)
            ignored = _most_specific(code, self.ignore)
            if hit is not None and (ignored is None or len(ignored) < len(hit)):
                chosen.add(code)
        return frozenset(chosen)

    def codes_for(self, path: Path, codes: frozenset[str]) -> frozenset[str]:
        relative = _relative(path, self.root)
        dropped = {code for pattern, ignores in self.per_file_ignores.items() if _matches(relative, pattern)
                   for code in codes if any(code.startswith(i) for i in ignores)}
        return codes - dropped

    def excluded(self, path: Path) -> bool:
        relative = _relative(path, self.root)
        return any(_matches(relative, pattern) for pattern in self.exclude)


def _most_specific(code: str, prefixes: Iterable[str]) -> str | None:
    matching = [p for p in prefixes if code.startswith(p) or p == "ALL"]
    return max(matching, key=lambda p: 0 if p == "ALL" else len(p)) if matching else None


def _relative(path: Path, root: Path) -> PurePosixPath:
    try:
        return PurePosixPath(path.resolve().relative_to(root.resolve()).as_posix())
    except ValueError:
        return PurePosixPath(path.as_posix())


def _matches(path: PurePosixPath, pattern: str) -> bool:
    """A glob against the whole relative path, or against any trailing part / directory name."""
    pattern = pattern.rstrip("/")
    text = str(path)
    if fnmatch.fnmatch(text, pattern) or fnmatch.fnmatch(text, f"{pattern}/*"):
        return True
    parts = path.parts
    return any(fnmatch.fnmatch(part, pattern) for part in parts) or any(
        fnmatch.fnmatch("/".join(parts[i:]), pattern) for i in range(1, len(parts))
    )


def validate_codes(codes: Iterable[str], where: str) -> tuple[str, ...]:
    """Codes or code prefixes (`TL001`, `TL0`, `TL`, `ALL`); anything else is an error naming it."""
    out = []
    for raw in codes:
        code = raw.strip().upper()
        if not code:
            continue
        if code != "ALL" and not any(known.startswith(code) for known in catalog()):
            raise ConfigError(f"{where}: unknown rule code or prefix {raw!r}; `tllint rule --all` lists them")
        out.append(code)
    return tuple(out)


def find_config(paths: Sequence[Path]) -> Path | None:
    """The nearest pyproject.toml with a [tool.tllint] table, walking up from the first checked path."""
    start = (paths[0] if paths else Path.cwd()).resolve()
    folder = start if start.is_dir() else start.parent
    for candidate in (folder, *folder.parents):
        pyproject = candidate / "pyproject.toml"
        if pyproject.is_file() and "tool" in (data := _read_toml(pyproject)) and "tllint" in data["tool"]:
            return pyproject
    return None


def _read_toml(path: Path) -> dict:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"{path}: cannot read configuration: {error}") from error


def load_config(path: Path | None) -> Config:
    if path is None:
        return Config()
    data = _read_toml(path)
    table = data.get("tool", {}).get("tllint", {}) if path.name == "pyproject.toml" else data
    if path.name == "pyproject.toml" and "tllint" not in data.get("tool", {}):
        raise ConfigError(f"{path}: has no [tool.tllint] table")
    unknown = sorted(set(table) - KNOWN_KEYS)
    if unknown:
        raise ConfigError(f"{path}: unknown key(s) in [tool.tllint]: {', '.join(unknown)} "
                          f"(known: {', '.join(sorted(KNOWN_KEYS))})")
    where = f"{path} [tool.tllint]"
    per_file = table.get("per-file-ignores", {})
    if not isinstance(per_file, dict):
        raise ConfigError(f"{where}: per-file-ignores must be a table of glob = [codes]")
    return Config(
        select=validate_codes(_strings(table, "select", where), f"{where} select") or ("TL0",),
        ignore=validate_codes(_strings(table, "ignore", where), f"{where} ignore"),
        extend_select=validate_codes(_strings(table, "extend-select", where), f"{where} extend-select"),
        per_file_ignores={glob: validate_codes(codes, f"{where} per-file-ignores") for glob, codes in
                          ((g, _string_list(c, f"{where} per-file-ignores.{g}")) for g, c in per_file.items())},
        exclude=_strings(table, "exclude", where),
        root=path.parent,
        source=path,
    )


def _strings(table: dict, key: str, where: str) -> tuple[str, ...]:
    return _string_list(table.get(key, []), f"{where} {key}")


def _string_list(value: object, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: expected a list of strings")
    return tuple(value)
