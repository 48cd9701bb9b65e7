"""Unwrapping DataParallel / DistributedDataParallel / `torch.compile`: the audit looks at the real module.

Running a DDP wrapper's forward would start gradient synchronisation and a compiled module's forward would
compile; neither tells us anything the inner module does not, so the audit works on the inner module and
reports its parameter names (`fc.weight`, not `module.fc.weight`).
"""

from __future__ import annotations

from torch import nn

_WRAPPER_ATTRIBUTES = {
    "DataParallel": "module",
    "DistributedDataParallel": "module",
    "OptimizedModule": "_orig_mod",
}


def unwrap(model: nn.Module) -> tuple[nn.Module, tuple[str, ...]]:
    """The innermost wrapped module and the names of the wrappers around it, outermost first."""
    wrappers: list[str] = []
    while True:
        attribute = _WRAPPER_ATTRIBUTES.get(type(model).__name__)
        inner = getattr(model, attribute, None) if attribute else None
        if not isinstance(inner, nn.Module):
            return model, tuple(wrappers)
        wrappers.append(type(model).__name__)
        model = inner


def strip_wrapper_prefix(path: str) -> str:
    """`module.fc` or `_orig_mod.fc` (a name seen through a wrapper) as the inner module's `fc`."""
    prefixes = {f"{attribute}." for attribute in _WRAPPER_ATTRIBUTES.values()}
    stripped = True
    while stripped:
        stripped = False
        for prefix in prefixes:
            if path.startswith(prefix):
                path, stripped = path[len(prefix) :], True
    return path
