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

## Fix

No fix. The audit watches a running model, not source text; where the same mistake shows in the source, the static
rule that finds it there says whether `tllint check --fix` can repair it.

## Known limits
Any tensor in the optimizer's `param_groups` that is not a parameter of the audited model and got no gradient
is reported, whatever it is. `audit()` computes gradients for every trainable tensor the optimizer holds, so a
free tensor that `loss_fn` uses (a learnable temperature, a criterion with its own weights) is not reported;
with the probe loss (no `loss_fn`), a tensor only the real loss uses gets no gradient and is reported. Likewise
`audit()` reports the parameters of a second network that the same optimizer trains (a projector or
discriminator not passed as the model); `tllint run` sees every module the script runs.
"""

from __future__ import annotations

from collections.abc import Iterator

from tllint.runtime.evidence import Evidence, count, some, verb
from tllint.runtime.rules import WARNING, Violation, rule


@rule("TL108", WARNING, summary="the optimizer holds tensors that are not in the model (the old head)")
def optimizer_holds_foreign_params(evidence: Evidence) -> Iterator[Violation]:
    if not evidence.foreign:
        return
    n = len(evidence.foreign)
    what = (f"The optimizer holds {count(n, 'tensor')} that {verb(n, 'is not a parameter', 'are not parameters')} "
            f"of the model and {verb(n, 'gets', 'get')} no gradient ({some(evidence.foreign)}), typically the old "
            "head after a replacement: it updates nothing the model uses.")
    yield Violation(what + " Build the optimizer after the model is final.", params=tuple(evidence.foreign))
