"""Static rules: small functions over a file's facts, registered by code. None of them walks the tree."""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol

from tllint.static.facts import FileFacts, Replaced, Where


@dataclass(frozen=True)
class Report:
    """A rule's finding before it has a position: the node to point at and the message."""

    code: str
    node: ast.AST
    message: str


class Context(Protocol):
    """What a rule may ask of the file beyond its facts."""

    def line(self, node: ast.AST) -> int: ...

    def text(self, node: ast.AST) -> str: ...


Check = Callable[[FileFacts, Context], Iterator[Report]]


@dataclass(frozen=True)
class StaticRule:
    """A registered rule and its check (the words a file needs for it are in `tllint.static.prefilter`)."""

    code: str
    check: Check


STATIC_RULES: dict[str, StaticRule] = {}


def rule(code: str) -> Callable[[Check], Check]:
    def register(check: Check) -> Check:
        STATIC_RULES[code] = StaticRule(code, check)
        return check

    return register


def when(where: Where) -> str:
    """A sentence saying under which condition an event happens, or nothing when it always does."""
    if not where.conditions:
        return ""
    return f" This happens whenever `{where.condition_text()}` holds."


def layer_text(ctx: Context, replaced: Replaced) -> str:
    """How messages name a replaced layer: its assignment target, or what built it."""
    if replaced.target is not None:
        return f"`{ctx.text(replaced.target)}`"
    return replaced.new.label if replaced.new is not None else "the new layer"


def replayed_together(*wheres: Where) -> bool:
    """All these events were replayed from one call of a same-file helper: the helper's own body already
    shows the same mistake, and is where it is reported."""
    first = wheres[0]
    return first.via is not None and all(w.via == first.via and w.node is first.node for w in wheres)


def via(where: Where) -> str:
    return f" (inside `{where.via}()`)" if where.via else ""


from tllint.static.rules import architecture, attributes, freezing, loss, optimizer  # noqa: E402, F401  (registers)

__all__ = ["STATIC_RULES", "Context", "Report", "StaticRule", "rule"]
