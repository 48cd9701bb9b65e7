"""Where a ref lies in a known architecture: the questions TL006-TL008, TL040 and TL041 share.

The facts come from the shipped table (`tllint.static.architectures`), looked up by the constructor the pass
recorded; a model the table does not know keeps every rule that asks here quiet.
"""

from __future__ import annotations

from tllint.static.architectures import Architecture, timm_model, torchvision_model
from tllint.static.facts import FileFacts, ModelObject, Origin, Ref, Replaced, has_placeholder
from tllint.static.timeline import of_type


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


def resolve_negative(path: tuple[str, ...], arch: Architecture) -> tuple[str, ...]:
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


def slot(replaced: Replaced) -> tuple[ModelObject, Architecture, str] | None:
    """The library model a layer was assigned into, its architecture and the dotted path of the slot."""
    owner = library_model(replaced.ref)
    if owner is None or has_placeholder(owner[1]):
        return None
    model, path, arch = owner
    return model, arch, ".".join(resolve_negative(path, arch))


def inside_earlier_replacement(facts: FileFacts, replaced: Replaced, index: int) -> bool:
    """The slot lies inside a layer replaced earlier: the table no longer describes it."""
    return any(earlier.ref.strictly_covers(replaced.ref) for _, earlier in of_type(facts, Replaced, 0, index))
