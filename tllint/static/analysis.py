"""The one pass over a file: an abstract interpreter that follows models through names, calls and
statements in execution order and records `FileFacts`.

It interprets only what matters to training: which values are models (and which path inside them),
parameters and optimizers; everything else is `UNKNOWN`. Same-file helper functions are summarised once
(their events on their parameters) and replayed at each call site. Precision first: whenever a value or
a test cannot be read, the pass records nothing rather than guess.
"""

from __future__ import annotations

import ast
import itertools
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace

from tllint.static import selectors as sel
from tllint.static.facts import (
    UNKNOWN,
    AttributeWrite,
    Backward,
    Built,
    Condition,
    DiscardedComparison,
    Event,
    FileFacts,
    LazyFreeze,
    Literal,
    LossRebuilt,
    MaybeChanged,
    ModelObject,
    ModelPassed,
    ModuleVar,
    Optimizer,
    OptimizerBuilt,
    Origin,
    ParamGroupAdded,
    ParamGroups,
    ParamList,
    ParamsOf,
    ParamVar,
    Ref,
    Replaced,
    SetRequiresGrad,
    TrainingStep,
    Value,
    WeightsLoaded,
    Where,
)
from tllint.static.imports import ImportTable, dotted
from tllint.static.knowledge import (
    CONTAINERS,
    LEAF_LAYERS,
    MODEL_NAMESPACES,
    MODULE_BASES,
    MODULE_ONLY_METHODS,
    NO_EFFECT_METHODS,
    NON_MODEL_PRETRAINED,
    NOT_MODULES,
    PARAMLESS_LAYERS,
    SAME_MODEL_WRAPPER_NAMES,
    SAME_MODEL_WRAPPERS,
    SELF_RETURNING_METHODS,
    TIMM_OPTIMIZER_FACTORIES,
    is_optimizer_class,
)
from tllint.static.selectors import ALL, OPAQUE, TRAINABLE_ONLY, Selector
from tllint.static.source import Source

MISSPELLINGS = frozenset(
    {"require_grad", "requires_grads", "requires_gradient", "requiresgrad", "requires_grad_", "required_grad",
     "require_grads", "requries_grad", "reqires_grad", "requires_gard", "requiers_grad", "requires_grade"}
)
MAX_INLINE_DEPTH = 4
ANALYSIS_RECURSION_LIMIT = 50_000
HEAD_PLACEHOLDER = "@classifier"  # the head `reset_classifier()` rebuilds, wherever the architecture keeps it
MAX_LITERAL_LOOP = 8
TRY_STATEMENTS = tuple(getattr(ast, name) for name in ("Try", "TryStar") if hasattr(ast, name))  # 3.11+: `except*`
MUTATING_CALL_WORDS = ("freeze", "trainable", "requires_grad", "set_grad", "unlock", "lock_")


@dataclass
class Summary:
    """What a same-file function does to its parameters, and what it returns."""

    params: list[str]
    param_objects: dict[str, ModelObject]
    events: list[Event] = field(default_factory=list)
    returns: list[Value] = field(default_factory=list)

    @property
    def returned(self) -> Value:
        values = {id(v): v for v in self.returns}
        return next(iter(values.values())) if len(values) == 1 else UNKNOWN


@dataclass(frozen=True)
class Arg:
    """One argument of a call, in source order: `value`, `keyword=value`, `*value` or `**value`."""

    value: ast.expr
    keyword: str | None = None
    star: str = ""


def arguments(call: ast.Call) -> list[Arg]:
    args = [Arg(a.value, star="*") if isinstance(a, ast.Starred) else Arg(a) for a in call.args]
    args += [Arg(k.value, k.arg, "" if k.arg else "**") for k in call.keywords]
    if call.args and call.keywords:  # `f(x=1, *rest)`: ast keeps positional and keyword arguments apart
        args.sort(key=lambda arg: (arg.value.lineno, arg.value.col_offset))
    return args


@dataclass
class FunctionDef:
    node: ast.FunctionDef | ast.AsyncFunctionDef
    name: str
    owner: ClassDef | None = None
    summary: Summary | None = None
    analysing: bool = False


@dataclass
class ClassDef:
    node: ast.ClassDef
    name: str
    is_module: bool
    methods: dict[str, FunctionDef] = field(default_factory=dict)
    instance: ModelObject | None = None


@dataclass
class Frame:
    """One function body (or the module) being interpreted."""

    env: dict[str, Value]
    imports: ImportTable
    functions: dict[str, FunctionDef]
    classes: dict[str, ClassDef]
    scope: int
    summary: Summary | None = None
    conditions: tuple[Condition, ...] = ()
    loop_locals: frozenset[str] = frozenset()
    depth: int = 0
    constructing: ModelObject | None = None  # the instance whose __init__ this is

    def child_env(self) -> dict[str, Value]:
        return dict(self.env)


