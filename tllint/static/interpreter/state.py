"""The interpreter's state, and how it joins after branches and loops.

What is copied and what is shared:

- a `Frame` is one function body (or the module) being interpreted. Its `env` (name -> abstract value) is copied
  for each branch of an `if`, `try`, `match` and for a loop body, and the copies are joined back by
  `merge_into`: a name keeps its value only where every way through agrees on it;
- the conditions an event runs under are per branch (`Frame.conditions` grows inside a branch);
- model objects (`ModelObject`, with the layers attached to them) are shared by every branch: a layer assigned in
  one branch is the same object after the `if`, and the event that assigned it carries the branch's condition;
- the timeline (`FileFacts.events`) is shared and in execution order: branches append to it one after another,
  each event with its conditions, and rules read "maybe" from those conditions;
- the import table is per function body (a child table falls back on the module's); functions and classes
  defined in the file are shared.

`Base` holds what every part of the interpreter uses: the facts being built, the source, and how an event is
recorded (also into the summaries of the helpers being interpreted).
"""

from __future__ import annotations

import ast
import itertools
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from tllint.static.facts import (
    UNKNOWN,
    Condition,
    Event,
    FileFacts,
    Literal,
    ModelObject,
    Optimizer,
    Origin,
    ParamList,
    ParamsOf,
    Ref,
    Value,
    Where,
)
from tllint.static.interpreter.imports import ImportTable
from tllint.static.source import Source

if TYPE_CHECKING:
    from tllint.static.interpreter.summaries import Summary


class Base:
    """The facts being built and the services every part of the interpreter shares."""

    def __init__(self, module: ast.Module, source: Source) -> None:
        self.module = module
        self.source = source
        self.facts = FileFacts()
        self.scopes = itertools.count()  # numbers the function bodies: events of one body share a scope
        self.recording: list[Summary] = []  # the helpers being summarised, innermost last

    def text(self, node: ast.AST) -> str:
        return self.source.text(node)

    def where(self, node: ast.AST, frame: Frame) -> Where:
        return Where(node=node, scope=frame.scope, conditions=frame.conditions)

    def emit(self, event: Event) -> None:
        """Append an event to the timeline, and to the summary of every helper being interpreted."""
        self.facts.events.append(event)
        for summary in self.recording:
            summary.events.append(event)

    def indexed_since(self, event: Event) -> bool:
        """Whether a fact that holds an event index (a backward, a rebuilt loss) was recorded after `event`."""
        start = next(i for i in range(len(self.facts.events) - 1, -1, -1) if self.facts.events[i] is event)
        return any(fact.at > start for fact in (*self.facts.backwards, *self.facts.losses_rebuilt))

    def replace_events(self, keep: Event, drop: Event, merged: Event) -> None:
        """`merged` takes the place of `keep` and `drop` goes, in the timeline and in every summary recording."""
        for events in (self.facts.events, *(summary.events for summary in self.recording)):
            if any(e is keep for e in events) and any(e is drop for e in events):
                events[:] = [merged if e is keep else e for e in events if e is not drop]

    def module_evidence(self, value: Value) -> None:
        """`value` is used as a module, and so is everything that contains it."""
        if isinstance(value, Ref):
            self.facts.module_evidence.update((value.obj.uid, value.path[:i]) for i in range(len(value.path) + 1))


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
    function: str = ""  # the name of the function being interpreted (`training_step`)
    tensors: set[str] = field(default_factory=set)  # names assigned a new tensor (`pe = torch.zeros(...)`)

    def child_env(self) -> dict[str, Value]:
        return dict(self.env)


@dataclass
class FunctionDef:
    node: ast.FunctionDef | ast.AsyncFunctionDef
    name: str
    owner: ClassDef | None = None
    summary: Summary | None = None
    analysing: bool = False

    @property
    def takes_instance(self) -> bool:
        """A method whose first parameter is the instance (not a `@staticmethod` or `@classmethod`)."""
        return self.owner is not None and not self._decorators & {"staticmethod", "classmethod"}

    @property
    def takes_class(self) -> bool:
        return self.owner is not None and "classmethod" in self._decorators

    @property
    def _decorators(self) -> set[str]:
        return {d.id if isinstance(d, ast.Name) else getattr(d, "attr", "") for d in self.node.decorator_list}


