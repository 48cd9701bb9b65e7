"""The one pass over a file: an abstract interpreter that follows models through names, calls and
statements in execution order and records `FileFacts`.

It interprets only what matters to training: which values are models (and which path inside them),
parameters and optimizers; everything else is `UNKNOWN`. Same-file helper functions are summarised once
(their events on their parameters) and replayed at each call site. Precision first: whenever a value or
a test cannot be read, the pass records nothing rather than guess.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace

import libcst as cst

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

MISSPELLINGS = frozenset(
    {"require_grad", "requires_grads", "requires_gradient", "requiresgrad", "requires_grad_", "required_grad",
     "require_grads", "requries_grad", "reqires_grad", "requires_gard", "requiers_grad", "requires_grade"}
)
MAX_INLINE_DEPTH = 4
HEAD_PLACEHOLDER = "@classifier"  # the head `reset_classifier()` rebuilds, wherever the architecture keeps it
MAX_LITERAL_LOOP = 8
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


@dataclass
class FunctionDef:
    node: cst.FunctionDef
    name: str
    owner: ClassDef | None = None
    summary: Summary | None = None
    analysing: bool = False


@dataclass
class ClassDef:
    node: cst.ClassDef
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

    def __init__(self, module: cst.Module) -> None:
        self.module = module
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

    def text(self, node: cst.CSTNode) -> str:
        return " ".join(self.module.code_for_node(node).split())

    def where(self, node: cst.CSTNode, frame: Frame) -> Where:
        return Where(node=node, scope=frame.scope, conditions=frame.conditions)

    def emit(self, event: Event) -> None:
        self.facts.events.append(event)
        for summary in self._recording:
            summary.events.append(event)

    def module_evidence(self, value: Value) -> None:
        """`value` is used as a module, and so is everything that contains it."""
        if isinstance(value, Ref):
            self.facts.module_evidence.update((value.obj.uid, value.path[:i]) for i in range(len(value.path) + 1))

    def _register_definitions(self, body: Sequence[cst.CSTNode], frame: Frame, owner: ClassDef | None = None
                              ) -> None:
        for statement in body:
            if isinstance(statement, cst.FunctionDef):
                function = FunctionDef(statement, statement.name.value, owner)
                if owner is not None:
                    owner.methods[function.name] = function
                else:
                    frame.functions[function.name] = function
            elif isinstance(statement, cst.ClassDef) and owner is None:
                bases = [frame.imports.qualname(arg.value) or dotted(arg.value) or "" for arg in statement.bases]
                is_module = any(
                    b in MODULE_BASES or b.endswith(("nn.Module", "LightningModule", "PreTrainedModel"))
                    or (b in frame.classes and frame.classes[b].is_module)
                    for b in bases
                )
                cls = ClassDef(statement, statement.name.value, is_module)
                frame.classes[cls.name] = cls
                if isinstance(statement.body, cst.IndentedBlock):
                    self._register_definitions(statement.body.body, frame, owner=cls)
            elif isinstance(statement, cst.SimpleStatementLine):
                for small in statement.body:
                    if isinstance(small, cst.Import | cst.ImportFrom):
                        frame.imports.add(small)

    # --- statements --------------------------------------------------------------------------------------

    def block(self, body: Sequence[cst.CSTNode] | cst.BaseSuite, frame: Frame) -> None:
        if isinstance(body, cst.IndentedBlock):
            body = body.body
        elif isinstance(body, cst.SimpleStatementSuite):
            for small in body.body:
                self.small_statement(small, body, frame)
            return
        for statement in body:
            self.statement(statement, frame)

    def statement(self, node: cst.CSTNode, frame: Frame) -> None:
        if isinstance(node, cst.SimpleStatementLine):
            for small in node.body:
                self.small_statement(small, node, frame)
        elif isinstance(node, cst.If):
            self.if_statement(node, frame)
        elif isinstance(node, cst.For):
            self.for_statement(node, frame)
        elif isinstance(node, cst.While):
            self.value(node.test, frame)
            self.branches(frame, [(node.body, (self.condition(node.test, frame),))], else_body=node.orelse)
        elif isinstance(node, cst.With):
            for item in node.items:
                self.value(item.item, frame)
            self.block(node.body, frame)
        elif isinstance(node, cst.Try | cst.TryStar):
            self.block(node.body, frame)
            branches = [(h.body, (Condition("an exception is caught"),)) for h in node.handlers]
            self.branches(frame, branches)
            if node.orelse is not None:
                self.block(node.orelse.body, frame)
            if node.finalbody is not None:
                self.block(node.finalbody.body, frame)
        elif isinstance(node, cst.Match):
            self.value(node.subject, frame)
            self.branches(frame, [(case.body, (Condition(f"case {self.text(case.pattern)}"),))
                                  for case in node.cases])
        elif isinstance(node, cst.FunctionDef):
            if node.name.value not in frame.functions:
                frame.functions[node.name.value] = FunctionDef(node, node.name.value)
        elif isinstance(node, cst.ClassDef):
            pass  # registered up front; instantiated where called, or at the end

    def small_statement(self, node: cst.BaseSmallStatement, line: cst.CSTNode, frame: Frame) -> None:
        if isinstance(node, cst.Assign):
            value = self.value(node.value, frame)
            for target in node.targets:
                self.assign(target.target, value, node.value, line, frame)
        elif isinstance(node, cst.AnnAssign) and node.value is not None:
            self.assign(node.target, self.value(node.value, frame), node.value, line, frame)
        elif isinstance(node, cst.AugAssign):
            self.aug_assign(node, frame)
        elif isinstance(node, cst.Expr):
            self.expression_statement(node.value, line, frame)
        elif isinstance(node, cst.Return) and node.value is not None:
            value = self.value(node.value, frame)
            if frame.summary is not None:
                frame.summary.returns.append(value)
        elif isinstance(node, cst.Import | cst.ImportFrom):
            frame.imports.add(node)

    def if_statement(self, node: cst.If, frame: Frame) -> None:
        if self.is_main_guard(node.test):
            self.block(node.body, frame)
            return
        self.value(node.test, frame)
        selector = self.loop_selector(node.test, frame)
        if selector is not None:
            self.selected_branches(node, selector, frame)
            return
        condition = self.condition(node.test, frame)
        branches: list[tuple[cst.BaseSuite, tuple[Condition, ...]]] = [(node.body, (condition,))]
        orelse = node.orelse
        negated = Condition(f"not ({condition.text})", condition.param, not condition.polarity)
        if isinstance(orelse, cst.If):
            branches.append((cst.IndentedBlock(body=[orelse]), (negated,)))
        elif isinstance(orelse, cst.Else):
            branches.append((orelse.body, (negated,)))
        self.branches(frame, branches)

    def selected_branches(self, node: cst.If, selector: Selector, frame: Frame) -> None:
        """An `if` on a parameter's name inside a loop over parameters narrows which parameters it touches."""
        for body, chosen in ((node.body, selector), (node.orelse, selector.negate())):
            if body is None:
                continue
            env = frame.child_env()
            for name, value in frame.env.items():
                if isinstance(value, ParamVar | ModuleVar):
                    env[name] = replace(value, selector=value.selector.both(chosen))
            inner = replace(frame, env=env)
            if isinstance(body, cst.If):
                self.if_statement(body, inner)
            else:
                self.block(body.body if isinstance(body, cst.Else) else body, inner)
            self._merge_into(frame, [env])

    def branches(self, frame: Frame, branches: list[tuple[cst.BaseSuite, tuple[Condition, ...]]],
                 else_body: cst.Else | None = None) -> None:
        envs = []
        for body, conditions in branches:
            inner = replace(frame, env=frame.child_env(), conditions=frame.conditions + conditions)
            self.block(body, inner)
            envs.append(inner.env)
        if else_body is not None:
            inner = replace(frame, env=frame.child_env())
            self.block(else_body.body, inner)
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

    def for_statement(self, node: cst.For, frame: Frame) -> None:
        iterable = self.value(node.iter, frame)
        loop_locals = frame.loop_locals | _assigned_names(node)
        if isinstance(iterable, ParamsOf | ModuleVar):
            env = frame.child_env()
            self.bind_loop_target(node.target, iterable, node, env)
            inner = replace(frame, env=env, loop_locals=loop_locals)
            self.block(node.body, inner)
            self._merge_into(frame, [env])
            return
        if isinstance(iterable, Literal) and isinstance(iterable.value, tuple) and isinstance(node.target, cst.Name):
            elements = iterable.value
            if 0 < len(elements) <= MAX_LITERAL_LOOP and all(isinstance(e, Ref) for e in elements):
                for element in elements:
                    env = frame.child_env()
                    env[node.target.value] = element
                    self.block(node.body, replace(frame, env=env))
                return
        env = frame.child_env()
        for name in _target_names(node.target):
            env[name] = UNKNOWN
        condition = Condition(f"for {self.text(node.target)} in {self.text(node.iter)}")
        inner = replace(frame, env=env, conditions=(*frame.conditions, condition), loop_locals=loop_locals)
        self.block(node.body, inner)
        self._merge_into(frame, [inner.env])

    def bind_loop_target(self, target: cst.BaseExpression, iterable: ParamsOf | ModuleVar, site: cst.CSTNode,
                         env: dict[str, Value]) -> None:
        """`for p in m.parameters()`, `for n, p in m.named_parameters()`, `for i, (n, p) in enumerate(...)`."""
        names = target
        if isinstance(names, cst.Tuple) and len(names.elements) == 2 and isinstance(
            names.elements[1].value, cst.Tuple
        ):
            env.update(dict.fromkeys(_target_names(names.elements[0].value), UNKNOWN))
            names = names.elements[1].value
        name_var = None
        element: cst.BaseExpression = names
        if isinstance(names, cst.Tuple) and len(names.elements) == 2:
            first, element = names.elements[0].value, names.elements[1].value
            name_var = first.value if isinstance(first, cst.Name) else None
            if name_var:
                env[name_var] = UNKNOWN
        if not isinstance(element, cst.Name):
            return
        site_node = iterable.site or site
        if isinstance(iterable, ParamsOf):
            env[element.value] = ParamVar(iterable.ref, iterable.selector, name_var, site_node)
        else:
            env[element.value] = replace(iterable, name_var=name_var, site=site_node)

    def expression_statement(self, node: cst.BaseExpression, line: cst.CSTNode, frame: Frame) -> None:
        if _is_requires_grad_comparison(node):
            self.facts.discarded_comparisons.append(DiscardedComparison(self.where(line, frame), self.text(node)))
        lazy = _lazy_freeze_kind(node)
        if lazy is not None:
            self.facts.lazy_freezes.append(LazyFreeze(self.where(line, frame), lazy))
            return
        self.value(node, frame, statement=line)

    # --- assignments -------------------------------------------------------------------------------------

    def assign(self, target: cst.BaseExpression, value: Value, value_node: cst.BaseExpression,
               line: cst.CSTNode, frame: Frame) -> None:
        if isinstance(target, cst.Name):
            frame.env[target.value] = value
            frame.imports.forget(target.value)
            self.detect_loss_rebuild(target.value, value_node, line, frame)
        elif isinstance(target, cst.Tuple | cst.List):
            self.assign_tuple(target, value, value_node, line, frame)
        elif isinstance(target, cst.Attribute):
            self.assign_attribute(target, target.attr.value, value, value_node, line, frame)
        elif isinstance(target, cst.Subscript):
            index = _literal_index(target)
            if index is not None:
                self.assign_attribute(target, index, value, value_node, line, frame)

    def assign_tuple(self, target: cst.Tuple | cst.List, value: Value, value_node: cst.BaseExpression,
                     line: cst.CSTNode, frame: Frame) -> None:
        elements = [e.value for e in target.elements]
        values: list[Value] = [UNKNOWN] * len(elements)
        if isinstance(value, Literal) and isinstance(value.value, tuple) and len(value.value) == len(elements):
            values = [v if _is_value(v) else UNKNOWN for v in value.value]
        for element, element_value in zip(elements, values, strict=True):
            self.assign(element, element_value, value_node, line, frame)

    def assign_attribute(self, target: cst.Attribute | cst.Subscript, attr: str, value: Value,
                         value_node: cst.BaseExpression, line: cst.CSTNode, frame: Frame) -> None:
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

    def requires_grad_write(self, receiver: Value, receiver_node: cst.BaseExpression,
                            value_node: cst.BaseExpression, line: cst.CSTNode, frame: Frame) -> None:
        """`p.requires_grad = ...` on a loop variable over parameters freezes or unfreezes them."""
        if isinstance(receiver, ParamVar):
            self.set_requires_grad(receiver.ref, receiver.selector, value_node, receiver.site or line, frame)
        elif isinstance(receiver, Ref) and _names_a_parameter(receiver):
            obj_ref = Ref(receiver.obj, receiver.path[:-1])
            leaf = receiver.path[-1]
            self.set_requires_grad(obj_ref, sel.name_test("equals", (leaf,), receiver_node), value_node, line,
                                   frame)
        elif isinstance(receiver_node, cst.Name):
            self.detect_loss_rebuild(receiver_node.value, None, line, frame, forced=True)

    def set_requires_grad(self, ref: Ref, selector: Selector, value_node: cst.BaseExpression | None,
                          site: cst.CSTNode, frame: Frame) -> None:
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

    def aug_assign(self, node: cst.AugAssign, frame: Frame) -> None:
        added = self.value(node.value, frame)
        if isinstance(node.target, cst.Name) and isinstance(node.operator, cst.AddAssign):
            current = frame.env.get(node.target.value, UNKNOWN)
            frame.env[node.target.value] = _concat(current, added)

    def detect_loss_rebuild(self, name: str, value_node: cst.BaseExpression | None, line: cst.CSTNode,
                            frame: Frame, forced: bool = False) -> None:
        """TL016 patterns: `torch.tensor(x.item(), requires_grad=True)`, `x.detach().requires_grad_()`,
        `Variable(x.data, requires_grad=True)`, `loss.requires_grad = True`."""
        if forced or (value_node is not None and self.is_rebuilt_loss(value_node, frame)):
            text = self.text(line)
            self.facts.losses_rebuilt.append(
                LossRebuilt(name, self.where(line, frame), text, len(self.facts.events)))

    def is_rebuilt_loss(self, node: cst.BaseExpression, frame: Frame) -> bool:
        if not isinstance(node, cst.Call):
            return False
        qual = frame.imports.qualname(node.func) or ""
        if qual in {"torch.tensor", "torch.Tensor", "torch.as_tensor", "torch.autograd.Variable",
                    "torch.autograd.variable.Variable"}:
            requires = _keyword(node, "requires_grad")
            if requires is None or _bool_literal(requires) is not True or not node.args:
                return False
            first = node.args[0].value
            return _is_detached(first) or (qual.endswith("Variable") and _is_detached(first))
        if isinstance(node.func, cst.Attribute) and node.func.attr.value == "requires_grad_":
            if node.args and _bool_literal(node.args[0].value) is not True:
                return False
            return _is_detached(node.func.value)
        return False

    # --- expressions -------------------------------------------------------------------------------------

    def value(self, node: cst.BaseExpression, frame: Frame, statement: cst.CSTNode | None = None) -> Value:
        """The abstract value of an expression; calls inside it record their events."""
        if isinstance(node, cst.Name):
            if node.value in ("True", "False", "None"):
                return Literal({"True": True, "False": False, "None": None}[node.value])
            return frame.env.get(node.value, UNKNOWN)
        if isinstance(node, cst.Attribute):
            base = self.value(node.value, frame)
            return self.attribute(base, node.attr.value)
        if isinstance(node, cst.Subscript):
            base = self.value(node.value, frame)
            index = _literal_index(node)
            if isinstance(base, Ref) and index is not None:
                return self.attribute(base, index)
            if isinstance(base, ParamsOf | ModuleVar):
                return replace(base, selector=OPAQUE)  # `list(m.parameters())[:-2]`: by position
            return UNKNOWN
        if isinstance(node, cst.Call):
            return self.call(node, frame, statement or node)
        if isinstance(node, cst.SimpleString | cst.ConcatenatedString):
            text = node.evaluated_value
            return Literal(text if isinstance(text, str) else None)
        if isinstance(node, cst.Integer):
            return Literal(int(node.value, 0))
        if isinstance(node, cst.List | cst.Tuple | cst.Set):
            return self.sequence(node, frame)
        if isinstance(node, cst.BinaryOperation):
            left, right = self.value(node.left, frame), self.value(node.right, frame)
            return _concat(left, right) if isinstance(node.operator, cst.Add) else UNKNOWN
        if isinstance(node, cst.ListComp | cst.GeneratorExp | cst.SetComp):
            return self.comprehension(node, frame)
        if isinstance(node, cst.Dict):
            for element in node.elements:
                if isinstance(element, cst.DictElement):
                    self.value(element.value, frame)
            return UNKNOWN
        for child in node.children:
            if isinstance(child, cst.BaseExpression):
                self.value(child, frame)
            elif isinstance(child, cst.Arg):
                self.value(child.value, frame)
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

    def sequence(self, node: cst.List | cst.Tuple | cst.Set, frame: Frame) -> Value:
        items: list[Value] = []
        groups: list[tuple[ParamsOf, ...]] = []
        for element in node.elements:
            if isinstance(element.value, cst.Dict):
                params = _dict_entry(element.value, "params")
                groups.append(_sources(self.value(params, frame)) if params is not None else ())
                for entry in element.value.elements:
                    if isinstance(entry, cst.DictElement) and entry.value is not params:
                        self.value(entry.value, frame)
                continue
            items.append(self.value(element.value, frame))
        if groups and not items:
            return ParamGroups(tuple(groups))
        if items and all(isinstance(i, ParamsOf | ParamList) for i in items):
            return ParamList(tuple(s for i in items for s in _sources(i)))
        if items and all(isinstance(i, Literal) and isinstance(i.value, str) for i in items):
            return Literal(tuple(i.value for i in items if isinstance(i, Literal)))
        if items and all(isinstance(i, Ref) for i in items):
            return Literal(tuple(items))
        return UNKNOWN

    def comprehension(self, node: cst.ListComp | cst.GeneratorExp | cst.SetComp, frame: Frame) -> Value:
        """`[p for n, p in m.named_parameters() if "fc" in n]` is a selection of m's parameters."""
        env = frame.child_env()
        inner = replace(frame, env=env)
        clause: cst.CompFor | None = node.for_in
        while clause is not None:
            iterable = self.value(clause.iter, inner)
            if isinstance(iterable, ParamsOf | ModuleVar):
                self.bind_loop_target(clause.target, iterable, node, env)
            else:
                env.update(dict.fromkeys(_target_names(clause.target), UNKNOWN))
            for test in clause.ifs:
                selector = self.loop_selector(test.test, inner)
                if selector is None:
                    continue
                for name, value in list(env.items()):
                    if isinstance(value, ParamVar | ModuleVar):
                        env[name] = replace(value, selector=value.selector.both(selector))
            clause = clause.inner_for_in
        element = self.value(node.elt, inner)
        if isinstance(element, ParamVar):
            return ParamsOf(element.ref, element.selector, site=element.site)
        return UNKNOWN

    # --- calls -------------------------------------------------------------------------------------------

    def call(self, node: cst.Call, frame: Frame, statement: cst.CSTNode) -> Value:
        func = node.func
        if isinstance(func, cst.Attribute):
            receiver = self.value(func.value, frame)
            handled = self.method_call(node, func, receiver, frame, statement)
            if handled is not None:
                return handled
        qual = frame.imports.qualname(func)
        if qual is not None:
            result = self.library_call(node, qual, frame, statement)
            if result is not None:
                return result
        if isinstance(func, cst.Name):
            if func.value in frame.functions:
                return self.call_function(frame.functions[func.value], node, frame, statement)
            if func.value in frame.classes:
                return self.instantiate(frame.classes[func.value], frame, node, statement)
            builtin = self.builtin_call(func.value, node, frame, statement)
            if builtin is not None:
                return builtin
        args = [self.value(a.value, frame) for a in node.args]
        self.unknown_call(node, args, frame, statement)
        return UNKNOWN

    def unknown_call(self, node: cst.Call, args: list[Value], frame: Frame, statement: cst.CSTNode) -> None:
        """A call tllint cannot see into: it may change `requires_grad` (by its name) or train the model."""
        name = (dotted(node.func) or "").rsplit(".", 1)[-1].lower()
        mutates = any(word in name for word in MUTATING_CALL_WORDS)
        for arg in args:
            if isinstance(arg, Ref):
                where = self.where(statement, frame)
                self.emit(MaybeChanged(arg, where) if mutates else ModelPassed(arg, where))

    def method_call(self, node: cst.Call, func: cst.Attribute, receiver: Value, frame: Frame,
                    statement: cst.CSTNode) -> Value | None:
        method = func.attr.value
        args = node.args
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
                if isinstance(group, cst.Dict):
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

    def model_method(self, node: cst.Call, method: str, ref: Ref, frame: Frame, statement: cst.CSTNode) -> Value:
        args = node.args
        if method in MODULE_ONLY_METHODS:
            self.module_evidence(ref)
        if method in ("parameters", "named_parameters"):
            receiver = node.func.value if isinstance(node.func, cst.Attribute) else node.func
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

    def library_call(self, node: cst.Call, qual: str, frame: Frame, statement: cst.CSTNode) -> Value | None:
        last = qual.rsplit(".", 1)[-1]
        if qual in SAME_MODEL_WRAPPERS or (last in SAME_MODEL_WRAPPER_NAMES and node.args):
            inner = self.value(node.args[0].value, frame) if node.args else UNKNOWN
            for arg in node.args[1:]:
                self.value(arg.value, frame)
            prefix = "_orig_mod." if qual == "torch.compile" else "module."
            return replace(inner, wrapped=prefix) if isinstance(inner, Ref) else UNKNOWN
        if qual == "copy.deepcopy" and node.args:
            source = self.value(node.args[0].value, frame)
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
            for arg in node.args:
                self.value(arg.value, frame)
            ref = self.new_object(node, frame, statement, Origin.LIBRARY, constructor,
                                  pretrained=_pretrained(node, constructor))
            if constructor.startswith("torchvision."):
                ref.obj.deprecated_args = tuple(
                    arg for arg in node.args
                    if arg.keyword is not None and arg.keyword.value in ("pretrained", "pretrained_backbone"))
            return ref
        return None

    def builtin_call(self, name: str, node: cst.Call, frame: Frame, statement: cst.CSTNode) -> Value | None:
        args = node.args
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
                target = cst.Attribute(args[0].value, cst.Name(attr)) if attr.isidentifier() else node
                if attr == "requires_grad" or attr in MISSPELLINGS:
                    where = self.where(statement, frame)
                    self.facts.attribute_writes.append(
                        AttributeWrite(receiver, attr, where, self.text(args[0].value)))
                    if attr == "requires_grad":
                        self.requires_grad_write(receiver, args[0].value, args[2].value, statement, frame)
                elif isinstance(target, cst.Attribute):
                    self.assign_attribute(target, attr, value, args[2].value, statement, frame)
            return UNKNOWN
        return None

    def new_object(self, node: cst.Call, frame: Frame, statement: cst.CSTNode, origin: Origin,
                   constructor: str | None, pretrained: bool | None = None, has_params: bool | None = True
                   ) -> Ref:
        obj = ModelObject(self.text(node.func) + "(...)", origin, node, constructor, pretrained, has_params)
        ref = Ref(obj)
        self.emit(Built(ref, self.where(statement, frame)))
        return ref

    def new_layer(self, node: cst.Call, class_name: str, frame: Frame, statement: cst.CSTNode) -> Value:
        named = _ordered_dict_layers(node.args[0].value) if class_name == "Sequential" and len(node.args) == 1 else None
        if named is not None:  # Sequential(OrderedDict([("name", layer), ...])): the layers, with their names
            keys, members = [key for key, _ in named], [self.value(layer, frame) for _, layer in named]
        else:
            members = [self.value(a.value, frame) for a in node.args]
            keys = [str(i) for i in range(len(members))] if all(a.star == "" for a in node.args) else None
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

    def build_optimizer(self, node: cst.Call, qual: str, frame: Frame, statement: cst.CSTNode) -> Value:
        params_node = _keyword(node, "params") or _keyword(node, "model_or_params")
        if params_node is None and node.args:
            params_node = node.args[0].value
        for arg in node.args[1:]:
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

    def promote(self, node: cst.BaseExpression, frame: Frame) -> Ref | None:
        """A name of unknown value used as a module (`model.parameters()`) becomes an inferred model, and so
        does the root of an unknown chain used as one (`model.features.parameters()`)."""
        if isinstance(node, cst.Name) and frame.env.get(node.value, UNKNOWN) is UNKNOWN:
            if frame.imports.lookup(node.value) is not None:
                return None
            obj = ModelObject(node.value, Origin.INFERRED, node)
            frame.env[node.value] = Ref(obj)
            self.module_evidence(Ref(obj))
            return Ref(obj)
        if isinstance(node, cst.Attribute):
            base = self.value(node.value, frame)
            if base is UNKNOWN:
                base = self.promote(node.value, frame) or UNKNOWN
            if isinstance(base, Ref) and not base.obj.is_module:
                obj = ModelObject(self.text(node), Origin.INFERRED, node)
                base.obj.attached[(*base.path, node.attr.value)] = Ref(obj)
                self.module_evidence(Ref(obj))
                return Ref(obj)
            if isinstance(base, Ref):
                ref = self.attribute(base, node.attr.value)
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
        params = [p.name.value for p in function.node.params.params]
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
        self._register_definitions(function.node.body.body if isinstance(function.node.body, cst.IndentedBlock)
                                   else (), inner)
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

    def instantiate(self, cls: ClassDef, frame: Frame, node: cst.Call | None = None,
                    statement: cst.CSTNode | None = None) -> Value:
        if node is not None:
            for arg in node.args:
                self.value(arg.value, frame)
        instance = self.class_instance(cls, frame)
        if node is not None and statement is not None and cls.is_module:
            self.emit(Built(Ref(instance), self.where(statement, frame)))
        return Ref(instance)

    def call_function(self, function: FunctionDef, node: cst.Call, frame: Frame, statement: cst.CSTNode,
                      bound: Ref | None = None) -> Value:
        args = [self.value(a.value, frame) for a in node.args]
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

    def condition(self, test: cst.BaseExpression, frame: Frame) -> Condition:
        text = self.text(test)
        if isinstance(test, cst.Name) and frame.summary is not None and test.value in frame.summary.params:
            return Condition(text, test.value, True)
        if (isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not)
                and isinstance(test.expression, cst.Name) and frame.summary is not None
                and test.expression.value in frame.summary.params):
            return Condition(text, test.expression.value, False)
        return Condition(text)

    def loop_selector(self, test: cst.BaseExpression, frame: Frame) -> Selector | None:
        """A test that chooses among the parameters of an enclosing loop, as a selector; None if the test
        does not involve the loop (then it is an ordinary condition)."""
        loop_vars = {name: v for name, v in frame.env.items() if isinstance(v, ParamVar | ModuleVar)}
        name_vars = {v.name_var: v for v in loop_vars.values() if v.name_var}
        used = _names_in(test)
        if not used & (set(loop_vars) | set(name_vars) | frame.loop_locals):
            return None
        return _name_test(test, set(name_vars), set(loop_vars), frame) or OPAQUE

    @staticmethod
    def is_main_guard(test: cst.BaseExpression) -> bool:
        return (isinstance(test, cst.Comparison) and isinstance(test.left, cst.Name)
                and test.left.value == "__name__")


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