class FileAnalysis:
    """Builds `FileFacts` for one parsed module."""

    def __init__(self, module: ast.Module, source: Source) -> None:
        self.module = module
        self.source = source
        self.facts = FileFacts()
        self._scopes = itertools.count()
        self._recording: list[Summary] = []

    # --- entry point -------------------------------------------------------------------------------------

    def run(self) -> FileFacts:
        frame = Frame({}, ImportTable(), {}, {}, next(self._scopes))
        self._register_definitions(self.module.body, frame)
        self.block(self.module.body, frame)
        for function in list(frame.functions.values()):
            self.summarise(function, frame)
        for cls in list(frame.classes.values()):
            self.instantiate(cls, frame)
        return self.facts

    # --- helpers -----------------------------------------------------------------------------------------

    def text(self, node: ast.AST) -> str:
        return self.source.text(node)

    def where(self, node: ast.AST, frame: Frame) -> Where:
        return Where(node=node, scope=frame.scope, conditions=frame.conditions)

    def emit(self, event: Event) -> None:
        self.facts.events.append(event)
        for summary in self._recording:
            summary.events.append(event)

    def module_evidence(self, value: Value) -> None:
        """`value` is used as a module, and so is everything that contains it."""
        if isinstance(value, Ref):
            self.facts.module_evidence.update((value.obj.uid, value.path[:i]) for i in range(len(value.path) + 1))

    def _register_definitions(self, body: Sequence[ast.stmt], frame: Frame, owner: ClassDef | None = None) -> None:
        for statement in body:
            if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef):
                function = FunctionDef(statement, statement.name, owner)
                if owner is not None:
                    owner.methods[function.name] = function
                else:
                    frame.functions[function.name] = function
            elif isinstance(statement, ast.ClassDef) and owner is None:
                bases = [frame.imports.qualname(base) or dotted(base) or "" for base in statement.bases]
                is_module = any(
                    b in MODULE_BASES or b.endswith(("nn.Module", "LightningModule", "PreTrainedModel"))
                    or (b in frame.classes and frame.classes[b].is_module)
                    for b in bases
                )
                cls = ClassDef(statement, statement.name, is_module)
                frame.classes[cls.name] = cls
                self._register_definitions(statement.body, frame, owner=cls)
            elif isinstance(statement, ast.Import | ast.ImportFrom):
                frame.imports.add(statement)

    # --- statements --------------------------------------------------------------------------------------

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
        # a class body is registered up front; the class is instantiated where called, or at the end

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
            negated = Condition(f"not ({condition.text})", condition.param, not condition.polarity)
            branches.append((node.orelse, (negated,)))
        self.branches(frame, branches)

    def selected_branches(self, node: ast.If, selector: Selector, frame: Frame) -> None:
        """An `if` on a parameter's name inside a loop over parameters narrows which parameters it touches."""
        for body, chosen in ((node.body, selector), (node.orelse, selector.negate())):
            if not body:
                continue
            env = frame.child_env()
            for name, value in frame.env.items():
                if isinstance(value, ParamVar | ModuleVar):
                    env[name] = replace(value, selector=value.selector.both(chosen))
            self.block(body, replace(frame, env=env))
            self._merge_into(frame, [env])

    def branches(self, frame: Frame, branches: list[tuple[Sequence[ast.stmt], tuple[Condition, ...]]],
                 else_body: Sequence[ast.stmt] = ()) -> None:
        envs = []
        for body, conditions in branches:
            inner = replace(frame, env=frame.child_env(), conditions=frame.conditions + conditions)
            self.block(body, inner)
            envs.append(inner.env)
        if else_body:
            inner = replace(frame, env=frame.child_env())
            self.block(else_body, inner)
            envs.append(inner.env)
        self._merge_into(frame, envs)

    @staticmethod
    def _merge_into(frame: Frame, envs: list[dict[str, Value]]) -> None:
        """After branches, a name keeps a value only when every way through agrees on it.

        A name bound in one branch only (and unbound before) takes that branch's value: the other way
        usually leaves the script or never uses it."""
        names = set().union(*envs) if envs else set()
        for name in names:
            before = frame.env.get(name)
            seen = [env[name] for env in envs if name in env]
            candidates = {_identity(v) for v in seen}
            if before is None:
                frame.env[name] = seen[0] if len(candidates) == 1 else UNKNOWN
                continue
            if any(_identity(v) != _identity(before) for v in seen):
                same_model = all(isinstance(v, Ref) and isinstance(before, Ref) and v.obj is before.obj
                                 and v.path == before.path for v in seen)
                if same_model:
                    assert isinstance(before, Ref)
                    wrapped = next((v.wrapped for v in seen if isinstance(v, Ref) and v.wrapped), before.wrapped)
                    frame.env[name] = replace(before, wrapped=wrapped)
                else:
                    frame.env[name] = UNKNOWN

    def for_statement(self, node: ast.For | ast.AsyncFor, frame: Frame) -> None:
        iterable = self.value(node.iter, frame)
        loop_locals = frame.loop_locals | _assigned_names(node)
        if isinstance(iterable, ParamsOf | ModuleVar):
            env = frame.child_env()
            self.bind_loop_target(node.target, iterable, node, env)
            inner = replace(frame, env=env, loop_locals=loop_locals)
            self.block(node.body, inner)
            self._merge_into(frame, [env])
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
        for name in _target_names(node.target):
            env[name] = UNKNOWN
        condition = Condition(f"for {self.text(node.target)} in {self.text(node.iter)}")
        inner = replace(frame, env=env, conditions=(*frame.conditions, condition), loop_locals=loop_locals)
        self.block(node.body, inner)
        self._merge_into(frame, [inner.env])

    def bind_loop_target(self, target: ast.expr, iterable: ParamsOf | ModuleVar, site: ast.AST,
                         env: dict[str, Value]) -> None:
        """`for p in m.parameters()`, `for n, p in m.named_parameters()`, `for i, (n, p) in enumerate(...)`."""
        names = target
        if isinstance(names, ast.Tuple | ast.List) and len(names.elts) == 2 and isinstance(
            names.elts[1], ast.Tuple | ast.List
        ):
            env.update(dict.fromkeys(_target_names(names.elts[0]), UNKNOWN))
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
        if _is_requires_grad_comparison(node):
            self.facts.discarded_comparisons.append(DiscardedComparison(self.where(line, frame), self.text(node)))
        lazy = _lazy_freeze_kind(node)
        if lazy is not None:
            self.facts.lazy_freezes.append(LazyFreeze(self.where(line, frame), lazy))
            return
        self.value(node, frame, statement=line)

    # --- assignments -------------------------------------------------------------------------------------

    def assign(self, target: ast.expr, value: Value, value_node: ast.expr, line: ast.stmt, frame: Frame) -> None:
        if isinstance(target, ast.Name):
            frame.env[target.id] = value
            frame.imports.forget(target.id)
            self.detect_loss_rebuild(target.id, value_node, line, frame)
        elif isinstance(target, ast.Tuple | ast.List):
            self.assign_tuple(target, value, value_node, line, frame)
        elif isinstance(target, ast.Attribute):
            self.assign_attribute(target, target.attr, value, value_node, line, frame)
        elif isinstance(target, ast.Subscript):
            index = _literal_index(target)
            if index is not None:
                self.assign_attribute(target, index, value, value_node, line, frame)

    def assign_tuple(self, target: ast.Tuple | ast.List, value: Value, value_node: ast.expr, line: ast.stmt,
                     frame: Frame) -> None:
        elements = [_unstarred(e) for e in target.elts]
        values: list[Value] = [UNKNOWN] * len(elements)
        if isinstance(value, Literal) and isinstance(value.value, tuple) and len(value.value) == len(elements):
            values = [v if _is_value(v) else UNKNOWN for v in value.value]
        for element, element_value in zip(elements, values, strict=True):
            self.assign(element, element_value, value_node, line, frame)

    def assign_attribute(self, target: ast.Attribute | ast.Subscript, attr: str, value: Value, value_node: ast.expr,
                         line: ast.stmt, frame: Frame) -> None:
        receiver_node = target.value
        receiver = self.value(receiver_node, frame)
        where = self.where(line, frame)
        if attr == "requires_grad" or attr in MISSPELLINGS:
            self.facts.attribute_writes.append(AttributeWrite(receiver, attr, where, self.text(receiver_node)))
            if attr == "requires_grad":
                self.requires_grad_write(receiver, receiver_node, value_node, line, frame)
            return
        is_module_value = (
            isinstance(value, Ref) and value.path == () and value.obj.is_module
            and (value.obj.origin is not Origin.PARAMETER or self.facts.is_module(value))
        )
        if not isinstance(receiver, Ref) and is_module_value:
            receiver = self.promote(receiver_node, frame)
        if not isinstance(receiver, Ref):
            return
        path = (*receiver.path, attr)
        if not receiver.obj.is_module:
            receiver.obj.attached[path] = value  # a plain object's attribute: `self.model = ...`
            return
        if not is_module_value:
            return
        assert isinstance(value, Ref)
        slot = Ref(receiver.obj, path)
        receiver.obj.attached[path] = value
        _attach(value.obj, receiver.obj, path)
        self.module_evidence(receiver)
        construction = receiver.path == () and frame.constructing is receiver.obj
        self.emit(Replaced(slot, value.obj, where, target, value_node, construction))

    def requires_grad_write(self, receiver: Value, receiver_node: ast.expr, value_node: ast.expr, line: ast.stmt,
                            frame: Frame) -> None:
        """`p.requires_grad = ...` on a loop variable over parameters freezes or unfreezes them."""
        if isinstance(receiver, ParamVar):
            self.set_requires_grad(receiver.ref, receiver.selector, value_node, receiver.site or line, frame)
        elif isinstance(receiver, Ref) and _names_a_parameter(receiver):
            obj_ref = Ref(receiver.obj, receiver.path[:-1])
            leaf = receiver.path[-1]
            self.set_requires_grad(obj_ref, sel.name_test("equals", (leaf,), receiver_node), value_node, line,
                                   frame)
        elif isinstance(receiver_node, ast.Name):
            self.detect_loss_rebuild(receiver_node.id, None, line, frame, forced=True)

    def set_requires_grad(self, ref: Ref, selector: Selector, value_node: ast.expr | None, site: ast.AST,
                          frame: Frame) -> None:
        where = Where(site, frame.scope, frame.conditions)
        literal = True if value_node is None else _bool_literal(value_node)
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
            frame.env[node.target.id] = _concat(current, added)

    def detect_loss_rebuild(self, name: str, value_node: ast.expr | None, line: ast.stmt, frame: Frame,
                            forced: bool = False) -> None:
        """TL016 patterns: `torch.tensor(x.item(), requires_grad=True)`, `x.detach().requires_grad_()`,
        `Variable(x.data, requires_grad=True)`, `loss.requires_grad = True`."""
        if forced or (value_node is not None and self.is_rebuilt_loss(value_node, frame)):
            text = self.text(line)
            self.facts.losses_rebuilt.append(
                LossRebuilt(name, self.where(line, frame), text, len(self.facts.events)))

    def is_rebuilt_loss(self, node: ast.expr, frame: Frame) -> bool:
        if not isinstance(node, ast.Call):
            return False
        qual = frame.imports.qualname(node.func) or ""
        args = arguments(node)
        if qual in {"torch.tensor", "torch.Tensor", "torch.as_tensor", "torch.autograd.Variable",
                    "torch.autograd.variable.Variable"}:
            requires = _keyword(node, "requires_grad")
            if requires is None or _bool_literal(requires) is not True or not args:
                return False
            return _is_detached(args[0].value)
        if isinstance(node.func, ast.Attribute) and node.func.attr == "requires_grad_":
            if args and _bool_literal(args[0].value) is not True:
                return False
            return _is_detached(node.func.value)
        return False

    # --- expressions -------------------------------------------------------------------------------------

    def value(self, node: ast.expr, frame: Frame, statement: ast.stmt | None = None) -> Value:
        """The abstract value of an expression; calls inside it record their events."""
        if isinstance(node, ast.Name):
            return frame.env.get(node.id, UNKNOWN)
        if isinstance(node, ast.Attribute):
            base = self.value(node.value, frame)
            return self.attribute(base, node.attr)
        if isinstance(node, ast.Subscript):
            base = self.value(node.value, frame)
            index = _literal_index(node)
            if isinstance(base, Ref) and index is not None:
                return self.attribute(base, index)
            if isinstance(base, ParamsOf | ModuleVar):
                return replace(base, selector=OPAQUE)  # `list(m.parameters())[:-2]`: by position
            return UNKNOWN
        if isinstance(node, ast.Call):
            return self.call(node, frame, statement or node)
        if isinstance(node, ast.Constant) and (node.value is None or isinstance(node.value, int | str | bytes)):
            return Literal(None if isinstance(node.value, bytes) else node.value)
        if isinstance(node, ast.List | ast.Tuple | ast.Set):
            return self.sequence(node, frame)
        if isinstance(node, ast.BinOp):
            left, right = self.value(node.left, frame), self.value(node.right, frame)
            return _concat(left, right) if isinstance(node.op, ast.Add) else UNKNOWN
        if isinstance(node, ast.ListComp | ast.GeneratorExp | ast.SetComp):
            return self.comprehension(node, frame)
        if isinstance(node, ast.Dict):
            for element in node.values:
                self.value(element, frame)
            return UNKNOWN
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.expr):
                self.value(child, frame)
        return UNKNOWN

    def attribute(self, base: Value, attr: str) -> Value:
        if not isinstance(base, Ref):
            return UNKNOWN
        if base.wrapped and base.wrapped == f"{attr}.":
            return replace(base, wrapped="")
        if attr in ("weight", "bias") and base.path:  # only a module has a `.weight`
            self.module_evidence(base)
        path = (*base.path, attr)
        if path in base.obj.attached:
            return base.obj.attached[path]
        if not base.obj.is_module:
            return UNKNOWN
        return Ref(base.obj, path)

    def sequence(self, node: ast.List | ast.Tuple | ast.Set, frame: Frame) -> Value:
        items: list[Value] = []
        groups: list[tuple[ParamsOf, ...]] = []
        for element in map(_unstarred, node.elts):
            if isinstance(element, ast.Dict):
                params = _dict_entry(element, "params")
                groups.append(_sources(self.value(params, frame)) if params is not None else ())
                for entry in element.values:
                    if entry is not params:
                        self.value(entry, frame)
                continue
            items.append(self.value(element, frame))
        if groups and not items:
            return ParamGroups(tuple(groups))
        if items and all(isinstance(i, ParamsOf | ParamList) for i in items):
            return ParamList(tuple(s for i in items for s in _sources(i)))
        if items and all(isinstance(i, Literal) and isinstance(i.value, str) for i in items):
            return Literal(tuple(i.value for i in items if isinstance(i, Literal)))
        if items and all(isinstance(i, Ref) for i in items):
            return Literal(tuple(items))
        return UNKNOWN

    def comprehension(self, node: ast.ListComp | ast.GeneratorExp | ast.SetComp, frame: Frame) -> Value:
        """`[p for n, p in m.named_parameters() if "fc" in n]` is a selection of m's parameters."""
        env = frame.child_env()
        inner = replace(frame, env=env)
        for clause in node.generators:
            iterable = self.value(clause.iter, inner)
            if isinstance(iterable, ParamsOf | ModuleVar):
                self.bind_loop_target(clause.target, iterable, node, env)
            else:
                env.update(dict.fromkeys(_target_names(clause.target), UNKNOWN))
            for test in clause.ifs:
                selector = self.loop_selector(test, inner)
                if selector is None:
                    continue
                for name, value in list(env.items()):
                    if isinstance(value, ParamVar | ModuleVar):
                        env[name] = replace(value, selector=value.selector.both(selector))
        element = self.value(node.elt, inner)
        if isinstance(element, ParamVar):
            return ParamsOf(element.ref, element.selector, site=element.site)
        return UNKNOWN

    # --- calls -------------------------------------------------------------------------------------------

    def call(self, node: ast.Call, frame: Frame, statement: ast.AST) -> Value:
        func = node.func
        if isinstance(func, ast.Attribute):
            receiver = self.value(func.value, frame)
            handled = self.method_call(node, func, receiver, frame, statement)
            if handled is not None:
                return handled
        qual = frame.imports.qualname(func)
        if qual is not None:
            result = self.library_call(node, qual, frame, statement)
            if result is not None:
                return result
        if isinstance(func, ast.Name):
            if func.id in frame.functions:
                return self.call_function(frame.functions[func.id], node, frame, statement)
            if func.id in frame.classes:
                return self.instantiate(frame.classes[func.id], frame, node, statement)
            builtin = self.builtin_call(func.id, node, frame, statement)
            if builtin is not None:
                return builtin
        args = [self.value(a.value, frame) for a in arguments(node)]
        self.unknown_call(node, args, frame, statement)
        return UNKNOWN

    def unknown_call(self, node: ast.Call, args: list[Value], frame: Frame, statement: ast.AST) -> None:
        """A call tllint cannot see into: it may change `requires_grad` (by its name) or train the model."""
        name = (dotted(node.func) or "").rsplit(".", 1)[-1].lower()
        mutates = any(word in name for word in MUTATING_CALL_WORDS)
        for arg in args:
            if isinstance(arg, Ref):
                where = self.where(statement, frame)
                self.emit(MaybeChanged(arg, where) if mutates else ModelPassed(arg, where))

    def method_call(self, node: ast.Call, func: ast.Attribute, receiver: Value, frame: Frame, statement: ast.AST
                    ) -> Value | None:
        method = func.attr
        args = arguments(node)
        if method in ("backward", "manual_backward"):
            target = func.value if method == "backward" and not args else (args[0].value if args else None)
            name = _loss_name(target)
            for arg in args:
                self.value(arg.value, frame)
            if name is not None:
                self.facts.backwards.append(Backward(name, self.where(statement, frame), len(self.facts.events)))
            self.emit(TrainingStep(self.where(statement, frame)))
            return UNKNOWN
        if isinstance(receiver, Optimizer | Ref) or receiver is UNKNOWN:
            if method == "add_param_group":
                sources = _sources(self.value(args[0].value, frame)) if args else ()
                group = args[0].value if args else None
                if isinstance(group, ast.Dict):
                    params = _dict_entry(group, "params")
                    sources = _sources(self.value(params, frame)) if params is not None else ()
                optimizer = receiver if isinstance(receiver, Optimizer) else None
                self.emit(ParamGroupAdded(optimizer, sources, self.where(statement, frame)))
                return UNKNOWN
            if method == "step" and not isinstance(receiver, Ref):
                self.emit(TrainingStep(self.where(statement, frame)))
                return UNKNOWN
        if isinstance(receiver, ModuleVar):
            if method in ("parameters", "named_parameters"):
                selector = sel.first_component(receiver.selector) if receiver.by_child_name else receiver.selector
                return ParamsOf(receiver.ref, selector, method == "named_parameters", receiver.site)
            if method == "requires_grad_":
                selector = sel.first_component(receiver.selector) if receiver.by_child_name else receiver.selector
                self.set_requires_grad(receiver.ref, selector, args[0].value if args else None,
                                       receiver.site or statement, frame)
                return receiver
            return UNKNOWN
        if receiver is UNKNOWN and method in MODULE_ONLY_METHODS:
            receiver = self.promote(func.value, frame) or UNKNOWN
        if not isinstance(receiver, Ref):
            return None
        return self.model_method(node, method, receiver, frame, statement)

    def model_method(self, node: ast.Call, method: str, ref: Ref, frame: Frame, statement: ast.AST) -> Value:
        args = arguments(node)
        if method in MODULE_ONLY_METHODS:
            self.module_evidence(ref)
        if method in ("parameters", "named_parameters"):
            receiver = node.func.value if isinstance(node.func, ast.Attribute) else node.func
            selector = sel.with_prefix(ALL, ref.wrapped) if ref.wrapped else ALL
            return ParamsOf(replace(ref, wrapped=""), selector, method == "named_parameters", label=self.text(receiver))
        if method in ("children", "modules"):
            return ModuleVar(ref, ALL)
        if method == "named_children":
            return ModuleVar(ref, ALL, by_child_name=True)
        if method == "named_modules":
            return ModuleVar(ref, OPAQUE)
        if method == "requires_grad_":
            value = _keyword(node, "requires_grad") or (args[0].value if args else None)
            self.set_requires_grad(ref, ALL, value, statement, frame)
            return ref
        if method in SELF_RETURNING_METHODS:
            for arg in args:
                self.value(arg.value, frame)
            return ref
        if method in ("add_module", "register_module") and len(args) == 2:
            name = _string(args[0].value)
            layer = self.value(args[1].value, frame)
            if name is not None and isinstance(layer, Ref):
                slot = Ref(ref.obj, (*ref.path, name))
                ref.obj.attached[slot.path] = layer
                _attach(layer.obj, ref.obj, slot.path)
                self.emit(Replaced(slot, layer.obj, self.where(statement, frame), node, args[1].value))
            return UNKNOWN
        if method == "reset_classifier":
            label = f"the classifier `{self.text(node)}` created"
            has_params = _reset_has_params(node)
            new = ModelObject(label, Origin.LAYER, node, has_params=has_params,
                              param_names=None if has_params is None else ("weight", "bias") if has_params else ())
            self.emit(Replaced(Ref(ref.obj, (*ref.path, HEAD_PLACEHOLDER)), new, self.where(statement, frame)))
            return UNKNOWN
        if method == "load_state_dict":
            for arg in args:
                self.value(arg.value, frame)
            self.emit(WeightsLoaded(ref, self.where(statement, frame)))
            return UNKNOWN
        if method == "apply":
            self.emit(MaybeChanged(ref, self.where(statement, frame)))
            return ref
        owner = self.local_class_of(ref, frame)
        if owner is not None and method in owner.methods:
            return self.call_function(owner.methods[method], node, frame, statement, bound=ref)
        values = [self.value(a.value, frame) for a in args]
        self.facts.module_evidence.add((ref.obj.uid, (*ref.path, method)))  # called: a sub-module, or a method
        if any(word in method.lower() for word in MUTATING_CALL_WORDS):
            self.emit(MaybeChanged(ref, self.where(statement, frame)))
        elif method not in NO_EFFECT_METHODS:
            self.unknown_call(node, values, frame, statement)
        return UNKNOWN

    def local_class_of(self, ref: Ref, frame: Frame) -> ClassDef | None:
        if ref.path:
            return None
        for cls in frame.classes.values():
            if cls.instance is ref.obj:
                return cls
        return None

    def library_call(self, node: ast.Call, qual: str, frame: Frame, statement: ast.AST) -> Value | None:
        last = qual.rsplit(".", 1)[-1]
        args = arguments(node)
        if qual in SAME_MODEL_WRAPPERS or (last in SAME_MODEL_WRAPPER_NAMES and args):
            inner = self.value(args[0].value, frame) if args else UNKNOWN
            for arg in args[1:]:
                self.value(arg.value, frame)
            prefix = "_orig_mod." if qual == "torch.compile" else "module."
            return replace(inner, wrapped=prefix) if isinstance(inner, Ref) else UNKNOWN
        if qual == "copy.deepcopy" and args:
            source = self.value(args[0].value, frame)
            if isinstance(source, Ref):
                return self.new_object(node, frame, statement, Origin.INFERRED, constructor=None)
            return UNKNOWN
        if qual == "builtins.setattr" or qual == "setattr":
            return None
        if is_optimizer_class(qual) or qual in TIMM_OPTIMIZER_FACTORIES:
            return self.build_optimizer(node, qual, frame, statement)
        if qual.startswith("torch.nn.") and last[:1].isupper() and qual.count(".") == 2 and last not in NOT_MODULES:
            return self.new_layer(node, last, frame, statement)
        constructor = _model_constructor(qual, node)
        if constructor is not None:
            for arg in args:
                self.value(arg.value, frame)
            ref = self.new_object(node, frame, statement, Origin.LIBRARY, constructor,
                                  pretrained=_pretrained(node, constructor))
            if constructor.startswith("torchvision."):
                ref.obj.deprecated_args = tuple(
                    keyword for keyword in node.keywords if keyword.arg in ("pretrained", "pretrained_backbone"))
            return ref
        return None

    def builtin_call(self, name: str, node: ast.Call, frame: Frame, statement: ast.AST) -> Value | None:
        args = arguments(node)
        if name in ("list", "tuple", "iter", "set") and len(args) == 1:
            return self.value(args[0].value, frame)
        if name == "filter" and len(args) == 2:
            source = self.value(args[1].value, frame)
            if isinstance(source, ParamsOf):
                chosen = TRAINABLE_ONLY if _is_requires_grad_lambda(args[0].value) else OPAQUE
                return replace(source, selector=source.selector.both(chosen))
            return UNKNOWN
        if name == "enumerate" and args:
            return self.value(args[0].value, frame)
        if name == "setattr" and len(args) == 3:
            receiver = self.value(args[0].value, frame)
            attr = _string(args[1].value)
            value = self.value(args[2].value, frame)
            if attr is not None:
                target = ast.Attribute(args[0].value, attr)  # for messages: `model.fc`
                if attr == "requires_grad" or attr in MISSPELLINGS:
                    where = self.where(statement, frame)
                    self.facts.attribute_writes.append(
                        AttributeWrite(receiver, attr, where, self.text(args[0].value)))
                    if attr == "requires_grad":
                        self.requires_grad_write(receiver, args[0].value, args[2].value, statement, frame)
                elif attr.isidentifier():
                    self.assign_attribute(target, attr, value, args[2].value, statement, frame)
            return UNKNOWN
        return None

    def new_object(self, node: ast.Call, frame: Frame, statement: ast.AST, origin: Origin,
                   constructor: str | None, pretrained: bool | None = None, has_params: bool | None = True
                   ) -> Ref:
        obj = ModelObject(self.text(node.func) + "(...)", origin, node, constructor, pretrained, has_params)
        ref = Ref(obj)
        self.emit(Built(ref, self.where(statement, frame)))
        return ref

    def new_layer(self, node: ast.Call, class_name: str, frame: Frame, statement: ast.AST) -> Value:
        args = arguments(node)
        named = _ordered_dict_layers(args[0].value) if class_name == "Sequential" and len(args) == 1 else None
        if named is not None:  # Sequential(OrderedDict([("name", layer), ...])): the layers, with their names
            keys, members = [key for key, _ in named], [self.value(layer, frame) for _, layer in named]
        else:
            members = [self.value(a.value, frame) for a in args]
            keys = [str(i) for i in range(len(members))] if all(a.star == "" for a in args) else None
        if class_name in PARAMLESS_LAYERS:
            has_params: bool | None = False
        elif class_name in CONTAINERS:
            known = [m.obj.has_params for m in members if isinstance(m, Ref)]
            has_params = None if len(known) != len(members) or None in known else any(known)
        else:
            has_params = True
        ref = self.new_object(node, frame, statement, Origin.LAYER, f"torch.nn.{class_name}", has_params=has_params)
        ref.obj.in_features = _in_features(class_name, node, members)
        ref.obj.param_names = _layer_param_names(class_name, keys, members)
        return ref

    def build_optimizer(self, node: ast.Call, qual: str, frame: Frame, statement: ast.AST) -> Value:
        args = arguments(node)
        params_node = _keyword(node, "params") or _keyword(node, "model_or_params")
        if params_node is None and args:
            params_node = args[0].value
        for arg in args[1:]:
            self.value(arg.value, frame)
        value = self.value(params_node, frame) if params_node is not None else UNKNOWN
        if qual in TIMM_OPTIMIZER_FACTORIES and isinstance(value, Ref):
            value = ParamsOf(value, TRAINABLE_ONLY)  # timm skips frozen parameters itself
        optimizer = Optimizer(self.text(node.func), node)
        if isinstance(value, ParamGroups):
            groups, known = value.groups, all(value.groups)
        else:
            sources = _sources(value)
            groups, known = ((sources,) if sources else ()), bool(sources)
        self.emit(OptimizerBuilt(optimizer, groups, self.where(statement, frame), known))
        return optimizer

    def promote(self, node: ast.expr, frame: Frame) -> Ref | None:
        """A name of unknown value used as a module (`model.parameters()`) becomes an inferred model, and so
        does the root of an unknown chain used as one (`model.features.parameters()`)."""
        if isinstance(node, ast.Name) and frame.env.get(node.id, UNKNOWN) is UNKNOWN:
            if frame.imports.lookup(node.id) is not None:
                return None
            obj = ModelObject(node.id, Origin.INFERRED, node)
            frame.env[node.id] = Ref(obj)
            self.module_evidence(Ref(obj))
            return Ref(obj)
        if isinstance(node, ast.Attribute):
            base = self.value(node.value, frame)
            if base is UNKNOWN:
                base = self.promote(node.value, frame) or UNKNOWN
            if isinstance(base, Ref) and not base.obj.is_module:
                obj = ModelObject(self.text(node), Origin.INFERRED, node)
                base.obj.attached[(*base.path, node.attr)] = Ref(obj)
                self.module_evidence(Ref(obj))
                return Ref(obj)
            if isinstance(base, Ref):
                ref = self.attribute(base, node.attr)
                if isinstance(ref, Ref):
                    self.module_evidence(ref)
                    return ref
        return None

    # --- same-file functions and classes -----------------------------------------------------------------

    def summarise(self, function: FunctionDef, frame: Frame, bound: ModelObject | None = None) -> Summary | None:
        """Interpret a function once, with its parameters as unknown models; recursion gives up."""
        if function.summary is not None:
            return function.summary
        if function.analysing or frame.depth > MAX_INLINE_DEPTH:
            return None
        function.analysing = True
        params = [p.arg for p in function.node.args.args]
        env: dict[str, Value] = dict(frame.env) if function.owner is None else {}
        param_objects: dict[str, ModelObject] = {}
        for index, name in enumerate(params):
            if index == 0 and function.owner is not None:
                owner_instance = bound or self.class_instance(function.owner, frame)
                env[name] = Ref(owner_instance)
                param_objects[name] = owner_instance
                continue
            obj = ModelObject(name, Origin.PARAMETER, function.node)
            env[name] = Ref(obj)
            param_objects[name] = obj
        summary = Summary(params, param_objects)
        conditions: tuple[Condition, ...] = ()
        if function.owner is not None and function.name != "__init__":
            conditions = (Condition(f"{function.owner.name}.{function.name}() runs"),)
        constructing = bound if function.owner is not None and function.name == "__init__" else None
        inner = Frame(env, frame.imports.child(), dict(frame.functions), frame.classes, next(self._scopes),
                      summary, conditions, depth=frame.depth + 1, constructing=constructing)
        self._register_definitions(function.node.body, inner)
        self._recording.append(summary)
        try:
            self.block(function.node.body, inner)
        finally:
            self._recording.pop()
            function.analysing = False
        function.summary = summary
        return summary

    def class_instance(self, cls: ClassDef, frame: Frame) -> ModelObject:
        """The one object standing for every instance of a class; `__init__` runs first, other methods later."""
        if cls.instance is None:
            origin = Origin.LOCAL_CLASS if cls.is_module else Origin.INFERRED
            cls.instance = ModelObject(cls.name, origin, cls.node, constructor=None, is_module=cls.is_module)
            init = cls.methods.get("__init__")
            if init is not None:
                self.summarise(init, frame, cls.instance)
            for method in cls.methods.values():
                self.summarise(method, frame, cls.instance)
        return cls.instance

    def instantiate(self, cls: ClassDef, frame: Frame, node: ast.Call | None = None,
                    statement: ast.AST | None = None) -> Value:
        if node is not None:
            for arg in arguments(node):
                self.value(arg.value, frame)
        instance = self.class_instance(cls, frame)
        if node is not None and statement is not None and cls.is_module:
            self.emit(Built(Ref(instance), self.where(statement, frame)))
        return Ref(instance)

    def call_function(self, function: FunctionDef, node: ast.Call, frame: Frame, statement: ast.AST,
                      bound: Ref | None = None) -> Value:
        args = [self.value(a.value, frame) for a in arguments(node)]
        summary = self.summarise(function, frame)
        if summary is None:
            self.unknown_call(node, args, frame, statement)
            return UNKNOWN
        bindings = _bind_arguments(summary, function, node, args, bound)
        literals = {name: v.value for name, v in bindings.items() if isinstance(v, Literal)}
        mapping = {summary.param_objects[name]: v for name, v in bindings.items()
                   if isinstance(v, Ref) and name in summary.param_objects}
        texts = _argument_texts(summary, function, node, self.text)
        replayer = _Replayer(mapping, literals, texts,
                             Where(statement, frame.scope, frame.conditions, function.name))
        for event in summary.events:
            replayed = replayer.event(event)
            if replayed is not None:
                self.emit(replayed)
        return replayer.value(summary.returned)

    # --- tests and selectors -----------------------------------------------------------------------------

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
        used = _names_in(test)
        if not used & (set(loop_vars) | set(name_vars) | frame.loop_locals):
            return None
        return _name_test(test, set(name_vars), set(loop_vars), frame) or OPAQUE

    @staticmethod
    def is_main_guard(test: ast.expr) -> bool:
        return isinstance(test, ast.Compare) and isinstance(test.left, ast.Name) and test.left.id == "__name__"


