"""## What it does
Reports tensors held by the optimizer that are not parameters of the model and receive no gradient.

## Why is this bad?
They are almost always the old head after a replacement: the optimizer was built, then the layer was swapped,
so the optimizer still updates (and keeps state for) weights the model no longer uses. Even when the new
layer was added with `add_param_group`, the stale tensors cost memory and their state is saved in every
checkpoint. Free tensors that do receive gradients (a learnable temperature used by the loss) are not reported.

## Example
```python
import torch
from torch import nn

model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 10))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
model[2] = nn.Linear(16, 4)
optimizer.add_param_group({"params": model[2].parameters()})  # the old head stays in group 0
example_inputs = torch.randn(2, 8)
```

## Use instead
```python
import torch
from torch import nn

model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 10))
model[2] = nn.Linear(16, 4)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
example_inputs = torch.randn(2, 8)
```

## Known limits
Any tensor in the optimizer's `param_groups` that is not a parameter of the audited model and got no gradient
is reported, whatever it is. With `audit()` gradients are computed for the model's parameters only, so a free
tensor that only `loss_fn` uses (a learnable temperature, a criterion with its own weights) is reported even
though the real loss trains it; `tllint run` reads the gradients the script's backward left on every tensor
the optimizer holds and does not report it. For the same reason `audit()` also reports the parameters of a
second network that the same optimizer trains (a projector or discriminator not passed as the model).
"""

from __future__ import annotations

from collections.abc import Iterator

from tllint.runtime.evidence import Evidence, count, some
from tllint.runtime.rules import WARNING, Violation, rule


@rule("TL108", WARNING, summary="the optimizer holds tensors that are not in the model (the old head)")
def optimizer_holds_foreign_params(evidence: Evidence) -> Iterator[Violation]:
    if not evidence.foreign:
        return
    what = (f"The optimizer holds {count(len(evidence.foreign), 'tensor')} that are not parameters of the "
            f"model ({some(evidence.foreign)}), typically the old head after a replacement: it updates "
            "nothing the model uses.")
    yield Violation(what + " Build the optimizer after the model is final.", params=tuple(evidence.foreign))
