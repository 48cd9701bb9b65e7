"""Rules on single writes and statements that look like freezing but do nothing (TL002-TL005)."""

from __future__ import annotations

from collections.abc import Iterator

from tllint.static.facts import AttributeWrite, FileFacts, ModuleVar, ParamVar, Ref
from tllint.static.knowledge import looks_like_module_name
from tllint.static.rules import Context, Report, rule


def _is_module(facts: FileFacts, receiver: object) -> bool:
    """Whether the receiver of `X.requires_grad = ...` is certainly a module (never a tensor)."""
    if isinstance(receiver, ModuleVar):
        return True
    if not isinstance(receiver, Ref) or not receiver.obj.is_module:
        return False
    if not (receiver.obj.fresh or facts.is_module(Ref(receiver.obj))):
        return False
    if not receiver.path:
        return receiver.obj.has_params is not False or receiver.obj.constructor is not None
    return facts.is_module(receiver) or looks_like_module_name(receiver.path[-1])


@rule("TL002")
def module_requires_grad_attribute(facts: FileFacts, ctx: Context) -> Iterator[Report]:
    for write in facts.attribute_writes:
        if write.attr != "requires_grad" or not _is_module(facts, write.receiver):
            continue
        name = write.receiver_text
        yield Report(
            "TL002",
            write.where.node,
            f"`{name}` is a module: setting `{name}.requires_grad` only adds a plain Python attribute, so no "
            f"parameter is frozen or unfrozen and `{name}` keeps its old state. "
            f"Use `{name}.requires_grad_(False)` (or `True`), which sets it on every parameter.",
        )


@rule("TL003")
def requires_grad_comparison(facts: FileFacts, ctx: Context) -> Iterator[Report]:
    for comparison in facts.discarded_comparisons:
        yield Report(
            "TL003",
            comparison.where.node,
            f"`{comparison.text}` compares and throws the result away: nothing is frozen. "
            "Assign instead: `p.requires_grad = False` (one `=`).",
        )


def _misspelling_target(facts: FileFacts, write: AttributeWrite) -> str | None:
    if isinstance(write.receiver, ParamVar):
        return "parameter"
    if isinstance(write.receiver, ModuleVar):
        return "module"
    if isinstance(write.receiver, Ref) and write.receiver.obj.is_module and (
        write.receiver.obj.fresh or facts.is_module(Ref(write.receiver.obj))
    ):
        return "module" if not write.receiver.path else "module or parameter"
    return None


@rule("TL004")
def requires_grad_misspelled(facts: FileFacts, ctx: Context) -> Iterator[Report]:
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
        yield Report(
            "TL004",
            write.where.node,
            f"`{name}` is a misspelling of `requires_grad` on a {target}: it {consequence}. "
            f"Write `{write.receiver_text}.requires_grad = ...` (for a module: `.requires_grad_(...)`).",
        )


@rule("TL005")
def lazy_freeze(facts: FileFacts, ctx: Context) -> Iterator[Report]:
    for lazy in facts.lazy_freezes:
        yield Report(
            "TL005",
            lazy.where.node,
            f"This {lazy.kind} is lazy and never consumed, so its `requires_grad_` calls never run and "
            "nothing is frozen. Use a `for` loop over the parameters, or `module.requires_grad_(False)`.",
        )
