"""## What it does
Finds a freeze of a whole model (or of a module that contains the new layer) that runs *after* a layer of that
model was replaced or added (`model.fc = nn.Linear(...)`, `model.classifier[6] = ...`, `setattr(model, "fc", ...)`,
`model.add_module(...)`, timm `model.reset_classifier(n)`), when nothing re-enables the new layer afterwards.
It follows aliases (`net = model`, `model = model.to(device)`, `nn.DataParallel(model)` then `model.module`),
`self.backbone` in methods and same-file helpers such as `set_parameter_requires_grad(model, True)`. A freeze
under a condition (`if args.freeze:`) is reported too, and the message names the condition.

## Why is this bad?
A new `nn.Linear` starts with `requires_grad=True`, but a loop over `model.parameters()` (or
`model.requires_grad_(False)`) reaches every parameter the model holds *at that moment*, the new head
included. The layer you added to learn the new task is then frozen at its random initialisation. If it was the
only part meant to train, a `requires_grad`-filtered optimizer raises
`ValueError: optimizer got an empty parameter list`, or `loss.backward()` raises
`RuntimeError: element 0 of tensors does not require grad and does not have a grad_fn`; if some other layers
still train, nothing raises and the model quietly learns through a random, fixed head.

## Example
```python
import torch.nn as nn
from torchvision.models import resnet18

model = resnet18(weights="IMAGENET1K_V1")
model.fc = nn.Linear(512, 10)
for name, param in model.named_parameters():
    param.requires_grad = False
```

## Use instead
```python
import torch.nn as nn
from torchvision.models import resnet18

model = resnet18(weights="IMAGENET1K_V1")
for name, param in model.named_parameters():
    param.requires_grad = False
model.fc = nn.Linear(512, 10)  # new layers are trainable by default
```
Or re-enable the head after the freeze, as linear-probing scripts do: `model.fc.requires_grad_(True)`.

## Fix

Unsafe (applied with `--unsafe-fixes`; `--fix` alone reports it as available). When the freeze and the replacement
sit in one block, and the freeze neither mentions the new layer nor reads or binds a name the statements between
them bind or read, the freeze moves (with the comment lines right above it) to just before the replacement.
Otherwise, when the new layer has a name in the source that still means the same object at the freeze,
`<layer>.requires_grad_(True)` is added right after the freeze. Unsafe because it changes what trains: that is the
point, but only the author can confirm the new layer was meant to train. No fix where the freeze or the replacement
is replayed from a same-file helper, or where they live in different functions.

## Known limits
Only replacements and freezes visible in the same file are ordered; a model built in another module, or a
freeze done by a callback defined elsewhere, is not followed. A freeze that skips the head by name
(`if not name.startswith("fc.")`) is understood and stays quiet; a filter tllint cannot read stays quiet too.
"""

from __future__ import annotations

from collections.abc import Iterator

from tllint.findings.model import Fix
from tllint.static import fixing
from tllint.static.facts import (
    Effect,
    FileFacts,
    MaybeChanged,
    Replaced,
    SetRequiresGrad,
    WeightsLoaded,
)
from tllint.static.rules import (
    ERROR,
    REQUIRES_GRAD_WORDS,
    Context,
    Violation,
    head_expression,
    layer_text,
    replayed_together,
    rule,
    via,
    when,
)
from tllint.static.timeline import effect, of_type, same_root


@rule("TL001", ERROR, triggers=REQUIRES_GRAD_WORDS, fix=fixing.UNSAFE,
      summary="a freeze after a layer was replaced also freezes the new layer")
def freeze_after_head_replacement(facts: FileFacts, ctx: Context) -> Iterator[Violation]:
    for index, freeze in of_type(facts, SetRequiresGrad):
        if freeze.value is not False:
            continue
        for _, replaced in of_type(facts, Replaced, 0, index):
            if replaced.construction or replaced.has_params is False:
                continue
            if not freeze.ref.strictly_covers(replaced.ref) or effect(freeze, replaced.ref) is not Effect.FREEZES:
                continue
            if replayed_together(freeze.where, replaced.where):
                continue
            if _reenabled_later(facts, replaced, freeze, index) or _loaded_between(facts, replaced, index):
                continue
            layer = layer_text(replaced)
            target = head_expression(replaced)
            yield Violation(
                f"This freeze{via(freeze.where)} also freezes {layer}, which was replaced on line "
                f"{ctx.line(replaced.where.node)}: the new layer never trains (and if it was the only "
                "trainable part, nothing does). Freeze first, then replace the layer, or re-enable it "
                f"afterwards with `{target}.requires_grad_(True)`.{when(freeze.where)}",
                freeze.where.node,
                fix=_fix(ctx, freeze, replaced),
            )
            break


def _fix(ctx: Context, freeze: SetRequiresGrad, replaced: Replaced) -> Fix | None:
    """Unsafe, because it changes what trains (which is the point): move the freeze before the replacement when
    that only reorders the two, else re-enable the new layer right after the freeze."""
    if freeze.where.via is not None or replaced.where.via is not None or freeze.where.scope != replaced.where.scope:
        return None
    moved = fixing.move(ctx, freeze.where.node, replaced.where.node, replaced.slot_text)
    if moved is not None:
        return fixing.fix(f"Freeze first, then replace {layer_text(replaced)}", moved, fixing.UNSAFE)
    if replaced.slot_text is None:
        return None
    reenable = f"{replaced.slot_text}.requires_grad_(True)"
    edit = fixing.insert_after(ctx, freeze.where.node, replaced.where.node, reenable)
    return fixing.fix(f"Add `{reenable}` after the freeze", [edit], fixing.UNSAFE)


def _reenabled_later(facts: FileFacts, replaced: Replaced, freeze: SetRequiresGrad, after: int) -> bool:
    """A later event that re-enables (or may re-enable, or rebuilds) the replaced layer. A path tllint cannot
    name on either side (timm's classifier, `model.get_output_embeddings()`) may be the new layer."""
    for event in facts.events[after + 1:]:
        if event.where.excludes(freeze.where):  # the other arm of an `if` never runs after this freeze
            continue
        if isinstance(event, SetRequiresGrad):
            change = effect(event, replaced.ref)
            unnamed = replaced.ref.placeholder or event.ref.placeholder
            inside = replaced.ref.covers(event.ref) or (
                unnamed and same_root(event.ref, replaced.ref) and event.ref.absolute()[1]
            )
            if change in (Effect.ENABLES, Effect.UNKNOWN) or (inside and event.value is not False):
                return True
        elif (isinstance(event, MaybeChanged) and (
            event.ref.covers(replaced.ref) or replaced.ref.covers(event.ref)
        )) or (isinstance(event, Replaced) and event.ref.covers(replaced.ref)):
            return True
    return False


def _loaded_between(facts: FileFacts, replaced: Replaced, freeze_at: int) -> bool:
    """Saved weights loaded into the model after the replacement: freezing them is deliberate (a teacher)."""
    start = facts.position(replaced)
    return any(loaded.ref.covers(replaced.ref) for _, loaded in of_type(facts, WeightsLoaded, start, freeze_at))
