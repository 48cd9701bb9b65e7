"""Questions rules ask of the timeline: what an event does to a part of a model, and whether a part is
trainable, frozen or partly frozen at a given moment."""

from __future__ import annotations

import enum
from bisect import bisect_left
from collections.abc import Iterator
from typing import TypeVar

from tllint.static.facts import (
    Effect,
    FileFacts,
    MaybeChanged,
    OptimizerBuilt,
    Origin,
    ParamGroupAdded,
    ParamsOf,
    Ref,
    Replaced,
    SetRequiresGrad,
    has_placeholder,
)
from tllint.static.selectors import TRAINABLE_ONLY

E = TypeVar("E")

# Parameter names that stand for a module's parameters when a selector must be evaluated on them.
_TYPICAL_SUFFIXES = ("weight", "bias", "0.weight", "0.bias")


class Status(enum.Enum):
    TRAINABLE = "trainable"
    FROZEN = "frozen"
    PARTIAL = "partly frozen"
    UNKNOWN = "unknown"



def of_type(facts: FileFacts, kind: type[E], start: int = 0, stop: int | None = None) -> Iterator[tuple[int, E]]:
    """The events of one type with their indices, `start <= index < stop`, without scanning the others."""
    positions = facts.positions(kind)
    end = len(positions) if stop is None else bisect_left(positions, stop)
    for index in positions[bisect_left(positions, start):end]:
        yield index, facts.events[index]  # type: ignore[misc]


def sample_names(event_ref: Ref, target: Ref) -> list[str] | None:
    """Parameter names (relative to `event_ref`) that stand for the parameters of `target`: a new layer's
    own names when known, else typical names under its path; None when the path is a placeholder."""
    relative = target.absolute()[1][len(event_ref.absolute()[1]):]
    if has_placeholder(relative):
        return None
    prefix = ".".join(relative)
    while target.path in target.obj.attached and isinstance(held := target.obj.attached[target.path], Ref):
        target = held  # the layer assigned at that path
    if target.path == () and target.obj.origin is Origin.LAYER:
        if target.obj.param_names is None:
            return None
        suffixes: tuple[str, ...] = target.obj.param_names
    else:
        suffixes = _TYPICAL_SUFFIXES
    return [f"{prefix}.{s}" if prefix else s for s in suffixes]


def effect(event: SetRequiresGrad, target: Ref) -> Effect:
    """What `event` does to the parameters of `target`."""
    if not event.ref.covers(target):
        return Effect.PARTIAL if target.covers(event.ref) else Effect.UNCHANGED
    if event.selector.is_all:
        return Effect.of(event.value)
    if event.ref.absolute()[1] == target.absolute()[1]:
        return Effect.PARTIAL
    names = sample_names(event.ref, target)
    if names is None:
        return Effect.UNKNOWN
    outcomes = {event.effect_on(name) for name in names}
    return outcomes.pop() if len(outcomes) == 1 else Effect.UNKNOWN


def status(facts: FileFacts, target: Ref, before: int) -> Status:
    """Whether the parameters of `target` are trainable just before event `before`."""
    current = Status.TRAINABLE if target.obj.fresh else Status.UNKNOWN
    observer = facts.events[before].where if before < len(facts.events) else None
    for event in facts.events[:before]:
        if isinstance(event, SetRequiresGrad):
            current = _after_set(current, event, target, event.where.certain_from(observer))
        elif isinstance(event, Replaced) and event.new is not None:
            current = _after_replace(current, event, target, event.where.certain_from(observer))
        elif isinstance(event, MaybeChanged) and (event.ref.covers(target) or target.covers(event.ref)):
            current = Status.UNKNOWN
    return current


def _after_set(current: Status, event: SetRequiresGrad, target: Ref, certain: bool) -> Status:
    change = effect(event, target)
    if change is Effect.UNCHANGED:
        return current
    if change is Effect.UNKNOWN or event.value is None:
        return Status.UNKNOWN
    if change is Effect.PARTIAL:
        moved = {
            (Status.TRAINABLE, False): Status.PARTIAL,
            (Status.FROZEN, True): Status.PARTIAL,
            (Status.PARTIAL, True): Status.UNKNOWN,
        }.get((current, event.value), current)
        return _maybe(current, moved, certain)
    new = Status.TRAINABLE if change is Effect.ENABLES else Status.FROZEN
    return _maybe(current, new, certain)


def _after_replace(current: Status, event: Replaced, target: Ref, certain: bool) -> Status:
    if event.ref.covers(target):
        return _maybe(current, Status.TRAINABLE if event.new and event.new.fresh else Status.UNKNOWN, certain)
    if target.strictly_covers(event.ref) and current is Status.FROZEN:
        if event.has_params is False:
            return current
        moved = Status.PARTIAL if event.has_params else Status.UNKNOWN
        return _maybe(current, moved, certain)
    return current


def _maybe(current: Status, new: Status, certain: bool) -> Status:
    if certain or new is current:
        return new
    return Status.UNKNOWN


def selects(source: ParamsOf, target: Ref, facts: FileFacts, at: int) -> bool | None:
    """Whether an optimizer source includes the parameters of `target`."""
    if not source.ref.covers(target):
        return False
    if source.selector.is_all:
        return True
    if source.selector is TRAINABLE_ONLY or source.selector.requires_grad_filter:
        state = status(facts, target, at)
        return {Status.TRAINABLE: True, Status.FROZEN: False}.get(state)
    names = sample_names(source.ref, target)
    if names is None:
        return None
    outcomes = {source.selector.matches(n) for n in names}
    return outcomes.pop() if len(outcomes) == 1 else None


def optimizer_covers_later(facts: FileFacts, target: Ref, after: int) -> bool:
    """A later optimizer or `add_param_group` that (as far as tllint can tell) may include `target`; one in the
    other arm of an `if` than event `after` never runs after it."""
    here = facts.events[after].where
    for _, event in of_type(facts, OptimizerBuilt, after + 1):
        if event.where.excludes(here):
            continue
        if not event.known or any(s.ref.covers(target) for s in event.sources()):
            return True
    for _, added in of_type(facts, ParamGroupAdded, after + 1):
        if added.where.excludes(here):
            continue
        if not added.sources or any(s.ref.covers(target) or target.covers(s.ref) for s in added.sources):
            return True
    return False


def same_root(a: Ref, b: Ref) -> bool:
    return a.absolute()[0] is b.absolute()[0]
