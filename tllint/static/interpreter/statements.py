"""Statements in execution order: assignments (a layer assigned into a model is a replacement; `requires_grad`
written on a parameter variable is a freeze or an unfreeze), `if`/`for`/`while`/`try`/`with`/`match`, and
expression statements."""

from __future__ import annotations

import ast
from collections.abc import Callable, Sequence
from dataclasses import replace

from tllint.static import selectors as sel
from tllint.static.facts import (
    UNKNOWN,
    AttributeWrite,
    Condition,
    DiscardedComparison,
    Event,
    LazyFreeze,
    Literal,
    LossRebuilt,
    ModuleVar,
    Origin,
    ParamsOf,
    ParamVar,
    RebuiltLoss,
    Ref,
    Replaced,
    SetRequiresGrad,
    Value,
    Where,
)
from tllint.static.interpreter.detectors import (
    MISSPELLINGS,
    is_requires_grad_comparison,
    lazy_freeze_kind,
)
from tllint.static.interpreter.state import (
    Base,
    Frame,
    FunctionDef,
    attach,
    concat,
    is_value,
    merge_into,
    names_a_parameter,
)
from tllint.static.interpreter.syntax import (
    assigned_names,
    bool_literal,
    literal_index,
    target_names,
    unstarred,
)
from tllint.static.selectors import Selector

MAX_LITERAL_LOOP = 8
TENSOR_CLASSES = ("Parameter", "Tensor")


def tensor_checked_names(test: ast.expr) -> frozenset[str]:
    """`isinstance(x, nn.Parameter)` (or `torch.Tensor`, or a tuple of them): `x` is a tensor in that arm."""
    if not (isinstance(test, ast.Call) and isinstance(test.func, ast.Name) and test.func.id == "isinstance"
            and len(test.args) == 2 and isinstance(test.args[0], ast.Name)):
        return frozenset()
    classes = test.args[1].elts if isinstance(test.args[1], ast.Tuple) else [test.args[1]]
    names = [c.attr if isinstance(c, ast.Attribute) else getattr(c, "id", "") for c in classes]
    return frozenset({test.args[0].id}) if names and all(n in TENSOR_CLASSES for n in names) else frozenset()


TRY_STATEMENTS = tuple(getattr(ast, name) for name in ("Try", "TryStar") if hasattr(ast, name))  # 3.11+: `except*`


