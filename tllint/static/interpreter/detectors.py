"""Small syntactic detectors for rules that need no timeline: a `requires_grad` comparison used as a
statement (TL003), a lazy `map`/generator that freezes nothing (TL005), a loss rebuilt from a detached value
(TL016), misspelt `requires_grad` attributes (TL004)."""

from __future__ import annotations

import ast
import functools

from tllint.static.facts import (
    Backward,
    LossRebuilt,
    RebuiltLoss,
    Where,
)
from tllint.static.interpreter.state import (
    Base,
    Frame,
)
from tllint.static.interpreter.syntax import (
    arguments,
    bool_literal,
    dict_entry,
    is_requires_grad,
    keyword_value,
    unstarred,
)

MISSPELLINGS = frozenset(
    {"require_grad", "requires_grads", "requires_gradient", "requiresgrad", "requires_grad_", "required_grad",
     "require_grads", "requries_grad", "reqires_grad", "requires_gard", "requiers_grad", "requires_grade"}
)


def is_requires_grad_comparison(node: ast.expr) -> bool:
    """`p.requires_grad == False` (or `!=`, `is`, `is not`)."""
    if not isinstance(node, ast.Compare):
        return False
    return any(is_requires_grad(side) for side in (node.left, *node.comparators)) and all(
        isinstance(op, ast.Eq | ast.NotEq | ast.Is | ast.IsNot) for op in node.ops
    )


def lazy_freeze_kind(node: ast.expr) -> str | None:
    """`map(lambda p: p.requires_grad_(False), ...)` or `(p.requires_grad_(False) for p in ...)` alone."""
    if isinstance(node, ast.GeneratorExp) and _touches_requires_grad(node.elt):
        return "generator expression"
    lazy_call = isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("map", "filter")
    if lazy_call and node.args and _touches_requires_grad(unstarred(node.args[0])):
        return f"{node.func.id}()"  # type: ignore[union-attr]
    return None


def _touches_requires_grad(node: ast.AST) -> bool:
    return any(
        (isinstance(child, ast.Attribute) and child.attr in ("requires_grad_", "requires_grad"))
        or (isinstance(child, ast.Constant) and child.value == "requires_grad")
        for child in ast.walk(node)
    )


def _is_detached(node: ast.expr) -> bool:
    """`x.item()`, `x.detach()`, `x.data`, `x.tolist()`, `x.cpu().numpy()`, or a plain number."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return node.func.attr in ("item", "detach", "tolist", "numpy") or _is_detached(node.func.value)
    if isinstance(node, ast.Attribute):
        return node.attr == "data"
    return isinstance(node, ast.Constant) and type(node.value) in (int, float)


LOSS_PRESERVING_METHODS = frozenset({"mean", "sum", "float", "double", "half", "squeeze", "contiguous"})


def loss_name(node: ast.expr | None) -> str | None:
    """The variable a backward runs on: `loss`, `scaler.scale(loss)`, `(loss / accum)`, `loss.mean()`. The result
    of any other call is a new tensor: `loss_fn(theta * x).backward()` runs on the loss, not on `theta`."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        args = arguments(node)
        if node.func.attr == "scale" and len(args) == 1:
            return loss_name(args[0].value)
        if node.func.attr in LOSS_PRESERVING_METHODS and not args:
            return loss_name(node.func.value)
    if isinstance(node, ast.BinOp):
        return loss_name(node.left)
    return None


def is_requires_grad_lambda(node: ast.expr) -> bool:
    return isinstance(node, ast.Lambda) and is_requires_grad(node.body)


TENSOR_FACTORIES = frozenset(
    {"zeros", "ones", "empty", "full", "rand", "randn", "randint", "arange", "linspace", "eye", "tensor",
     "as_tensor", "from_numpy", "zeros_like", "ones_like", "empty_like", "full_like", "rand_like", "randn_like"}
)


