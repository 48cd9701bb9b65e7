"""## What it does
Finds a freeze or unfreeze keyed on parameter names (`if "bn" not in name:`, `name.startswith("fc")`,
`param.requires_grad = "head" in n`, a comprehension over `named_parameters()`) whose string literal matches no
parameter name of the known architecture. Names are evaluated against the parameters the model has at that point,
including layers replaced or added in the file (`model.classifier[6] = nn.Sequential(...)` creates
`classifier.6.0.weight`). The finding is at the filter: the `if`, the assignment or the loop header holding the
name test.

## Why is this bad?
Parameter names depend on the architecture, and the usual guesses are often wrong: torchvision MobileNetV2,
EfficientNet, DenseNet and VGG-BN name their BatchNorm layers by index (`features.0.1`), so no name contains
`"bn"`; ViT, VGG and DenseNet have no `"fc"`; torchvision ConvNeXt keeps its head in `classifier`, timm ViT in
`head`. A filter that matches nothing either freezes everything (the head included, and nothing learns) or
unfreezes nothing, and neither raises an error: training runs, slower to converge or not at all.

## Example
```python
from torchvision.models import MobileNet_V2_Weights, mobilenet_v2

model = mobilenet_v2(weights=MobileNet_V2_Weights.IMAGENET1K_V2)
for name, p in model.named_parameters():
    if "bn" not in name:
        p.requires_grad = False
```

## Use instead
```python
import torch.nn as nn
from torchvision.models import MobileNet_V2_Weights, mobilenet_v2

model = mobilenet_v2(weights=MobileNet_V2_Weights.IMAGENET1K_V2)
for module in model.modules():
    if not isinstance(module, nn.BatchNorm2d):
        for p in module.parameters(recurse=False):
            p.requires_grad = False
```

## Fix

No fix: which parameters the name filter meant to choose is the author's choice.

## Known limits
Only literals tested against names from `named_parameters()` of a model whose constructor the table knows are
checked; filters built from lists, regular expressions or variables, and models the table does not know (custom
modules, Hugging Face models, timm encoders without a classifier) stay quiet. A literal that matches the wrong
parameters is not reported: `"fc"` on torchvision EfficientNet matches 64 squeeze-excitation parameters and
`"head"` on timm EfficientNet matches the backbone's `conv_head`.

The same check runs on name-filtered parameter lists given to an optimizer
(`[p for n, p in model.named_parameters() if "classifier" in n]`): a literal that matches nothing leaves that
param group empty or wrong.
"""

from __future__ import annotations

from collections.abc import Iterator

from tllint.static.architectures import Architecture
from tllint.static.facts import (
    FileFacts,
    ModelObject,
    OptimizerBuilt,
    Replaced,
    SetRequiresGrad,
    has_placeholder,
)
from tllint.static.rules import (
    ERROR,
    OPTIMIZER_WORDS,
    REQUIRES_GRAD_WORDS,
    Context,
    Violation,
    rule,
)
from tllint.static.rules._architecture import (
    library_model,
    resolve_negative,
)
from tllint.static.selectors import Atom, Selector
from tllint.static.timeline import of_type

UNKNOWN_TAIL = "<unknown>"


@rule("TL008", ERROR, triggers=REQUIRES_GRAD_WORDS + OPTIMIZER_WORDS,
      summary="a name filter (`\"bn\" not in name`) whose literal matches no parameter of the architecture")
def name_filter_matches_nothing(facts: FileFacts, ctx: Context) -> Iterator[Violation]:
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
                yield Violation(
                    f"`{atom.literal}` matches no {what} name of `{arch.name}` ({_name_test(atom)}), so this "
                    f"filter chooses {'nothing' if _positive(selector, atom) else 'everything'} and {use}. "
                    f"{_name_hint(arch)}",
                    atom.node,
                )


def _known_names(facts: FileFacts, root: ModelObject, arch: Architecture, upto: int) -> list[str]:
    """The model's parameter names at an event, with the parameters of layers replaced before it."""
    names = list(arch.params)
    for _, replaced in of_type(facts, Replaced, 0, upto):
        owner = library_model(replaced.ref)
        if owner is None or owner[0] is not root:
            continue
        path = owner[1]
        if has_placeholder(path):
            path = tuple(arch.heads[0].split("."))
        prefix = ".".join(resolve_negative(path, arch))
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


def _name_test(atom: Atom) -> str:
    return {"contains": "no name contains it", "startswith": "no name starts with it",
            "endswith": "no name ends with it", "equals": "no name equals it"}[atom.kind]


def _positive(selector: Selector, atom: Atom) -> bool:
    """Whether the atom is used as written (`"fc" in n`) rather than negated (`"fc" not in n`)."""
    return selector.matches(atom.literal) is not False


def _name_hint(arch: Architecture) -> str:
    children = ", ".join(f"`{c}`" for c in arch.children[:8])
    return f"Its top-level modules are {children}; its head is `{arch.heads[0]}`."