class _Replayer:
    """Maps a function's summary events onto the values of one call site."""

    def __init__(self, mapping: dict[ModelObject, Ref], literals: dict[str, object], texts: dict[str, str],
                 site: Where) -> None:
        self.mapping = mapping
        self.literals = literals
        self.texts = texts
        self.site = site
        self.optimizers: dict[int, Optimizer] = {}

    def ref(self, ref: Ref) -> Ref | None:
        """The caller's ref for a ref of the callee; None for the callee's own objects, whose events are
        already on the timeline from the callee's own interpretation."""
        root, path = ref.absolute()
        target = self.mapping.get(root)
        if target is None:
            return None
        return Ref(target.obj, target.path + path, target.wrapped)

    def where(self, where: Where) -> Where | None:
        conditions = []
        for condition in where.conditions:
            if condition.param in self.literals:
                if bool(self.literals[condition.param]) != condition.polarity:
                    return None
                continue
            if condition.param in self.texts:
                text = self.texts[condition.param]
                condition = Condition(text if condition.polarity else f"not {text}")
            conditions.append(condition)
        return replace(self.site, conditions=self.site.conditions + tuple(conditions))

    def optimizer(self, optimizer: Optimizer) -> Optimizer:
        return self.optimizers.setdefault(optimizer.uid, Optimizer(optimizer.label, self.site.node))

    def sources(self, sources: tuple[ParamsOf, ...]) -> tuple[ParamsOf, ...] | None:
        mapped = []
        for source in sources:
            ref = self.ref(source.ref)
            if ref is None:
                return None
            mapped.append(replace(source, ref=ref))
        return tuple(mapped)

    def event(self, event: Event) -> Event | None:
        where = self.where(event.where)
        if where is None:
            return None
        if isinstance(event, Built):
            return None
        if isinstance(event, Replaced | SetRequiresGrad | MaybeChanged | ModelPassed):
            ref = self.ref(event.ref)
            if ref is None:
                return None
            if isinstance(event, Replaced) and event.new is not None:
                ref.obj.attached[ref.path] = Ref(event.new)
            return replace(event, ref=ref, where=where)
        if isinstance(event, OptimizerBuilt):
            groups = [self.sources(g) for g in event.groups]
            if any(g is None for g in groups):
                return None
            return replace(event, optimizer=self.optimizer(event.optimizer),
                           groups=tuple(g for g in groups if g is not None), where=where)
        if isinstance(event, ParamGroupAdded):
            sources = self.sources(event.sources)
            optimizer = None if event.optimizer is None else self.optimizer(event.optimizer)
            return None if sources is None else replace(event, optimizer=optimizer, sources=sources, where=where)
        return replace(event, where=where)

    def value(self, value: Value) -> Value:
        """What the call returns: a parameter maps to the caller's value; a model the callee built is
        itself (with its events already on the timeline)."""
        if isinstance(value, Ref):
            mapped = self.ref(value)
            if mapped is not None:
                return mapped
            return value if value.absolute()[0].origin is not Origin.PARAMETER else UNKNOWN
        if isinstance(value, Optimizer):
            return self.optimizers.get(value.uid, UNKNOWN)
        return value if isinstance(value, Literal) else UNKNOWN