class Detectors(Base):
    def is_new_tensor(self, node: ast.expr, frame: Frame) -> bool:
        """`torch.zeros(n, d)`, `torch.zeros(n, d).float()`: a plain tensor, never a module or a parameter."""
        while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and not (
                frame.imports.qualname(node.func) or "").startswith("torch."):
            node = node.func.value
        if not isinstance(node, ast.Call):
            return False
        qual = frame.imports.qualname(node.func) or ""
        return qual.startswith("torch.") and qual.count(".") == 1 and qual.split(".")[1] in TENSOR_FACTORIES

    def is_configuration_flag(self, receiver_node: ast.expr, value_node: ast.expr) -> bool:
        """`self.requires_grad = requires_grad` (a value passed in), or any write to `self.requires_grad` in a file
        that reads it back (`if self.requires_grad:`): a module keeping its own setting, not a freeze attempt."""
        if not (isinstance(receiver_node, ast.Name) and receiver_node.id == "self"):
            return False
        return bool_literal(value_node) is None or self.reads_own_requires_grad

    @functools.cached_property
    def reads_own_requires_grad(self) -> bool:
        return any(
            isinstance(node, ast.Attribute) and node.attr == "requires_grad" and isinstance(node.ctx, ast.Load)
            and isinstance(node.value, ast.Name) and node.value.id == "self"
            for node in ast.walk(self.module)
        )

    def detect_loss_rebuild(self, name: str, value_node: ast.expr | None, line: ast.stmt, frame: Frame,
                            forced: bool = False) -> None:
        """TL016 patterns: `torch.tensor(x.item(), requires_grad=True)`, `x.detach().requires_grad_()`,
        `Variable(x.data, requires_grad=True)`, `loss.requires_grad = True`."""
        if forced or (value_node is not None and self.is_rebuilt_loss(value_node, frame)):
            rebuilt = LossRebuilt(name, self.where(line, frame), self.text(line), len(self.facts.events))
            self.facts.losses_rebuilt.append(rebuilt)
            if not forced:  # `loss = torch.tensor(...)`; `x.requires_grad = True` leaves what `x` is alone
                frame.env[name] = RebuiltLoss(rebuilt)

    def rebuilt_loss_returned(self, name: str, value: RebuiltLoss, frame: Frame) -> None:
        """`loss = self.compute_loss(...)` where the helper returns a rebuilt loss: reported where it was
        rebuilt, once a backward runs on `loss` here."""
        origin = value.origin
        where = Where(origin.where.node, frame.scope, frame.conditions)
        self.facts.losses_rebuilt.append(LossRebuilt(name, where, origin.text, len(self.facts.events)))

    def returned_to_lightning(self, node: ast.expr, line: ast.stmt, frame: Frame) -> None:
        """`return loss` (or `{"loss": loss}`) from `training_step`: Lightning calls `backward()` on it."""
        if frame.function != "training_step":
            return
        loss = dict_entry(node, "loss") if isinstance(node, ast.Dict) else node
        name = loss_name(loss)
        if name is not None:
            self.facts.backwards.append(Backward(name, self.where(line, frame), len(self.facts.events),
                                                 by_lightning=True))

    def is_rebuilt_loss(self, node: ast.expr, frame: Frame) -> bool:
        if not isinstance(node, ast.Call):
            return False
        qual = frame.imports.qualname(node.func) or ""
        args = arguments(node)
        if qual in {"torch.tensor", "torch.Tensor", "torch.as_tensor", "torch.autograd.Variable",
                    "torch.autograd.variable.Variable"}:
            requires = keyword_value(node, "requires_grad")
            if requires is None or bool_literal(requires) is not True or not args:
                return False
            return _is_detached(args[0].value)
        if isinstance(node.func, ast.Attribute) and node.func.attr == "requires_grad_":
            if args and bool_literal(args[0].value) is not True:
                return False
            return _is_detached(node.func.value)
        return False
