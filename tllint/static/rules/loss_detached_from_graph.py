"""## What it does
Finds a loss rebuilt from a number or a detached tensor and then used for `backward()`:
`torch.tensor(loss.item(), requires_grad=True)`, `loss = loss.detach().requires_grad_()`,
`loss.requires_grad = True`, `Variable(loss.data, requires_grad=True)`. Backwards through
`scaler.scale(loss).backward()` and `accelerator.backward(loss)` count too, and so does the loss a Lightning
`training_step` returns (Lightning runs its backward). A loss rebuilt in a same-file helper that returns it
(`loss = self.compute_loss(...)`) is reported where the helper rebuilds it.

## Why is this bad?
`.item()`, `.detach()` and `.data` cut the autograd graph: the rebuilt tensor is a new leaf that depends on no
parameter. Setting `requires_grad=True` on it only silences `RuntimeError: element 0 of tensors does not require
grad`, which was the symptom of the real bug. `backward()` then computes the gradient of the leaf with respect
to itself and no parameter gets a gradient; `optimizer.step()` changes nothing and the loss stays flat.

## Example
```python
import torch


def train(model, loader, optimizer, criterion):
    for x, y in loader:
        loss = criterion(model(x), y)
        loss = torch.tensor(loss.item(), requires_grad=True)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
```

## Use instead
```python
def train(model, loader, optimizer, criterion):
    for x, y in loader:
        loss = criterion(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        print(loss.item())
```
If the loss does not require grad, find where the graph was cut (`.item()`, `.detach()`, `.data`,
`torch.no_grad()`, a frozen model) instead of rebuilding it.

## Fix

No fix: the loss must be computed again from the graph, and the right expression depends on the training code around
it.

## Known limits
Only rebuilds of the variable that `backward()` is called on (or `training_step` returns), in the same
function or a same-file helper that returns it, are reported. A detached
copy kept for logging is fine. Tensors made to require grad on purpose (inputs for gradient penalties or
adversarial examples) are not losses and are not reported.
"""

from __future__ import annotations

from collections.abc import Iterator

from tllint.static.facts import (
    FileFacts,
)
from tllint.static.rules import (
    ERROR,
    REQUIRES_GRAD_WORDS,
    Context,
    Violation,
    rule,
)


@rule("TL016", ERROR, triggers=REQUIRES_GRAD_WORDS,
      summary="`torch.tensor(loss.item(), requires_grad=True)` and friends: nothing trains")
def loss_detached_from_graph(facts: FileFacts, ctx: Context) -> Iterator[Violation]:
    for rebuilt in facts.losses_rebuilt:
        backward = next(
            (b for b in facts.backwards
             if b.name == rebuilt.name and b.where.scope == rebuilt.where.scope and b.at >= rebuilt.at),
            None,
        )
        if backward is None:
            continue
        line = ctx.line(backward.where.node)
        runs = (f"the backward Lightning runs on what `training_step` returns (line {line})"
                if backward.by_lightning else f"`{rebuilt.name}.backward()` on line {line}")
        yield Violation(
            f"`{rebuilt.name}` is rebuilt from a number or a detached tensor, so it no longer depends on any "
            f"parameter: {runs} computes no gradient and nothing trains. Call `backward()` on the loss the model "
            "computed; if it does not require grad, find where the graph was cut (`.item()`, `.detach()`, "
            "`.data`, `torch.no_grad()`).",
            rebuilt.where.node,
        )
