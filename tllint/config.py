"""Configuration files, as ruff has them: which file governs a path, what it says, and the command line on top.

A file is governed by the closest configuration above it: in each folder, walking up from the file's, the first of
`.tllint.toml`, `tllint.toml` (keys at the top level) and `pyproject.toml` (keys under `[tool.tllint]`; a
`pyproject.toml` without that table is passed over). `--config FILE` names one file for every path, of either
kind. Patterns in `exclude` and `per-file-ignores` are relative to the folder of the file that sets them (the
current folder when there is none). The keys are those of `tllint.settings.SETTINGS`; an unknown key or code is
an error naming it, never ignored.

Rule selection follows ruff's layering: the defaults, then the file, then the command line. A layer that sets
`select` starts afresh; `extend-select` adds; `ignore` removes; within one layer the more specific code or prefix
wins (`select = ["TL0"]`, `ignore = ["TL01"]`, `extend-select = ["TL012"]` keeps TL012).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from types import MappingProxyType
from typing import Any

from tllint.findings.registry import Half, RuleInfo, catalog
from tllint.globs import PerFileIgnores, compile_globs
from tllint.settings import (
    DEFAULT_EXCLUDE,
    SELECTION_KEYS,
    SETTINGS,
    ConfigError,
    combine,
    from_file,
    validate_codes,
)
from tllint.static.rules.parse_error import PARSE_ERROR

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

CONFIG_FILES = (".tllint.toml", "tllint.toml", "pyproject.toml")  # in each folder, the first one present wins
DEFAULT_ORIGIN = "default"
_DEFAULT_SELECTION = MappingProxyType({"select": SETTINGS["select"].default})
_RUNTIME_SELECTION = MappingProxyType({"select": ("TL1",)})  # `tllint audit` / `run` report every runtime code
COMMAND_LINE = "command line"

__all__ = ["CONFIG_FILES", "DEFAULT_EXCLUDE", "Config", "ConfigError", "Layer", "Resolver", "config_file_in",
           "find_config", "load_config", "read_file", "validate_codes"]


@dataclass(frozen=True)
class Layer:
    """The settings one source gives (only the keys it sets), and where they come from."""

    origin: str
    values: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, origin: str, **values: Any) -> Layer:
        """A layer from keyword arguments (`extend_select=("TL012",)` for `extend-select`)."""
        return cls(origin, {key.replace("_", "-"): value for key, value in values.items()})


class Config:
    """The effective settings for the paths one configuration file governs: its layer, then the command line's.

    `Config(select=("TL001",), root=folder)` makes one as a file with those settings would (underscores for
    dashes), for tests and tools."""

    def __init__(self, file: Layer | None = None, cli: Layer | None = None, root: Path | None = None,
                 source: Path | None = None, **settings: Any) -> None:
        if settings:
            file = Layer.of("given", **settings)
        self.file = file or Layer(DEFAULT_ORIGIN)
        self.cli = cli or Layer(COMMAND_LINE)
        self.root = root or Path.cwd()  # the folder that patterns are relative to
        self.source = source
        unknown = set(self.file.values) - SETTINGS.keys()
        if unknown:
            raise TypeError(f"unknown settings: {', '.join(sorted(unknown))}")

    def value(self, key: str) -> Any:
        """A setting's effective value: the command line's, else the file's, else the default; `extend-X` values
        of both layers are added to X (rule selection is layered instead: `enabled_codes`)."""
        setting = SETTINGS[key]
        value = self.cli.values.get(key, self.file.values.get(key, setting.default))
        extension = f"extend-{key}"
        if extension in SETTINGS and key not in SELECTION_KEYS:
            for layer in (self.file, self.cli):
                if extension in layer.values:
                    value = combine(value, layer.values[extension])
        return value

    def origin(self, key: str) -> str:
        for layer in (self.cli, self.file):
            if key in layer.values:
                return layer.origin
        return DEFAULT_ORIGIN

    def enabled_codes(self, half: Half = Half.STATIC) -> frozenset[str]:
        """The codes of `half` that run. Static runs always include TL000: a file that cannot be read is reported
        whatever is selected."""
        infos = [info for info in catalog().values() if info.half is half]
        layers = [_DEFAULT_SELECTION if half is Half.STATIC else _RUNTIME_SELECTION,
                  *(_for_half(values, infos) for values in (self.file.values, self.cli.values))]
        chosen = {info.code for info in infos if _selected(info, layers)}
        if half is Half.STATIC:
            chosen.add(PARSE_ERROR.code)
        return frozenset(chosen)

    def codes_for(self, path: Path | str, codes: frozenset[str]) -> frozenset[str]:
        """`codes` without those `per-file-ignores` disables for `path`."""
        dropped = self._per_file_ignores.dropped(self.relative(path))
        return frozenset(code for code in codes if not code.startswith(dropped)) if dropped else codes

    def excluded(self, path: Path | str) -> bool:
        return self._exclude is not None and self._exclude.match(self.relative(path)) is not None

    @property
    def max_file_size(self) -> int:
        return int(self.value("max-file-size"))

    def relative(self, path: Path | str) -> str:
        """`path` relative to the configuration's folder, with `/`; as given when it lies outside."""
        absolute = os.path.abspath(path)
        relative = os.path.relpath(absolute, self._root)
        if relative == ".." or relative.startswith(".." + os.sep):
            relative = os.fspath(path)
        return relative.replace(os.sep, "/")

    @cached_property
    def _root(self) -> str:
        return os.path.abspath(self.root)

    @cached_property
    def _exclude(self) -> Any:
        return compile_globs(self.value("exclude"))

    @cached_property
    def _per_file_ignores(self) -> PerFileIgnores:
        return PerFileIgnores(self.value("per-file-ignores"))


