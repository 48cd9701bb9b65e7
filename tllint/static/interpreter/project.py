"""Helpers imported from other files of the project, summarised like same-file helpers and replayed at the call.

`from models import build_model, freeze_backbone` (or `import models as M`, `from .models import ...`) resolves,
through `tllint.static.project`, to a file of the project. That file is parsed and its functions summarised by an
interpreter of its own, once per process for each (path, content hash); the call in the checked file replays the
function's summary there. Two things differ from a same-file call:

- every event happens at the call: the other file's lines mean nothing in this one;
- the objects the helper builds (the model a factory returns, the layer it puts in) become objects of this file,
  built at the call, one set per call; the events they went through inside the helper come with them.

Whatever cannot be read (a missing, unreadable or unparsable file, a name that is no function of the file, a cycle,
a chain of files too long) leaves the call unknown, exactly as an unknown library call: never an error.
"""

from __future__ import annotations

import ast
import warnings
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

from tllint.static.facts import (
    UNKNOWN,
    Built,
    Event,
    ModelObject,
    OptimizerBuilt,
    ParamGroupAdded,
    ParamsOf,
    Ref,
    Replaced,
    SetRequiresGrad,
    Value,
    Where,
)
from tllint.static.interpreter.imports import ImportTable, dotted
from tllint.static.interpreter.state import Base, ClassDef, Frame, FunctionDef, attach
from tllint.static.interpreter.summaries import Replayer, Summary
from tllint.static.interpreter.syntax import arguments
from tllint.static.prefilter import decode
from tllint.static.project import MAX_FOLLOWED, ProjectFiles, digest, read
from tllint.static.selectors import Selector
from tllint.static.source import Source


@dataclass
class ProjectModule:
    """One followed file: its functions and classes, its module-level imports (re-exports), and the interpreter
    that summarises its functions on demand."""

    interpreter: Base
    frame: Frame
    files: ProjectFiles
    complete: dict[str, Summary | None] = field(default_factory=dict)

    def summary(self, function: FunctionDef) -> Summary | None:
        """The function's summary with every event of the helpers it calls, whatever was summarised first: the
        file's summaries are dropped and this one made afresh, so that nested helpers record into it."""
        if function.name not in self.complete:
            _forget_summaries(self.frame.functions, self.frame.classes)
            try:
                summary = self.interpreter.summarise(function, self.frame)  # type: ignore[attr-defined]
            except RecursionError:
                summary = None
            self.complete[function.name] = summary
        return self.complete[function.name]


MODULES_KEPT = 16  # followed files kept analysed per process: memory grows with these, not with the project


class _Recent(OrderedDict[tuple[str, str, int], "ProjectModule | None"]):
    """(path, content hash, depth) -> the analysed file (None: unparsable), the most recently used kept. The depth
    is part of the key so that a file's summaries never depend on which checked file reached it first."""

    def get_or_add(self, key: tuple[str, str, int], make: Callable[[], ProjectModule | None]) -> ProjectModule | None:
        if key in self:
            self.move_to_end(key)
            return self[key]
        self[key] = made = make()
        if len(self) > MODULES_KEPT:
            self.popitem(last=False)
        return made


_MODULES = _Recent()


def _forget_summaries(functions: dict[str, FunctionDef], classes: dict[str, ClassDef]) -> None:
    for function in functions.values():
        function.summary = None
    for cls in classes.values():
        cls.instance = None
        for method in cls.methods.values():
            method.summary = None


class _Transplant(Replayer):
    """Replays another file's helper at one call: objects the helper built are cloned into this file (built at
    the call), its parameters map to the call's arguments, and every event is re-sited at the call."""

    def __init__(self, summary: Summary, call: ast.Call, mapping: dict[ModelObject, Ref], literals: dict[str, object],
                 texts: dict[str, str], site: Where) -> None:
        super().__init__(mapping, literals, texts, site)
        self.call = call
        self.built = {id(e.ref.obj) for e in summary.events if isinstance(e, Built) and not e.ref.path}
        self.built |= {id(e.new) for e in summary.events if isinstance(e, Replaced) and e.new is not None}
        self.clones: dict[int, ModelObject] = {}

    def clone(self, obj: ModelObject) -> ModelObject | None:
        """This call's copy of an object the helper built, shown at the call; None for any other object."""
        if id(obj) not in self.built:
            return None
        if id(obj) not in self.clones:
            node = ast.copy_location(ast.Call(self.call.func, self.call.args, self.call.keywords), self.call)
            ast.fix_missing_locations(node)
            self.clones[id(obj)] = ModelObject(obj.label, obj.origin, node, obj.constructor, obj.pretrained,
                                               obj.has_params, obj.plain, obj.in_features, obj.param_names)
        return self.clones[id(obj)]

    def ref(self, ref: Ref) -> Ref | None:
        mapped = super().ref(ref)
        if mapped is not None:
            return mapped
        root, path = ref.absolute()
        clone = self.clone(root)
        return None if clone is None else Ref(clone, path, ref.wrapped if ref.obj is root else "")

    def event(self, event: Event) -> Event | None:
        if isinstance(event, Built):
            ref = self.ref(event.ref)
            where = self.where(event.where)
            return None if ref is None or where is None else Built(ref, where)
        if isinstance(event, Replaced) and event.new is not None:
            new = self.clone(event.new)
            ref = self.ref(event.ref)
            where = self.where(event.where)
            if new is None or ref is None or where is None:
                return None
            attach(new, ref.obj, ref.path)
            ref.obj.attached[ref.path] = Ref(new)
            return replace(event, ref=ref, new=new, where=where)
        replayed = super().event(event)
        if isinstance(replayed, SetRequiresGrad):
            return replace(replayed, selector=_unlocated(replayed.selector))
        if isinstance(replayed, OptimizerBuilt):
            return replace(replayed, groups=tuple(tuple(map(_unlocated_source, g)) for g in replayed.groups))
        if isinstance(replayed, ParamGroupAdded):
            return replace(replayed, sources=tuple(map(_unlocated_source, replayed.sources)))
        return replayed

    def value(self, value: Value) -> Value:
        if isinstance(value, Ref):
            mapped = self.ref(value)
            return UNKNOWN if mapped is None else mapped
        return super().value(value)


