"""## What it does
Runs one real forward and backward pass and reports when no parameter of the model receives a gradient:
every parameter is frozen, or the loss is cut off from all of them (it does not require grad at all).

## Why is this bad?
Training runs, the loss is printed, the optimizer steps, and nothing changes. The most common cause is
freezing *after* replacing the head: the loop over `model.parameters()` freezes the new head as well. When
the loss does not require grad, `loss.backward()` raises, and scripts that "fix" that by re-wrapping the loss
(`torch.tensor(loss.item(), requires_grad=True)`) train nothing either.

## Example
```python
import torch
from torch import nn

model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 10))
model[2] = nn.Linear(16, 4)  # new head first ...
for param in model.parameters():  # ... then freeze: the new head is frozen too
    param.requires_grad = False
example_inputs = torch.randn(2, 8)
```

## Use instead
```python
import torch
from torch import nn

model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 10))
for param in model.parameters():  # freeze the pretrained layers first ...
    param.requires_grad = False
model[2] = nn.Linear(16, 4)  # ... then add the new head, which is trainable
example_inputs = torch.randn(2, 8)
```

## Fix

No fix. The audit watches a running model, not source text; where the same mistake shows in the source, the static
rule that finds it there says whether `tllint check --fix` can repair it.

## Known limits
The audit sees one forward and backward pass on the example inputs, at the moment it runs. With `audit()` the
gradients come from a probe loss over every floating output, not from the script's loss: a loss that the real
script detaches or re-wraps (`torch.tensor(loss.item(), requires_grad=True)`) is only seen when it is passed as
`loss_fn` or when `tllint run` audits the script's own backward. A freeze or unfreeze that happens after the
audit point (a later epoch) is not seen; use `tllint run --step N`. When some parameters are trainable but none
gets a gradient, the message names the cause TL102 would give (never called, or cut off from the loss) and TL102
stays quiet, so one mistake is one finding. When the script crashes before its first step (`backward()` on a
loss that does not require grad), `tllint run` has no gradients to read and reports this only when every
parameter is frozen.
"""

from __future__ import annotations

from collections.abc import Iterator

from tllint.runtime.evidence import Evidence, count, some, verb
from tllint.runtime.rules import ERROR, Violation, rule


@rule("TL101", ERROR, summary="no parameter receives a gradient")
def nothing_trains(evidence: Evidence) -> Iterator[Violation]:
    rows = evidence.rows
    if not rows or any(row.receives_gradient for row in rows):
        return
    trainable = [row for row in rows if row.requires_grad]
    names = [row.name for row in trainable]
    if not trainable:
        why = (f"all {count(len(rows), 'parameter tensor')} have requires_grad=False" if len(rows) > 1
               else "the only parameter tensor has requires_grad=False")
        fix = ("re-enable the layers meant to train after freezing (freeze first, then replace the head, "
               "or set requires_grad=True on the new head)")
    elif not evidence.gradients_seen:
        return
    elif all(row.used_in_forward is False for row in trainable):
        modules = list(dict.fromkeys(row.module or "<root>" for row in trainable))
        why = (f"the only trainable {count(len(names), 'tensor')} ({some(names)}) "
               f"{verb(len(names), 'belongs', 'belong')} to {some(modules)}, which the forward pass never calls")
        fix = ("put the new layer where the architecture calls its head (e.g. `classifier` rather than `fc`), "
               "or unfreeze layers the forward uses")
    elif evidence.loss_requires_grad is False and all(row.used_in_forward for row in trainable):
        why = "the loss does not require grad: it is cut off from every trainable parameter"
        fix = "remove the detach / no_grad / .item() between the model output and the loss"
    else:
        why = (f"none of the {count(len(names), 'trainable tensor')} ({some(names)}) is reached by the "
               "backward pass (unused in the forward, or cut off from the loss)")
        fix = "make the trainable layers take part in the forward and build the loss from their output"
    message = f"No parameter receives a gradient: {why}. Training would change nothing; {fix}."
    yield Violation(message, params=tuple(names or [row.name for row in rows]))
