"""## What it does
Finds an `nn.Linear(in, out)` assigned as the head of a known architecture (its real head path, e.g. `model.fc`,
`model.classifier[1]`, `model.heads.head`, `model.head.fc` for timm ConvNeXt) whose `in` is an integer literal
that differs from the number of features the architecture feeds its head: resnet18 512, resnet50 2048,
densenet121 1024, efficientnet_b0 1280, mobilenet_v3_large 1280, mobilenet_v3_small 1024, vit_b_16 768,
swin_t 768, swin_b 1024, convnext_tiny 768, vgg16 4096. A `nn.Sequential` assigned as the head is checked through
its first `nn.Linear`.

## Why is this bad?
The sizes differ between members of the same family (resnet18 vs resnet50, swin_t vs swin_b, ViT-B vs ViT-L), so a
recipe copied from a sibling model builds a head that cannot take the backbone's output. The first forward pass
fails with `RuntimeError: mat1 and mat2 shapes cannot be multiplied`, after the data pipeline, the download and
possibly a long warm-up; inside a `Sequential` the traceback points at the head, far from the line that is wrong.

## Example
```python
import torch.nn as nn
from torchvision.models import ResNet18_Weights, resnet18

model = resnet18(weights=ResNet18_Weights.IMAGENET1K_V1)
model.fc = nn.Linear(2048, 10)
```

## Use instead
```python
import torch.nn as nn
from torchvision.models import ResNet18_Weights, resnet18

model = resnet18(weights=ResNet18_Weights.IMAGENET1K_V1)
model.fc = nn.Linear(model.fc.in_features, 10)  # 512 for resnet18, 2048 for resnet50
```

## Fix

No fix: the message gives the size the backbone produces, but the new layer's shape is a design choice (a projection
in between may be what is missing).

## Known limits
Only integer literals are compared; a size held in a variable or computed (`num_ftrs`, `model.fc.in_features`) is
trusted. SqueezeNet's head is a 1x1 `nn.Conv2d` (`classifier[1]`, 512 channels): a new `nn.Conv2d` there is
compared by its `in_channels`, but an `nn.Linear` put in its place (which also crashes) is not reported. Replacing
a parent of the head (VGG's whole `classifier`, which takes 25088 = 512*7*7 features) is not checked, nor are
auxiliary heads (`AuxLogits.fc`, `aux1.fc2`). Models not in the table (custom modules, Hugging Face models) stay
quiet.
"""

from __future__ import annotations

from collections.abc import Iterator

from tllint.static.facts import (
    FileFacts,
    Replaced,
)
from tllint.static.rules import (
    CONSTRUCTOR_WORDS,
    ERROR,
    Context,
    Violation,
    rule,
)
from tllint.static.rules._architecture import (
    inside_earlier_replacement,
    python_path,
    slot,
)
from tllint.static.timeline import of_type


@rule("TL007", ERROR, triggers=CONSTRUCTOR_WORDS,
      summary="`nn.Linear(in, out)` as the head with `in` different from the architecture's")
def head_in_features_mismatch(facts: FileFacts, ctx: Context) -> Iterator[Violation]:
    for index, replaced in of_type(facts, Replaced):
        placed = slot(replaced)
        new = replaced.new
        if placed is None or new is None or new.in_features is None:
            continue
        if inside_earlier_replacement(facts, replaced, index):
            continue
        _, arch, path = placed
        if path not in arch.heads or arch.head_in_features is None:
            continue
        expected = arch.head_in_features if path == arch.heads[0] else None
        if expected is None or new.in_features == expected:
            continue
        yield Violation(
            f"The new head takes {new.in_features} input features but `{arch.name}` feeds "
            f"`{python_path(path)}` {expected}: the first batch fails with a shape mismatch. "
            f"Use {expected}, or read it from the old layer (`model.{python_path(path)}.in_features`).",
            replaced.where.node,
        )
