"""Leave no trace: everything the audit's trace and forward pass may change, saved before and put back after.

The audit never calls the user's optimizer and computes its gradients with `torch.autograd.grad` (which leaves
`.grad` alone), but the user's forward runs twice (symbolically under fx, then for real) and may do anything:
update buffers (BatchNorm statistics, `num_batches_tracked`), draw random numbers (dropout, `random`, NumPy),
call `.eval()` or `requires_grad_()`, add attributes (the fx tracer `setattr`s `_tensor_constantN` on the
module), swap submodules, or edit parameters in place (`nn.Embedding(max_norm=...)` renormalises its rows).
`untouched()` restores, for every module: its buffers (values copied), the entries of `_parameters`,
`_buffers` and `_modules`, the attributes of its `__dict__` (added ones removed, rebound ones put back, so
`training` too), each parameter's storage, `requires_grad` and `.grad`; and the torch CPU and CUDA, Python
`random` and NumPy global RNG states. Parameter values are copied only when the forward writes them in place
(`parameters_copied_on_write`), which keeps the memory overhead at the size of the buffers.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode


@dataclass
class _ModuleState:
    module: nn.Module
    attributes: dict[str, Any]
    parameters: dict[str, nn.Parameter | None]
    buffers: dict[str, torch.Tensor | None]
    children: dict[str, nn.Module | None]


@dataclass
class _ParameterState:
    param: nn.Parameter
    data: torch.Tensor
    requires_grad: bool
    grad: torch.Tensor | None


@contextmanager
def untouched(model: nn.Module) -> Iterator[None]:
    """Run the body, then restore the state of `model` and the global RNGs (see the module docstring)."""
    modules = [
        _ModuleState(module, dict(module.__dict__), dict(module._parameters), dict(module._buffers),
                     dict(module._modules))
        for module in model.modules()
    ]
    buffers = [(buffer, buffer.detach().clone()) for state in modules for buffer in state.buffers.values()
               if buffer is not None]
    params = {id(param): _ParameterState(param, param.data, param.requires_grad, param.grad)
              for state in modules for param in state.parameters.values() if param is not None}
    cuda_devices = list(range(torch.cuda.device_count())) if torch.cuda.is_initialized() else []
    python_rng = random.getstate()
    numpy = sys.modules.get("numpy")
    numpy_rng = numpy.random.get_state() if numpy is not None else None
    with torch.random.fork_rng(devices=cuda_devices):
        try:
            yield
        finally:
            _restore(modules, buffers, params.values())
            random.setstate(python_rng)
            if numpy_rng is not None:
                numpy.random.set_state(numpy_rng)


def _restore(modules: list[_ModuleState], buffers: list[tuple[torch.Tensor, torch.Tensor]],
             params: Any) -> None:
    for state in modules:
        module = state.module
        for name in [key for key in module.__dict__ if key not in state.attributes]:
            del module.__dict__[name]
        for name, value in state.attributes.items():
            if module.__dict__.get(name, _MISSING) is not value:
                module.__dict__[name] = value
        for live, saved in ((module._parameters, state.parameters), (module._buffers, state.buffers),
                            (module._modules, state.children)):
            if live != saved or any(live[key] is not value for key, value in saved.items()):
                live.clear()
                live.update(saved)
    _copy_back(buffers)
    for state in params:
        param = state.param
        if param.data.untyped_storage().data_ptr() != state.data.untyped_storage().data_ptr() or \
                param.data.shape != state.data.shape:
            param.data = state.data
        if param.requires_grad != state.requires_grad:
            param.requires_grad_(state.requires_grad)
        if param.grad is not state.grad:
            param.grad = state.grad


_MISSING = object()


def _copy_back(pairs: list[tuple[torch.Tensor, torch.Tensor]]) -> None:
    """Copy every saved value back, with one fused copy per device and no wait for the device."""
    by_device: dict[torch.device, list[tuple[torch.Tensor, torch.Tensor]]] = {}
    for live, saved in pairs:
        by_device.setdefault(live.device, []).append((live, saved))
    with torch.no_grad():
        for group in by_device.values():
            torch._foreach_copy_([live for live, _ in group], [saved for _, saved in group])


class _CopyOnWrite(TorchDispatchMode):
    """Before the first in-place write to a parameter's storage, keep a copy of its value."""

    def __init__(self, storages: dict[int, torch.Tensor]) -> None:
        super().__init__()
        self.storages = storages
        self.saved: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}

    def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        kwargs = kwargs or {}
        if func._schema.is_mutable:
            for index, argument in enumerate(func._schema.arguments):
                if argument.alias_info is not None and argument.alias_info.is_write:
                    self._save(args[index] if index < len(args) else kwargs.get(argument.name))
        return func(*args, **kwargs)

    def _save(self, value: Any) -> None:
        if isinstance(value, torch.Tensor) and value.layout == torch.strided:
            pointer = value.untyped_storage().data_ptr()
            if pointer in self.storages and pointer not in self.saved:
                param = self.storages[pointer]
                self.saved[pointer] = (param, param.detach().clone())


@contextmanager
def parameters_copied_on_write(model: nn.Module) -> Iterator[None]:
    """Put back, after the block, the value of every parameter the block wrote in place."""
    storages = {param.untyped_storage().data_ptr(): param for param in model.parameters()
                if param.layout == torch.strided and param.device.type != "meta"}
    mode = _CopyOnWrite(storages)
    try:
        with mode:
            yield
    finally:
        with torch.no_grad():
            for param, value in mode.saved.values():
                param.copy_(value)
