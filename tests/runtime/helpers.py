"""Helpers for the runtime tests: fixture paths and bit-exact fingerprints of model state."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import torch
from torch import nn

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "fixtures" / "runtime"


def fingerprint(model: nn.Module, optimizer: torch.optim.Optimizer | None = None) -> dict[str, Any]:
    """Everything the audit promises to leave as it found it, copied."""
    params = dict(model.named_parameters())
    return {
        "params": {name: p.detach().clone() for name, p in params.items()},
        "param_ids": {name: id(p) for name, p in params.items()},
        "grads": {name: None if p.grad is None else p.grad.clone() for name, p in params.items()},
        "requires_grad": {name: p.requires_grad for name, p in params.items()},
        "buffers": {name: b.clone() for name, b in model.named_buffers()},
        "training": {name: m.training for name, m in model.named_modules()},
        "rng": torch.get_rng_state(),
        "optimizer": copy.deepcopy(optimizer.state_dict()) if optimizer is not None else None,
    }


def assert_same(before: Any, after: Any, path: str = "") -> None:
    """Bit-identical comparison of two fingerprints (tensors by value and dtype, None stays None)."""
    if isinstance(before, torch.Tensor):
        assert isinstance(after, torch.Tensor), path
        assert before.dtype == after.dtype and torch.equal(before, after), f"{path} changed"
    elif isinstance(before, dict):
        assert before.keys() == after.keys(), path
        for key in before:
            assert_same(before[key], after[key], f"{path}.{key}")
    elif isinstance(before, list | tuple):
        assert len(before) == len(after), path
        for i, (b, a) in enumerate(zip(before, after, strict=True)):
            assert_same(b, a, f"{path}[{i}]")
    else:
        assert before == after, f"{path}: {before!r} -> {after!r}"
