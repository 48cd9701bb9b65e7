"""Rules that need to know the architecture a constructor builds (TL006-TL008, TL040, TL041).

The facts come from the shipped table (`tllint.static.architectures`), looked up by the constructor the pass
recorded; a model the table does not know keeps every rule here quiet.
"""

from __future__ import annotations

from collections.abc import Iterator

from tllint.static.architectures import Architecture, timm_model, torchvision_backbone, torchvision_model
from tllint.static.facts import (
    FileFacts,
    ModelObject,
    OptimizerBuilt,
    Origin,
    Ref,
    Replaced,
    SetRequiresGrad,
    WeightsLoaded,
)
from tllint.static.rules import Context, Report, rule, via, when
from tllint.static.selectors import Atom, Selector
from tllint.static.timeline import of_type

UNKNOWN_TAIL = "<unknown>"


def architecture_of(obj: ModelObject) -> Architecture | None:
    if obj.origin is not Origin.LIBRARY or obj.constructor is None:
        return None
    if obj.constructor.startswith("timm:"):
        return timm_model(obj.constructor[len("timm:"):])
    return torchvision_model(obj.constructor)


def library_model(ref: Ref) -> tuple[ModelObject, tuple[str, ...], Architecture] | None:
    """The innermost model of a known architecture that `ref` lies in (`self.backbone = resnet18()`
    makes `self.backbone.fc` the `fc` of a resnet18), with the path inside it."""
    obj, path = ref.obj, ref.path
    while True:
        arch = architecture_of(obj)
        if arch is not None:
            return obj, path, arch
        if obj.parent is None:
            return None
        obj, path = obj.parent[0], obj.parent[1] + path


def python_path(dotted: str) -> str:
    """`classifier.6` -> `classifier[6]`, as a user writes it."""
    out = ""
    for part in dotted.split("."):
        out += f"[{part}]" if part.isdigit() else (f".{part}" if out else part)
    return out


def _resolve_negative(path: tuple[str, ...], arch: Architecture) -> tuple[str, ...]:
    """`classifier[-1]` -> `classifier.6`: count the parent's numbered children in the table."""
    resolved: list[str] = []
    for part in path:
        if part.startswith("-") and part[1:].isdigit():
            prefix = ".".join(resolved)
            siblings = [m[len(prefix) + 1:] if prefix else m for m in arch.modules if m.startswith(prefix)]
            indices = [int(s) for s in siblings if s.isdigit()]
            if not indices:
                return path
            part = str(max(indices) + 1 - int(part[1:]))
        resolved.append(part)
    return tuple(resolved)


def _slot(replaced: Replaced) -> tuple[ModelObject, Architecture, str] | None:
    """The library model a layer was assigned into, its architecture and the dotted path of the slot."""
    owner = library_model(replaced.ref)
    if owner is None or any(part.startswith("@") for part in owner[1]):
        return None
    model, path, arch = owner
    return model, arch, ".".join(_resolve_negative(path, arch))


def _inside_earlier_replacement(facts: FileFacts, replaced: Replaced, index: int) -> bool:
    return any(earlier.ref.strictly_covers(replaced.ref) for _, earlier in of_type(facts, Replaced, 0, index))


def _head_description(arch: Architecture) -> str:
    head = python_path(arch.heads[0])
    size = f" ({arch.head_type}, in_features={arch.head_in_features})" if arch.head_in_features else ""
    return f"`model.{head}`{size}"


@rule("TL006")
def head_not_in_architecture(facts: FileFacts, ctx: Context) -> Iterator[Report]:
    for index, replaced in of_type(facts, Replaced):
        slot = _slot(replaced)
        if slot is None or _inside_earlier_replacement(facts, replaced, index):
            continue
        _, arch, path = slot
        parent = path.rpartition(".")[0]
        if arch.has_module(path) or not arch.has_module(parent) or path.rpartition(".")[2].isdigit():
            continue
        target = ctx.text(replaced.target) if replaced.target is not None else python_path(path)
        yield Report(
            "TL006",
            replaced.where.node,
            f"`{arch.name}` has no `{python_path(path)}`: its forward never calls the layer assigned to "
            f"`{target}`, so the model keeps its old {arch.head_out_features or 'original'}-way output and the new "
            f"layer never trains. Its classifier head is {_head_description(arch)}; assign the new layer there.",
        )


@rule("TL007")
def head_in_features_mismatch(facts: FileFacts, ctx: Context) -> Iterator[Report]:
    for index, replaced in of_type(facts, Replaced):
        slot = _slot(replaced)
        new = replaced.new
        if slot is None or new is None or new.in_features is None:
            continue
        if _inside_earlier_replacement(facts, replaced, index):
            continue
        _, arch, path = slot
        if path not in arch.heads or arch.head_in_features is None:
            continue
        expected = arch.head_in_features if path == arch.heads[0] else None
        if expected is None or new.in_features == expected:
            continue
        yield Report(
            "TL007",
            replaced.where.node,
            f"The new head takes {new.in_features} input features but `{arch.name}` feeds "
            f"`{python_path(path)}` {expected}: the first batch fails with a shape mismatch. "
            f"Use {expected}, or read it from the old layer (`model.{python_path(path)}.in_features`).",
        )


def _known_names(facts: FileFacts, root: ModelObject, arch: Architecture, upto: int) -> list[str]:
    """The model's parameter names at an event, with the parameters of layers replaced before it."""
    names = list(arch.params)
    for _, replaced in of_type(facts, Replaced, 0, upto):
        owner = library_model(replaced.ref)
        if owner is None or owner[0] is not root:
            continue
        path = owner[1]
        if any(part.startswith("@") for part in path):
            path = tuple(arch.heads[0].split("."))
        prefix = ".".join(_resolve_negative(path, arch))
        names = [n for n in names if not n.startswith(prefix + ".")]
        new_names = replaced.new.param_names if replaced.new is not None else None
        names += [f"{prefix}.{n}" for n in new_names] if new_names is not None else [f"{prefix}.{UNKNOWN_TAIL}"]
    return names