# --- small syntactic helpers ---------------------------------------------------------------------------------


def _attach(child: ModelObject, parent: ModelObject, path: tuple[str, ...]) -> None:
    """Record that `child` now lives at `path` inside `parent`, unless that would make a cycle."""
    if child.parent is not None or child is parent:
        return
    ancestor = parent.parent
    while ancestor is not None:
        if ancestor[0] is child:
            return
        ancestor = ancestor[0].parent
    child.parent = (parent, path)


def _identity(value: Value) -> object:
    if isinstance(value, Ref):
        return (value.obj.uid, value.path)
    if isinstance(value, Optimizer):
        return value.uid
    if isinstance(value, Literal) and _is_plain(value.value):
        return ("literal", value.value)
    return id(value)


def _is_plain(value: object) -> bool:
    """Hashable and cheap to compare: a literal number, string, bool, None, or a tuple of strings."""
    if isinstance(value, tuple):
        return all(isinstance(v, str) for v in value)
    return value is None or isinstance(value, int | float | str)


def _is_value(value: object) -> bool:
    return isinstance(value, Ref | Literal | Optimizer | ParamsOf | ParamList)


def _unstarred(node: ast.expr) -> ast.expr:
    """`*xs` in a list or an assignment target stands for the elements of `xs`."""
    return node.value if isinstance(node, ast.Starred) else node


