"""## What it does
Finds a layer assigned to an attribute that the model's architecture never calls, when the model comes from a
constructor tllint knows (every torchvision classification builder, `timm.create_model("<name>")` for the timm
classifiers in its table): `vgg16(...).fc = nn.Linear(...)`, `mobilenet_v2(...).fc = ...`,
`vit_b_16(...).head = ...`, `setattr(model, "fc", ...)`. The message names the architecture's real head and its
input size: `fc` (ResNet, ResNeXt, Wide ResNet, RegNet, ShuffleNet, GoogLeNet, Inception v3), `classifier[-1]`
(VGG and AlexNet `classifier[6]`, EfficientNet and MobileNetV2 `classifier[1]`, MobileNetV3 `classifier[3]`,
ConvNeXt `classifier[2]`, MaxViT `classifier[5]`), `classifier` (DenseNet), `heads.head` (ViT), `head` (Swin).

For transformers models whose class is known (a class such as `BertForSequenceClassification`, or an Auto class
with an official checkpoint name such as `"roberta-base"`), it also finds a head assigned to an attribute the class
does not have (`model.classifier = ...` on a Llama, Mistral, Qwen or GPT-2 classifier, whose head is `score`) and an
encoder attribute of another family (`model.bert` on a RoBERTa checkpoint, `model.transformer` on a Llama). A
layer the file calls itself (`model.fc(outputs.pooler_output)`) and a layer added to a bare model (`AutoModel`,
which has no head to replace) are not reported.

## Why is this bad?
`nn.Module.__setattr__` happily registers any new attribute, so nothing raises. But the architecture's `forward`
only calls the modules it was written for: the new layer is never used, the model keeps its original 1000-way
ImageNet head, and `CrossEntropyLoss` accepts labels 0..9 without complaint, so training quietly fine-tunes the
old head on a 10-class problem. Accuracy looks plausible but the predictions range over 1000 classes, and the
new layer's parameters never receive a gradient.

## Example
```python
import torch.nn as nn
from torchvision import models

model = models.vgg16(weights=models.VGG16_Weights.IMAGENET1K_V1)
model.fc = nn.Linear(4096, 10)
```

## Use instead
```python
import torch.nn as nn
from torchvision import models

model = models.vgg16(weights=models.VGG16_Weights.IMAGENET1K_V1)
model.classifier[6] = nn.Linear(4096, 10)  # VGG's last layer; model.classifier[-1] is the same module
```
For timm models, `model.reset_classifier(10)` (or `timm.create_model(name, num_classes=10)`) replaces the right
layer for every family.

## Fix

No fix: the message names the model's real heads, but which one was meant is the author's choice.

## Known limits
Only models whose constructor is visible in the same file and known to the table are checked; a model returned
by a helper in another module, a custom `nn.Module`, a transformers model loaded from a checkpoint in a variable
through an Auto class, or a timm name not in the table (for example an encoder such as `vit_small_patch14_dinov2`
whose default config has no classifier) stays quiet. An encoder attribute read under a test that names it
(`if hasattr(model, "bert"):`) is not reported.
Assigning a whole parent of the head (`model.classifier = ...` on VGG) or a non-layer value
(`model.num_classes = 10`) is not reported, nor is a parameter-free layer (`nn.Identity()`, an empty
`nn.Sequential()`) on a missing name when the real head was emptied too (code written for several
architectures empties every usual head name). Facts describe the library versions the table was generated with.
"""

from __future__ import annotations

from collections.abc import Iterator

from tllint.static.architectures import Architecture
from tllint.static.facts import (
    FileFacts,
    ModelObject,
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
from tllint.static.rules._hf import HF_MODEL_WORDS, misplaced_in_hf_model
from tllint.static.timeline import of_type


@rule("TL006", ERROR, triggers=(*CONSTRUCTOR_WORDS, *HF_MODEL_WORDS),
      summary="a layer assigned to an attribute the architecture never calls (`vgg16().fc = ...`)")
def head_not_in_architecture(facts: FileFacts, ctx: Context) -> Iterator[Violation]:
    for index, replaced in of_type(facts, Replaced):
        placed = slot(replaced)
        if placed is None or inside_earlier_replacement(facts, replaced, index):
            continue
        _, arch, path = placed
        parent = path.rpartition(".")[0]
        if arch.has_module(path) or not arch.has_module(parent) or path.rpartition(".")[2].isdigit():
            continue
        if replaced.has_params is False and _head_also_emptied(facts, placed[0], arch):
            continue
        target = replaced.slot_text if replaced.slot_text is not None else python_path(path)
        yield Violation(
            f"`{arch.name}` has no `{python_path(path)}`: its forward never calls the layer assigned to "
            f"`{target}`, so the model keeps its old {arch.head_out_features or 'original'}-way output and the new "
            f"layer never trains. Its classifier head is {_head_description(arch)}; assign the new layer there.",
            replaced.where.node,
        )
    for node, message in misplaced_in_hf_model(facts):  # transformers classes: tllint/static/rules/_hf.py
        yield Violation(message, node)


def _head_also_emptied(facts: FileFacts, model: ModelObject, arch: Architecture) -> bool:
    """`model.fc = nn.Identity(); model.classifier = nn.Identity()`: code written for several architectures
    empties every usual head name; the one this architecture lacks is harmless once its real head is emptied."""
    for _, other in of_type(facts, Replaced):
        placed = slot(other)
        if placed is not None and placed[0] is model and placed[2] in arch.heads and other.has_params is False:
            return True
    return False


def _head_description(arch: Architecture) -> str:
    head = python_path(arch.heads[0])
    size = f" ({arch.head_type}, in_features={arch.head_in_features})" if arch.head_in_features else ""
    return f"`model.{head}`{size}"