def _unlocated(selector: Selector) -> Selector:
    """A name test written in the other file cannot be shown in this one: rules that point at it stay quiet."""
    if not selector.atoms:
        return selector
    return replace(selector, atoms=tuple(replace(atom, node=None) for atom in selector.atoms))


def _unlocated_source(source: ParamsOf) -> ParamsOf:
    return replace(source, selector=_unlocated(source.selector), site=None)


class ProjectCalls(Base):
    project: ProjectFiles | None = None  # set by `build_facts` when the checked file's path is known

    def project_call(self, node: ast.Call, frame: Frame, statement: ast.AST) -> Value | None:
        """Replay a helper imported from another file of the project; None when the callee is not one (the
        caller then treats the call as unknown)."""
        if self.project is None or self.project.depth >= MAX_FOLLOWED:
            return None
        text = dotted(node.func)
        if text is None:
            return None
        head, _, rest = text.partition(".")
        imported = frame.imports.lookup(head, relative=True)
        if imported is None:
            return None
        name = f"{imported}.{rest}" if rest else imported
        if not self.project.training_function(name):
            return None  # no word of the enabled rules in it: not worth parsing its file, the call stays unknown
        found = self.project_function(name, self.project, MAX_FOLLOWED)
        if found is None:
            return None
        module, function = found
        summary = module.summary(function)
        self.project.used.update(module.files.used)  # and the files its helpers followed in turn
        if summary is None:
            return None
        args = [self.value(a.value, frame) for a in arguments(node)]
        call_site = self.call_site(summary, function, node, args, frame, statement)  # type: ignore[attr-defined]
        return self.replay(_Transplant(summary, node, *call_site), summary)  # type: ignore[attr-defined,no-any-return]

    def project_function(self, name: str, files: ProjectFiles, hops: int
                         ) -> tuple[ProjectModule, FunctionDef] | None:
        """The module-level function a dotted name (`models.build`, `.models.build`) names in the project,
        following re-exports (`from .factory import build` in a package's `__init__.py`) up to `hops` files."""
        level = len(name) - len(name.lstrip("."))
        module_name, _, attr = name[level:].rpartition(".")
        module_name = "." * level + module_name
        if not attr or not module_name or hops <= 0:
            return None
        module = self.project_module(module_name, files)
        if module is None:
            return None
        function = module.frame.functions.get(attr)
        found = None
        if function is not None:
            found = module, function
        else:
            reexported = module.frame.imports.lookup(attr, relative=True)
            if reexported is not None:
                found = self.project_function(reexported, module.files, hops - 1)
        files.used.update(module.files.used)
        return found

    def project_module(self, module_name: str, files: ProjectFiles) -> ProjectModule | None:
        """The analysed file of a module name, from the per-process cache by content hash and depth; None when
        it is not in the project or cannot be read or parsed."""
        found = files.module_file(module_name)
        if found is None:
            return None
        path, hashed = found

        def analyse() -> ProjectModule | None:
            parsed = _parse(path, hashed)
            return None if parsed is None else _analyse(type(self), parsed, files.followed(path))

        return _MODULES.get_or_add((path, hashed, files.depth + 1), analyse)


@lru_cache(maxsize=MODULES_KEPT)
def _parse(path: str, hashed: str) -> tuple[ast.Module, Source] | None:
    """A followed file's tree, once per content (whatever the depth it is followed at)."""
    data = read(Path(path))
    if data is None or digest(data) != hashed:
        return None
    text = decode(data, path)
    if not isinstance(text, str):
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(text, path), Source(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _analyse(interpreter_class: type[Base], parsed: tuple[ast.Module, Source], files: ProjectFiles) -> ProjectModule:
    """An interpreter of a followed file with its definitions registered; its functions are summarised when first
    called."""
    tree, source = parsed
    interpreter = interpreter_class(tree, source)
    interpreter.project = files  # type: ignore[attr-defined]
    frame = Frame({}, ImportTable(), {}, {}, next(interpreter.scopes))
    interpreter.register_definitions(tree.body, frame)  # type: ignore[attr-defined]
    return ProjectModule(interpreter, frame, files)
