"""## What it does
Finds `map(...)`, `filter(...)` or a generator expression used as a statement whose function touches
`requires_grad`: `map(lambda p: p.requires_grad_(False), model.parameters())`.

## Why is this bad?
In Python 3, `map`, `filter` and generator expressions are lazy: they return an iterator and call nothing until
someone iterates over it. As a statement, the iterator is created and discarded, so `requires_grad_(False)`
never runs and no parameter is frozen.

## Example
```python
from torchvision.models import ResNet18_Weights, resnet18

model = resnet18(weights=ResNet18_Weights.DEFAULT)
map(lambda p: p.requires_grad_(False), model.parameters())
```

## Use instead
```python
from torchvision.models import ResNet18_Weights, resnet18

model = resnet18(weights=ResNet18_Weights.DEFAULT)
model.requires_grad_(False)
```

## Fix

Safe (`--fix`): `map(lambda p: BODY, xs)` or `(BODY for p in xs)` (with at most one `if`) as a statement becomes the
`for` loop it meant to be, indented like it. No fix for several iterables, nested `for` clauses, a lambda with
defaults, or a statement that shares its line with another.

## Known limits
List comprehensions and `list(map(...))` are eager and are not reported. A lazy iterator stored in a variable
and never consumed is not followed.
"""

from __future__ import annotations

from collections.abc import Iterator

from tllint.findings.model import Fix
from tllint.static import fixing
from tllint.static.facts import (
    FileFacts,
    LazyFreeze,
)
from tllint.static.rules import (
    ERROR,
    REQUIRES_GRAD_WORDS,
    Context,
    Violation,
    rule,
)


@rule("TL005", ERROR, triggers=REQUIRES_GRAD_WORDS, fix=fixing.SAFE,
      summary="`map(lambda p: p.requires_grad_(False), ...)` is never consumed")
def lazy_freeze(facts: FileFacts, ctx: Context) -> Iterator[Violation]:
    for lazy in facts.lazy_freezes:
        yield Violation(
            f"This {lazy.kind} is lazy and never consumed, so its `requires_grad_` calls never run and "
            "nothing is frozen. Use a `for` loop over the parameters, or `module.requires_grad_(False)`.",
            lazy.where.node,
            fix=_fix(ctx, lazy),
        )


def _fix(ctx: Context, lazy: LazyFreeze) -> Fix | None:
    """The lazy statement as the `for` loop it meant to be."""
    loop = fixing.eager_loop(ctx, lazy.where.node) if lazy.where.via is None else None
    if loop is None:
        return None
    return fixing.fix("Write it as a `for` loop", [fixing.replace(ctx, lazy.where.node, loop)], fixing.SAFE)
