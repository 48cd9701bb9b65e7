"""Every setting of `tllint check`, declared once: its configuration key, its command-line option, its kind, its
default and its help.

The configuration files read their keys from this table and `tllint check` builds its options from it, so a new
setting is one entry here (and the code that reads its value): no flag is threaded by hand through the CLI. The
kind says how a value is written in TOML and on the command line and how it is validated; an `extend-X` key adds
to `X` instead of replacing it, as in ruff.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from tllint.findings.registry import catalog
from tllint.static.rules.parse_error import PARSE_ERROR


class ConfigError(Exception):
    """A configuration or usage problem the user must fix; the CLI exits 2 with this message."""


class Kind(enum.Enum):
    CODES = "codes"  # rule codes or prefixes: TOML ["TL01", "TL0"]; command line "TL01,TL0"
    GLOBS = "globs"  # path patterns: TOML ["legacy", "*_pb2.py"]; command line "legacy,*_pb2.py"
    PER_FILE = "per-file"  # TOML {"tests/*.py" = ["TL01"]}; command line "tests/*.py:TL01" (repeatable)
    SIZE = "size"  # bytes: TOML 10000000 or "10MB"; command line "10MB"
    FLAG = "flag"  # TOML true/false; command line --KEY / --no-KEY


@dataclass(frozen=True)
class Setting:
    key: str  # the configuration key; the option is `--KEY`
    kind: Kind
    help: str
    default: Any = None
    option: bool = True  # also an option of `tllint check`

    @property
    def extends(self) -> str | None:
        """The key an `extend-X` setting adds to."""
        return self.key.removeprefix("extend-") if self.key.startswith("extend-") else None


DEFAULT_EXCLUDE = (".git", ".hg", ".svn", ".venv", "venv", ".tox", ".nox", "__pycache__", "build", "dist",
                   "node_modules", ".eggs", "*.egg-info", ".mypy_cache", ".pytest_cache", ".ruff_cache",
                   ".tllint_cache", "site-packages", ".ipynb_checkpoints")
DEFAULT_SELECT = ("TL0",)
MAX_FILE_SIZE = 10_000_000

SETTINGS: dict[str, Setting] = {setting.key: setting for setting in (
    Setting("select", Kind.CODES, "Codes or prefixes to enable (replaces the configured selection).",
            DEFAULT_SELECT),
    Setting("extend-select", Kind.CODES, "Codes or prefixes to enable on top of the selection.", ()),
    Setting("ignore", Kind.CODES, "Codes or prefixes to disable.", ()),
    Setting("extend-ignore", Kind.CODES, "Codes or prefixes to disable on top of `ignore`.", (), option=False),
    Setting("per-file-ignores", Kind.PER_FILE, "Codes to disable in the files a glob matches: a table of glob = "
            "[codes]; GLOB:CODES on the command line (replaces the configured table).", {}),
    Setting("extend-per-file-ignores", Kind.PER_FILE, "More glob = [codes] pairs, added to per-file-ignores.", {}),
    Setting("exclude", Kind.GLOBS, "Path patterns not to check (replaces the default list).", DEFAULT_EXCLUDE),
    Setting("extend-exclude", Kind.GLOBS, "Path patterns not to check, on top of `exclude`.", ()),
    Setting("max-file-size", Kind.SIZE, f"Files larger than this are reported as {PARSE_ERROR.code} and not read "
            "(bytes, or a number with kB/MB/GB).", MAX_FILE_SIZE),
    Setting("fix", Kind.FLAG, "Apply the safe fixes to the files, then report what remains.", False),
    Setting("unsafe-fixes", Kind.FLAG, "Also apply (with fix) or show the unsafe fixes, which change what trains.",
            False),
    Setting("fixable", Kind.CODES, "Codes or prefixes whose fixes may be applied.", ("ALL",)),
    Setting("unfixable", Kind.CODES, "Codes or prefixes whose fixes are never applied (wins over `fixable`).",
            ()),
)}
SELECTION_KEYS = ("select", "extend-select", "ignore", "extend-ignore")


def from_file(setting: Setting, value: object, where: str) -> Any:
    """A value as written in TOML, validated; `where` names the file and key in errors."""
    if setting.kind is Kind.CODES:
        return validate_codes(_string_list(value, where), where)
    if setting.kind is Kind.GLOBS:
        return _string_list(value, where)
    if setting.kind is Kind.PER_FILE:
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a table of glob = [codes]")
        return {glob: validate_codes(_string_list(codes, f"{where}.{glob}"), f"{where}.{glob}")
                for glob, codes in value.items()}
    if setting.kind is Kind.SIZE:
        return parse_size(value, where)
    if not isinstance(value, bool):
        raise ConfigError(f"{where}: expected true or false")
    return value


def from_option(setting: Setting, value: Any) -> Any:
    """A command-line value (a tuple of the strings given, or a flag's bool) as the setting's value."""
    where = f"--{setting.key}"
    if setting.kind is Kind.FLAG:
        return value
    if setting.kind is Kind.SIZE:
        return parse_size(value[-1], where)
    items = [item.strip() for text in value for item in text.split(",")]
    if not any(items):
        raise ConfigError(f"{where} needs at least one value (it was given an empty list)")
    if setting.kind is Kind.CODES:
        return validate_codes(items, where)
    if setting.kind is Kind.GLOBS:
        return tuple(item for item in items if item)
    return _per_file_pairs(items, where)


def _per_file_pairs(items: list[str], where: str) -> dict[str, tuple[str, ...]]:
    """`GLOB:CODE` items; an item without a colon adds a code to the glob before it (`tests/*:TL001,TL002`)."""
    table: dict[str, list[str]] = {}
    glob = None
    for item in filter(None, items):
        if ":" in item:
            glob, _, code = item.rpartition(":")
        elif glob is None:
            raise ConfigError(f"{where}: expected GLOB:CODES, got {item!r}")
        else:
            code = item
        table.setdefault(glob, []).append(code)
    return {glob: validate_codes(codes, f"{where} {glob}") for glob, codes in table.items()}


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


_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*(b|kb|mb|gb|kib|mib|gib)?", re.IGNORECASE)
_UNITS = {None: 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "kib": 2**10, "mib": 2**20, "gib": 2**30}


def parse_size(value: object, where: str) -> int:
    """Bytes from `10000000`, `"10MB"`, `"512 KiB"`."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    match = _SIZE.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is None or float(match.group(1)) <= 0:
        raise ConfigError(f"{where}: expected a size in bytes or with a unit (10MB, 512kB), got {value!r}")
    return int(float(match.group(1)) * _UNITS[(match.group(2) or "b").lower()])


def _string_list(value: object, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: expected a list of strings")
    return tuple(value)


def combine(base: Any, extension: Any) -> Any:
    """`extend-X` on top of `X`: lists concatenate, per-file tables merge by glob."""
    if isinstance(base, Mapping):
        merged = {glob: tuple(codes) for glob, codes in base.items()}
        for glob, codes in extension.items():
            merged[glob] = merged.get(glob, ()) + tuple(codes)
        return merged
    return tuple(base) + tuple(extension)


def render(value: Any) -> str:
    """A value as TOML would write it (for `--show-settings`)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{_quote(glob)} = {render(codes)}" for glob, codes in value.items()) + "}"
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_quote(item) for item in value) + "]"
    return str(value)


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
