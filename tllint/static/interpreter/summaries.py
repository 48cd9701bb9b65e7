"""Same-file helpers: a function is interpreted once, with its parameters as unknown models, into a summary of
what it does to them; each call replays that summary on the caller's values. Classes are interpreted through one
instance object: `__init__` first, then the other methods."""

from __future__ import annotations

import ast
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from tllint.static.facts import (
    UNKNOWN,
    Built,
    Condition,
    Event,
    Literal,
    MaybeChanged,
    ModelObject,
    ModelPassed,
    Optimizer,
    OptimizerBuilt,
    Origin,
    ParamGroupAdded,
    ParamsOf,
    RebuiltLoss,
    Ref,
    Replaced,
    SetRequiresGrad,
    Value,
    Where,
)
from tllint.static.interpreter.imports import dotted
from tllint.static.interpreter.state import (
    Base,
    ClassDef,
    Frame,
    FunctionDef,
)
from tllint.static.interpreter.syntax import (
    arguments,
)
from tllint.static.knowledge import is_module_base

MAX_INLINE_DEPTH = 4


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
        return value if isinstance(value, Literal | RebuiltLoss) else UNKNOWN


def _bind_arguments(summary: Summary, function: FunctionDef, node: ast.Call, args: list[Value],
                    bound: Ref | None) -> dict[str, Value]:
    """Parameter name -> value at one call; `args` are the values of `arguments(node)`."""
    params = list(summary.params)
    bindings: dict[str, Value] = {}
    if function.takes_instance and params:
        if bound is not None:
            bindings[params[0]] = bound
        params = params[1:]
    elif function.takes_class and params:
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


class HelperSummaries(Base):
    def register_definitions(self, body: Sequence[ast.stmt], frame: Frame, owner: ClassDef | None = None) -> None:
        """Functions, classes (with their methods) and imports of a body, before it runs: a call may come first."""
        for statement in body:
            if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef):
                function = FunctionDef(statement, statement.name, owner)
                if owner is not None:
                    owner.methods[function.name] = function
                else:
                    frame.functions[function.name] = function
            elif isinstance(statement, ast.ClassDef) and owner is None:
                bases = [frame.imports.qualname(base) or dotted(base) or "" for base in statement.bases]
                subclasses_module = any(
                    is_module_base(b)
                    or (b in frame.classes and frame.classes[b].subclasses_module)
                    for b in bases
                )
                cls = ClassDef(statement, statement.name, subclasses_module)
                frame.classes[cls.name] = cls
                self.register_definitions(statement.body, frame, owner=cls)
            elif isinstance(statement, ast.Import | ast.ImportFrom):
                frame.imports.add(statement)

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
            if index == 0 and function.takes_instance:
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
        inner = Frame(env, frame.imports.child(), dict(frame.functions), frame.classes, next(self.scopes),
                      summary, conditions, depth=frame.depth + 1, constructing=constructing,
                      function=function.name)
        self.register_definitions(function.node.body, inner)
        self.recording.append(summary)
        try:
            self.block(function.node.body, inner)
        finally:
            self.recording.pop()
            function.analysing = False
        function.summary = summary
        return summary

    def class_instance(self, cls: ClassDef, frame: Frame) -> ModelObject:
        """The one object standing for every instance of a class; `__init__` runs first, other methods later."""
        if cls.instance is None:
            origin = Origin.LOCAL_CLASS if cls.subclasses_module else Origin.INFERRED
            cls.instance = ModelObject(cls.name, origin, cls.node, constructor=None, plain=not cls.subclasses_module)
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
        if node is not None and statement is not None and cls.subclasses_module:
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

    def local_class_of(self, ref: Ref, frame: Frame) -> ClassDef | None:
        if ref.path:
            return None
        for cls in frame.classes.values():
            if cls.instance is ref.obj:
                return cls
        return None
