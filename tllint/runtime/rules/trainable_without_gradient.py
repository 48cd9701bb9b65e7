"""## What it does
Reports parameters with `requires_grad=True` that receive no gradient, and says why: they are not used in the
forward pass (the fx graph never reads them, or their module never ran), or they are used but cut off from the
loss (`detach`, `torch.no_grad`, `.data`, an integer or `argmax` step on the path).

## Why is this bad?
The parameters look trainable and are usually in the optimizer, but they never change. A layer assigned to an
attribute the architecture never calls (`model.classifier` on a ResNet), auxiliary heads skipped in eval mode,
or a backbone wrapped in `torch.no_grad()` while it was meant to be fine-tuned all end up here. If the cut is
intended, freeze the parameters so the intent is visible and no memory is spent on them.

## Example
```python
import torch
from torch import nn


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(8, 16), nn.ReLU())
        self.head = nn.Linear(16, 4)

    def forward(self, x):
        with torch.no_grad():  # cuts the backbone off, but it is still trainable
            features = self.backbone(x)
        return self.head(features)


model = Classifier()
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
example_inputs = torch.randn(2, 8)
```

## Use instead
```python
import torch
from torch import nn


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(8, 16), nn.ReLU())
        self.head = nn.Linear(16, 4)

    def forward(self, x):
        with torch.no_grad():
            features = self.backbone(x)
        return self.head(features)


model = Classifier()
model.backbone.requires_grad_(False)  # the backbone is meant to stay fixed: say so
optimizer = torch.optim.SGD(model.head.parameters(), lr=0.01)
example_inputs = torch.randn(2, 8)
```

## Known limits
One forward on the example inputs, in the model's current mode: a layer used only in the other mode (auxiliary
heads that run only in train mode), only for some inputs (experts a router did not pick, branches behind
data-dependent conditions) or only from another method than `forward` is reported as unused. With the probe
loss every floating output counts, so a head whose output the real loss ignores is only caught with `loss_fn`
or `tllint run`. The cause is a two-way guess: with fx, a parameter the graph reads but the backward does not
reach is "cut off", even when nothing was detached and the loss simply does not use that output. When fx
cannot trace the model, forward hooks replace it and parameters that a container module holds directly (not
through a child layer) are reported as "unused or cut off" without telling which.
"""

from __future__ import annotations

from collections.abc import Iterator

from tllint.runtime.evidence import Evidence, count, some
from tllint.runtime.rules import WARNING, Violation, rule

_CAUSES = {
    False: "are not used in the forward pass (a layer that is never called, e.g. a head assigned to an "
           "attribute the architecture does not use, or an unused auxiliary branch)",
    True: "are used in the forward pass but cut off from the loss (detach, torch.no_grad, .data, or an "
          "integer/argmax operation on the path)",
    None: "are not reached by the backward pass (unused or cut off: the hook fallback cannot tell which)",
}


@rule("TL102", WARNING, summary="trainable parameters unused in the forward or cut off from the loss")
def trainable_without_gradient(evidence: Evidence) -> Iterator[Violation]:
    causes: dict[bool | None, list[str]] = {}
    for row in evidence.rows:
        if row.requires_grad and not row.receives_gradient:
            causes.setdefault(row.used_in_forward, []).append(row.name)
    consequence = ("they get no gradient and never train, yet cost memory. Call the layer in the forward, "
                   "remove the cut, or freeze them (requires_grad=False) if that is intended.")
    for used, names in causes.items():
        message = (f"{count(len(names), 'trainable parameter tensor')} ({some(names)}) "
                   f"{_CAUSES[used]}: {consequence}")
        yield Violation(message, params=tuple(names))
