"""## What it does
Finds an assignment to a misspelling of `requires_grad` on a parameter or a module: `require_grad`,
`required_grad`, `requires_grads`, `requires_gradient`, `requiresgrad`, and `requires_grad_` (the method's name).

## Why is this bad?
`nn.Parameter` and `nn.Module` accept arbitrary new attributes, so `p.require_grad = False` creates an
attribute PyTorch never reads and `p.requires_grad` stays `True`: nothing is frozen, and nothing warns.
`p.requires_grad_ = False` is worse: it replaces the `requires_grad_()` method on that object with a boolean,
so later code calling `p.requires_grad_(False)` fails with `'bool' object is not callable`.

## Example
```python
from torchvision import models

model = models.vgg16_bn(weights=models.VGG16_BN_Weights.IMAGENET1K_V1)
for p in model.features.parameters():
    p.require_grad = False
```

## Use instead
```python
from torchvision import models

model = models.vgg16_bn(weights=models.VGG16_BN_Weights.IMAGENET1K_V1)
for p in model.features.parameters():
    p.requires_grad = False
```

## Fix

Safe (`--fix`): on a parameter the name is corrected (`p.requires_grad = v`). On what is or may be a module, and for
`requires_grad_ = v`, the statement becomes `X.requires_grad_(v)`. On a module that is the only form that freezes
anything, and on a parameter it does the same as the assignment.

## Known limits
Only the listed spellings are recognised, and only on receivers known to be parameters or modules (an error),
or names just assigned a new tensor (`pe = torch.zeros(...)`: a warning, since a new tensor already has
`requires_grad=False`); options objects and dictionaries with such keys are not reported.
"""

from __future__ import annotations

from collections.abc import Iterator

from tllint.findings.model import Fix
from tllint.static import fixing
from tllint.static.facts import (
    AttributeWrite,
    FileFacts,
    ModuleVar,
    ParamVar,
    Ref,
)
from tllint.static.rules import (
    ERROR,
    REQUIRES_GRAD_WORDS,
    WARNING,
    Context,
    Violation,
    rule,
)


@rule("TL004", ERROR, triggers=REQUIRES_GRAD_WORDS, fix=fixing.SAFE,
      summary="`p.require_grad = False` (and other misspellings) freeze nothing")
def requires_grad_misspelled(facts: FileFacts, ctx: Context) -> Iterator[Violation]:
    for write in facts.attribute_writes:
        if write.attr == "requires_grad":
            continue
        target = _misspelling_target(facts, write)
        if target is None:
            continue
        name = f"{write.receiver_text}.{write.attr}"
        if write.attr == "requires_grad_":
            consequence = "replaces the `requires_grad_()` method with a value and changes no parameter"
        else:
            consequence = "creates a new attribute PyTorch never reads, so `requires_grad` stays unchanged"
        receiver = write.receiver_text
        if target == "module":
            advice = f"Call `{receiver}.requires_grad_(...)`, which sets it on every parameter."
        elif target in ("parameter", "tensor"):
            advice = f"Write `{receiver}.requires_grad = ...`."
        else:
            advice = f"Write `{receiver}.requires_grad = ...` on a tensor, or call `{receiver}.requires_grad_(...)`."
        # a new tensor starts with `requires_grad=False`: the misspelt write is usually harmless, so a warning
        severity = WARNING if target == "tensor" else None
        yield Violation(f"`{name}` is a misspelling of `requires_grad` on a {target}: it {consequence}. {advice}",
                        write.where.node, severity=severity, fix=_fix(ctx, write, target))


def _fix(ctx: Context, write: AttributeWrite, target: str) -> Fix | None:
    """The spelling corrected: `.requires_grad = v` on a parameter or tensor; the method call `.requires_grad_(v)`
    for `requires_grad_ = v`, which meant the method, and on what may be a module, where it is the only form that
    freezes anything (on a parameter it does the same as the assignment)."""
    assignment = fixing.assigned_attribute(write.where.node, write.attr) if write.where.via is None else None
    if assignment is None:
        return None
    attribute, value = assignment
    if write.attr == "requires_grad_" or target not in ("parameter", "tensor"):
        call = f"{ctx.segment(attribute.value)}.requires_grad_({ctx.segment(value)})"
        return fixing.fix(f"Call `{' '.join(call.split())}`", [fixing.replace(ctx, write.where.node, call)],
                          fixing.SAFE)
    return fixing.fix(f"Spell it `{write.receiver_text}.requires_grad`",
                      [fixing.replace_name_at_end(ctx, attribute, "requires_grad")], fixing.SAFE)


def _misspelling_target(facts: FileFacts, write: AttributeWrite) -> str | None:
    if write.on_tensor:
        return "tensor"
    if isinstance(write.receiver, ParamVar):
        return "parameter"
    if isinstance(write.receiver, ModuleVar):
        return "module"
    if isinstance(write.receiver, Ref) and not write.receiver.obj.plain and (
        write.receiver.obj.fresh or facts.used_as_module(Ref(write.receiver.obj))
    ):
        return "module" if not write.receiver.path else "module or parameter"
    return None