def _target_names(target: cst.BaseExpression) -> Iterator[str]:
    if isinstance(target, cst.Name):
        yield target.value
    elif isinstance(target, cst.Tuple | cst.List):
        for element in target.elements:
            yield from _target_names(element.value)


def _assigned_names(loop: cst.For) -> frozenset[str]:
    """Names bound by a loop header or assigned in its body: tests on them choose by position or count."""
    names = set(_target_names(loop.target))

    class Collect(cst.CSTVisitor):
        def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
            names.update(_target_names(node.target))

        def visit_AugAssign(self, node: cst.AugAssign) -> None:
            names.update(_target_names(node.target))

    loop.body.visit(Collect())
    return frozenset(names)


def _names_in(node: cst.CSTNode) -> set[str]:
    found: set[str] = set()

    class Collect(cst.CSTVisitor):
        def visit_Name(self, name: cst.Name) -> None:
            found.add(name.value)

        def visit_Attribute(self, attribute: cst.Attribute) -> bool:
            attribute.value.visit(self)
            return False

    node.visit(Collect())
    return found


def _is_requires_grad(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Attribute) and node.attr.value == "requires_grad"


def _is_requires_grad_comparison(node: cst.BaseExpression) -> bool:
    """`p.requires_grad == False` (or `!=`, `is`, `is not`)."""
    if not isinstance(node, cst.Comparison):
        return False
    sides = [node.left, *(target.comparator for target in node.comparisons)]
    equality = (cst.Equal, cst.NotEqual, cst.Is, cst.IsNot)
    return any(_is_requires_grad(side) for side in sides) and all(
        isinstance(target.operator, equality) for target in node.comparisons
    )