def _target_names(target: ast.expr) -> Iterator[str]:
    target = _unstarred(target)
    if isinstance(target, ast.Name):
        yield target.id
    elif isinstance(target, ast.Tuple | ast.List):
        for element in target.elts:
            yield from _target_names(element)


def _assigned_names(loop: ast.For | ast.AsyncFor) -> frozenset[str]:
    """Names bound by a loop header or assigned in its body: tests on them choose by position or count."""
    names = set(_target_names(loop.target))
    for statement in loop.body:
        for node in ast.walk(statement):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    names.update(_target_names(target))
            elif isinstance(node, ast.AugAssign):
                names.update(_target_names(node.target))
    return frozenset(names)


def _names_in(node: ast.AST) -> set[str]:
    return {child.id for child in ast.walk(node) if isinstance(child, ast.Name)}


def _is_requires_grad(node: ast.expr) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "requires_grad"


def _is_requires_grad_comparison(node: ast.expr) -> bool:
    """`p.requires_grad == False` (or `!=`, `is`, `is not`)."""
    if not isinstance(node, ast.Compare):
        return False
    return any(_is_requires_grad(side) for side in (node.left, *node.comparators)) and all(
        isinstance(op, ast.Eq | ast.NotEq | ast.Is | ast.IsNot) for op in node.ops
    )


