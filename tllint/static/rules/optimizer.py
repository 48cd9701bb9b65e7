"""Rules on what an optimizer receives compared with what is trainable (TL009-TL013, TL015)."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import combinations

from tllint.static.facts import (
    FileFacts,
    MaybeChanged,
    OptimizerBuilt,
    ParamsOf,
    Ref,
    Replaced,
    SetRequiresGrad,
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
from tllint.static.timeline import (
    Status,
    of_type,
    optimizer_covers_later,
    same_root,
    selects,
    status,
)


def _source_text(source: ParamsOf) -> str:
    return f"`{source.label}`" if source.label else "the model"


@rule("TL009")
def optimizer_has_nothing_to_train(facts: FileFacts, ctx: Context) -> Iterator[Report]:
    for index, built in of_type(facts, OptimizerBuilt):
        sources = list(built.sources())
        if not built.known or not sources:
            continue
        if not all(s.selector.is_all or s.selector.requires_grad_filter for s in sources):
            continue
        if all(status(facts, s.ref, index) is Status.FROZEN for s in sources):
            yield Report(
                "TL009",
                built.where.node,
                f"Every parameter this optimizer{via(built.where)} receives is frozen at this point, so "
                "nothing will train (with a `requires_grad` filter PyTorch raises 'optimizer got an empty "
                "parameter list'). Replace or re-enable the layers to train before building the "
                f"optimizer.{when(built.where)}",
            )


@rule("TL010")
def optimizer_before_head_replacement(facts: FileFacts, ctx: Context) -> Iterator[Report]:
    for index, replaced in of_type(facts, Replaced):
        if replaced.construction or replaced.has_params is False:
            continue
        earlier = [
            (i, built) for i, built in of_type(facts, OptimizerBuilt, 0, index)
            if any(s.ref.strictly_covers(replaced.ref) for s in built.sources())
        ]
        if not earlier or optimizer_covers_later(facts, replaced.ref, index):
            continue
        _, built = earlier[-1]
        if replayed_together(built.where, replaced.where):
            continue
        layer = layer_text(ctx, replaced)
        target = ctx.text(replaced.target) if replaced.target is not None else "model.get_classifier()"
        yield Report(
            "TL010",
            replaced.where.node,
            f"The optimizer built on line {ctx.line(built.where.node)} holds the parameters the model had "
            f"then; {layer} replaced here{via(replaced.where)} is a new layer with new parameters that no "
            "optimizer updates, so it keeps its random weights while the rest trains. Build the optimizer "
            f"after replacing the layer, or add it with `optimizer.add_param_group({{'params': "
            f"{target}.parameters()}})`.",
        )


@rule("TL011")
def frozen_params_in_optimizer(facts: FileFacts, ctx: Context) -> Iterator[Report]:
    for index, built in of_type(facts, OptimizerBuilt):
        for source in built.sources():
            if not source.selector.is_all or status(facts, source.ref, index) is not Status.PARTIAL:
                continue
            yield Report(
                "TL011",
                built.where.node,
                f"This optimizer receives every parameter of {_source_text(source)}, some of which are "
                "frozen: it hides what really trains, and frozen weights still move through momentum or "
                "weight decay whenever they hold a gradient (left from earlier steps, or zeroed with "
                "`set_to_none=False`). Pass only trainable ones: "
                "`filter(lambda p: p.requires_grad, model.parameters())`.",
            )
            break


def _in_optimizer(facts: FileFacts, built: OptimizerBuilt, target: Ref, at: int) -> bool | None:
    answers = [selects(s, target, facts, at) for s in built.sources()]
    if True in answers:
        return True
    return None if None in answers else False


@rule("TL012")
def unfrozen_params_not_in_optimizer(facts: FileFacts, ctx: Context) -> Iterator[Report]:
    for index, unfreeze in of_type(facts, SetRequiresGrad):
        if unfreeze.value is not True:
            continue
        earlier = [
            (i, built) for i, built in of_type(facts, OptimizerBuilt, 0, index)
            if built.known and any(same_root(s.ref, unfreeze.ref) for s in built.sources())
        ]
        if not earlier:
            continue
        built_at, built = earlier[-1]
        if replayed_together(built.where, unfreeze.where):
            continue
        if status(facts, unfreeze.ref, built_at) is not Status.FROZEN:
            continue
        if _in_optimizer(facts, built, unfreeze.ref, built_at) is not False:
            continue
        if optimizer_covers_later(facts, unfreeze.ref, index):
            continue
        yield Report(
            "TL012",
            unfreeze.where.node,
            f"These parameters{via(unfreeze.where)} were frozen when the optimizer on line "
            f"{ctx.line(built.where.node)} was built over the trainable ones only: unfreezing them now makes "
            "them compute gradients every step, but no optimizer updates them. Add them with "
            "`optimizer.add_param_group({'params': ...})` or build a new optimizer after unfreezing."
            f"{when(unfreeze.where)}",
        )


@rule("TL013")
def head_only_optimizer_without_freeze(facts: FileFacts, ctx: Context) -> Iterator[Report]:
    for index, built in of_type(facts, OptimizerBuilt):
        sources = list(built.sources())
        if not built.known or not sources or not all(s.ref.absolute()[1] for s in sources):
            continue
        roots = {id(s.ref.absolute()[0]): s.ref.absolute()[0] for s in sources}
        if len(roots) != 1:
            continue
        root = next(iter(roots.values()))
        if not root.fresh:
            continue
        new_layers = [r for _, r in of_type(facts, Replaced, 0, index)
                      if r.ref.absolute()[0] is root and not r.construction]
        if not new_layers or not all(any(r.ref.covers(s.ref) for r in new_layers) for s in sources):
            continue
        if _ever_frozen(facts, root) or _other_optimizer_covers(facts, built, root):
            continue
        yield Report(
            "TL013",
            built.where.node,
            "This optimizer updates only the new layer, but the rest of the model was never frozen: every "
            "step still computes (and accumulates) gradients for the whole backbone, which costs time and "
            "memory and trains nothing. Freeze the backbone first (`model.requires_grad_(False)` before "
            "replacing the head), or pass all parameters if you meant to fine-tune.",
        )


def _ever_frozen(facts: FileFacts, root: object) -> bool:
    return any(
        isinstance(event, SetRequiresGrad | MaybeChanged)
        and event.ref.absolute()[0] is root
        and not (isinstance(event, SetRequiresGrad) and event.value is True)
        for event in facts.events
    )


def _other_optimizer_covers(facts: FileFacts, built: OptimizerBuilt, root: object) -> bool:
    for _, other in of_type(facts, OptimizerBuilt):
        if other is built or other.optimizer is built.optimizer:
            continue
        if not other.known or any(s.ref.absolute()[0] is root for s in other.sources()):
            return True
    return False


@rule("TL015")
def param_in_two_groups(facts: FileFacts, ctx: Context) -> Iterator[Report]:
    for index, built in of_type(facts, OptimizerBuilt):
        if built.where.via is not None:
            continue  # which groups overlap does not depend on the caller: the helper's body reports it
        overlap = next(
            (
                (a, b)
                for group_a, group_b in combinations(built.groups, 2)
                for a in group_a
                for b in group_b
                if selects(a, b.ref, facts, index) or selects(b, a.ref, facts, index)
            ),
            None,
        )
        if overlap is None:
            continue
        first, second = overlap
        wide, narrow = (first, second) if first.ref.covers(second.ref) else (second, first)
        yield Report(
            "TL015",
            built.where.node,
            f"The parameters of {_source_text(narrow)} are in two param groups: one over "
            f"{_source_text(wide)} and one of their own. PyTorch raises 'some parameters appear in more "
            "than one parameter group'. Exclude them from the wide group, e.g. "
            "`[p for n, p in model.named_parameters() if not n.startswith('fc.')]`.",
        )
