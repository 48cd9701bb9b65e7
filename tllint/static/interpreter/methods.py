"""Calls of methods and builtins: what `parameters()`, `requires_grad_()`, `add_module()`, `reset_classifier()`,
`load_state_dict()`, `optimizer.add_param_group()`, `backward()`, `setattr()`, `filter()` and the like do to the
values they are called on; a call tllint cannot see into may change trainability or train the model."""

from __future__ import annotations

import ast
from dataclasses import replace

from tllint.static import selectors as sel
from tllint.static.facts import (
    CLASSIFIER,
    UNKNOWN,
    AttributeWrite,
    Backward,
    MaybeChanged,
    ModelObject,
    ModelPassed,
    ModuleVar,
    Optimizer,
    Origin,
    ParamGroupAdded,
    ParamsOf,
    ParamVar,
    Placeholder,
    Ref,
    Replaced,
    TrainingStep,
    Value,
    WeightsLoaded,
)
from tllint.static.interpreter.detectors import (
    MISSPELLINGS,
    is_requires_grad_lambda,
    loss_name,
)
from tllint.static.interpreter.imports import dotted
from tllint.static.interpreter.state import (
    Base,
    Frame,
    attach,
    param_sources,
)
from tllint.static.interpreter.syntax import (
    Arg,
    arguments,
    dict_entry,
    integer_literal,
    keyword_value,
    string_literal,
)
from tllint.static.knowledge import (
    MODULE_ONLY_METHODS,
    NO_EFFECT_METHODS,
    SELF_RETURNING_METHODS,
)
from tllint.static.selectors import ALL, OPAQUE, TRAINABLE_ONLY

MUTATING_CALL_WORDS = ("freeze", "trainable", "requires_grad", "set_grad", "unlock", "lock_")


def _reset_has_params(node: ast.Call) -> bool | None:
    """`reset_classifier(0)` (or `num_classes=0`) leaves no classifier; a positive size builds one."""
    args = arguments(node)
    classes = integer_literal(args[0].value) if args else None
    return None if classes is None else classes > 0


def _requires_grad_argument(node: ast.Call) -> ast.expr | None:
    """The flag of `x.requires_grad_(flag)` or `x.requires_grad_(requires_grad=flag)`; None means True."""
    args = arguments(node)
    return keyword_value(node, "requires_grad") or (args[0].value if args else None)