def _lazy_freeze_kind(node: ast.expr) -> str | None:
    """`map(lambda p: p.requires_grad_(False), ...)` or `(p.requires_grad_(False) for p in ...)` alone."""
    if isinstance(node, ast.GeneratorExp) and _touches_requires_grad(node.elt):
        return "generator expression"
    lazy_call = isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("map", "filter")
    if lazy_call and node.args and _touches_requires_grad(_unstarred(node.args[0])):
        return f"{node.func.id}()"  # type: ignore[union-attr]
    return None


def _touches_requires_grad(node: ast.AST) -> bool:
    return any(
        (isinstance(child, ast.Attribute) and child.attr in ("requires_grad_", "requires_grad"))
        or (isinstance(child, ast.Constant) and child.value == "requires_grad")
        for child in ast.walk(node)
    )


def _bool_literal(node: ast.expr) -> bool | None:
    """`True`/`False`, or the integers 0 and 1 written for them."""
    if isinstance(node, ast.Constant) and (node.value is True or node.value is False):
        return node.value
    if isinstance(node, ast.Constant) and type(node.value) is int and node.value in (0, 1):
        return node.value == 1
    return None


def _string(node: ast.expr) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _integer(node: ast.expr | None) -> int | None:
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    return None


def _keyword(node: ast.Call, name: str) -> ast.expr | None:
    for keyword in node.keywords:
        if keyword.arg == name:
            return keyword.value
    return None


