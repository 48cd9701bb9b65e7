"""Calling the model on example inputs and turning whatever it returns into one scalar probe loss.

`output.sum()` is a degenerate probe: after a softmax, or summed across a BatchNorm's batch, its gradient
is exactly zero for some parameters. A fixed-seed random projection of every floating output is not, and
drawing the projection from a private `torch.Generator` leaves the global RNG alone.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import torch
from torch import nn

Inputs = torch.Tensor | tuple[Any, ...] | list[Any] | Mapping[str, Any]
LossFn = Callable[[Any], torch.Tensor]

PROBE_SEED = 20240501


def model_device(model: nn.Module) -> torch.device | None:
    """The device of the model's first parameter or buffer (None for a model with neither)."""
    for tensor in (*model.parameters(), *model.buffers()):
        return tensor.device
    return None


def call_model(model: nn.Module, inputs: Inputs) -> Any:
    """`model(x)`, `model(*inputs)` or `model(**inputs)`, top-level tensors moved to the model's device."""
    device = model_device(model)

    def move(value: Any) -> Any:
        return value.to(device) if isinstance(value, torch.Tensor) and device is not None else value

    if isinstance(inputs, Mapping):
        return model(**{key: move(value) for key, value in inputs.items()})
    if isinstance(inputs, tuple | list):
        return model(*(move(value) for value in inputs))
    return model(move(inputs))


def floating_tensors(output: Any, _seen: set[int] | None = None) -> Iterator[torch.Tensor]:
    """Every floating tensor in an output: nested tuples, lists, dicts, dataclasses, ModelOutput-likes, and
    other objects' attributes (a `SimpleNamespace` with `.loss` and `.logits`)."""
    seen = set() if _seen is None else _seen
    if id(output) in seen:
        return
    seen.add(id(output))
    if isinstance(output, torch.Tensor):
        if output.is_floating_point():
            yield output
    elif isinstance(output, Mapping):
        for value in output.values():
            yield from floating_tensors(value, seen)
    elif isinstance(output, tuple | list):
        for value in output:
            yield from floating_tensors(value, seen)
    elif dataclasses.is_dataclass(output) and not isinstance(output, type):
        for field in dataclasses.fields(output):
            yield from floating_tensors(getattr(output, field.name), seen)
    elif callable(getattr(output, "to_tuple", None)):
        yield from floating_tensors(output.to_tuple(), seen)
    elif not isinstance(output, nn.Module | type) and isinstance(getattr(output, "__dict__", None), dict):
        for value in vars(output).values():
            yield from floating_tensors(value, seen)


def probe_loss(output: Any) -> torch.Tensor | None:
    """Sum of `<t, w_t>` over floating outputs that require grad, `w_t` fixed-seed Gaussian; else None."""
    generator = torch.Generator().manual_seed(PROBE_SEED)
    terms = []
    for tensor in floating_tensors(output):
        if tensor.requires_grad:
            weights = torch.randn(tensor.shape, generator=generator).to(tensor.device)
            terms.append((tensor.float() * weights).sum())
    return torch.stack(terms).sum() if terms else None
