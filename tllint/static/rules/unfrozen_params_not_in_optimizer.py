"""## What it does
Finds parameters unfrozen (`requires_grad = True`, `requires_grad_(True)`) after an optimizer was built over
only the trainable parameters (a `requires_grad` filter, or a list that excluded them), when no
`add_param_group` and no new optimizer follows. A typical case is gradual unfreezing inside the epoch loop.

## Why is this bad?
The optimizer's param groups are fixed when it is built; a filter over `requires_grad` is evaluated once. The
unfrozen block now computes gradients on every backward (time and memory), but it is in no param group, so
`optimizer.step()` never updates it. The "second stage" of the fine-tune silently trains exactly what the first
stage did.

## Example
```python
import torch
import torch.nn as nn
from torchvision import models

model = models.resnet18(weights=models.ResNet18_Weights.DEFAULT)
for p in model.parameters():
    p.requires_grad = False
model.fc = nn.Linear(512, 10)
optimizer = torch.optim.SGD(filter(lambda p: p.requires_grad, model.parameters()), lr=0.01)
for epoch in range(20):
    if epoch == 5:
        for p in model.layer4.parameters():
            p.requires_grad = True
```

## Use instead
```python
import torch
import torch.nn as nn
from torchvision import models

model = models.resnet18(weights=models.ResNet18_Weights.DEFAULT)
for p in model.parameters():
    p.requires_grad = False
model.fc = nn.Linear(512, 10)
optimizer = torch.optim.SGD(filter(lambda p: p.requires_grad, model.parameters()), lr=0.01)
for epoch in range(20):
    if epoch == 5:
        for p in model.layer4.parameters():
            p.requires_grad = True
        optimizer.add_param_group({"params": model.layer4.parameters(), "lr": 0.001})
```

## Fix

No fix: the unfrozen parameters can join in a group of their own (`add_param_group`, with its own learning rate) or
the optimizer can be built after the unfreeze; which is the author's choice.

## Known limits
An optimizer built over all parameters already holds the unfrozen ones and is not reported. Unfreezing done by
callbacks in other files (Lightning `BaseFinetuning.unfreeze_and_add_param_group`) is not followed.
"""

from __future__ import annotations

from collections.abc import Iterator

from tllint.static.facts import (
    FileFacts,
    OptimizerBuilt,
    Ref,
    SetRequiresGrad,
)
from tllint.static.rules import (
    ERROR,
    OPTIMIZER_WORDS,
    Context,
    Violation,
    replayed_together,
    rule,
    via,
    when,
)
from tllint.static.timeline import Status, of_type, optimizer_covers_later, same_root, selects, status


@rule("TL012", ERROR, triggers=OPTIMIZER_WORDS,
      summary="parameters unfrozen after the optimizer was built never update")
def unfrozen_params_not_in_optimizer(facts: FileFacts, ctx: Context) -> Iterator[Violation]:
    for index, unfreeze in of_type(facts, SetRequiresGrad):
        if unfreeze.value is not True:
            continue
        earlier = [
            (i, built) for i, built in of_type(facts, OptimizerBuilt, 0, index)
            if built.known and any(same_root(s.ref, unfreeze.ref) for s in built.sources())
        ]
        if not earlier:
            continue
        built_at, built = earlier[-1]
        if replayed_together(built.where, unfreeze.where):
            continue
        if status(facts, unfreeze.ref, built_at) is not Status.FROZEN:
            continue
        if _in_optimizer(facts, built, unfreeze.ref, built_at) is not False:
            continue
        if optimizer_covers_later(facts, unfreeze.ref, index):
            continue
        yield Violation(
            f"These parameters{via(unfreeze.where)} were frozen when the optimizer on line "
            f"{ctx.line(built.where.node)} was built over the trainable ones only: unfreezing them now makes "
            "them compute gradients every step, but no optimizer updates them. Add them with "
            "`optimizer.add_param_group({'params': ...})` or build a new optimizer after unfreezing."
            f"{when(unfreeze.where)}",
            unfreeze.where.node,
        )


def _in_optimizer(facts: FileFacts, built: OptimizerBuilt, target: Ref, at: int) -> bool | None:
    answers = [selects(s, target, facts, at) for s in built.sources()]
    if True in answers:
        return True
    return None if None in answers else False
