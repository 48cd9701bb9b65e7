"""## What it does
Reports parameters that receive gradients but are in no param group of the optimizer (matched by identity).

## Why is this bad?
Their gradients are computed every step and never applied: the layer stays at its initial values while the
rest of the model trains around it, and the loss still goes down, so nothing looks wrong. Typical causes are
an optimizer built before the head was replaced, and layers unfrozen in a later epoch without
`optimizer.add_param_group(...)`. With `tllint run --step N`, audit a step after the unfreezing.

## Example
```python
import torch
from torch import nn

model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 10))
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
model[2] = nn.Linear(16, 4)  # replaced after the optimizer was built: never updated
example_inputs = torch.randn(2, 8)
```

## Use instead
```python
import torch
from torch import nn

model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 10))
model[2] = nn.Linear(16, 4)
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)  # built once the model is final
example_inputs = torch.randn(2, 8)
```

## Fix

No fix. The audit watches a running model, not source text; where the same mistake shows in the source, the static
rule that finds it there says whether `tllint check --fix` can repair it.

## Known limits
Membership is by tensor identity in the `param_groups` of the optimizer passed to `audit()` (only one; without
it the rule is silent), so a model split across two optimizers looks incomplete unless `tllint run` sees both
step. An optimizer that trains copies of the parameters (flat master weights in some mixed-precision or
sharding wrappers) holds none of the model's tensors and makes every trainable one look left out. Layers
unfrozen after the audit point are not seen: audit a step after the unfreeze (`tllint run --step N`).
"""

from __future__ import annotations

from collections.abc import Iterator

from tllint.runtime.evidence import Evidence, count, some, verb
from tllint.runtime.rules import ERROR, Violation, rule


@rule("TL104", ERROR, summary="parameters that receive gradients are in no param group")
def trainable_not_in_optimizer(evidence: Evidence) -> Iterator[Violation]:
    if not evidence.has_optimizer:
        return
    names = [row.name for row in evidence.rows
             if row.requires_grad and row.receives_gradient and row.in_optimizer is False]
    if not names:
        return
    n = len(names)
    what = (f"{count(n, 'parameter tensor')} ({some(names)}) {verb(n, 'receives', 'receive')} gradients but "
            f"{verb(n, 'is', 'are')} in no param group: computed every step, never applied, so "
            f"{verb(n, 'it stays at its', 'they stay at their')} initial values.")
    fix = (" Typical causes: the optimizer was built before the layer was replaced, or layers were unfrozen "
           "later. Build the optimizer after the model is final, or call optimizer.add_param_group(...).")
    yield Violation(what + fix, params=tuple(names))
