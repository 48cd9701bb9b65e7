"""Tests on a parameter's name, read as selectors: `if "fc" in name:` inside a loop over `named_parameters()`
chooses some parameters, `if p.requires_grad` the trainable ones; anything else is an ordinary condition."""

from __future__ import annotations

import ast

from tllint.static import selectors as sel
from tllint.static.facts import (
    Condition,
    Literal,
    ModuleVar,
    ParamVar,
)
from tllint.static.interpreter.state import (
    Base,
    Frame,
)
from tllint.static.interpreter.syntax import (
    bool_literal,
    is_requires_grad,
    names_in,
    string_literal,
)
from tllint.static.selectors import OPAQUE, TRAINABLE_ONLY, Selector


def _name_test(test: ast.expr, name_vars: set[str], param_vars: set[str], frame: Frame) -> Selector | None:
    """Read a test on a parameter's name (or its `requires_grad`) as a selector."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        inner = _name_test(test.operand, name_vars, param_vars, frame)
        return None if inner is None else inner.negate()
    if isinstance(test, ast.BoolOp):
        parts = [_name_test(value, name_vars, param_vars, frame) for value in test.values]
        if any(part is None for part in parts):
            return None
        combined = parts[0]
        for part in parts[1:]:
            assert combined is not None and part is not None
            combined = combined.both(part) if isinstance(test.op, ast.And) else combined.either(part)
        return combined
    if is_requires_grad(test) and isinstance(test.value, ast.Name) and test.value.id in param_vars:  # type: ignore[attr-defined]
        return TRAINABLE_ONLY
    if isinstance(test, ast.Compare) and len(test.ops) == 1:
        left, op, right = test.left, test.ops[0], test.comparators[0]
        if is_requires_grad(left) and isinstance(left.value, ast.Name) and left.value.id in param_vars:  # type: ignore[attr-defined]
            literal = bool_literal(right)
            if literal is not None and isinstance(op, ast.Eq | ast.Is | ast.NotEq | ast.IsNot):
                positive = literal == isinstance(op, ast.Eq | ast.Is)
                return TRAINABLE_ONLY if positive else TRAINABLE_ONLY.negate()
            return None
        if isinstance(right, ast.Name) and right.id in name_vars and isinstance(op, ast.In | ast.NotIn):
            literal = string_literal(left)
            if literal is None:
                return None
            chosen = sel.name_test("contains", (literal,), test)
            return chosen if isinstance(op, ast.In) else chosen.negate()
        if isinstance(left, ast.Name) and left.id in name_vars:
            options = _strings(right, frame)
            if isinstance(op, ast.Eq | ast.NotEq) and options is not None and len(options) == 1:
                chosen = sel.name_test("equals", options, test)
                return chosen if isinstance(op, ast.Eq) else chosen.negate()
            if isinstance(op, ast.In | ast.NotIn) and options is not None:
                chosen = sel.name_test("equals", options, test)
                return chosen if isinstance(op, ast.In) else chosen.negate()
        return None
    if isinstance(test, ast.Call) and isinstance(test.func, ast.Attribute):
        receiver, method = test.func.value, test.func.attr
        if isinstance(receiver, ast.Name) and receiver.id in name_vars and test.args:
            options = _strings(test.args[0], frame)
            if options is None:
                return None
            if method in ("startswith", "endswith"):
                return sel.name_test(method, options, test)
        return None
    if isinstance(test, ast.Call) and isinstance(test.func, ast.Name) and test.func.id == "any" and test.args:
        generator = test.args[0]
        if isinstance(generator, ast.GeneratorExp) and len(generator.generators) == 1:
            clause = generator.generators[0]
            options = _strings(clause.iter, frame)
            element = generator.elt
            if options is None or not isinstance(clause.target, ast.Name) or clause.ifs:
                return None
            if (isinstance(element, ast.Compare) and len(element.ops) == 1 and isinstance(element.ops[0], ast.In)
                    and isinstance(element.left, ast.Name) and element.left.id == clause.target.id
                    and isinstance(element.comparators[0], ast.Name) and element.comparators[0].id in name_vars):
                return sel.name_test("contains", options, test)
        return None
    return None


def _strings(node: ast.expr, frame: Frame) -> tuple[str, ...] | None:
    """A string literal, a literal list/tuple/set of strings, or a name bound to one."""
    single = string_literal(node)
    if single is not None:
        return (single,)
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        values = [string_literal(e) for e in node.elts]
        return None if any(v is None for v in values) else tuple(v for v in values if v is not None)
    if isinstance(node, ast.Name):
        bound = frame.env.get(node.id)
        if isinstance(bound, Literal) and isinstance(bound.value, tuple) and all(
                isinstance(v, str) for v in bound.value):
            return tuple(str(v) for v in bound.value)
    return None


class NameTests(Base):
    def condition(self, test: ast.expr, frame: Frame) -> Condition:
        text = self.text(test)
        if isinstance(test, ast.Name) and frame.summary is not None and test.id in frame.summary.params:
            return Condition(text, test.id, True)
        if (isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not) and isinstance(test.operand, ast.Name)
                and frame.summary is not None and test.operand.id in frame.summary.params):
            return Condition(text, test.operand.id, False)
        return Condition(text)

    def loop_selector(self, test: ast.expr, frame: Frame) -> Selector | None:
        """A test that chooses among the parameters of an enclosing loop, as a selector; None if the test
        does not involve the loop (then it is an ordinary condition)."""
        loop_vars = {name: v for name, v in frame.env.items() if isinstance(v, ParamVar | ModuleVar)}
        name_vars = {v.name_var: v for v in loop_vars.values() if v.name_var}
        used = names_in(test)
        if not used & (set(loop_vars) | set(name_vars) | frame.loop_locals):
            return None
        return _name_test(test, set(name_vars), set(loop_vars), frame) or OPAQUE

    @staticmethod
    def is_main_guard(test: ast.expr) -> bool:
        return isinstance(test, ast.Compare) and isinstance(test.left, ast.Name) and test.left.id == "__name__"
