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

## Fix

No fix. The audit watches a running model, not source text; where the same mistake shows in the source, the static
rule that finds it there says whether `tllint check --fix` can repair it.

## Known limits
One forward on the example inputs, in the model's current mode: a layer used only in the other mode (auxiliary
heads that run only in train mode), only for some inputs (experts a router did not pick, branches behind
data-dependent conditions) or only from another method than `forward` is reported as unused. With the probe
loss every floating output counts, so a head whose output the real loss ignores is only caught with `loss_fn`
or `tllint run`. With the probe loss (every floating output counts), a parameter the fx graph reads but the
backward does not reach is "cut off"; with a real loss (`loss_fn`, `tllint run`) it may also feed an output the
loss ignores, and the message says both. When fx cannot trace the model, forward hooks replace it and parameters
that a container module holds directly (not through a child layer) are reported as "unused or cut off" without
telling which. When no parameter gets a gradient at all, TL101 reports it (with the cause) and this rule stays
quiet.
"""

from __future__ import annotations

from collections.abc import Iterator

from tllint.runtime.evidence import Evidence, count, some, verb
from tllint.runtime.rules import WARNING, Violation, rule

_UNUSED = ("not used in the forward pass (a layer that is never called, e.g. a head assigned to an attribute "
           "the architecture does not use, or an unused auxiliary branch)")
_CUT = "used in the forward pass but cut off from the loss (detach, torch.no_grad, .data, or an integer/argmax step)"
_IGNORED = ("used in the forward pass but not reached from the loss: the loss does not use the output they feed "
            "(an auxiliary head, an extra return value), or the path is cut (detach, torch.no_grad, .data, argmax)")
_UNKNOWN = "not reached by the backward pass (unused or cut off: the hook fallback cannot tell which)"


@rule("TL102", WARNING, summary="trainable parameters unused in the forward or cut off from the loss")
def trainable_without_gradient(evidence: Evidence) -> Iterator[Violation]:
    if not evidence.gradients_seen or not any(row.receives_gradient for row in evidence.rows):
        return  # no gradient at all: `nothing-trains` reports it, with the cause
    causes: dict[bool | None, list[str]] = {}
    for row in evidence.rows:
        if row.requires_grad and not row.receives_gradient:
            causes.setdefault(row.used_in_forward, []).append(row.name)
    # The probe loss reads every floating output, so a used parameter it does not reach is cut off; a real
    # loss may also simply not use an output.
    text = {False: _UNUSED, True: _CUT if evidence.probe_loss else _IGNORED, None: _UNKNOWN}
    for used, names in causes.items():
        n = len(names)
        consequence = (f"{verb(n, 'it gets', 'they get')} no gradient and never {verb(n, 'trains', 'train')}, yet "
                       f"{verb(n, 'costs', 'cost')} memory. Call the layer in the forward, use its output in the "
                       f"loss, remove the cut, or freeze {verb(n, 'it', 'them')} (requires_grad=False) if that is "
                       "intended.")
        message = f"{count(n, 'trainable parameter tensor')} ({some(names)}) {verb(n, 'is', 'are')} {text[used]}: "
        yield Violation(message + consequence, params=tuple(names))
