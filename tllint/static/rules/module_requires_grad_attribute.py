"""## What it does
Finds `X.requires_grad = ...` where `X` is a module: a model, a sub-module path of one (`model.features`,
`self.encoder`), or a loop variable over `children()` / `modules()`.

## Why is this bad?
`requires_grad` is a property of tensors, not of `nn.Module`. Assigning it on a module just creates a plain
Python attribute on that object; `nn.Module.__setattr__` stores it like any other value, and no parameter changes.
The part you meant to freeze keeps `requires_grad=True`, receives gradients, and is updated by the optimizer
(including weight decay): you are fine-tuning it while believing it is frozen. Nothing raises or warns.
`module.requires_grad_(False)` is the method that sets the flag on every parameter.

## Example
```python
from torchvision.models import ResNet18_Weights, resnet18

model = resnet18(weights=ResNet18_Weights.DEFAULT)
model.requires_grad = False
```

## Use instead
```python
from torchvision.models import ResNet18_Weights, resnet18

model = resnet18(weights=ResNet18_Weights.DEFAULT)
model.requires_grad_(False)
```

## Fix

Safe (`--fix`): `X.requires_grad = v` becomes `X.requires_grad_(v)`. Only a plain single assignment is rewritten,
not a chained one or a `setattr(...)` call, and not a statement replayed from a helper's call.

## Known limits
Fires only when the receiver is known to be a module (built in the file, or used as one) and, for attribute
paths, the name looks like a sub-module (`backbone`, `features`, `layer4`, `fc`, ...). `x.requires_grad = True`
on tensors, parameters (`model.fc.weight`) and buffers is correct and never reported. A module that keeps its own
setting, `self.requires_grad = requires_grad` (a value passed in) or any `self.requires_grad = ...` in a file
that reads `self.requires_grad` back, is a configuration flag and not reported. A module that reaches the
file only as a function argument with no module use is not recognised.
"""

from __future__ import annotations

from collections.abc import Iterator

from tllint.findings.model import Fix
from tllint.static import fixing
from tllint.static.facts import (
    AttributeWrite,
    FileFacts,
    ModuleVar,
    Ref,
)
from tllint.static.knowledge import looks_like_module_name
from tllint.static.rules import (
    ERROR,
    REQUIRES_GRAD_WORDS,
    Context,
    Violation,
    rule,
)


@rule("TL002", ERROR, triggers=REQUIRES_GRAD_WORDS, fix=fixing.SAFE,
      summary="`module.requires_grad = False` sets a plain attribute and freezes nothing")
def module_requires_grad_attribute(facts: FileFacts, ctx: Context) -> Iterator[Violation]:
    for write in facts.attribute_writes:
        if write.attr != "requires_grad" or write.configuration_flag or not _certainly_a_module(facts, write.receiver):
            continue
        name = write.receiver_text
        yield Violation(
            f"`{name}` is a module: setting `{name}.requires_grad` only adds a plain Python attribute, so no "
            f"parameter is frozen or unfrozen and `{name}` keeps its old state. "
            f"Use `{name}.requires_grad_(False)` (or `True`), which sets it on every parameter.",
            write.where.node,
            fix=_fix(ctx, write),
        )


def _fix(ctx: Context, write: AttributeWrite) -> Fix | None:
    """`X.requires_grad = v` -> `X.requires_grad_(v)`: what the assignment meant."""
    assignment = fixing.assigned_attribute(write.where.node, write.attr) if write.where.via is None else None
    if assignment is None:
        return None
    target, value = assignment
    call = f"{ctx.segment(target.value)}.requires_grad_({ctx.segment(value)})"
    return fixing.fix(f"Call `{' '.join(call.split())}`", [fixing.replace(ctx, write.where.node, call)],
                      fixing.SAFE)


def _certainly_a_module(facts: FileFacts, receiver: object) -> bool:
    """Whether the receiver of `X.requires_grad = ...` is certainly a module (never a tensor)."""
    if isinstance(receiver, ModuleVar):
        return True
    if not isinstance(receiver, Ref) or receiver.obj.plain:
        return False
    if not (receiver.obj.fresh or facts.used_as_module(Ref(receiver.obj))):
        return False
    if not receiver.path:
        return receiver.obj.has_params is not False or receiver.obj.constructor is not None
    return facts.used_as_module(receiver) or looks_like_module_name(receiver.path[-1])
