"""## What it does
Finds an optimizer whose param groups overlap: one group takes `model.parameters()` (or a module) and another
takes a sub-module of it (`model.fc.parameters()`).

## Why is this bad?
PyTorch checks param groups when the optimizer is built (and in `add_param_group`) and raises
`ValueError: some parameters appear in more than one parameter group`. The intended layer-wise learning rates
never run. (Duplicates inside a single group only warn, and those parameters are then updated twice per step.)

## Example
```python
from torch import nn, optim
from torchvision import models

model = models.resnet18(weights=models.ResNet18_Weights.DEFAULT)
model.fc = nn.Linear(512, 10)
optimizer = optim.SGD(
    [{"params": model.parameters(), "lr": 1e-4}, {"params": model.fc.parameters(), "lr": 1e-2}],
    momentum=0.9,
)
```

## Use instead
```python
from torch import nn, optim
from torchvision import models

model = models.resnet18(weights=models.ResNet18_Weights.DEFAULT)
model.fc = nn.Linear(512, 10)
body = [p for n, p in model.named_parameters() if not n.startswith("fc.")]
optimizer = optim.SGD(
    [{"params": body, "lr": 1e-4}, {"params": model.fc.parameters(), "lr": 1e-2}],
    momentum=0.9,
)
```

## Fix

No fix: which group should hold the parameters (and so their learning rate) is the author's choice.

## Known limits
Overlaps through name filters are judged by the filter's literal; groups built by identity (`id(p)` sets) or by
code tllint cannot read are not reported. Tied weights shared by two sub-modules are not detected.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import combinations

from tllint.static.facts import (
    FileFacts,
    OptimizerBuilt,
)
from tllint.static.rules import (
    ERROR,
    OPTIMIZER_WORDS,
    Context,
    Violation,
    rule,
    source_text,
)
from tllint.static.timeline import of_type, selects


@rule("TL015", ERROR, triggers=OPTIMIZER_WORDS,
      summary="the same parameters in two param groups (PyTorch raises)")
def param_in_two_groups(facts: FileFacts, ctx: Context) -> Iterator[Violation]:
    for index, built in of_type(facts, OptimizerBuilt):
        if built.where.via is not None:
            continue  # which groups overlap does not depend on the caller: the helper's body reports it
        overlap = next(
            (
                (a, b)
                for group_a, group_b in combinations(built.groups, 2)
                for a in group_a
                for b in group_b
                if selects(a, b.ref, facts, index) or selects(b, a.ref, facts, index)
            ),
            None,
        )
        if overlap is None:
            continue
        first, second = overlap
        wide, narrow = (first, second) if first.ref.covers(second.ref) else (second, first)
        yield Violation(
            f"The parameters of {source_text(narrow)} are in two param groups: one over "
            f"{source_text(wide)} and one of their own. PyTorch raises 'some parameters appear in more "
            "than one parameter group'. Exclude them from the wide group, e.g. "
            "`[p for n, p in model.named_parameters() if not n.startswith('fc.')]`.",
            built.where.node,
        )