def _unmatched_atoms(selector: Selector, path: tuple[str, ...], names: list[str]) -> list[Atom]:
    prefix = ".".join(path)
    relative = [n[len(prefix) + 1:] for n in names if n.startswith(prefix + ".")] if prefix else names
    if selector.child_names:
        relative = sorted({n.split(".", 1)[0] for n in relative})
    seen = [selector.prefix + n for n in relative]
    return [atom for atom in selector.atoms
            if atom.node is not None and not any(_could_match(atom, n) for n in seen)]


def _could_match(atom: Atom, name: str) -> bool:
    """Whether the atom matches `name`, where a name ending in UNKNOWN_TAIL stands for any name under its
    prefix (a replaced layer whose own names tllint does not know)."""
    if not name.endswith(UNKNOWN_TAIL):
        return atom.matches(name)
    prefix = name[: -len(UNKNOWN_TAIL)]
    if atom.kind in ("contains", "endswith"):
        return True
    return prefix.startswith(atom.literal) or atom.literal.startswith(prefix)


@rule("TL008")
def name_filter_matches_nothing(facts: FileFacts, ctx: Context) -> Iterator[Report]:
    seen: set[int] = set()
    for index, event in enumerate(facts.events):
        if isinstance(event, SetRequiresGrad):
            choices, use = [(event.ref, event.selector)], "the freeze does not do what it says"
        elif isinstance(event, OptimizerBuilt):
            choices = [(source.ref, source.selector) for source in event.sources()]
            use = "the param group does not get the parameters it names"
        else:
            continue
        for ref, selector in choices:
            owner = library_model(ref)
            if owner is None or not selector.atoms:
                continue
            root, path, arch = owner
            for atom in _unmatched_atoms(selector, path, _known_names(facts, root, arch, index)):
                if id(atom.node) in seen:
                    continue
                seen.add(id(atom.node))
                what = "child module" if selector.child_names else "parameter"
                yield Report(
                    "TL008",
                    atom.node,  # type: ignore[arg-type]
                    f"`{atom.literal}` matches no {what} name of `{arch.name}` ({_name_test(atom)}), so this "
                    f"filter chooses {'nothing' if _positive(selector, atom) else 'everything'} and {use}. "
                    f"{_name_hint(arch)}",
                )


def _name_test(atom: Atom) -> str:
    return {"contains": "no name contains it", "startswith": "no name starts with it",
            "endswith": "no name ends with it", "equals": "no name equals it"}[atom.kind]


def _positive(selector: Selector, atom: Atom) -> bool:
    """Whether the atom is used as written (`"fc" in n`) rather than negated (`"fc" not in n`)."""
    return selector.matches(atom.literal) is not False


def _name_hint(arch: Architecture) -> str:
    children = ", ".join(f"`{c}`" for c in arch.children[:8])
    return f"Its top-level modules are {children}; its head is `{arch.heads[0]}`."


@rule("TL040")
def deprecated_pretrained_argument(facts: FileFacts, ctx: Context) -> Iterator[Report]:
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
            yield Report("TL040", arg, _pretrained_message(keyword, ctx.text(arg.value), arch))


def _pretrained_message(keyword: str, value: str, arch: Architecture | None) -> str:
    """The `weights=` that torchvision's own legacy mapping gives `pretrained=True` (IMAGENET1K_V1, or the
    features-only VGG weights for a backbone)."""
    new_keyword = "weights" if keyword == "pretrained" else "weights_backbone"
    weights = "<Model>_Weights.DEFAULT"
    if arch is not None and arch.weights_enum:
        preferred = ("IMAGENET1K_FEATURES", "IMAGENET1K_V1") if keyword != "pretrained" else ("IMAGENET1K_V1",)
        member = next((m for m in preferred if m in arch.weights_members), arch.default_weights)
        weights = f"{arch.weights_enum}.{member}"
    replacement = {"True": weights, "False": "None"}.get(value, f"{weights} if {value} else None")
    return (f"`{keyword}=` is deprecated since torchvision 0.13 and will be removed; today it only warns, and "
            f"a bool passed by mistake silently means no weights. Write `{new_keyword}={replacement}`.")


@rule("TL041")
def frozen_random_weights(facts: FileFacts, ctx: Context) -> Iterator[Report]:
    for _, freeze in of_type(facts, SetRequiresGrad):
        if freeze.value is not False:
            continue
        owner = library_model(freeze.ref)
        if owner is None:
            continue
        root, path, _ = owner
        if root.pretrained is not False or root.node is None:
            continue
        replaced = [r for _, r in of_type(facts, Replaced) if (o := library_model(r.ref)) and o[0] is root]
        if any(r.ref.covers(freeze.ref) for r in replaced):
            continue  # freezing a layer added here, not the random backbone
        if not replaced and not path and freeze.selector.is_all:
            continue  # nothing left to train: TL009's business
        if any(loaded.ref.covers(Ref(root)) for _, loaded in of_type(facts, WeightsLoaded)):
            continue
        yield Report(
            "TL041",
            freeze.where.node,
            f"The model built on line {ctx.line(root.node)} (`{ctx.text(root.node.func)}(...)`) has no pretrained "
            f"weights, so the layers this freeze{via(freeze.where)} keeps fixed hold random values: the head "
            "learns on top of noise. Build it with pretrained weights (`weights=...DEFAULT` for torchvision, "
            f"`pretrained=True` for timm) or load a checkpoint before freezing.{when(freeze.where)}",
        )
