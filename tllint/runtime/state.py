"""Leave no trace: what the audit's forward pass may change, saved before and put back after.

The audit never writes parameters, never calls the user's optimizer and computes its gradients with
`torch.autograd.grad` (which leaves `.grad` alone), so what can move is: buffers (BatchNorm running
statistics and `num_batches_tracked` move in train mode), the RNG (dropout draws from it) and whatever a
user forward does to flags, `.grad` or module attributes holding parameters. Those are saved and restored;
parameter values and optimizer state are not copied, which keeps the audit's memory overhead at the size
of the buffers.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn


@contextmanager
def untouched(model: nn.Module) -> Iterator[None]:
    """Run the body, then restore buffers, training flags, parameter identity/`requires_grad`/`.grad`, RNG."""
    buffers = [
        (module, name, buffer, buffer.detach().clone())
        for module in model.modules()
        for name, buffer in module._buffers.items()
        if buffer is not None
    ]
    parameters = [
        (module, name, param, param.requires_grad, param.grad)
        for module in model.modules()
        for name, param in module._parameters.items()
        if param is not None
    ]
    training = [(module, module.training) for module in model.modules()]
    cuda_devices = list(range(torch.cuda.device_count())) if torch.cuda.is_initialized() else []
    with torch.random.fork_rng(devices=cuda_devices):
        try:
            yield
        finally:
            _restore(buffers, parameters, training)


def _restore(
    buffers: list[tuple[nn.Module, str, torch.Tensor, torch.Tensor]],
    parameters: list[tuple[nn.Module, str, nn.Parameter, bool, torch.Tensor | None]],
    training: list[tuple[nn.Module, bool]],
) -> None:
    with torch.no_grad():
        for module, name, buffer, saved in buffers:
            module._buffers[name] = buffer
            if not torch.equal(buffer, saved):
                buffer.copy_(saved)
    for module, name, param, requires_grad, grad in parameters:
        module._parameters[name] = param
        if param.requires_grad != requires_grad:
            param.requires_grad_(requires_grad)
        if param.grad is not grad:
            param.grad = grad
    for module, flag in training:
        module.training = flag