def _lazy_freeze_kind(node: cst.BaseExpression) -> str | None:
    """`map(lambda p: p.requires_grad_(False), ...)` or `(p.requires_grad_(False) for p in ...)` alone."""
    if isinstance(node, cst.GeneratorExp) and _touches_requires_grad(node.elt):
        return "generator expression"
    lazy_call = isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value in ("map", "filter")
    if lazy_call and node.args and _touches_requires_grad(node.args[0].value):
        return f"{node.func.value}()"
    return None


def _touches_requires_grad(node: cst.CSTNode) -> bool:
    found = False

    class Find(cst.CSTVisitor):
        def visit_Attribute(self, attribute: cst.Attribute) -> None:
            nonlocal found
            if attribute.attr.value in ("requires_grad_", "requires_grad"):
                found = True

        def visit_SimpleString(self, string: cst.SimpleString) -> None:
            nonlocal found
            if string.evaluated_value == "requires_grad":
                found = True

    node.visit(Find())
    return found


def _bool_literal(node: cst.BaseExpression) -> bool | None:
    if isinstance(node, cst.Name) and node.value in ("True", "False"):
        return node.value == "True"
    if isinstance(node, cst.Integer) and node.value in ("0", "1"):
        return node.value == "1"
    return None


def _string(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.SimpleString | cst.ConcatenatedString):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