def _literal_index(node: ast.Subscript) -> str | None:
    index = node.slice
    if isinstance(index, ast.UnaryOp) and isinstance(index.op, ast.USub) and _integer(index.operand) is not None:
        return f"-{_integer(index.operand)}"
    number = _integer(index)
    return str(number) if number is not None else _string(index)


def _dict_entry(node: ast.Dict, key: str) -> ast.expr | None:
    for entry_key, value in zip(node.keys, node.values, strict=True):
        if entry_key is not None and _string(entry_key) == key:
            return value
    return None

def _sources(value: Value) -> tuple[ParamsOf, ...]:
    if isinstance(value, ParamsOf):
        return (value,)
    if isinstance(value, ParamList):
        return value.sources
    if isinstance(value, Ref):
        return (ParamsOf(value),)  # `SGD(model)`-style factories taking the module
    return ()


def _concat(left: Value, right: Value) -> Value:
    if isinstance(left, ParamsOf | ParamList) and isinstance(right, ParamsOf | ParamList):
        return ParamList(_sources(left) + _sources(right))
    if isinstance(left, Literal) and isinstance(right, Literal) and isinstance(left.value, tuple) and isinstance(
            right.value, tuple):
        return Literal(left.value + right.value)
    if isinstance(left, ParamList) and not left.sources and isinstance(right, ParamsOf | ParamList):
        return ParamList(_sources(right))
    return UNKNOWN


def _names_a_parameter(ref: Ref) -> bool:
    return bool(ref.path) and ref.path[-1] in ("weight", "bias")


def _is_detached(node: ast.expr) -> bool:
    """`x.item()`, `x.detach()`, `x.data`, `x.tolist()`, `x.cpu().numpy()`, or a plain number."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return node.func.attr in ("item", "detach", "tolist", "numpy") or _is_detached(node.func.value)
    if isinstance(node, ast.Attribute):
        return node.attr == "data"
    return isinstance(node, ast.Constant) and type(node.value) in (int, float)


def _loss_name(node: ast.expr | None) -> str | None:
    """The variable a backward runs on: `loss`, `scaler.scale(loss)`, `(loss / accum)`."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Call) and (args := arguments(node)):
        return _loss_name(args[0].value)
    if isinstance(node, ast.BinOp):
        return _loss_name(node.left)
    return None


def _is_requires_grad_lambda(node: ast.expr) -> bool:
    return isinstance(node, ast.Lambda) and _is_requires_grad(node.body)


def _reset_has_params(node: ast.Call) -> bool | None:
    """`reset_classifier(0)` (or `num_classes=0`) leaves no classifier; a positive size builds one."""
    args = arguments(node)
    classes = _integer(args[0].value) if args else None
    return None if classes is None else classes > 0


