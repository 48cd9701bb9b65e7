"""## What it does
Finds a comparison of `requires_grad` used as a whole statement: `p.requires_grad == False`, `!=`, `is`,
`is not`.

## Why is this bad?
One `=` too many: the line evaluates a boolean and throws it away. No parameter is frozen; the loop that
"freezes" the backbone runs and does nothing, so the whole network keeps training. Python accepts it without a
warning.

## Example
```python
from torchvision import models

model = models.resnet50(weights=models.ResNet50_Weights.IMAGENET1K_V1)
for p in model.parameters():
    p.requires_grad == False
```

## Use instead
```python
from torchvision import models

model = models.resnet50(weights=models.ResNet50_Weights.IMAGENET1K_V1)
for p in model.parameters():
    p.requires_grad = False
```

## Fix

Safe (`--fix`): `p.requires_grad == v` (or `is v`) as a statement becomes `p.requires_grad = v`. `!=` and `is not`
have no evident meaning, so they get no fix.

## Known limits
Comparisons whose result is used are fine and never reported: `if param.requires_grad == True:` (the
torchvision finetuning tutorial), `assert`, comprehensions, assignments, call arguments.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from tllint.findings.model import Fix
from tllint.static import fixing
from tllint.static.facts import (
    DiscardedComparison,
    FileFacts,
)
from tllint.static.rules import (
    ERROR,
    REQUIRES_GRAD_WORDS,
    Context,
    Violation,
    rule,
)


@rule("TL003", ERROR, triggers=REQUIRES_GRAD_WORDS, fix=fixing.SAFE,
      summary="`p.requires_grad == False` as a statement does nothing")
def requires_grad_comparison(facts: FileFacts, ctx: Context) -> Iterator[Violation]:
    for comparison in facts.discarded_comparisons:
        yield Violation(
            f"`{comparison.text}` compares and throws the result away: nothing is frozen. "
            "Assign instead: `p.requires_grad = False` (one `=`).",
            comparison.where.node,
            fix=_fix(ctx, comparison),
        )


def _fix(ctx: Context, comparison: DiscardedComparison) -> Fix | None:
    """`p.requires_grad == v` (or `is v`) -> `p.requires_grad = v`; `!=` and `is not` have no evident meaning."""
    sides = fixing.discarded_comparison(comparison.where.node, ast.Eq, ast.Is) if comparison.where.via is None \
        else None
    if sides is None:
        return None
    assignment = f"{ctx.segment(sides[0])} = {ctx.segment(sides[1])}"
    return fixing.fix(f"Assign: `{' '.join(assignment.split())}`",
                      [fixing.replace(ctx, comparison.where.node, assignment)], fixing.SAFE)
