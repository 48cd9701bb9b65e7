"""## What it does
Finds a model built without pretrained weights that is then frozen, wholly or its backbone, while a head trains.
"Without pretrained weights" means a torchvision builder with no `weights=` (its default is `None`),
`weights=None` or `pretrained=False`, and `timm.create_model` without `pretrained=True`. The finding is at the
freeze; the message names the line of the constructor. Hugging Face `from_pretrained` counts as pretrained, and
weights loaded into the model before the freeze (`load_state_dict(...)`, timm `checkpoint_path=`) count too.

## Why is this bad?
Freezing is only useful when the frozen layers hold features learned on a large dataset. torchvision builders
load no weights unless asked, and timm's `pretrained` defaults to `False`, so the frozen "backbone" here is a
random projection. The new head then trains on top of noise: the loss goes down a little, accuracy stays near
chance or far below what transfer learning gives, and nothing raises, so it looks like a data or tuning problem.

## Example
```python
import torch.nn as nn
from torchvision import models

model = models.resnet50()
for param in model.parameters():
    param.requires_grad = False
model.fc = nn.Linear(2048, 10)
```

## Use instead
```python
import torch.nn as nn
from torchvision import models

model = models.resnet50(weights=models.ResNet50_Weights.DEFAULT)
for param in model.parameters():
    param.requires_grad = False
model.fc = nn.Linear(2048, 10)
```
For timm, `timm.create_model("resnet50", pretrained=True)`.

## Fix

No fix: whether the weights should be loaded or the layers left trainable is the author's choice.

## Known limits
Weights chosen at run time (`weights=args.weights`, `pretrained=args.pretrained`) are trusted, and so is any
`load_state_dict` before the freeze, whatever checkpoint it reads. Models built in another module, custom
`nn.Module`s and models the table does not know stay quiet. A model frozen entirely with no head training (a
randomly initialised feature extractor on purpose) is not this rule's case.
"""

from __future__ import annotations

from collections.abc import Iterator

from tllint.static.facts import (
    FileFacts,
    Ref,
    Replaced,
    SetRequiresGrad,
    WeightsLoaded,
)
from tllint.static.rules import (
    ERROR,
    REQUIRES_GRAD_WORDS,
    Context,
    Violation,
    rule,
    via,
    when,
)
from tllint.static.rules._architecture import (
    library_model,
)
from tllint.static.timeline import of_type


@rule("TL041", ERROR, triggers=REQUIRES_GRAD_WORDS,
      summary="freezing a model built without pretrained weights: the frozen features are random")
def frozen_random_weights(facts: FileFacts, ctx: Context) -> Iterator[Violation]:
    for _, freeze in of_type(facts, SetRequiresGrad):
        if freeze.value is not False:
            continue
        owner = library_model(freeze.ref)
        if owner is None:
            continue
        root, path, _ = owner
        if root.pretrained is not False or root.node is None:
            continue
        replaced = [r for _, r in of_type(facts, Replaced) if (o := library_model(r.ref)) and o[0] is root]
        if any(r.ref.covers(freeze.ref) for r in replaced):
            continue  # freezing a layer added here, not the random backbone
        if not replaced and not path and freeze.selector.is_all:
            continue  # nothing left to train: the optimizer rules say so
        if any(loaded.ref.covers(Ref(root)) for _, loaded in of_type(facts, WeightsLoaded)):
            continue
        yield Violation(
            f"The model built on line {ctx.line(root.node)} (`{ctx.text(root.node.func)}(...)`) has no pretrained "
            f"weights, so the layers this freeze{via(freeze.where)} keeps fixed hold random values: the head "
            "learns on top of noise. Build it with pretrained weights (`weights=...DEFAULT` for torchvision, "
            f"`pretrained=True` for timm) or load a checkpoint before freezing.{when(freeze.where)}",
            freeze.where.node,
        )
