"""## What it does
Finds a freeze (of a whole model or sub-module, or of part of it: by name, by position) that is undone by a
later, unconditional re-enable of every parameter of the same model or sub-module (`requires_grad = True` in
a loop over all parameters, `model.requires_grad_()`), before any optimizer is built or training step runs.
The finding is at the re-enable.

## Why is this bad?
`requires_grad` is just a flag; the last write wins. A loop that sets `requires_grad = True` on every parameter
(often while sorting them into weight-decay groups) silently cancels the freeze above it, and the "frozen"
backbone is fine-tuned with everything else, with the cost and the catastrophic-forgetting risk that freezing
was meant to avoid.

## Example
```python
from torchvision import models

model = models.resnet50(weights=models.ResNet50_Weights.IMAGENET1K_V2)
for p in model.parameters():
    p.requires_grad = False
decay = []
for name, p in model.named_parameters():
    p.requires_grad = True
    decay.append(p)
```

## Use instead
```python
from torchvision import models

model = models.resnet50(weights=models.ResNet50_Weights.IMAGENET1K_V2)
for p in model.parameters():
    p.requires_grad = False
model.fc.requires_grad_(True)
decay = []
for name, p in model.named_parameters():
    if p.requires_grad:
        decay.append(p)
```

## Fix

No fix: whether the freeze or the later statement that undoes it is the mistake is the author's choice.

## Known limits
A re-enable under a condition the freeze does not share (`if args.finetune_all:`), one that covers only part
of the model (even if it happens to cover every frozen parameter), or one after an optimizer was built or a
training step ran (progressive unfreezing) is not reported.
"""

from __future__ import annotations

from collections.abc import Iterator

from tllint.static.facts import (
    FileFacts,
    MaybeChanged,
    ModelPassed,
    OptimizerBuilt,
    SetRequiresGrad,
    TrainingStep,
)
from tllint.static.rules import (
    ERROR,
    REQUIRES_GRAD_WORDS,
    Context,
    Violation,
    replayed_together,
    rule,
)
from tllint.static.timeline import of_type, same_root


@rule("TL014", ERROR, triggers=REQUIRES_GRAD_WORDS,
      summary="a freeze undone by a later unconditional re-enable")
def freeze_undone(facts: FileFacts, ctx: Context) -> Iterator[Violation]:
    undos = [(i, e) for i, e in of_type(facts, SetRequiresGrad)
             if e.value is True and e.selector.is_all]
    for index, freeze in of_type(facts, SetRequiresGrad):
        if freeze.value is not False:
            continue
        for later_index, undo in undos:
            if later_index <= index:
                continue
            if not undo.ref.covers(freeze.ref) or undo.where.node is freeze.where.node:
                continue
            if not undo.where.certain_from(freeze.where):
                continue
            if replayed_together(freeze.where, undo.where):
                break
            if not _between_is_idle(facts, index, later_index, freeze):
                break
            yield Violation(
                f"This re-enables every parameter that the freeze on line {ctx.line(freeze.where.node)} froze, "
                "before any optimizer or training step used the frozen state: the freeze has no effect and "
                "the whole model trains. Remove this re-enable, or re-enable only the layers meant to train.",
                undo.where.node,
            )
            break


def _between_is_idle(facts: FileFacts, start: int, stop: int, freeze: SetRequiresGrad) -> bool:
    """Nothing between the freeze and the re-enable could have used the frozen state."""
    scopes = {freeze.where.scope, facts.events[stop].where.scope}
    for event in facts.events[start + 1:stop]:
        if event.where.scope not in scopes:
            continue
        if isinstance(event, TrainingStep | OptimizerBuilt):
            return False
        if isinstance(event, ModelPassed | MaybeChanged) and same_root(event.ref, freeze.ref):
            return False
    return True