class MethodCalls(Base):
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
            positional = [arg.value for arg in args if arg.keyword is None and not arg.star]
            # `loss.backward(retain_graph=True)` runs on `loss`; `accelerator.backward(loss)` on its argument
            target = func.value if method == "backward" and not positional else (positional or [None])[0]
            name = loss_name(target)
            for arg in args:
                self.value(arg.value, frame)
            if name is not None:
                self.facts.backwards.append(Backward(name, self.where(statement, frame), len(self.facts.events)))
            self.emit(TrainingStep(self.where(statement, frame)))
            return UNKNOWN
        if isinstance(receiver, Optimizer | Ref) or receiver is UNKNOWN:
            if method == "add_param_group":
                sources = param_sources(self.value(args[0].value, frame)) if args else ()
                group = args[0].value if args else None
                if isinstance(group, ast.Dict):
                    params = dict_entry(group, "params")
                    sources = param_sources(self.value(params, frame)) if params is not None else ()
                optimizer = receiver if isinstance(receiver, Optimizer) else None
                self.emit(ParamGroupAdded(optimizer, sources, self.where(statement, frame)))
                return UNKNOWN
            if method == "step" and not isinstance(receiver, Ref):
                self.emit(TrainingStep(self.where(statement, frame)))
                return UNKNOWN
        if isinstance(receiver, ParamVar) and method == "requires_grad_":  # `p.requires_grad_(False)` in a loop
            self.set_requires_grad(receiver.ref, receiver.selector, _requires_grad_argument(node),
                                   receiver.site or statement, frame)
            return receiver
        if isinstance(receiver, ModuleVar):
            selector = sel.first_component(receiver.selector) if receiver.by_child_name else receiver.selector
            if method in ("parameters", "named_parameters"):
                return ParamsOf(receiver.ref, selector, receiver.site)
            if method == "requires_grad_":
                self.set_requires_grad(receiver.ref, selector, _requires_grad_argument(node),
                                       receiver.site or statement, frame)
                return receiver
            return UNKNOWN
        if receiver is UNKNOWN and method in MODULE_ONLY_METHODS:
            receiver = self.promote(func.value, frame) or UNKNOWN
        if not isinstance(receiver, Ref):
            return None
        return self.model_method(node, method, receiver, frame, statement)

    def model_method(self, node: ast.Call, method: str, ref: Ref, frame: Frame, statement: ast.AST) -> Value:
        hf = self.hf_model_method(node, method, ref, frame, statement)  # type: ignore[attr-defined]  # hf.py
        if hf is not None:
            return hf
        args = arguments(node)
        if method in MODULE_ONLY_METHODS:
            self.module_evidence(ref)
        if method in ("parameters", "named_parameters"):
            receiver = node.func.value if isinstance(node.func, ast.Attribute) else node.func
            selector = sel.with_prefix(ALL, ref.wrapped) if ref.wrapped else ALL
            return ParamsOf(replace(ref, wrapped=""), selector, label=self.text(receiver))
        if method in ("children", "modules"):
            return ModuleVar(ref, ALL)
        if method == "named_children":
            return ModuleVar(ref, ALL, by_child_name=True)
        if method == "named_modules":
            return ModuleVar(ref, OPAQUE)
        if method == "requires_grad_":
            self.set_requires_grad(ref, ALL, _requires_grad_argument(node), statement, frame)
            return ref
        if method in SELF_RETURNING_METHODS:
            for arg in args:
                self.value(arg.value, frame)
            return ref
        if method in ("add_module", "register_module") and len(args) == 2:
            name = string_literal(args[0].value)
            layer = self.value(args[1].value, frame)
            if name is not None and isinstance(layer, Ref):
                slot = Ref(ref.obj, (*ref.path, name))
                ref.obj.attached[slot.path] = layer
                attach(layer.obj, ref.obj, slot.path)
                slot_text = f"{self.text(node.func.value)}.{name}" if isinstance(node.func, ast.Attribute) else None
                self.emit(Replaced(slot, layer.obj, self.where(statement, frame), slot_text))
            return UNKNOWN
        if method == "get_classifier" and not args:  # timm: the head, wherever the architecture keeps it
            return Ref(ref.obj, (*ref.path, CLASSIFIER))
        if method.startswith("get_") and method != "get_parameter":
            return self.getter(node, method, ref, frame)
        if method == "reset_classifier":
            label = f"the classifier `{self.text(node)}` created"
            has_params = _reset_has_params(node)
            new = ModelObject(label, Origin.LAYER, node, has_params=has_params,
                              param_names=None if has_params is None else ("weight", "bias") if has_params else ())
            self.emit(Replaced(Ref(ref.obj, (*ref.path, CLASSIFIER)), new, self.where(statement, frame)))
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

    def getter(self, node: ast.Call, method: str, ref: Ref, frame: Frame) -> Ref:
        """`model.get_submodule("layer4")` is `model.layer4`; any other `model.get_*()` (HF
        `get_input_embeddings()`, `get_encoder()`) is a part of the model at a path tllint cannot name, so a
        freeze or an unfreeze through it leaves the model's state partial or unknown, never wrong."""
        args = arguments(node)
        for arg in args:
            self.value(arg.value, frame)
        target = string_literal(args[0].value) if method == "get_submodule" and len(args) == 1 else None
        if target:
            return Ref(ref.obj, (*ref.path, *target.split(".")))
        return Ref(ref.obj, (*ref.path, Placeholder(f"@{method}()")))

    def attribute_by_name(self, args: list[Arg], frame: Frame) -> Value:
        """`getattr(model, "fc")` is `model.fc`; `getattr(model, name)` a sub-module or parameter tllint cannot
        name."""
        receiver = self.value(args[0].value, frame)
        for arg in args[1:]:
            self.value(arg.value, frame)
        attr = string_literal(args[1].value)
        if attr is not None:
            return self.attribute(receiver, attr)
        if isinstance(receiver, Ref) and not receiver.obj.plain:
            return Ref(receiver.obj, (*receiver.path, Placeholder("@getattr()")))
        return UNKNOWN

    def builtin_call(self, name: str, node: ast.Call, frame: Frame, statement: ast.AST) -> Value | None:
        args = arguments(node)
        if name in ("list", "tuple", "set", "sorted") and len(args) == 1:
            return self.consumed(args[0].value, frame)
        if name == "iter" and len(args) == 1:
            return self.value(args[0].value, frame)
        if name == "filter" and len(args) == 2:
            source = self.value(args[1].value, frame)
            if isinstance(source, ParamsOf):
                chosen = TRAINABLE_ONLY if is_requires_grad_lambda(args[0].value) else OPAQUE
                return replace(source, selector=source.selector.both(chosen))
            return UNKNOWN
        if name == "enumerate" and args:
            return self.value(args[0].value, frame)
        if name == "getattr" and len(args) in (2, 3):
            return self.attribute_by_name(args, frame)
        if name == "setattr" and len(args) == 3:
            receiver = self.value(args[0].value, frame)
            attr = string_literal(args[1].value)
            value = self.value(args[2].value, frame)
            if attr is not None:
                target = ast.Attribute(args[0].value, attr)  # for messages: `model.fc`
                if attr == "requires_grad" or attr in MISSPELLINGS:
                    where = self.where(statement, frame)
                    self.facts.attribute_writes.append(
                        AttributeWrite(receiver, attr, where, self.text(args[0].value),
                                       configuration_flag=self.is_configuration_flag(args[0].value, args[2].value)))
                    if attr == "requires_grad":
                        self.requires_grad_write(receiver, args[0].value, args[2].value, statement, frame)
                elif attr.isidentifier():
                    self.assign_attribute(target, attr, value, args[2].value, statement, frame)
            return UNKNOWN
        return None
