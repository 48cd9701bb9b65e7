"""## What it does
Reports normalization layers (BatchNorm, and InstanceNorm with running statistics) whose parameters are all
frozen but which are in train mode, track running statistics and run in the forward pass.

## Why is this bad?
`requires_grad=False` freezes the affine weights, not the buffers: in train mode every forward pass still
re-estimates `running_mean`/`running_var`, so the "frozen" feature extractor drifts towards the new data, and
small batches make the estimates noisy. Some recipes (the PyTorch transfer-learning tutorial, fastai) do this
on purpose, hence info. If not intended, put those layers in eval mode after every `model.train()`, or use
`torchvision.ops.FrozenBatchNorm2d`.

## Example
```python
import torch
from torch import nn

backbone = nn.Sequential(nn.Linear(8, 16), nn.BatchNorm1d(16), nn.ReLU())
backbone.requires_grad_(False)
model = nn.Sequential(backbone, nn.Linear(16, 4))
model.train()
example_inputs = torch.randn(4, 8)
```

## Use instead
```python
import torch
from torch import nn

backbone = nn.Sequential(nn.Linear(8, 16), nn.BatchNorm1d(16), nn.ReLU())
backbone.requires_grad_(False)
model = nn.Sequential(backbone, nn.Linear(16, 4))
model.train()
backbone.eval()  # after every model.train(): the frozen statistics stay fixed
example_inputs = torch.randn(4, 8)
```

## Fix

No fix. The audit watches a running model, not source text; where the same mistake shows in the source, the static
rule that finds it there says whether `tllint check --fix` can repair it.

## Known limits
Only layers derived from PyTorch's `_NormBase` (BatchNorm1d/2d/3d, SyncBatchNorm, and InstanceNorm with
`track_running_stats=True`) are checked; a custom normalization layer that keeps its own running buffers is not
seen, and `FrozenBatchNorm2d` has nothing to update. Train/eval flags are read at the audit moment: a
`model.train()` that the training loop calls later (or an `.eval()` it calls after it) is not seen by
`audit()` on a factory's model; `tllint run` reads the modes at the step. It cannot know whether updating the
statistics is intended, hence info.
"""

from __future__ import annotations

from collections.abc import Iterator

from tllint.runtime.evidence import Evidence, count, some, verb
from tllint.runtime.rules import INFO, Violation, rule


@rule("TL105", INFO, summary="a frozen normalization layer in train mode still updates its running statistics")
def frozen_batchnorm_updates(evidence: Evidence) -> Iterator[Violation]:
    if not evidence.updating_norms:
        return
    modules = [module for module, _ in evidence.updating_norms]
    params = [name for _, names in evidence.updating_norms for name in names]
    n = len(modules)
    what = (f"{count(n, 'normalization layer')} ({some(modules)}) {verb(n, 'has', 'have')} all "
            f"{verb(n, 'its', 'their')} parameters frozen but {verb(n, 'is', 'are')} in train mode, so every "
            f"training forward still updates {verb(n, 'its', 'their')} running mean/var: the frozen features "
            "drift towards the new data.")
    fix = (f" Intended in some recipes; otherwise call .eval() on {verb(n, 'it', 'them')} after every "
           "model.train() or use torchvision.ops.FrozenBatchNorm2d.")
    yield Violation(what + fix, params=tuple(params))
