"""## What it does
Reports a param group whose learning rate is 0 while it holds trainable parameters.

## Why is this bad?
The parameters get gradients every step and never move: a "trainable" layer that is frozen in effect, usually
from a per-layer learning-rate table or a scale factor that came out as 0. A warm-up schedule that starts at
0 makes the first step read as 0 on purpose; audit a later step with `tllint run --step N`.

## Example
```python
import torch
from torch import nn

model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))
base_lr, backbone_scale = 1e-3, 0
optimizer = torch.optim.SGD([
    {"params": model[0].parameters(), "lr": base_lr * backbone_scale},
    {"params": model[2].parameters(), "lr": base_lr},
])
example_inputs = torch.randn(2, 8)
```

## Use instead
```python
import torch
from torch import nn

model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))
base_lr, backbone_scale = 1e-3, 0.1
optimizer = torch.optim.SGD([
    {"params": model[0].parameters(), "lr": base_lr * backbone_scale},
    {"params": model[2].parameters(), "lr": base_lr},
])
example_inputs = torch.randn(2, 8)
```

## Fix

No fix. The audit watches a running model, not source text; where the same mistake shows in the source, the static
rule that finds it there says whether `tllint check --fix` can repair it.

## Known limits
It reads each param group's `lr` at the audit moment, from the optimizer passed in: a warm-up that starts at 0
is reported (audit a later step), a scheduler that will drop the rate to 0 later is not, and a rate that is
positive but negligible (1e-12) is not reported. Groups without a numeric `lr` (optimizers that compute their
own step size and store None) are not checked.
"""

from __future__ import annotations

from collections.abc import Iterator

from tllint.runtime.evidence import Evidence, count, some, verb
from tllint.runtime.rules import WARNING, Violation, rule


@rule("TL107", WARNING, summary="a param group with `lr == 0` holds trainable parameters")
def zero_learning_rate(evidence: Evidence) -> Iterator[Violation]:
    groups: dict[str, list[str]] = {}
    for row in evidence.rows:
        if row.in_optimizer and row.requires_grad and row.lr == 0:
            groups.setdefault(row.group or "?", []).append(row.name)
    if not groups:
        return
    names = [name for group in groups.values() for name in group]
    labels = list(groups)
    which = (f"Param group {labels[0]} has" if len(labels) == 1
             else f"Param groups {', '.join(labels[:-1])} and {labels[-1]} have")
    n = len(names)
    fix = ("Set a learning rate; if a warm-up schedule starts at 0, audit a later step "
           "(`tllint run --step N`).")
    message = (f"{which} lr=0 and hold{'s' if len(labels) == 1 else ''} {count(n, 'trainable tensor')} "
               f"({some(names)}): whatever {verb(n, 'its gradient', 'their gradients')}, "
               f"{verb(n, 'it never moves', 'they never move')}. {fix}")
    yield Violation(message, params=tuple(names))