class Statements(Base):
    def block(self, body: Sequence[ast.stmt], frame: Frame) -> None:
        for statement in body:
            self.statement(statement, frame)

    def statement(self, node: ast.stmt, frame: Frame) -> None:
        if isinstance(node, ast.Assign):
            value = self.value(node.value, frame)
            for target in node.targets:
                self.assign(target, value, node.value, node, frame)
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            self.assign(node.target, self.value(node.value, frame), node.value, node, frame)
        elif isinstance(node, ast.AugAssign):
            self.aug_assign(node, frame)
        elif isinstance(node, ast.Expr):
            self.expression_statement(node.value, node, frame)
        elif isinstance(node, ast.Return) and node.value is not None:
            value = self.value(node.value, frame)
            if self.is_rebuilt_loss(node.value, frame):  # `return torch.tensor(loss.item(), requires_grad=True)`
                value = RebuiltLoss(LossRebuilt("", self.where(node, frame), self.text(node), len(self.facts.events)))
            self.returned_to_lightning(node.value, node, frame)
            if frame.summary is not None:
                frame.summary.returns.append(value)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            frame.imports.add(node)
        elif isinstance(node, ast.If):
            self.if_statement(node, frame)
        elif isinstance(node, ast.For | ast.AsyncFor):
            self.for_statement(node, frame)
        elif isinstance(node, ast.While):
            self.value(node.test, frame)
            self.branches(frame, [(node.body, (self.condition(node.test, frame),))], else_body=node.orelse)
        elif isinstance(node, ast.With | ast.AsyncWith):
            for item in node.items:
                self.value(item.context_expr, frame)
            self.block(node.body, frame)
        elif isinstance(node, TRY_STATEMENTS):
            self.block(node.body, frame)
            branches = [(h.body, (Condition("an exception is caught"),)) for h in node.handlers]
            self.branches(frame, branches)
            self.block(node.orelse, frame)
            self.block(node.finalbody, frame)
        elif isinstance(node, ast.Match):
            self.value(node.subject, frame)
            self.branches(frame, [(case.body, (Condition(f"case {self.text(case.pattern)}"),))
                                  for case in node.cases])
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name not in frame.functions:
            frame.functions[node.name] = FunctionDef(node, node.name)

    def if_statement(self, node: ast.If, frame: Frame) -> None:
        if self.is_main_guard(node.test):
            self.block(node.body, frame)
            return
        self.value(node.test, frame)
        selector = self.loop_selector(node.test, frame)
        if selector is not None:
            self.selected_branches(node, selector, frame)
            return
        condition = self.condition(node.test, frame)
        branches: list[tuple[Sequence[ast.stmt], tuple[Condition, ...]]] = [(node.body, (condition,))]
        if node.orelse:
            branches.append((node.orelse, (condition.negated(),)))
        arms = self.branches(frame, branches, tensors_in_first=tensor_checked_names(node.test))
        if len(arms) == 2:  # the same freeze in the `if` and in the `else`: it happens either way
            self.merge_same_effects(*arms, lambda first, second: replace(
                first, where=replace(first.where, conditions=frame.conditions))
                if first.selector.is_all and second.selector.is_all else None)

    def selected_branches(self, node: ast.If, selector: Selector, frame: Frame) -> None:
        """An `if` on a parameter's name inside a loop over parameters narrows which parameters it touches."""
        loop_vars = {name: v for name, v in frame.env.items() if isinstance(v, ParamVar | ModuleVar)}
        loop_selectors = {id(v.site): v.selector for v in loop_vars.values() if v.site is not None}
        arms, envs = [], []
        for body, chosen in ((node.body, selector), (node.orelse, selector.negate())):
            if not body:
                continue
            env = frame.child_env()
            env.update((name, replace(v, selector=v.selector.both(chosen))) for name, v in loop_vars.items())
            start = len(self.facts.events)
            self.block(body, replace(frame, env=env))
            arms.append(self.facts.events[start:])
            envs.append(env)
        merge_into(frame, envs)
        for name, value in loop_vars.items():  # narrowed only inside the arms, unless an arm rebound the name
            after = [env.get(name) for env in envs]
            if all(isinstance(v, type(value)) and v == replace(value, selector=v.selector) for v in after):
                frame.env[name] = value

        def whole_loop(first: SetRequiresGrad, second: SetRequiresGrad) -> SetRequiresGrad | None:
            if first.where.node is not second.where.node:
                return None
            before = loop_selectors.get(id(first.where.node))
            whole = before if before is not None and before.is_all else first.selector.either(second.selector)
            return replace(first, selector=whole)

        if len(arms) == 2:
            self.merge_same_effects(arms[0], arms[1], whole_loop)

    def branches(self, frame: Frame, branches: list[tuple[Sequence[ast.stmt], tuple[Condition, ...]]],
                 else_body: Sequence[ast.stmt] = (), tensors_in_first: frozenset[str] = frozenset()
                 ) -> list[list[Event]]:
        """Each arm from the same state, then merged; `tensors_in_first` are names the first arm's test proved
        to be tensors (`if isinstance(x, nn.Parameter):`), whatever they were before."""
        envs = []
        arms: list[list[Event]] = []
        for number, (body, conditions) in enumerate(branches):
            inner = replace(frame, env=frame.child_env(), conditions=frame.conditions + conditions)
            if number == 0:
                inner.env.update(dict.fromkeys(tensors_in_first, UNKNOWN))
            start = len(self.facts.events)
            self.block(body, inner)
            arms.append(self.facts.events[start:])
            envs.append(inner.env)
        if else_body:
            inner = replace(frame, env=frame.child_env())
            self.block(else_body, inner)
            envs.append(inner.env)
        merge_into(frame, envs)
        return arms

    def merge_same_effects(self, first_arm: list[Event], second_arm: list[Event],
                           combine: Callable[[SetRequiresGrad, SetRequiresGrad], SetRequiresGrad | None]) -> None:
        """Both arms of an `if`/`else` set `requires_grad` the same way on the same model: one event that holds
        whichever arm runs (LipFD's `if ...: p.requires_grad = False` / `else: p.requires_grad = False`)."""
        if not first_arm or self.indexed_since(first_arm[0]):
            return
        for first in [e for e in first_arm if isinstance(e, SetRequiresGrad) and e.value is not None]:
            for second in second_arm:
                if not (isinstance(second, SetRequiresGrad) and second.ref == first.ref
                        and second.value is first.value and second.where.via == first.where.via):
                    continue
                merged = combine(first, second)
                if merged is not None:
                    self.replace_events(first, second, merged)
                    second_arm.remove(second)
                    break

    def for_statement(self, node: ast.For | ast.AsyncFor, frame: Frame) -> None:
        iterable = self.consumed(node.iter, frame)
        loop_locals = frame.loop_locals | assigned_names(node)
        if isinstance(iterable, ParamsOf | ModuleVar):
            env = frame.child_env()
            self.bind_loop_target(node.target, iterable, node, env)
            inner = replace(frame, env=env, loop_locals=loop_locals)
            self.block(node.body, inner)
            merge_into(frame, [env])
            return
        if isinstance(iterable, Literal) and isinstance(iterable.value, tuple) and isinstance(node.target, ast.Name):
            elements = iterable.value
            if 0 < len(elements) <= MAX_LITERAL_LOOP and all(isinstance(e, Ref) for e in elements):
                for element in elements:
                    env = frame.child_env()
                    env[node.target.id] = element
                    self.block(node.body, replace(frame, env=env))
                return
        env = frame.child_env()
        for name in target_names(node.target):
            env[name] = UNKNOWN
        condition = Condition(f"for {self.text(node.target)} in {self.text(node.iter)}")
        inner = replace(frame, env=env, conditions=(*frame.conditions, condition), loop_locals=loop_locals)
        self.block(node.body, inner)
        merge_into(frame, [inner.env])

    def bind_loop_target(self, target: ast.expr, iterable: ParamsOf | ModuleVar, site: ast.AST,
                         env: dict[str, Value]) -> None:
        """`for p in m.parameters()`, `for n, p in m.named_parameters()`, `for i, (n, p) in enumerate(...)`."""
        names = target
        if isinstance(names, ast.Tuple | ast.List) and len(names.elts) == 2 and isinstance(
            names.elts[1], ast.Tuple | ast.List
        ):
            env.update(dict.fromkeys(target_names(names.elts[0]), UNKNOWN))
            names = names.elts[1]
        name_var = None
        element: ast.expr = names
        if isinstance(names, ast.Tuple | ast.List) and len(names.elts) == 2:
            first, element = names.elts
            name_var = first.id if isinstance(first, ast.Name) else None
            if name_var:
                env[name_var] = UNKNOWN
        if not isinstance(element, ast.Name):
            return
        site_node = iterable.site or site
        if isinstance(iterable, ParamsOf):
            env[element.id] = ParamVar(iterable.ref, iterable.selector, name_var, site_node)
        else:
            env[element.id] = replace(iterable, name_var=name_var, site=site_node)

    def expression_statement(self, node: ast.expr, line: ast.stmt, frame: Frame) -> None:
        if is_requires_grad_comparison(node):
            self.facts.discarded_comparisons.append(DiscardedComparison(self.where(line, frame), self.text(node)))
        lazy = lazy_freeze_kind(node)
        if lazy is not None:
            self.facts.lazy_freezes.append(LazyFreeze(self.where(line, frame), lazy))
            return
        self.value(node, frame, statement=line)

    def assign(self, target: ast.expr, value: Value, value_node: ast.expr, line: ast.stmt, frame: Frame) -> None:
        if isinstance(target, ast.Name):
            frame.env[target.id] = value
            frame.imports.forget(target.id)
            if isinstance(value, RebuiltLoss) and isinstance(value_node, ast.Call):
                self.rebuilt_loss_returned(target.id, value, frame)
            if self.is_new_tensor(value_node, frame):
                frame.tensors.add(target.id)
            else:
                frame.tensors.discard(target.id)
            self.detect_loss_rebuild(target.id, value_node, line, frame)
        elif isinstance(target, ast.Tuple | ast.List):
            self.assign_tuple(target, value, value_node, line, frame)
        elif isinstance(target, ast.Attribute):
            self.assign_attribute(target, target.attr, value, value_node, line, frame)
        elif isinstance(target, ast.Subscript):
            index = literal_index(target)
            if index is not None:
                self.assign_attribute(target, index, value, value_node, line, frame)

    def assign_tuple(self, target: ast.Tuple | ast.List, value: Value, value_node: ast.expr, line: ast.stmt,
                     frame: Frame) -> None:
        elements = [unstarred(e) for e in target.elts]
        values: list[Value] = [UNKNOWN] * len(elements)
        if isinstance(value, Literal) and isinstance(value.value, tuple) and len(value.value) == len(elements):
            values = [v if is_value(v) else UNKNOWN for v in value.value]
        for element, element_value in zip(elements, values, strict=True):
            self.assign(element, element_value, value_node, line, frame)

    def assign_attribute(self, target: ast.Attribute | ast.Subscript, attr: str, value: Value, value_node: ast.expr,
                         line: ast.stmt, frame: Frame) -> None:
        receiver_node = target.value
        receiver = self.value(receiver_node, frame)
        if self.hf_setting_written(receiver):  # type: ignore[attr-defined]  # a PEFT config changed: hf.py
            return
        where = self.where(line, frame)
        if attr == "requires_grad" or attr in MISSPELLINGS:
            flag = self.is_configuration_flag(receiver_node, value_node)
            on_tensor = (receiver is UNKNOWN and isinstance(receiver_node, ast.Name)
                         and receiver_node.id in frame.tensors)
            self.facts.attribute_writes.append(AttributeWrite(receiver, attr, where, self.text(receiver_node),
                                                              configuration_flag=flag, on_tensor=on_tensor))
            if attr == "requires_grad":
                self.requires_grad_write(receiver, receiver_node, value_node, line, frame)
            return
        is_module_value = (
            isinstance(value, Ref) and value.path == () and not value.obj.plain
            and (value.obj.origin is not Origin.PARAMETER or self.facts.used_as_module(value))
        )
        if not isinstance(receiver, Ref) and is_module_value:
            receiver = self.promote(receiver_node, frame)
        if not isinstance(receiver, Ref):
            return
        path = (*receiver.path, attr)
        if receiver.obj.plain:
            receiver.obj.attached[path] = value  # a plain object's attribute: `self.model = ...`
            return
        if not is_module_value:
            return
        assert isinstance(value, Ref)
        slot = Ref(receiver.obj, path)
        if receiver.obj.attached.get(path, slot) == value:  # `self.encoder = self.encoder.eval()`: the same module
            return
        receiver.obj.attached[path] = value
        attach(value.obj, receiver.obj, path)
        self.module_evidence(receiver)
        construction = receiver.path == () and frame.constructing is receiver.obj
        self.emit(Replaced(slot, value.obj, where, self.text(target), construction))

    def requires_grad_write(self, receiver: Value, receiver_node: ast.expr, value_node: ast.expr, line: ast.stmt,
                            frame: Frame) -> None:
        """`p.requires_grad = ...` on a loop variable over parameters freezes or unfreezes them."""
        if isinstance(receiver, ParamVar):
            self.set_requires_grad(receiver.ref, receiver.selector, value_node, receiver.site or line, frame)
        elif isinstance(receiver, Ref) and names_a_parameter(receiver):
            obj_ref = Ref(receiver.obj, receiver.path[:-1])
            leaf = receiver.path[-1]
            self.set_requires_grad(obj_ref, sel.name_test("equals", (leaf,), receiver_node), value_node, line,
                                   frame)
        elif isinstance(receiver_node, ast.Name) and not isinstance(receiver, Ref):
            self.detect_loss_rebuild(receiver_node.id, None, line, frame, forced=True)

    def set_requires_grad(self, ref: Ref, selector: Selector, value_node: ast.expr | None, site: ast.AST,
                          frame: Frame) -> None:
        where = Where(site, frame.scope, frame.conditions)
        literal = True if value_node is None else bool_literal(value_node)
        if literal is not None or value_node is None:
            self.emit(SetRequiresGrad(ref, selector, literal, where))
            return
        by_name = self.loop_selector(value_node, frame)
        if by_name is not None:
            self.emit(SetRequiresGrad(ref, selector.both(by_name), True, where))
            self.emit(SetRequiresGrad(ref, selector.both(by_name.negate()), False, where))
            return
        self.emit(SetRequiresGrad(ref, selector, None, where))

    def aug_assign(self, node: ast.AugAssign, frame: Frame) -> None:
        added = self.value(node.value, frame)
        if isinstance(node.target, ast.Name) and isinstance(node.op, ast.Add):
            current = frame.env.get(node.target.id, UNKNOWN)
            frame.env[node.target.id] = concat(current, added)