@dataclass
class ClassDef:
    node: ast.ClassDef
    name: str
    subclasses_module: bool  # a subclass of nn.Module (or of a class in this file that is one)
    methods: dict[str, FunctionDef] = field(default_factory=dict)
    instance: ModelObject | None = None


def attach(child: ModelObject, parent: ModelObject, path: tuple[str, ...]) -> None:
    """Record that `child` now lives at `path` inside `parent`, unless that would make a cycle."""
    if child.parent is not None or child is parent:
        return
    ancestor = parent.parent
    while ancestor is not None:
        if ancestor[0] is child:
            return
        ancestor = ancestor[0].parent
    child.parent = (parent, path)


def identity(value: Value) -> object:
    if isinstance(value, Ref):
        return (value.obj.uid, value.path)
    if isinstance(value, Optimizer):
        return value.uid
    if isinstance(value, Literal) and is_plain(value.value):
        return ("literal", value.value)
    return id(value)


def is_plain(value: object) -> bool:
    """Hashable and cheap to compare: a literal number, string, bool, None, or a tuple of strings."""
    if isinstance(value, tuple):
        return all(isinstance(v, str) for v in value)
    return value is None or isinstance(value, int | float | str)


def is_value(value: object) -> bool:
    return isinstance(value, Ref | Literal | Optimizer | ParamsOf | ParamList)


def param_sources(value: Value) -> tuple[ParamsOf, ...]:
    if isinstance(value, ParamsOf):
        return (value,)
    if isinstance(value, ParamList):
        return value.sources
    if isinstance(value, Ref):
        return (ParamsOf(value),)  # `SGD(model)`-style factories taking the module
    return ()


def concat(left: Value, right: Value) -> Value:
    if isinstance(left, ParamsOf | ParamList) and isinstance(right, ParamsOf | ParamList):
        return ParamList(param_sources(left) + param_sources(right))
    if isinstance(left, Literal) and isinstance(right, Literal) and isinstance(left.value, tuple) and isinstance(
            right.value, tuple):
        return Literal(left.value + right.value)
    if isinstance(left, ParamList) and not left.sources and isinstance(right, ParamsOf | ParamList):
        return ParamList(param_sources(right))
    return UNKNOWN


def names_a_parameter(ref: Ref) -> bool:
    return bool(ref.path) and ref.path[-1] in ("weight", "bias")


def _promoted_in_a_branch(seen: list[Value]) -> Ref | None:
    """A name of unknown value that one branch used as a module (`model.named_parameters()`) was a model all
    along: the inferred model stands for it after the branches too."""
    refs = {v.obj.uid: v for v in seen if isinstance(v, Ref)}
    if len(refs) != 1 or any(v is not UNKNOWN and not isinstance(v, Ref) for v in seen):
        return None
    (ref,) = refs.values()
    return ref if ref.obj.origin is Origin.INFERRED and not ref.path else None


def merge_into(frame: Frame, envs: list[dict[str, Value]]) -> None:
    """After branches, a name keeps a value only when every way through agrees on it.

    A name bound in one branch only (and unbound before) takes that branch's value: the other way
    usually leaves the script or never uses it."""
    names = set().union(*envs) if envs else set()
    for name in names:
        before = frame.env.get(name)
        seen = [env[name] for env in envs if name in env]
        candidates = {identity(v) for v in seen}
        if before is None:
            frame.env[name] = seen[0] if len(candidates) == 1 else UNKNOWN
            continue
        if before is UNKNOWN and (promoted := _promoted_in_a_branch(seen)) is not None:
            frame.env[name] = promoted
            continue
        if any(identity(v) != identity(before) for v in seen):
            same_model = all(isinstance(v, Ref) and isinstance(before, Ref) and v.obj is before.obj
                             and v.path == before.path for v in seen)
            if same_model:
                assert isinstance(before, Ref)
                wrapped = next((v.wrapped for v in seen if isinstance(v, Ref) and v.wrapped), before.wrapped)
                frame.env[name] = replace(before, wrapped=wrapped)
            else:
                frame.env[name] = UNKNOWN
