"""## What it does
`tllint run` only: reports parameters whose `requires_grad` changed after `DistributedDataParallel` wrapped
their model (frozen or unfrozen after `DDP(model)`).

## Why is this bad?
DDP's reducer builds its gradient buckets from the parameters that require grad at wrap time and never looks
again. A parameter unfrozen later gets gradients that are never all-reduced: each rank updates it with its own
gradient and the replicas silently drift apart. A parameter frozen later leaves the reducer waiting for a
gradient that never comes ("Expected to have finished reduction in the prior iteration") unless
`find_unused_parameters=True` hides it at a cost on every step. Change `requires_grad` before wrapping, or
wrap again after changing it.

## Example
```python
import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel as DDP

dist.init_process_group("gloo", init_method="tcp://127.0.0.1:29517", rank=0, world_size=1)
model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))
model[0].requires_grad_(False)
ddp = DDP(model)
model[0].requires_grad_(True)  # unfrozen after wrapping: never synchronised
optimizer = torch.optim.SGD(ddp.parameters(), lr=0.01)
for _ in range(3):
    optimizer.zero_grad()
    ddp(torch.randn(4, 8)).sum().backward()
    optimizer.step()
```

## Use instead
```python
import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel as DDP

dist.init_process_group("gloo", init_method="tcp://127.0.0.1:29517", rank=0, world_size=1)
model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))
model[0].requires_grad_(False)
model[0].requires_grad_(True)  # decide what trains before wrapping
ddp = DDP(model)
optimizer = torch.optim.SGD(ddp.parameters(), lr=0.01)
for _ in range(3):
    optimizer.zero_grad()
    ddp(torch.randn(4, 8)).sum().backward()
    optimizer.step()
```

## Fix

No fix. The audit watches a running model, not source text; where the same mistake shows in the source, the static
rule that finds it there says whether `tllint check --fix` can repair it.

## Known limits
Seen only by `tllint run`, for DDP wrappers built while the script runs and whose forward ran before the
audited step; parameters listed in `_ddp_params_and_buffers_to_ignore` are reported like the others. A change
made after the audited step (a scheduled unfreeze) is seen when that step is audited (`--step N`).
"""

from __future__ import annotations

from collections.abc import Iterator

from tllint.runtime.evidence import Evidence, count, some, verb
from tllint.runtime.rules import WARNING, Violation, rule


@rule("TL111", WARNING, summary="`requires_grad` changed after DistributedDataParallel wrapped the model")
def requires_grad_changed_after_ddp(evidence: Evidence) -> Iterator[Violation]:
    unfrozen = [name for name, now in evidence.ddp_changed if now]
    frozen = [name for name, now in evidence.ddp_changed if not now]
    if unfrozen:
        n = len(unfrozen)
        yield Violation(
            f"{count(n, 'parameter tensor')} ({some(unfrozen)}) {verb(n, 'was', 'were')} unfrozen after "
            "DistributedDataParallel wrapped the model: DDP never all-reduces "
            f"{verb(n, 'its gradient', 'their gradients')}, so each rank trains {verb(n, 'it', 'them')} on its "
            "own data and the replicas drift apart. Set requires_grad before wrapping, or wrap again.",
            params=tuple(unfrozen))
    if frozen:
        n = len(frozen)
        yield Violation(
            f"{count(n, 'parameter tensor')} ({some(frozen)}) {verb(n, 'was', 'were')} frozen after "
            "DistributedDataParallel wrapped the model: its reducer still waits for "
            f"{verb(n, 'its gradient', 'their gradients')} (an error at the next step unless "
            "find_unused_parameters=True, which costs time on every step). Set requires_grad before wrapping.",
            params=tuple(frozen))
