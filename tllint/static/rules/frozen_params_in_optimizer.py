"""## What it does
Finds an optimizer that receives *all* parameters of a model (`model.parameters()`) at a point where part of
that model is frozen, without a `requires_grad` filter.

## Why is this bad?
Built-in `torch.optim` optimizers skip parameters whose `.grad` is `None`, so weights frozen before the first
step usually stay put. But the optimizer hides what really trains, and the frozen weights do move whenever they
hold a gradient: grads left from steps before the freeze, grads zeroed in place with
`zero_grad(set_to_none=False)` (then SGD momentum, weight decay and Adam moments keep changing them), or
third-party optimizers that apply weight decay regardless of the gradient. Passing only trainable parameters
makes the intent explicit and removes those cases.

## Example
```python
import torch.nn as nn
import torch.optim as optim
from torchvision import models

model = models.vgg16(weights=models.VGG16_Weights.IMAGENET1K_V1)
for param in model.features.parameters():
    param.requires_grad = False
model.classifier[6] = nn.Linear(4096, 2)
optimizer = optim.SGD(model.parameters(), lr=0.001, momentum=0.9, weight_decay=5e-4)
```

## Use instead
```python
import torch.nn as nn
import torch.optim as optim
from torchvision import models

model = models.vgg16(weights=models.VGG16_Weights.IMAGENET1K_V1)
for param in model.features.parameters():
    param.requires_grad = False
model.classifier[6] = nn.Linear(4096, 2)
optimizer = optim.SGD(filter(lambda p: p.requires_grad, model.parameters()), lr=0.001, momentum=0.9,
                      weight_decay=5e-4)
```

## Fix

Unsafe (applied with `--unsafe-fixes`): the `X.parameters()` passed to the optimizer becomes `(p for p in
X.parameters() if p.requires_grad)`. Unsafe because a parameter unfrozen later (gradual unfreezing) is then in no
optimizer. No fix where the parameters are not passed as one `X.parameters()` call.

## Known limits
A warning: with default `zero_grad()` (set_to_none since torch 2.0) and a freeze before the first step, nothing
moves. Stays quiet when the freeze is conditional or its extent unknown, when the whole model is frozen (that is
TL009), and for param groups built from sub-modules that exclude the frozen part.
"""

from __future__ import annotations

from collections.abc import Iterator

from tllint.findings.model import Fix
from tllint.static import fixing
from tllint.static.facts import (
    FileFacts,
    OptimizerBuilt,
    ParamsOf,
)
from tllint.static.rules import (
    OPTIMIZER_WORDS,
    WARNING,
    Context,
    Violation,
    rule,
    source_text,
)
from tllint.static.timeline import Status, of_type, status


@rule("TL011", WARNING, triggers=OPTIMIZER_WORDS, fix=fixing.UNSAFE,
      summary="an optimizer over all parameters while some are frozen")
def frozen_params_in_optimizer(facts: FileFacts, ctx: Context) -> Iterator[Violation]:
    for index, built in of_type(facts, OptimizerBuilt):
        for source in built.sources():
            if not source.selector.is_all or status(facts, source.ref, index) is not Status.PARTIAL:
                continue
            yield Violation(
                f"This optimizer receives every parameter of {source_text(source)}, some of which are "
                "frozen: it hides what really trains, and frozen weights still move through momentum or "
                "weight decay whenever they hold a gradient (left from earlier steps, or zeroed with "
                "`set_to_none=False`). Pass only trainable ones: "
                "`filter(lambda p: p.requires_grad, model.parameters())`.",
                built.where.node,
                fix=_fix(ctx, built, source),
            )
            break


def _fix(ctx: Context, built: OptimizerBuilt, source: ParamsOf) -> Fix | None:
    """`X.parameters()` -> `(p for p in X.parameters() if p.requires_grad)`. Unsafe: a parameter unfrozen later
    is then in no optimizer."""
    call = fixing.parameters_argument(ctx, built.where.node, source.label) if built.where.via is None else None
    if call is None or not source.label:
        return None
    trainable = f"(p for p in {ctx.segment(call)} if p.requires_grad)"
    return fixing.fix("Pass only the trainable parameters", [fixing.replace(ctx, call, trainable)], fixing.UNSAFE)