def _model_constructor(qual: str, node: ast.Call) -> str | None:
    """`torchvision.models.resnet18`, `timm:resnet50`, `transformers.AutoModel.from_pretrained`, ..."""
    last = qual.rsplit(".", 1)[-1]
    args = arguments(node)
    if qual in ("timm.create_model", "timm.models.create_model"):
        name = _string(args[0].value) if args else None
        keyword = _keyword(node, "model_name")
        name = name or (_string(keyword) if keyword is not None else None)
        return f"timm:{name}" if name else "timm:?"
    if qual in ("torchvision.models.get_model",) and args:
        name = _string(args[0].value)
        return f"torchvision.models.{name}" if name else "torchvision.models.?"
    if qual == "torch.hub.load":
        return "torch.hub.load"
    if last in ("from_pretrained", "from_config") and not NON_MODEL_PRETRAINED.search(qual):
        return qual
    if qual.startswith("torchvision.models.") and (last.islower() or last[:1].isupper()) and not last.endswith(
            "_Weights") and "transforms" not in qual and last not in ("get_model_weights", "list_models",
                                                                     "get_weight"):
        return qual
    if qual.startswith(MODEL_NAMESPACES) and last[:1].isupper() and "Model" in last and "Config" not in last:
        return qual
    return None


def _ordered_dict_layers(node: ast.expr) -> list[tuple[str, ast.expr]] | None:
    """`OrderedDict([("drop", nn.Dropout()), ("out", nn.Linear(...))])` as (name, layer) pairs."""
    if not (isinstance(node, ast.Call) and (dotted(node.func) or "").endswith("OrderedDict") and node.args):
        return None
    items = node.args[0]
    if not isinstance(items, ast.List | ast.Tuple):
        return None
    pairs = []
    for pair in items.elts:
        if not isinstance(pair, ast.Tuple) or len(pair.elts) != 2:
            return None
        key = _string(pair.elts[0])
        if key is None:
            return None
        pairs.append((key, pair.elts[1]))
    return pairs


def _layer_param_names(class_name: str, keys: list[str] | None, members: list[Value]) -> tuple[str, ...] | None:
    """Parameter names of a new layer, for evaluating name filters on it; None when unknown."""
    if class_name in PARAMLESS_LAYERS:
        return ()
    if class_name in LEAF_LAYERS:
        return ("weight", "bias")
    if class_name != "Sequential" or keys is None:
        return None
    names: list[str] = []
    for key, member in zip(keys, members, strict=True):
        if not isinstance(member, Ref) or member.obj.param_names is None:
            return None
        names += [f"{key}.{name}" for name in member.obj.param_names]
    return tuple(names)


def _in_features(class_name: str, node: ast.Call, members: list[Value]) -> int | None:
    """The literal input size of a new layer; a Sequential takes it from its first layer with parameters."""
    if class_name in ("Linear", "Conv1d", "Conv2d", "Conv3d", "Bilinear", "LazyLinear"):
        return _integer(_keyword(node, "in_features") or _keyword(node, "in_channels") or (
            node.args[0] if node.args else None))
    if class_name == "Sequential":
        for member in members:
            if not isinstance(member, Ref) or member.obj.has_params is None:
                return None
            if member.obj.has_params:
                return member.obj.in_features
    return None


def _pretrained(node: ast.Call, constructor: str) -> bool | None:
    if constructor.endswith(("from_pretrained",)):
        return True
    weights = _keyword(node, "weights")
    if weights is not None:
        if isinstance(weights, ast.Constant) and weights.value is None:
            return False
        named = isinstance(weights, ast.Attribute) and weights.attr.isupper()  # ResNet18_Weights.DEFAULT
        return True if named or _string(weights) is not None or isinstance(weights, ast.Call) else None
    pretrained = _keyword(node, "pretrained")
    if pretrained is not None:
        return _bool_literal(pretrained)
    if _keyword(node, "checkpoint_path") is not None or _keyword(node, "pretrained_cfg_overlay") is not None:
        return None  # timm loads a local checkpoint
    if constructor.startswith(("torchvision.", "timm:")):
        return False
    return None


def _bind_arguments(summary: Summary, function: FunctionDef, node: ast.Call, args: list[Value],
                    bound: Ref | None) -> dict[str, Value]:
    """Parameter name -> value at one call; `args` are the values of `arguments(node)`."""
    params = list(summary.params)
    bindings: dict[str, Value] = {}
    if function.owner is not None and params:
        if bound is not None:
            bindings[params[0]] = bound
        params = params[1:]
    call_args = arguments(node)
    for param, arg, value in zip(params, call_args, args, strict=False):
        if arg.keyword is None and arg.star == "":
            bindings[param] = value
    for arg, value in zip(call_args, args, strict=True):
        if arg.keyword is not None:
            bindings[arg.keyword] = value
    return bindings


def _argument_texts(summary: Summary, function: FunctionDef, node: ast.Call, text: Callable[[ast.AST], str]
                    ) -> dict[str, str]:
    """The source text each parameter is called with, to say `when args.freeze` rather than `when flag`."""
    params = summary.params[1:] if function.owner is not None else summary.params
    call_args = arguments(node)
    texts = {param: text(arg.value) for param, arg in zip(params, call_args, strict=False)
             if arg.keyword is None and arg.star == ""}
    texts.update({arg.keyword: text(arg.value) for arg in call_args if arg.keyword is not None})
    return texts


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
    if _is_requires_grad(test) and isinstance(test.value, ast.Name) and test.value.id in param_vars:  # type: ignore[attr-defined]
        return TRAINABLE_ONLY
    if isinstance(test, ast.Compare) and len(test.ops) == 1:
        left, op, right = test.left, test.ops[0], test.comparators[0]
        if _is_requires_grad(left) and isinstance(left.value, ast.Name) and left.value.id in param_vars:  # type: ignore[attr-defined]
            literal = _bool_literal(right)
            if literal is not None and isinstance(op, ast.Eq | ast.Is | ast.NotEq | ast.IsNot):
                positive = literal == isinstance(op, ast.Eq | ast.Is)
                return TRAINABLE_ONLY if positive else TRAINABLE_ONLY.negate()
            return None
        if isinstance(right, ast.Name) and right.id in name_vars and isinstance(op, ast.In | ast.NotIn):
            literal = _string(left)
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
    single = _string(node)
    if single is not None:
        return (single,)
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        values = [_string(e) for e in node.elts]
        return None if any(v is None for v in values) else tuple(v for v in values if v is not None)
    if isinstance(node, ast.Name):
        bound = frame.env.get(node.id)
        if isinstance(bound, Literal) and isinstance(bound.value, tuple) and all(
                isinstance(v, str) for v in bound.value):
            return tuple(str(v) for v in bound.value)
    return None


def analyse(module: ast.Module, source: Source) -> FileFacts:
    """Build the facts of one parsed file.

    The pass recurses along the tree (an `elif` chain nests), so valid files that CPython compiles can be deeper
    than Python's default recursion limit. From 3.11 on, Python-to-Python calls use no C stack, and the limit can
    be raised safely for the pass."""
    limit = sys.getrecursionlimit()
    if sys.version_info >= (3, 11):
        sys.setrecursionlimit(max(limit, ANALYSIS_RECURSION_LIMIT))
    try:
        return FileAnalysis(module, source).run()
    finally:
        sys.setrecursionlimit(limit)
