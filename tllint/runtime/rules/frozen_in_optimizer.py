"""## What it does
Reports parameters with `requires_grad=False` that sit in one of the optimizer's param groups.

## Why is this bad?
Built-in `torch.optim` optimizers skip a parameter while its `.grad` is None, so a parameter frozen before the
first step is left alone. But once it holds a gradient (frozen mid-training, `zero_grad(set_to_none=False)`,
in-place `p.grad.zero_()`), weight decay and momentum keep moving the "frozen" weights, and third-party
optimizers often decay every parameter they hold regardless. The optimizer also keeps state for them.

## Example
```python
import torch
from torch import nn

model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))
model[0].requires_grad_(False)
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.05)
example_inputs = torch.randn(2, 8)
```

## Use instead
```python
import torch
from torch import nn

model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))
model[0].requires_grad_(False)
optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3, weight_decay=0.05)
example_inputs = torch.randn(2, 8)
```

## Fix

No fix. The audit watches a running model, not source text; where the same mistake shows in the source, the static
rule that finds it there says whether `tllint check --fix` can repair it.

## Known limits
It reads `requires_grad` and the optimizer's `param_groups` at the audit moment, and with `audit()` only the
one optimizer that is passed in (`tllint run` sees every optimizer that steps). It cannot tell whether the
frozen tensors will actually move: that depends on whether they ever hold a gradient, on weight decay and
momentum, and on the optimizer's implementation. A frozen group kept on purpose for a scheduled unfreeze (even
with lr=0) is reported too.
"""

from __future__ import annotations

from collections.abc import Iterator

from tllint.runtime.evidence import Evidence, count, some
from tllint.runtime.rules import WARNING, Violation, rule


@rule("TL103", WARNING, summary="the optimizer holds frozen parameters")
def frozen_in_optimizer(evidence: Evidence) -> Iterator[Violation]:
    names = [row.name for row in evidence.rows if row.in_optimizer and not row.requires_grad]
    if not names:
        return
    what = f"The optimizer holds {count(len(names), 'frozen parameter tensor')} ({some(names)})."
    why = (" torch.optim skips them while their .grad is None, but weight decay and momentum move them once "
           "they hold a (zero) gradient, e.g. after freezing mid-training with zero_grad(set_to_none=False), "
           "and third-party optimizers decay them regardless.")
    fix = " Build the optimizer from [p for p in model.parameters() if p.requires_grad]."
    yield Violation(what + why + fix, params=tuple(names))
