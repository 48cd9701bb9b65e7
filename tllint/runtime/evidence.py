"""What the runtime rules read: the audit's rows and what was observed around them. No torch here, so that
`tllint rule` and the registry can load runtime rules in a static-only install.

`tllint.runtime.audit` (probe loss) and `tllint run` (the script's own loss) build the evidence differently
and share everything from here on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tllint.runtime.results import ParamRow


@dataclass(frozen=True)
class Evidence:
    """What the findings are computed from.

    `foreign`: descriptions of tensors an optimizer holds that are not parameters of the model and got no
    gradient. `updating_norms`: (module, its parameter names) of normalization layers whose parameters are
    all frozen, in train mode, tracking running statistics, that the forward ran. `loss_requires_grad`:
    False when the loss was not connected to anything trainable, None when not known (`tllint run`).
    `probe_loss`: the gradients come from the probe loss over every floating output (not the real loss).
    `gradients_seen`: False when no backward ran (`tllint run` explaining a script that crashed before its
    first step): then "gets no gradient" means nothing. `idle_optimizers`: optimizers built by the script
    that never stepped while the others did: (a description with where it was built, the parameters of the
    audited model it holds). `ddp_changed`: (parameter, its `requires_grad` now) for parameters whose flag
    changed after `DistributedDataParallel` wrapped their module (`tllint run` only).
    """

    rows: tuple[ParamRow, ...]
    has_optimizer: bool
    foreign: tuple[str, ...]
    updating_norms: tuple[tuple[str, tuple[str, ...]], ...]
    loss_requires_grad: bool | None
    probe_loss: bool = False
    gradients_seen: bool = True
    idle_optimizers: tuple[tuple[str, tuple[str, ...]], ...] = ()
    ddp_changed: tuple[tuple[str, bool], ...] = ()
    # Hugging Face (tllint/runtime/peft.py): heads of task models still at their initial values, as (module,
    # parameter names); whether gradient checkpointing is on.
    new_heads: tuple[tuple[str, tuple[str, ...]], ...] = ()
    checkpointing: bool = False


def some(names: Sequence[str], limit: int = 3) -> str:
    """`a`, `b`, `c` and 4 more."""
    shown = ", ".join(f"`{name}`" for name in names[:limit])
    return shown if len(names) <= limit else f"{shown} and {len(names) - limit} more"


def count(n: int, noun: str) -> str:
    """`1 tensor`, `2 tensors`."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def verb(n: int, singular: str, plural: str) -> str:
    """The verb that agrees with a count: `verb(1, "is", "are")` -> `is`."""
    return singular if n == 1 else plural
