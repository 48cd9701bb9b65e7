"""What library calls build: torchvision / timm / transformers models, `torch.nn` layers (with the facts the
architecture rules read: input size, parameter names), optimizers, wrappers that keep the same model
(DataParallel, DDP, `torch.compile`), and `copy.deepcopy`."""

from __future__ import annotations

import ast
from dataclasses import replace

from tllint.static.facts import (
    UNKNOWN,
    Built,
    ModelObject,
    Optimizer,
    OptimizerBuilt,
    Origin,
    ParamGroups,
    ParamsOf,
    Ref,
    Value,
)
from tllint.static.interpreter.imports import dotted
from tllint.static.interpreter.state import (
    Base,
    Frame,
    param_sources,
)
from tllint.static.interpreter.syntax import (
    arguments,
    bool_literal,
    integer_literal,
    keyword_value,
    string_literal,
)
from tllint.static.knowledge import (
    CONTAINERS,
    LEAF_LAYERS,
    MODEL_NAMESPACES,
    NON_MODEL_PRETRAINED,
    NOT_MODULES,
    PARAMLESS_LAYERS,
    SAME_MODEL_WRAPPER_NAMES,
    SAME_MODEL_WRAPPERS,
    TIMM_OPTIMIZER_FACTORIES,
    is_optimizer_class,
)
from tllint.static.selectors import TRAINABLE_ONLY


def _model_constructor(qual: str, node: ast.Call) -> str | None:
    """`torchvision.models.resnet18`, `timm:resnet50`, `transformers.AutoModel.from_pretrained`, ..."""
    last = qual.rsplit(".", 1)[-1]
    args = arguments(node)
    if qual in ("timm.create_model", "timm.models.create_model"):
        name = string_literal(args[0].value) if args else None
        keyword = keyword_value(node, "model_name")
        name = name or (string_literal(keyword) if keyword is not None else None)
        return f"timm:{name}" if name else "timm:?"
    if qual in ("torchvision.models.get_model",) and args:
        name = string_literal(args[0].value)
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
        key = string_literal(pair.elts[0])
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
        return integer_literal(keyword_value(node, "in_features") or keyword_value(node, "in_channels") or (
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
    weights = keyword_value(node, "weights")
    if weights is not None:
        if isinstance(weights, ast.Constant) and weights.value is None:
            return False
        named = isinstance(weights, ast.Attribute) and weights.attr.isupper()  # ResNet18_Weights.DEFAULT
        return True if named or string_literal(weights) is not None or isinstance(weights, ast.Call) else None
    pretrained = keyword_value(node, "pretrained")
    if pretrained is not None:
        return bool_literal(pretrained)
    if keyword_value(node, "checkpoint_path") is not None or keyword_value(node, "pretrained_cfg_overlay") is not None:
        return None  # timm loads a local checkpoint
    if constructor.startswith(("torchvision.", "timm:")):
        return False
    return None


class LibraryCalls(Base):
    def library_call(self, node: ast.Call, qual: str, frame: Frame, statement: ast.AST) -> Value | None:
        hf = self.hf_library_call(node, qual, frame, statement)  # type: ignore[attr-defined]  # HF / PEFT: hf.py
        if hf is not None:
            return hf
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
            self.hf_model_built(ref, node, constructor, frame, statement)  # type: ignore[attr-defined]  # hf.py
            return ref
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
        params_node = keyword_value(node, "params") or keyword_value(node, "model_or_params")
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
            sources = param_sources(value)
            groups, known = ((sources,) if sources else ()), bool(sources)
        self.emit(OptimizerBuilt(optimizer, groups, self.where(statement, frame), known))
        return optimizer
