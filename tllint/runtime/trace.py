"""Which parameters the forward uses, and in which order: torch.fx first, forward hooks as the fallback.

Symbolic tracing sees every parameter the forward reads (`call_module` of a leaf module, `get_attr` of a
parameter), including the ones whose gradient is later cut off, which is what lets TL102 tell "unused" from
"cut off". It fails on data-dependent control flow and some custom modules; then hooks record which modules
ran, which is coarser: a leaf module that ran used its parameters, a module that never ran used none, and
for the parameters a container module holds directly it cannot tell.
"""

from __future__ import annotations

import inspect
from collections import OrderedDict
from collections.abc import Hashable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch.fx
from torch import nn

CACHE_SIZE = 64
_FX_DIR = str(Path(torch.fx.__file__).resolve().parent)


@dataclass(frozen=True)
class Usage:
    """`order`: module paths in the order the forward first touches them; `used`: parameter name -> used."""

    order: tuple[str, ...]
    used: Mapping[str, bool | None]


def canonical_names(model: nn.Module) -> dict[int, str]:
    """`id(param)` -> the name `named_parameters()` reports for it (the first of tied aliases)."""
    names: dict[int, str] = {}
    for name, param in model.named_parameters(remove_duplicate=False):
        names.setdefault(id(param), name)
    return names


def owner_path(param_name: str) -> str:
    """`layer1.0.conv1.weight` -> `layer1.0.conv1`; a root-level parameter's owner is ``""``."""
    return param_name.rpartition(".")[0]


def fx_usage(model: nn.Module, inputs: Any) -> Usage:
    """Trace `model` symbolically; raises whatever fx raises when it cannot."""
    graph = torch.fx.Tracer().trace(model, concrete_args=_unbound_defaults(model, inputs))
    names = canonical_names(model)
    used_ids: dict[int, None] = {}
    for node in graph.nodes:
        if node.op == "call_module":
            for param in model.get_submodule(node.target).parameters():
                used_ids.setdefault(id(param))
        elif node.op == "get_attr":
            attribute = _resolve(model, node.target)
            if isinstance(attribute, nn.Parameter):
                used_ids.setdefault(id(attribute))
    used_names = [names[pid] for pid in used_ids if pid in names]
    return Usage(
        order=tuple(dict.fromkeys(owner_path(name) for name in used_names)),
        used={name: id_ in used_ids for id_, name in names.items()},
    )


_cache: OrderedDict[Hashable, Usage | str] = OrderedDict()


def traced_usage(model: nn.Module, inputs: Any) -> tuple[Usage | None, str]:
    """`fx_usage`, cached per process, and how usage was found: `"fx"` or why fx could not trace.

    Tracing is most of the audit's cost and gives the same answer for every model of the same structure called
    with the same kind of inputs (a test suite auditing one architecture many times, `tllint run --step N`).
    The key holds the module classes, the paths and plain attributes (flags like `training`) of every
    submodule, how parameters are named and tied, and the types, dtypes and ranks of the inputs; changing any
    of them traces again. Call it inside `untouched()`: tracing runs the user's forward on proxies.
    """
    key = (type(model), _structure(model), _signature(inputs))
    if key in _cache:
        _cache.move_to_end(key)
        found = _cache[key]
    else:
        try:
            found = fx_usage(model, inputs)
        except Exception as error:  # any tracing failure falls back to hooks, by design
            found = fx_failure(error)
        _cache[key] = found
        if len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    if isinstance(found, str):
        return None, f"fx could not trace ({found}), used module hooks"
    return found, "fx"


def clear_trace_cache() -> None:
    """Forget every cached trace (tests; a process that redefines module classes in place)."""
    _cache.clear()


