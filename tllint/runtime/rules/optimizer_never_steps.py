"""## What it does
`tllint run` only: reports an optimizer the script built that did not step while the others did (it never
stepped, or it stopped stepping), with where it was built and the model parameters it holds.

## Why is this bad?
An optimizer that is built and never stepped trains nothing: the parameters it holds (often a new head, or a
second model) keep their initial values while the loss still goes down through the rest. It usually means a
forgotten `optimizer.step()`, a step on the wrong one of two optimizers, or an optimizer built twice. If it
steps only later (a second training phase), audit that phase with `tllint run --step N`.

## Example
```python
import torch
from torch import nn

model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))
backbone_opt = torch.optim.SGD(model[0].parameters(), lr=0.01)
head_opt = torch.optim.SGD(model[2].parameters(), lr=0.1)  # built, never stepped
for _ in range(3):
    backbone_opt.zero_grad()
    model(torch.randn(4, 8)).sum().backward()
    backbone_opt.step()
```

## Use instead
```python
import torch
from torch import nn

model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))
backbone_opt = torch.optim.SGD(model[0].parameters(), lr=0.01)
head_opt = torch.optim.SGD(model[2].parameters(), lr=0.1)
for _ in range(3):
    backbone_opt.zero_grad()
    head_opt.zero_grad()
    model(torch.randn(4, 8)).sum().backward()
    backbone_opt.step()
    head_opt.step()
```

## Fix

No fix. The audit watches a running model, not source text; where the same mistake shows in the source, the static
rule that finds it there says whether `tllint check --fix` can repair it.

## Known limits
Only `tllint run` sees optimizers step; `audit()` is given one optimizer and does not report this. An optimizer
counts as idle when it is short of the audited step and has not stepped while the fastest optimizer went
`--patience` steps (default 20) past that step and past its own last step, or when the script ends first: one
that steps every fifth iteration (a WGAN generator with `n_critic=5`) is waited for, one that starts stepping
after a long first phase is reported. Optimizers that hold none of the audited model's parameters (a mock
optimizer a framework builds) are not reported.
"""

from __future__ import annotations

from collections.abc import Iterator

from tllint.runtime.evidence import Evidence, count, verb
from tllint.runtime.rules import WARNING, Violation, rule


@rule("TL109", WARNING, summary="an optimizer the script built does not step while the others do")
def optimizer_never_steps(evidence: Evidence) -> Iterator[Violation]:
    idle = [(description, names) for description, names in evidence.idle_optimizers if names]
    if not idle:
        return
    n = len(idle)
    params = tuple(name for _, names in idle for name in names)
    what = "; ".join(f"{description}, holding {count(len(names), 'parameter tensor')}"
                     for description, names in idle)
    message = (f"{count(n, 'optimizer')} did not step while the others did: {what}. The parameters "
               f"{verb(n, 'it holds', 'they hold')} are not updated by {verb(n, 'it', 'them')}: step "
               f"{verb(n, 'it', 'each')} in the loop (or drop {verb(n, 'it', 'them')}); if "
               f"{verb(n, 'it steps', 'they step')} only in a later phase, audit there with `tllint run --step N`.")
    yield Violation(message, params=params)
