"""## What it does
Finds an optimizer built over a model (all of its parameters, or its `requires_grad`-filtered parameters) at a
point where every parameter of that model is frozen: no layer was replaced or added after the freeze, and none
was re-enabled.

## Why is this bad?
With a `requires_grad` filter, PyTorch raises `ValueError: optimizer got an empty parameter list`. Without the
filter the optimizer is built, but no parameter ever receives a gradient, so `step()` changes nothing; if no
input requires grad, `loss.backward()` raises `RuntimeError: element 0 of tensors does not require grad and does
not have a grad_fn`. Usually the new head was forgotten, or was frozen with the rest (TL001).

## Example
```python
import torch
from torchvision import models

model = models.resnet18(weights=models.ResNet18_Weights.DEFAULT)
for param in model.parameters():
    param.requires_grad = False
optimizer = torch.optim.SGD(filter(lambda p: p.requires_grad, model.parameters()), lr=1e-3)
```

## Use instead
```python
import torch
from torch import nn
from torchvision import models

model = models.resnet18(weights=models.ResNet18_Weights.DEFAULT)
for param in model.parameters():
    param.requires_grad = False
model.fc = nn.Linear(512, 10)
optimizer = torch.optim.SGD(filter(lambda p: p.requires_grad, model.parameters()), lr=1e-3)
```

## Fix

No fix: what should train (and so what the optimizer should hold) is the author's choice.

## Known limits
Stays quiet when a freeze is conditional or done by code tllint cannot see, when an optimizer receives
parameters of another model (a frozen teacher next to a trained student is fine), and when the model's state
is unknown (it came in as a function argument).
"""

from __future__ import annotations

from collections.abc import Iterator

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
    via,
    when,
)
from tllint.static.timeline import Status, of_type, status


@rule("TL009", ERROR, triggers=OPTIMIZER_WORDS,
      summary="an optimizer over a model that is entirely frozen")
def optimizer_has_nothing_to_train(facts: FileFacts, ctx: Context) -> Iterator[Violation]:
    for index, built in of_type(facts, OptimizerBuilt):
        sources = list(built.sources())
        if not built.known or not sources:
            continue
        if not all(s.selector.is_all or s.selector.requires_grad_filter for s in sources):
            continue
        if all(status(facts, s.ref, index) is Status.FROZEN for s in sources):
            yield Violation(
                f"Every parameter this optimizer{via(built.where)} receives is frozen at this point, so "
                "nothing will train (with a `requires_grad` filter PyTorch raises 'optimizer got an empty "
                "parameter list'). Replace or re-enable the layers to train before building the "
                f"optimizer.{when(built.where)}",
                built.where.node,
            )
