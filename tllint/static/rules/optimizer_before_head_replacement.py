"""## What it does
Finds a layer replaced or added (`model.fc = ...`, `model.classifier[6] = ...`, `setattr`, `add_module`, timm
`reset_classifier(n)`) after an optimizer was built over the model's parameters, when no later optimizer and no
`add_param_group` covers the new layer. The finding is at the replacement.

## Why is this bad?
An optimizer stores references to the parameter tensors it was given. Assigning a new module creates new
parameter tensors that the optimizer has never seen, and the old head's tensors (still in the optimizer) are no
longer used by the model. The new head receives gradients but is never updated: it stays at its random
initialisation while the backbone trains through it. No error, no warning.

## Example
```python
from torch import nn, optim
from torchvision.models import ResNet18_Weights, resnet18

model = resnet18(weights=ResNet18_Weights.DEFAULT)
optimizer = optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
model.fc = nn.Linear(512, 10)
```

## Use instead
```python
from torch import nn, optim
from torchvision.models import ResNet18_Weights, resnet18

model = resnet18(weights=ResNet18_Weights.DEFAULT)
model.fc = nn.Linear(512, 10)
optimizer = optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
```
If the optimizer must exist first, add the new layer: `optimizer.add_param_group({"params": model.fc.parameters()})`.

## Fix

Unsafe (applied with `--unsafe-fixes`): the optimizer's construction moves to just after the replacement when both
sit in one block and the statements in between neither use what the construction binds (the optimizer) nor bind a
name it reads. Unsafe because the new layer then trains. Otherwise no fix: `add_param_group` would need a learning
rate and group settings only the author can choose.

## Known limits
Moving the model (`.to(device)`, `.cuda()`) or wrapping it in `DistributedDataParallel` after building the
optimizer keeps the same parameter objects and is not reported; replacing with a parameter-free layer
(`nn.Identity()`) is not reported. FSDP wrapping after the optimizer is a different problem, not checked here.
"""

from __future__ import annotations

from collections.abc import Iterator

from tllint.findings.model import Fix
from tllint.static import fixing
from tllint.static.facts import (
    FileFacts,
    OptimizerBuilt,
    Replaced,
    TrainingStep,
)
from tllint.static.rules import (
    ERROR,
    OPTIMIZER_WORDS,
    Context,
    Violation,
    head_expression,
    layer_text,
    replayed_together,
    rule,
    via,
)
from tllint.static.timeline import Status, of_type, optimizer_covers_later, status


@rule("TL010", ERROR, triggers=OPTIMIZER_WORDS, fix=fixing.UNSAFE,
      summary="a layer replaced after the optimizer was built never trains")
def optimizer_before_head_replacement(facts: FileFacts, ctx: Context) -> Iterator[Violation]:
    for index, replaced in of_type(facts, Replaced):
        if replaced.construction or replaced.has_params is False:
            continue
        earlier = [
            (i, built) for i, built in of_type(facts, OptimizerBuilt, 0, index)
            if any(s.ref.strictly_covers(replaced.ref) for s in built.sources())
        ]
        if not earlier or optimizer_covers_later(facts, replaced.ref, index):
            continue
        if not _trains_from_the_start(facts, replaced, index):
            continue
        _, built = earlier[-1]
        if replayed_together(built.where, replaced.where):
            continue
        layer = layer_text(replaced)
        target = head_expression(replaced)
        yield Violation(
            f"The optimizer built on line {ctx.line(built.where.node)} holds the parameters the model had "
            f"then; {layer} replaced here{via(replaced.where)} is a new layer with new parameters that no "
            "optimizer updates, so it keeps its random weights while the rest trains. Build the optimizer "
            f"after replacing the layer, or add it with `optimizer.add_param_group({{'params': "
            f"{target}.parameters()}})`.",
            replaced.where.node,
            fix=_fix(ctx, built, replaced),
        )


def _fix(ctx: Context, built: OptimizerBuilt, replaced: Replaced) -> Fix | None:
    """Move the optimizer's construction after the replacement, when nothing in between uses the optimizer (or
    anything else the move would reorder). Unsafe: the new layer starts training."""
    if built.where.via is not None or replaced.where.via is not None or built.where.scope != replaced.where.scope:
        return None
    statement = fixing.statement_of(ctx, built.where.node)
    moved = fixing.move(ctx, statement, replaced.where.node) if statement is not None else None
    return fixing.fix(f"Build the optimizer after replacing {layer_text(replaced)}", moved or [None],
                      fixing.UNSAFE)


def _trains_from_the_start(facts: FileFacts, replaced: Replaced, index: int) -> bool:
    """The new layer is known to be trainable when training starts; a copy kept frozen on purpose (an EMA or
    momentum teacher, `copy.deepcopy(...)` then frozen) or one whose state is unknown is not reported."""
    step = next((i for i, _ in of_type(facts, TrainingStep, index + 1)), len(facts.events))
    return status(facts, replaced.ref, step) is Status.TRAINABLE