def _keyword(node: cst.Call, name: str) -> cst.BaseExpression | None:
    for arg in node.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg.value
    return None


def _literal_index(node: cst.Subscript) -> str | None:
    if len(node.slice) != 1 or not isinstance(node.slice[0].slice, cst.Index):
        return None
    index = node.slice[0].slice.value
    if isinstance(index, cst.Integer):
        return index.value
    if isinstance(index, cst.UnaryOperation) and isinstance(index.operator, cst.Minus) and isinstance(
            index.expression, cst.Integer):
        return f"-{index.expression.value}"
    return _string(index)


def _dict_entry(node: cst.Dict, key: str) -> cst.BaseExpression | None:
    for element in node.elements:
        if isinstance(element, cst.DictElement) and _string(element.key) == key:
            return element.value
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


def _is_detached(node: cst.BaseExpression) -> bool:
    """`x.item()`, `x.detach()`, `x.data`, `x.tolist()`, `x.cpu().numpy()`, or a plain number."""
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
        return node.func.attr.value in ("item", "detach", "tolist", "numpy") or _is_detached(node.func.value)
    if isinstance(node, cst.Attribute):
        return node.attr.value == "data"
    return isinstance(node, cst.Float | cst.Integer)


def _loss_name(node: cst.BaseExpression | None) -> str | None:
    """The variable a backward runs on: `loss`, `scaler.scale(loss)`, `(loss / accum)`."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Call) and node.args:
        return _loss_name(node.args[0].value)
    if isinstance(node, cst.BinaryOperation):
        return _loss_name(node.left)
    return None


def _is_requires_grad_lambda(node: cst.BaseExpression) -> bool:
    return (isinstance(node, cst.Lambda) and isinstance(node.body, cst.Attribute)
            and node.body.attr.value == "requires_grad")


def _reset_has_params(node: cst.Call) -> bool | None:
    if node.args and isinstance(node.args[0].value, cst.Integer):
        return int(node.args[0].value.value, 0) > 0
    return None


def _model_constructor(qual: str, node: cst.Call) -> str | None:
    """`torchvision.models.resnet18`, `timm:resnet50`, `transformers.AutoModel.from_pretrained`, ..."""
    last = qual.rsplit(".", 1)[-1]
    if qual in ("timm.create_model", "timm.models.create_model"):
        name = _string(node.args[0].value) if node.args else None
        keyword = _keyword(node, "model_name")
        name = name or (_string(keyword) if keyword is not None else None)
        return f"timm:{name}" if name else "timm:?"
    if qual in ("torchvision.models.get_model",) and node.args:
        name = _string(node.args[0].value)
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


def _ordered_dict_layers(node: cst.BaseExpression) -> list[tuple[str, cst.BaseExpression]] | None:
    """`OrderedDict([("drop", nn.Dropout()), ("out", nn.Linear(...))])` as (name, layer) pairs."""
    if not (isinstance(node, cst.Call) and (dotted(node.func) or "").endswith("OrderedDict") and node.args):
        return None
    items = node.args[0].value
    if not isinstance(items, cst.List | cst.Tuple):
        return None
    pairs = []
    for element in items.elements:
        pair = element.value
        if not isinstance(pair, cst.Tuple) or len(pair.elements) != 2:
            return None
        key = _string(pair.elements[0].value)
        if key is None:
            return None
        pairs.append((key, pair.elements[1].value))
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


def _in_features(class_name: str, node: cst.Call, members: list[Value]) -> int | None:
    """The literal input size of a new layer; a Sequential takes it from its first layer with parameters."""
    if class_name in ("Linear", "Conv1d", "Conv2d", "Conv3d", "Bilinear", "LazyLinear"):
        size = _keyword(node, "in_features") or _keyword(node, "in_channels") or (
            node.args[0].value if node.args and node.args[0].keyword is None else None)
        return int(size.value, 0) if isinstance(size, cst.Integer) else None
    if class_name == "Sequential":
        for member in members:
            if not isinstance(member, Ref) or member.obj.has_params is None:
                return None
            if member.obj.has_params:
                return member.obj.in_features
    return None


def _pretrained(node: cst.Call, constructor: str) -> bool | None:
    if constructor.endswith(("from_pretrained",)):
        return True
    weights = _keyword(node, "weights")
    if weights is not None:
        if isinstance(weights, cst.Name) and weights.value == "None":
            return False
        named = isinstance(weights, cst.Attribute) and weights.attr.value.isupper()  # ResNet18_Weights.DEFAULT
        return True if named or isinstance(weights, cst.SimpleString | cst.Call) else None
    pretrained = _keyword(node, "pretrained")
    if pretrained is not None:
        return _bool_literal(pretrained)
    if _keyword(node, "checkpoint_path") is not None or _keyword(node, "pretrained_cfg_overlay") is not None:
        return None  # timm loads a local checkpoint
    if constructor.startswith(("torchvision.", "timm:")):
        return False
    return None


def _bind_arguments(summary: Summary, function: FunctionDef, node: cst.Call, args: list[Value],
                    bound: Ref | None) -> dict[str, Value]:
    params = list(summary.params)
    bindings: dict[str, Value] = {}
    if function.owner is not None and params:
        if bound is not None:
            bindings[params[0]] = bound
        params = params[1:]
    for param, arg, value in zip(params, node.args, args, strict=False):
        if arg.keyword is None and arg.star == "":
            bindings[param] = value
    for arg, value in zip(node.args, args, strict=True):
        if arg.keyword is not None:
            bindings[arg.keyword.value] = value
    return bindings


def _argument_texts(summary: Summary, function: FunctionDef, node: cst.Call,
                    text: Callable[[cst.CSTNode], str]) -> dict[str, str]:
    """The source text each parameter is called with, to say `when args.freeze` rather than `when flag`."""
    params = summary.params[1:] if function.owner is not None else summary.params
    texts = {param: text(arg.value) for param, arg in zip(params, node.args, strict=False)
             if arg.keyword is None and arg.star == ""}
    texts.update({arg.keyword.value: text(arg.value) for arg in node.args if arg.keyword is not None})
    return texts


def _name_test(test: cst.BaseExpression, name_vars: set[str], param_vars: set[str], frame: Frame
               ) -> Selector | None:
    """Read a test on a parameter's name (or its `requires_grad`) as a selector."""
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        inner = _name_test(test.expression, name_vars, param_vars, frame)
        return None if inner is None else inner.negate()
    if isinstance(test, cst.BooleanOperation):
        left = _name_test(test.left, name_vars, param_vars, frame)
        right = _name_test(test.right, name_vars, param_vars, frame)
        if left is None or right is None:
            return None
        return left.both(right) if isinstance(test.operator, cst.And) else left.either(right)
    if _is_requires_grad(test) and isinstance(test.value, cst.Name) and test.value.value in param_vars:
        return TRAINABLE_ONLY
    if isinstance(test, cst.Comparison) and len(test.comparisons) == 1:
        left, op, right = test.left, test.comparisons[0].operator, test.comparisons[0].comparator
        if _is_requires_grad(left) and isinstance(left.value, cst.Name) and left.value.value in param_vars:
            literal = _bool_literal(right)
            if literal is not None and isinstance(op, cst.Equal | cst.Is | cst.NotEqual | cst.IsNot):
                positive = literal == isinstance(op, cst.Equal | cst.Is)
                return TRAINABLE_ONLY if positive else TRAINABLE_ONLY.negate()
            return None
        if isinstance(right, cst.Name) and right.value in name_vars and isinstance(op, cst.In | cst.NotIn):
            literal = _string(left)
            if literal is None:
                return None
            chosen = sel.name_test("contains", (literal,), test)
            return chosen if isinstance(op, cst.In) else chosen.negate()
        if isinstance(left, cst.Name) and left.value in name_vars:
            options = _strings(right, frame)
            if isinstance(op, cst.Equal | cst.NotEqual) and options is not None and len(options) == 1:
                chosen = sel.name_test("equals", options, test)
                return chosen if isinstance(op, cst.Equal) else chosen.negate()
            if isinstance(op, cst.In | cst.NotIn) and options is not None:
                chosen = sel.name_test("equals", options, test)
                return chosen if isinstance(op, cst.In) else chosen.negate()
        return None
    if isinstance(test, cst.Call) and isinstance(test.func, cst.Attribute):
        receiver, method = test.func.value, test.func.attr.value
        if isinstance(receiver, cst.Name) and receiver.value in name_vars and test.args:
            options = _strings(test.args[0].value, frame)
            if options is None:
                return None
            if method in ("startswith", "endswith"):
                return sel.name_test(method, options, test)
        return None
    if isinstance(test, cst.Call) and isinstance(test.func, cst.Name) and test.func.value == "any" and test.args:
        generator = test.args[0].value
        if isinstance(generator, cst.GeneratorExp) and isinstance(generator.for_in.target, cst.Name):
            options = _strings(generator.for_in.iter, frame)
            element = generator.elt
            var = generator.for_in.target.value
            if options is None or not isinstance(element, cst.Comparison) or len(element.comparisons) != 1:
                return None
            comparison = element.comparisons[0]
            if (isinstance(element.left, cst.Name) and element.left.value == var
                    and isinstance(comparison.operator, cst.In) and isinstance(comparison.comparator, cst.Name)
                    and comparison.comparator.value in name_vars):
                return sel.name_test("contains", options, test)
        return None
    return None


def _strings(node: cst.BaseExpression, frame: Frame) -> tuple[str, ...] | None:
    """A string literal, a literal list/tuple/set of strings, or a name bound to one."""
    single = _string(node)
    if single is not None:
        return (single,)
    if isinstance(node, cst.List | cst.Tuple | cst.Set):
        values = [_string(e.value) for e in node.elements]
        return None if any(v is None for v in values) else tuple(v for v in values if v is not None)
    if isinstance(node, cst.Name):
        bound = frame.env.get(node.value)
        if isinstance(bound, Literal) and isinstance(bound.value, tuple) and all(
                isinstance(v, str) for v in bound.value):
            return tuple(str(v) for v in bound.value)
    return None


def analyse(module: cst.Module) -> FileFacts:
    """Build the facts of one parsed file."""
    return FileAnalysis(module).run()
