"""Static rules, one module each: a `@rule` check over a file's facts, with its page as the module docstring.

A check takes the `FileFacts` of one file and a `Context` (positions and source text for messages) and yields
`Violation`s; none walks the syntax tree or imports the interpreter. This package's own helpers (below) say how
messages name conditions, layers and helper calls. It is imported on the pre-commit path, so it imports no facts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Protocol

from tllint.findings.model import Severity
from tllint.findings.registry import Violation, rule

if TYPE_CHECKING:
    import ast

    from tllint.static.facts import FileFacts, ParamsOf, Replaced, Where

ERROR, WARNING, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO

# Trigger words: a file must contain one of a rule's words for the rule to be able to fire there.
REQUIRES_GRAD_WORDS = ("requires_grad", "require_grad", "requiresgrad", "required_grad", "requries_grad",
                       "reqires_grad", "requires_gard", "requiers_grad")
OPTIMIZER_WORDS = ("parameters(", "create_optimizer")
CONSTRUCTOR_WORDS = ("torchvision", "timm")  # a torchvision or timm model is imported by one of these names


class Context(Protocol):
    """What a rule may ask of the file beyond its facts (a `Source`; fixes read the rest of it)."""

    def line(self, node: ast.AST) -> int: ...

    def text(self, node: ast.AST) -> str: ...

    # what `tllint.static.fixing` reads to build a fix: the lines, the tree, exact source and character columns
    lines: list[str]
    tree: ast.Module | None

    def segment(self, node: ast.AST) -> str: ...

    def column(self, line: int, offset: int) -> int: ...


Check = Callable[["FileFacts", Context], Iterator[Violation]]


def when(where: Where) -> str:
    """A sentence saying under which condition an event happens, or nothing when it always does."""
    if not where.conditions:
        return ""
    return f" This happens whenever `{where.condition_text()}` holds."


def via(where: Where) -> str:
    """Names the same-file helper an event was replayed from."""
    return f" (inside `{where.via}()`)" if where.via else ""


def layer_text(replaced: Replaced) -> str:
    """How messages name a replaced layer: the slot it was assigned to, or what built it."""
    if replaced.slot_text is not None:
        return f"`{replaced.slot_text}`"
    return replaced.new.label if replaced.new is not None else "the new layer"


def head_expression(replaced: Replaced) -> str:
    """An expression for the replaced layer that advice may call methods on (`model.fc`)."""
    return replaced.slot_text if replaced.slot_text is not None else "model.get_classifier()"


def source_text(source: ParamsOf) -> str:
    """How messages name what an optimizer source takes parameters from."""
    return f"`{source.label}`" if source.label else "the model"


def replayed_together(*wheres: Where) -> bool:
    """All these events were replayed from one call of a same-file helper: the helper's own body already
    shows the same mistake, and is where it is reported."""
    first = wheres[0]
    return first.via is not None and all(w.via == first.via and w.node is first.node for w in wheres)


__all__ = ["CONSTRUCTOR_WORDS", "ERROR", "INFO", "OPTIMIZER_WORDS", "REQUIRES_GRAD_WORDS", "WARNING", "Check",
           "Context", "Violation", "head_expression", "layer_text", "replayed_together", "rule", "source_text",
           "via", "when"]
