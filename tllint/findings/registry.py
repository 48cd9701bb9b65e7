"""The rule registry: each rule declares itself once, in its own module, and everything else derives from that.

A rule module lives under `tllint/static/rules/` (checked by `tllint check`) or `tllint/runtime/rules/` (the
audit). It holds one `@rule(...)` check whose function name is the rule's name, and its docstring is the rule's
page. Modules are discovered by scanning those two packages: there is no list to keep.

Importing every rule module costs more than a pre-commit run on an unchanged file may pay (the facts model that
static rules read is some 15 ms of dataclass creation), so what that path needs (codes, names, severities,
summaries, trigger words) is read from `index.json`, which `tools/generate.py` derives from the modules and the
contract test keeps in step with them.
"""

from __future__ import annotations

import enum
import importlib
import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

from tllint.findings.model import Applicability, Fix, Severity

RULE_PACKAGES = {"static": "tllint.static.rules", "runtime": "tllint.runtime.rules"}
INDEX_FILE = "index.json"


class Half(str, enum.Enum):
    """Which half of tllint reports a code."""

    STATIC = "static"
    RUNTIME = "runtime"


@dataclass(frozen=True)
class RuleInfo:
    """What selecting, pre-filtering and rendering need to know of a rule, without importing it."""

    code: str
    name: str
    severity: Severity
    half: Half
    summary: str
    triggers: tuple[str, ...] = ()  # a file that contains none of these words cannot hold the finding
    opt_in: bool = False  # runs only when selected by its code (or a prefix narrower than the family's)
    module: str = ""
    fix: Applicability | None = None  # the kind of fix the rule offers where it can make one; None: never fixed

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "name": self.name, "severity": self.severity.value, "half": self.half.value,
                "summary": self.summary, "triggers": list(self.triggers), "opt_in": self.opt_in,
                "module": self.module, "fix": self.fix.value if self.fix is not None else None}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RuleInfo:
        fix = data.get("fix")
        return cls(data["code"], data["name"], Severity(data["severity"]), Half(data["half"]), data["summary"],
                   tuple(data["triggers"]), data["opt_in"], data["module"],
                   Applicability(fix) if fix is not None else None)


@dataclass(frozen=True)
class Violation:
    """What a rule yields: the message, and what it is about. Static rules point at a syntax `node` (the engine
    turns it into a position); runtime rules name the parameters (`params`) the finding concerns. `fix` is the
    rewrite that removes the finding, where the rule can make one safely (`tllint.static.fixing` builds it)."""

    message: str
    node: Any = None
    params: tuple[str, ...] = ()
    severity: Severity | None = None  # milder than the rule's for this case (a misspelling on a plain tensor)
    fix: Fix | None = None


@dataclass(frozen=True)
class Rule:
    """A registered rule: its info, its check (None for codes the engine reports itself, like TL000), and the
    module whose docstring is its page."""

    info: RuleInfo
    check: Callable[..., Iterable[Violation]] | None
    reads_noqa: bool = False  # judges the noqa comments (`FileFacts.noqa`): runs after the others are suppressed


_REGISTERED: dict[str, Rule] = {}
Check = TypeVar("Check", bound=Callable[..., Iterable[Violation]])


def _half_of(module: str) -> Half:
    if module.startswith("tllint.runtime."):
        return Half.RUNTIME
    if module.startswith("tllint.static."):
        return Half.STATIC
    raise ValueError(f"a rule must live under tllint/static/rules or tllint/runtime/rules, not in {module}")


def _register(info: RuleInfo, check: Callable[..., Iterable[Violation]] | None, reads_noqa: bool = False) -> None:
    known = _REGISTERED.get(info.code)
    if known is not None and known.info.module != info.module:
        raise ValueError(f"{info.code} is declared twice: in {known.info.module} and in {info.module}")
    _REGISTERED[info.code] = Rule(info, check, reads_noqa)


def rule(code: str, severity: Severity, *, summary: str, triggers: Iterable[str] = (),
         opt_in: bool = False, reads_noqa: bool = False, fix: Applicability | None = None) -> Callable[[Check], Check]:
    """Register the decorated check as rule `code`; its name is the function's name with dashes. A rule with
    `reads_noqa` judges the `# noqa` comments and runs once the other rules' findings have been suppressed; `fix`
    declares the kind of fix its violations carry (each fix it yields must be of that kind)."""

    def register(check: Check) -> Check:
        info = RuleInfo(code, check.__name__.replace("_", "-"), severity, _half_of(check.__module__), summary,
                        tuple(triggers), opt_in, check.__module__, fix)
        _register(info, check, reads_noqa)
        return check

    return register


def declare(code: str, name: str, severity: Severity, *, summary: str, module: str) -> RuleInfo:
    """Register a code the engine reports itself (no check function); returns its info."""
    info = RuleInfo(code, name, severity, _half_of(module), summary, (), False, module)
    _register(info, None)
    return info


def rules(half: Half | None = None) -> list[Rule]:
    """Every rule of `half` (or of both), by code: imports the rule modules of that half once."""
    for each in [half] if half is not None else list(Half):
        _discover(each)
    return [r for _, r in sorted(_REGISTERED.items()) if half is None or r.info.half is half]


@cache
def _discover(half: Half) -> None:
    """Import every module of the half's rule package (a name starting with `_` is a shared helper, not a rule)."""
    package_name = RULE_PACKAGES[half.value]
    package = importlib.import_module(package_name)
    for folder in package.__path__:
        for name in sorted(os.listdir(folder)):
            if name.endswith(".py") and not name.startswith("_"):
                importlib.import_module(f"{package_name}.{name[:-3]}")


def page_body(info: RuleInfo) -> str:
    """The rule's page without its generated header: the docstring of its module."""
    module = importlib.import_module(info.module)
    if module.__doc__ is None:  # `python -OO` strips docstrings: read it from the source
        import ast

        source = Path(module.__file__ or "").read_text(encoding="utf-8")
        return (ast.get_docstring(ast.parse(source)) or "").strip()
    return module.__doc__.strip()


@cache
def catalog() -> dict[str, RuleInfo]:
    """Every code's info from the shipped index, in code order, without importing any rule module."""
    data = json.loads((Path(__file__).parent / INDEX_FILE).read_text(encoding="utf-8"))
    return {entry["code"]: RuleInfo.from_dict(entry) for entry in data}


def rule_info(code: str) -> RuleInfo:
    """The catalog entry for `code`; a KeyError names the unknown code."""
    return catalog()[code]


def by_name(name: str) -> RuleInfo | None:
    return next((info for info in catalog().values() if info.name == name), None)


def index_text() -> str:
    """The index as `tools/generate.py` writes it, from the imported rule modules."""
    return json.dumps([r.info.to_dict() for r in rules()], indent=1) + "\n"
