"""Rules on the order of freezes, unfreezes and layer replacements (TL001, TL014)."""

from __future__ import annotations

from collections.abc import Iterator

from tllint.static.analysis import HEAD_PLACEHOLDER
from tllint.static.facts import (
    FileFacts,
    MaybeChanged,
    ModelPassed,
    OptimizerBuilt,
    Replaced,
    SetRequiresGrad,
    TrainingStep,
    WeightsLoaded,
)
from tllint.static.rules import (
    Context,
    Report,
    layer_text,
    replayed_together,
    rule,
    via,
    when,
)
from tllint.static.timeline import effect, of_type, same_root


def _reenabled_later(facts: FileFacts, replaced: Replaced, after: int) -> bool:
    """A later event that re-enables (or may re-enable, or rebuilds) the replaced layer."""
    placeholder = HEAD_PLACEHOLDER in replaced.ref.path
    for event in facts.events[after + 1:]:
        if isinstance(event, SetRequiresGrad):
            change = effect(event, replaced.ref)
            inside = replaced.ref.covers(event.ref) or (
                placeholder and same_root(event.ref, replaced.ref) and event.ref.absolute()[1]
            )
            if change in (True, None) or (inside and event.value is not False):
                return True
        elif (isinstance(event, MaybeChanged) and (
            event.ref.covers(replaced.ref) or replaced.ref.covers(event.ref)
        )) or (isinstance(event, Replaced) and event.ref.covers(replaced.ref)):
            return True
    return False


@rule("TL001")
def freeze_after_head_replacement(facts: FileFacts, ctx: Context) -> Iterator[Report]:
    for index, freeze in of_type(facts, SetRequiresGrad):
        if freeze.value is not False:
            continue
        for _, replaced in of_type(facts, Replaced, 0, index):
            if replaced.construction or replaced.has_params is False:
                continue
            if not freeze.ref.strictly_covers(replaced.ref) or effect(freeze, replaced.ref) is not False:
                continue
            if replayed_together(freeze.where, replaced.where):
                continue
            if _reenabled_later(facts, replaced, index) or _loaded_between(facts, replaced, index):
                continue
            layer = layer_text(ctx, replaced)
            target = ctx.text(replaced.target) if replaced.target is not None else "model.get_classifier()"
            yield Report(
                "TL001",
                freeze.where.node,
                f"This freeze{via(freeze.where)} also freezes {layer}, which was replaced on line "
                f"{ctx.line(replaced.where.node)}: the new layer never trains (and if it was the only "
                "trainable part, nothing does). Freeze first, then replace the layer, or re-enable it "
                f"afterwards with `{target}.requires_grad_(True)`.{when(freeze.where)}",
            )
            break


def _loaded_between(facts: FileFacts, replaced: Replaced, freeze_at: int) -> bool:
    """Saved weights loaded into the model after the replacement: freezing them is deliberate (a teacher)."""
    start = facts.position(replaced)
    return any(loaded.ref.covers(replaced.ref) for _, loaded in of_type(facts, WeightsLoaded, start, freeze_at))


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


@rule("TL014")
def freeze_undone(facts: FileFacts, ctx: Context) -> Iterator[Report]:
    undos = [(i, e) for i, e in of_type(facts, SetRequiresGrad)
             if e.value is True and e.selector.is_all and not e.where.conditional]
    for index, freeze in of_type(facts, SetRequiresGrad):
        if freeze.value is not False or not freeze.selector.is_all:
            continue
        for later_index, undo in undos:
            if later_index <= index:
                continue
            if not undo.ref.covers(freeze.ref) or undo.where.node is freeze.where.node:
                continue
            if replayed_together(freeze.where, undo.where):
                break
            if not _between_is_idle(facts, index, later_index, freeze):
                break
            yield Report(
                "TL014",
                undo.where.node,
                f"This re-enables every parameter that the freeze on line {ctx.line(freeze.where.node)} froze, "
                "before any optimizer or training step used the frozen state: the freeze has no effect and "
                "the whole model trains. Remove this re-enable, or re-enable only the layers meant to train.",
            )
            break
