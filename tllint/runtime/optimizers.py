"""Optimizer membership by parameter identity: which group holds each parameter, at which lr.

Identity (`id(p)` over `param_groups`) rather than names is what an optimizer actually holds, and it also
finds parameters the optimizer holds that the model no longer has (the old head after a replacement).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Slot:
    """Where an optimizer holds a parameter. `group`: `"2"`, or `"1:2"` when there are several optimizers."""

    group: str
    lr: float | None
    weight_decay: float | None


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float | torch.Tensor) else None


def held(optimizers: Sequence[torch.optim.Optimizer]) -> list[tuple[torch.Tensor, Slot]]:
    """Every (parameter, slot) the optimizers hold, in group order; a parameter held twice appears twice."""
    entries = []
    for index, optimizer in enumerate(optimizers):
        for number, group in enumerate(optimizer.param_groups):
            label = f"{index}:{number}" if len(optimizers) > 1 else str(number)
            slot = Slot(label, _number(group.get("lr")), _number(group.get("weight_decay")))
            entries.extend((param, slot) for param in group["params"])
    return entries


def slots_by_id(optimizers: Sequence[torch.optim.Optimizer]) -> dict[int, Slot]:
    """`id(param)` -> the first slot that holds it."""
    slots: dict[int, Slot] = {}
    for param, slot in held(optimizers):
        slots.setdefault(id(param), slot)
    return slots
