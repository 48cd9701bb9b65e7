"""Expressions: the abstract value of a name, attribute, subscript, call, literal or comprehension. A name
whose value is unknown but that the file uses as a module (`model.parameters()`) becomes an inferred model."""

from __future__ import annotations

import ast
from dataclasses import replace

from tllint.static.facts import (
    UNKNOWN,
    Literal,
    ModelObject,
    ModuleVar,
    Origin,
    ParamGroups,
    ParamList,
    ParamsOf,
    ParamVar,
    Ref,
    Value,
)
from tllint.static.interpreter.state import (
    Base,
    Frame,
    concat,
    param_sources,
)
from tllint.static.interpreter.syntax import (
    arguments,
    dict_entry,
    literal_index,
    target_names,
    unstarred,
)
from tllint.static.selectors import OPAQUE


class Expressions(Base):
    def value(self, node: ast.expr, frame: Frame, statement: ast.stmt | None = None) -> Value:
        """The abstract value of an expression; calls inside it record their events."""
        if isinstance(node, ast.Name):
            return frame.env.get(node.id, UNKNOWN)
        if isinstance(node, ast.Attribute):
            base = self.value(node.value, frame)
            self.hf_attribute_read(base, node, frame)  # type: ignore[attr-defined]  # HF encoder attributes: hf.py
            return self.attribute(base, node.attr)
        if isinstance(node, ast.Subscript):
            base = self.value(node.value, frame)
            index = literal_index(node)
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
            return concat(left, right) if isinstance(node.op, ast.Add) else UNKNOWN
        if isinstance(node, ast.ListComp | ast.GeneratorExp | ast.SetComp):
            return self.comprehension(node, frame, consumed=not isinstance(node, ast.GeneratorExp))
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
        if base.obj.plain:
            return UNKNOWN
        return Ref(base.obj, path)

    def sequence(self, node: ast.List | ast.Tuple | ast.Set, frame: Frame) -> Value:
        items: list[Value] = []
        groups: list[tuple[ParamsOf, ...]] = []
        for element in map(unstarred, node.elts):
            if isinstance(element, ast.Dict):
                params = dict_entry(element, "params")
                groups.append(param_sources(self.value(params, frame)) if params is not None else ())
                for entry in element.values:
                    if entry is not params:
                        self.value(entry, frame)
                continue
            items.append(self.value(element, frame))
        if groups and not items:
            return ParamGroups(tuple(groups))
        if items and all(isinstance(i, ParamsOf | ParamList) for i in items):
            return ParamList(tuple(s for i in items for s in param_sources(i)))
        if items and all(isinstance(i, Literal) and isinstance(i.value, str) for i in items):
            return Literal(tuple(i.value for i in items if isinstance(i, Literal)))
        if items and all(isinstance(i, Ref) for i in items):
            return Literal(tuple(items))
        return UNKNOWN

    def consumed(self, node: ast.expr, frame: Frame) -> Value:
        """An iterable that is run to its end (`list(...)`, a `for` loop): a generator's element and a `map`'s
        function then run for each item, so `list(map(lambda p: p.requires_grad_(False), ...))` freezes."""
        if isinstance(node, ast.GeneratorExp):
            return self.comprehension(node, frame, consumed=True)
        lambda_map = (
            isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "map"
            and frame.imports.lookup("map") is None and "map" not in frame.functions
            and len(node.args) == 2 and not node.keywords and isinstance(node.args[0], ast.Lambda)
        )
        if not lambda_map:
            return self.value(node, frame)
        assert isinstance(node, ast.Call) and isinstance(node.args[0], ast.Lambda)
        function = node.args[0]
        if len(function.args.args) != 1 or function.args.vararg or function.args.kwonlyargs:
            return self.value(node, frame)
        element = ast.copy_location(ast.Name(function.args.args[0].arg, ast.Store()), function)
        mapped = ast.copy_location(ast.GeneratorExp(function.body, [ast.comprehension(
            element, node.args[1], [], 0)]), node)
        self.comprehension(mapped, frame, consumed=True)
        return UNKNOWN

    def comprehension(self, node: ast.ListComp | ast.GeneratorExp | ast.SetComp, frame: Frame,
                      consumed: bool) -> Value:
        """`[p for n, p in m.named_parameters() if "fc" in n]` is a selection of m's parameters. The element
        of a generator that nothing consumes never runs, so its calls are not evaluated."""
        env = frame.child_env()
        inner = replace(frame, env=env)
        for clause in node.generators:
            iterable = self.value(clause.iter, inner)
            if isinstance(iterable, ParamsOf | ModuleVar):
                self.bind_loop_target(clause.target, iterable, node, env)
            else:
                env.update(dict.fromkeys(target_names(clause.target), UNKNOWN))
            for test in clause.ifs:
                selector = self.loop_selector(test, inner)
                if selector is None:
                    continue
                for name, value in list(env.items()):
                    if isinstance(value, ParamVar | ModuleVar):
                        env[name] = replace(value, selector=value.selector.both(selector))
        if not consumed and not isinstance(node.elt, ast.Name):
            return UNKNOWN
        element = self.value(node.elt, inner)
        if isinstance(element, ParamVar):
            return ParamsOf(element.ref, element.selector, site=element.site)
        return UNKNOWN

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
            if isinstance(base, Ref) and base.obj.plain:
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
