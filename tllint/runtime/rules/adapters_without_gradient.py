"""## What it does
Reports a PEFT model whose trainable adapters (`lora_A`/`lora_B`, or another method's) all get no gradient, or only
zero gradients, while other parameters (a head) do. When gradient checkpointing is on, the message names the
usual cause: reentrant checkpoints whose inputs do not require grad.

## Why is this bad?
With `use_reentrant=True` (transformers' default before 5) a checkpointed block only joins the autograd graph
when one of its inputs requires grad. PEFT freezes the embeddings, so the hidden states entering the first block
do not, and every adapter inside the blocks is skipped by the backward pass: `lora_B` keeps its initial zeros and
the adapters never change the model, while the head after the blocks still trains and the loss still falls.
PEFT prints a healthy trainable-parameter count.

## Example
```python
import torch
from peft import LoraConfig, get_peft_model
from transformers import ViTConfig, ViTForImageClassification

config = ViTConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=37, image_size=16,
                   patch_size=8, num_labels=3)
lora = LoraConfig(r=4, target_modules=["q_proj", "v_proj"], modules_to_save=["classifier"])
model = get_peft_model(ViTForImageClassification(config), lora)
model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": True})
model.train()
example_inputs = {"pixel_values": torch.randn(2, 3, 16, 16)}
```

## Use instead
```python
import torch
from peft import LoraConfig, get_peft_model
from transformers import ViTConfig, ViTForImageClassification

config = ViTConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=37, image_size=16,
                   patch_size=8, num_labels=3)
lora = LoraConfig(r=4, target_modules=["q_proj", "v_proj"], modules_to_save=["classifier"])
model = get_peft_model(ViTForImageClassification(config), lora)
model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
model.train()
example_inputs = {"pixel_values": torch.randn(2, 3, 16, 16)}
```
Or call `model.enable_input_require_grads()`, or enable checkpointing before `get_peft_model`.

## Fix

No fix. The audit watches a running model, not source text; where the same mistake shows in the source, the static
rule that finds it there says whether `tllint check --fix` can repair it.

## Known limits
At initialisation `lora_A` gets an exactly zero gradient (because `lora_B` starts at zero), so the rule needs
every adapter tensor, `lora_B` included, to get none. Adapters that are frozen (an adapter loaded without
`is_trainable=True`) are not reported here. Without checkpointing the message cannot name a cause: the adapted
layers did not run, or their output was cut off from the loss. TL102 reports the same tensors as trainable
parameters without a gradient.
"""

from __future__ import annotations

from collections.abc import Iterator

from tllint.runtime.evidence import Evidence, count, some
from tllint.runtime.rules import ERROR, Violation, rule

NOT_ADAPTERS = ("modules_to_save", "original_module")


@rule("TL112", ERROR, summary="the trainable PEFT adapters get no gradient (reentrant checkpointing)")
def adapters_without_gradient(evidence: Evidence) -> Iterator[Violation]:
    adapters = [row for row in evidence.rows if row.adapter and row.adapter not in NOT_ADAPTERS and row.requires_grad]
    if not adapters or any(row.grad == "nonzero" for row in adapters):
        return
    if not any(row.receives_gradient for row in evidence.rows if row not in adapters):
        return  # nothing trains at all: nothing-trains reports it
    names = [row.name for row in adapters]
    if evidence.checkpointing:
        cause = ("Gradient checkpointing is on: with reentrant checkpoints (`use_reentrant=True`, transformers' "
                 "default before 5) and frozen embeddings, the checkpointed blocks' inputs do not require grad, so "
                 "the backward pass skips every block. Pass `gradient_checkpointing_kwargs={\"use_reentrant\": "
                 "False}`, or call `model.enable_input_require_grads()` (or enable checkpointing before "
                 "`get_peft_model`, which then does it).")
    else:
        cause = ("The adapted layers did not run in the forward pass, or their output is cut off from the loss "
                 "(detach, torch.no_grad).")
    yield Violation(
        f"{count(len(adapters), 'trainable adapter tensor')} ({some(names)}) get no gradient while other layers "
        f"train: the adapters never change the model. {cause}",
        params=tuple(names),
    )
