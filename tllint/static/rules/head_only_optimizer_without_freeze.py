"""## What it does
Finds an optimizer that receives only the parameters of the newly replaced layer (`model.fc.parameters()`)
while the rest of the model was never frozen in the file.

## Why is this bad?
Autograd computes gradients for every parameter with `requires_grad=True`, whether or not an optimizer holds
it. The whole backbone's gradients are computed on every backward (full backward cost and gradient memory for
what is meant to be a linear probe), and `optimizer.zero_grad()` only clears the head's, so the backbone's
`.grad` tensors accumulate forever. If you meant to fine-tune everything, the backbone never updates.

## Example
```python
from torch import nn, optim
from torchvision import models

model = models.resnet50(weights=models.ResNet50_Weights.IMAGENET1K_V2)
model.fc = nn.Linear(2048, 5)
optimizer = optim.SGD(model.fc.parameters(), lr=1e-2, momentum=0.9)
```

## Use instead
```python
from torch import nn, optim
from torchvision import models

model = models.resnet50(weights=models.ResNet50_Weights.IMAGENET1K_V2)
model.requires_grad_(False)
model.fc = nn.Linear(2048, 5)
optimizer = optim.SGD(model.fc.parameters(), lr=1e-2, momentum=0.9)
```

## Fix

No fix: whether the backbone should be frozen or given to the optimizer is the author's choice.

## Known limits
Quiet when any freeze of the model appears in the file (even a partial or conditional one), when another
optimizer in the file covers the rest of the model, and when the head is one of several param groups
(discriminative learning rates).
"""

from __future__ import annotations

from collections.abc import Iterator

from tllint.static.facts import (
    FileFacts,
    MaybeChanged,
    OptimizerBuilt,
    Replaced,
    SetRequiresGrad,
)
from tllint.static.rules import (
    OPTIMIZER_WORDS,
    WARNING,
    Context,
    Violation,
    rule,
)
from tllint.static.timeline import of_type


@rule("TL013", WARNING, triggers=OPTIMIZER_WORDS,
      summary="an optimizer over the new head only, backbone never frozen")
def head_only_optimizer_without_freeze(facts: FileFacts, ctx: Context) -> Iterator[Violation]:
    for index, built in of_type(facts, OptimizerBuilt):
        sources = list(built.sources())
        if not built.known or not sources or not all(s.ref.absolute()[1] for s in sources):
            continue
        roots = {id(s.ref.absolute()[0]): s.ref.absolute()[0] for s in sources}
        if len(roots) != 1:
            continue
        root = next(iter(roots.values()))
        if not root.fresh:
            continue
        new_layers = [r for _, r in of_type(facts, Replaced, 0, index)
                      if r.ref.absolute()[0] is root and not r.construction]
        if not new_layers or not all(any(r.ref.covers(s.ref) for r in new_layers) for s in sources):
            continue
        if _ever_frozen(facts, root) or _other_optimizer_covers(facts, built, root):
            continue
        yield Violation(
            "This optimizer updates only the new layer, but the rest of the model was never frozen: every "
            "step still computes (and accumulates) gradients for the whole backbone, which costs time and "
            "memory and trains nothing. Freeze the backbone first (`model.requires_grad_(False)` before "
            "replacing the head), or pass all parameters if you meant to fine-tune.",
            built.where.node,
        )


def _ever_frozen(facts: FileFacts, root: object) -> bool:
    return any(
        isinstance(event, SetRequiresGrad | MaybeChanged)
        and event.ref.absolute()[0] is root
        and not (isinstance(event, SetRequiresGrad) and event.value is True)
        for event in facts.events
    )


def _other_optimizer_covers(facts: FileFacts, built: OptimizerBuilt, root: object) -> bool:
    for _, other in of_type(facts, OptimizerBuilt):
        if other is built or other.optimizer is built.optimizer:
            continue
        if not other.known or any(s.ref.absolute()[0] is root for s in other.sources()):
            return True
    return False
