"""## What it does
Finds torchvision model builders called with `pretrained=` or `pretrained_backbone=`, deprecated since
torchvision 0.13. The message gives the exact replacement: the weights enum that `pretrained=True` loads, which
is the builder's `IMAGENET1K_V1` member (`weights=ResNet18_Weights.IMAGENET1K_V1`), and
`weights_backbone=ResNet50_Weights.IMAGENET1K_V1` for detection models such as `fasterrcnn_resnet50_fpn`.
timm's `create_model(..., pretrained=True)` and Hugging Face `from_pretrained` are current APIs and are not
reported.

## Why is this bad?
The old boolean arguments still work but only warn, and are slated for removal, so the script breaks on a future
torchvision upgrade. They also hide which weights are loaded: `pretrained=True` means `IMAGENET1K_V1` even where
the builder's `DEFAULT` is newer (resnet50, mobilenet_v2 and efficientnet_b1 default to `IMAGENET1K_V2`), and
the enum carries the matching preprocessing (`weights.transforms()`), which a boolean cannot.

## Example
```python
import torchvision.models as models

model = models.resnet18(pretrained=True)
```

## Use instead
```python
import torchvision.models as models

weights = models.ResNet18_Weights.IMAGENET1K_V1  # what pretrained=True loaded; .DEFAULT is the newest
model = models.resnet18(weights=weights)
preprocess = weights.transforms()
```

## Fix

Safe (`--fix`): `pretrained=True` becomes `weights=<Model>_Weights.<member>`, the member torchvision's own legacy
mapping gives `True`, and `from <module> import <Model>_Weights` is added after the file's top imports unless they
import that name already; `pretrained=False` becomes `weights=None`, and any other value `v` becomes `weights=<...>
if v else None`. `pretrained_backbone=` becomes `weights_backbone=` the same way. No fix for an architecture the
shipped table does not know.

The added import joins the file's own top-level `from <module> import ...` when it has one (not `*`, not inside
an `if` or a `try`): `from torchvision.models import resnet50, ResNet50_Weights`, or one more line of a
parenthesised import, its comments and trailing comma kept (libcst rewrites that one statement). Two enums of one
module join one import. The merged file must compile, keep every comment and re-check the same, or the import
stays a line of its own. `from torchvision import models` is another module: the enum's import is added beside
it.

## Known limits
Only calls tllint can resolve to a torchvision builder are checked (`torchvision.models.X`, `models.X`,
`from torchvision.models import X`, detection builders); a file's own function named `resnet18(pretrained=...)`
stays quiet, and so does `torch.hub.load(..., pretrained=True)`. For builders without `IMAGENET1K_V1` weights
(`vit_h_14`, `regnet_y_128gf`) `pretrained=True` raises in torchvision itself.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from tllint.findings.model import Fix
from tllint.static import fixing
from tllint.static.architectures import Architecture, torchvision_backbone
from tllint.static.facts import (
    FileFacts,
    Ref,
)
from tllint.static.rules import (
    WARNING,
    Context,
    Violation,
    rule,
)
from tllint.static.rules._architecture import (
    architecture_of,
)


@rule("TL040", WARNING, triggers=('pretrained',), fix=fixing.SAFE,
      summary="torchvision `pretrained=`: the message gives the exact `weights=` enum")
def deprecated_pretrained_argument(facts: FileFacts, ctx: Context) -> Iterator[Violation]:
    seen: set[int] = set()
    for event in facts.events:
        obj = getattr(event, "ref", None)
        obj = obj.obj if isinstance(obj, Ref) else None
        if obj is None or id(obj) in seen or not obj.deprecated_args:
            continue
        seen.add(id(obj))
        for arg in obj.deprecated_args:
            keyword = arg.arg or ""
            arch = architecture_of(obj) if keyword == "pretrained" else torchvision_backbone(obj.constructor or "")
            weights = _weights(keyword, arch)
            module = _enum_module(keyword, obj.constructor or "")
            yield Violation(
                _pretrained_message(keyword, ctx.text(arg.value), weights),
                arg,
                fix=_fix(ctx, arg, weights, module) if arch is not None and module is not None else None,
            )


def _weights(keyword: str, arch: Architecture | None) -> str:
    """The `weights=` that torchvision's own legacy mapping gives `pretrained=True` (IMAGENET1K_V1, or the
    features-only VGG weights for a backbone)."""
    if arch is None or not arch.weights_enum:
        return "<Model>_Weights.DEFAULT"
    preferred = ("IMAGENET1K_FEATURES", "IMAGENET1K_V1") if keyword != "pretrained" else ("IMAGENET1K_V1",)
    member = next((m for m in preferred if m in arch.weights_members), arch.default_weights)
    return f"{arch.weights_enum}.{member}"


def _new_keyword(keyword: str) -> str:
    return "weights" if keyword == "pretrained" else "weights_backbone"


def _new_value(value: str, weights: str) -> str:
    return {"True": weights, "False": "None"}.get(value, f"{weights} if {value} else None")


def _pretrained_message(keyword: str, value: str, weights: str) -> str:
    return (f"`{keyword}=` is deprecated since torchvision 0.13 and will be removed; today it only warns, and "
            f"a bool passed by mistake silently means no weights. Write "
            f"`{_new_keyword(keyword)}={_new_value(value, weights)}`.")


def _enum_module(keyword: str, constructor: str) -> str | None:
    """The module that defines the weights enum: the builder's own (`torchvision.models.detection`) for
    `pretrained=`, `torchvision.models` for a backbone's."""
    if keyword != "pretrained":
        return "torchvision.models"
    module = constructor.rpartition(".")[0]
    return module if module.startswith("torchvision.models") else None


def _fix(ctx: Context, arg: ast.keyword, weights: str, module: str) -> Fix | None:
    """`pretrained=True` -> `weights=<the enum torchvision maps True to>`, its import added; the value kept as the
    condition when it is not a literal."""
    keyword = arg.arg or ""
    value = ctx.segment(arg.value)
    enum_name = weights.partition(".")[0]
    new_value = _new_value(value, weights)
    imports = fixing.import_edits(ctx, module, enum_name) if enum_name in new_value else []
    if imports is None:
        return None
    text = f"{_new_keyword(keyword)}={new_value}"
    return fixing.fix(f"Write `{' '.join(text.split())}`", [fixing.replace(ctx, arg, text), *imports], fixing.SAFE)