def _for_half(values: Mapping[str, Any], infos: Sequence[RuleInfo]) -> Mapping[str, Any]:
    """A layer as one half reads it: a `select` that names codes of the other half only (`["TL001"]`, read by
    `tllint audit`) leaves this half at its default; an empty one selects nothing in either."""
    select = values.get("select")
    if not select or any(_most_specific(info.code, select) for info in infos):
        return values
    return {key: value for key, value in values.items() if key != "select"}


def _selected(info: RuleInfo, layers: Iterable[Mapping[str, Any]]) -> bool:
    """Whether the code is on after every layer; a layer with no selector for it leaves it as it was."""
    state = False
    for values in layers:
        select = values.get("select")
        chosen = _most_specific(info.code, (*(select or ()), *values.get("extend-select", ())))
        if chosen is not None and info.opt_in and chosen in ("TL", "TL0"):
            chosen = None  # an opt-in rule runs only when named, or selected by ALL or a narrower prefix
        ignored = _most_specific(info.code, (*values.get("ignore", ()), *values.get("extend-ignore", ())))
        if chosen is not None and (ignored is None or _specificity(chosen) > _specificity(ignored)):
            state = True
        elif ignored is not None or select is not None:
            state = False
    return state


def _most_specific(code: str, selectors: Iterable[str]) -> str | None:
    matching = [s for s in selectors if s == "ALL" or code.startswith(s)]
    return max(matching, key=_specificity) if matching else None


def _specificity(selector: str) -> int:
    return 0 if selector == "ALL" else len(selector)


# --- files ------------------------------------------------------------------------------------------------------

def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError, RecursionError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot read configuration: {error}") from error


def _tllint_table(data: dict[str, Any], path: Path) -> dict[str, Any] | None:
    """The `[tool.tllint]` table, None when absent; an error when `tool` or `tool.tllint` is not a table."""
    tool = data.get("tool")
    if tool is None:
        return None
    if not isinstance(tool, dict):
        raise ConfigError(f"{path}: `tool` must be a table")
    table = tool.get("tllint")
    if table is not None and not isinstance(table, dict):
        raise ConfigError(f"{path}: `[tool.tllint]` must be a table of settings, not {type(table).__name__} "
                          f"{table!r}")
    return table