def fx_failure(error: Exception) -> str:
    """Why fx could not trace, in user terms: the forward's own error, or what fx does not support."""
    first_line = (str(error).strip().splitlines() or [""])[0][:160]
    if isinstance(error, torch.fx.proxy.TraceError):
        return first_line
    frames = []
    tb = error.__traceback__
    while tb is not None:
        frames.append(tb.tb_frame.f_code.co_filename)
        tb = tb.tb_next
    if frames and frames[-1].startswith(_FX_DIR):
        return f"this forward uses Python that torch.fx does not support ({type(error).__name__})"
    return f"the forward raised {type(error).__name__} on symbolic inputs: {first_line}"


def _structure(model: nn.Module) -> Hashable:
    aliases: dict[int, int] = {}
    params = tuple((name, aliases.setdefault(id(param), len(aliases)))
                   for name, param in model.named_parameters(remove_duplicate=False))
    modules = tuple(
        (path, type(module), tuple(sorted(((key, value) for key, value in vars(module).items()
                                           if type(value) in _PLAIN), key=lambda item: item[0])))
        for path, module in model.named_modules(remove_duplicate=False)
    )
    return params, modules


_PLAIN = (bool, int, float, str, type(None))


def _signature(inputs: Any) -> Hashable:
    if isinstance(inputs, torch.Tensor):
        return ("tensor", inputs.dtype, inputs.dim(), inputs.device.type, inputs.requires_grad)
    if isinstance(inputs, Mapping):
        return ("mapping", tuple((key, _signature(value)) for key, value in inputs.items()))
    if isinstance(inputs, tuple | list):
        return (type(inputs).__name__, tuple(_signature(value) for value in inputs))
    if type(inputs) in _PLAIN:
        return (type(inputs).__name__, inputs)
    return type(inputs).__qualname__


def _resolve(model: nn.Module, target: str) -> Any:
    value: Any = model
    for part in target.split("."):
        value = getattr(value, part, None)
    return value


def _unbound_defaults(model: nn.Module, inputs: Any) -> dict[str, Any] | None:
    """Arguments the example inputs leave at their defaults, traced as those constants rather than as proxies.

    Otherwise `if mask is not None:` is taken on a proxy and fx traces a branch the real call never runs.
    """
    try:
        signature = inspect.signature(model.forward)
        if isinstance(inputs, Mapping):
            bound = signature.bind_partial(**inputs)
        elif isinstance(inputs, tuple | list):
            bound = signature.bind_partial(*inputs)
        else:
            bound = signature.bind_partial(inputs)
    except (TypeError, ValueError):
        return None
    defaults = {
        name: parameter.default
        for name, parameter in signature.parameters.items()
        if name not in bound.arguments
        and parameter.default is not inspect.Parameter.empty
        and parameter.kind in (parameter.POSITIONAL_OR_KEYWORD, parameter.KEYWORD_ONLY)
    }
    return defaults or None


@contextmanager
def recorded_calls(model: nn.Module) -> Iterator[list[nn.Module]]:
    """Collect, in first-call order, the submodules of `model` whose forward runs inside the block."""
    calls: dict[int, nn.Module] = {}
    order: list[nn.Module] = []

    def record(module: nn.Module, _args: Any) -> None:
        if id(module) not in calls:
            calls[id(module)] = module
            order.append(module)

    handles = [module.register_forward_pre_hook(record) for module in model.modules()]
    try:
        yield order
    finally:
        for handle in handles:
            handle.remove()


def hook_usage(model: nn.Module, ran: Sequence[nn.Module], prefix: str = "") -> Usage:
    """Usage from the modules that ran: a leaf that ran used its parameters, a module that did not, none."""
    ran_ids = {id(module) for module in ran}
    modules = dict(model.named_modules(prefix=prefix))
    paths = {id(module): path for path, module in modules.items()}
    used: dict[str, bool | None] = {}
    for name, _param in model.named_parameters(prefix=prefix):
        owner = modules[owner_path(name)]
        if id(owner) not in ran_ids:
            used[name] = False
        else:
            used[name] = True if next(owner.children(), None) is None else None
    return Usage(order=tuple(paths[id(module)] for module in ran if id(module) in paths), used=used)