def read_file(path: Path, explicit: bool = False) -> tuple[dict[str, Any], str]:
    """The settings table of a configuration file and a description of where it was read. `pyproject.toml` (or,
    with `--config`, any file with a `[tool.tllint]` table) holds them under `[tool.tllint]`; `tllint.toml` and
    `.tllint.toml` at the top level."""
    data = _read_toml(path)
    table = _tllint_table(data, path) if path.name == "pyproject.toml" or explicit else None
    if table is not None:
        return table, f"{path} [tool.tllint]"
    if path.name == "pyproject.toml":
        raise ConfigError(f"{path}: has no [tool.tllint] table")
    return data, str(path)


def load_config(path: Path | None, cli: Layer | None = None, explicit: bool = False) -> Config:
    """The configuration a file gives (the defaults for None), with the command-line layer on top."""
    cli = cli or Layer(COMMAND_LINE)
    if path is None:
        return Config(cli=cli)
    table, origin = read_file(path, explicit)
    unknown = sorted(set(table) - SETTINGS.keys())
    if unknown:
        hint = " (this file holds the keys at the top level, without [tool.tllint])" if "tool" in unknown else ""
        raise ConfigError(f"{origin}: unknown key(s) {', '.join(unknown)}{hint}; known: "
                          f"{', '.join(sorted(SETTINGS))}")
    values = {key: from_file(SETTINGS[key], value, f"{origin} {key}") for key, value in table.items()}
    return Config(Layer(origin, values), cli, root=path.parent.absolute(), source=path)


def config_file_in(folder: Path, names: Collection[str] | None = None) -> Path | None:
    """The configuration file of this folder itself, if any (a `pyproject.toml` counts with [tool.tllint] only);
    `names`, when known, are the folder's entries (saving a stat per candidate)."""
    for name in CONFIG_FILES:
        candidate = folder / name
        if (names is not None and name not in names) or not candidate.is_file():
            continue
        if name != "pyproject.toml" or _tllint_table(_read_toml(candidate), candidate) is not None:
            return candidate
    return None


def find_config(start: Path) -> Path | None:
    """The closest configuration file to `start` (a file or a folder), walking up."""
    start = Path(os.path.abspath(start))
    folder = start if start.is_dir() else start.parent
    for candidate in (folder, *folder.parents):
        found = config_file_in(candidate)
        if found is not None:
            return found
    return None


class Resolver:
    """Which configuration governs each path: `--config` for all, else the closest file above it; the command line
    on top. Looked up once per folder."""

    def __init__(self, cli: Layer | None = None, forced: Path | None = None) -> None:
        self.cli = cli or Layer(COMMAND_LINE)
        self.forced = load_config(forced, self.cli, explicit=True) if forced is not None else None
        self._folders: dict[str, Config] = {}
        self._files: dict[Path, Config] = {}

    def for_path(self, path: Path | str, is_dir: bool = False) -> Config:
        absolute = os.path.abspath(path)
        return self.for_folder(absolute if is_dir else os.path.dirname(absolute))

    def for_folder(self, folder: str, names: Collection[str] | None = None) -> Config:
        """The configuration of the files in `folder` (absolute); `names` are its entries, when known."""
        if self.forced is not None:
            return self.forced
        walked = []
        config = None
        current = folder
        while config is None:
            config = self._folders.get(current)
            if config is not None:
                break
            walked.append(current)
            found = config_file_in(Path(current), names if current == folder else None)
            if found is not None:
                config = self._files.get(found) or self._files.setdefault(found, load_config(found, self.cli))
            elif os.path.dirname(current) == current:
                config = self._default()
            else:
                current = os.path.dirname(current)
        for each in walked:
            self._folders[each] = config
        return config

    def _default(self) -> Config:
        return self._files.get(Path()) or self._files.setdefault(Path(), Config(cli=self.cli))
