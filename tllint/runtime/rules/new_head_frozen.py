"""## What it does
Reports the head of a transformers task model (`...ForSequenceClassification`, `...ForTokenClassification`,
`...ForImageClassification`, `...ForQuestionAnswering`, ...) that is frozen and gets no gradient while other
parameters (LoRA adapters, or layers of the encoder) do, when the head's weights are still at transformers'
initial values (zero biases, weights at `config.initializer_range`): it was just initialised for the new labels.

## Why is this bad?
`from_pretrained` builds a task head the checkpoint lacks (the "Some weights were newly initialized" warning)
with random weights. Frozen, it stays a random projection: the adapters or the encoder layers learn to fit
through it, the loss still falls a little, and accuracy stays near chance. The usual cause is
`get_peft_model` without `task_type` (or a vision model without `modules_to_save`), which freezes every
non-adapter parameter; a freeze loop over the whole model does the same.

## Example
```python
import torch
from peft import LoraConfig, get_peft_model
from transformers import BertConfig, BertForSequenceClassification

config = BertConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=37,
                    vocab_size=100, num_labels=3)
model = get_peft_model(BertForSequenceClassification(config), LoraConfig(r=4, target_modules=["query", "value"]))
example_inputs = {"input_ids": torch.randint(1, 100, (2, 8))}
```

## Use instead
```python
import torch
from peft import LoraConfig, TaskType, get_peft_model
from transformers import BertConfig, BertForSequenceClassification

config = BertConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=37,
                    vocab_size=100, num_labels=3)
lora = LoraConfig(r=4, target_modules=["query", "value"], task_type=TaskType.SEQ_CLS)
model = get_peft_model(BertForSequenceClassification(config), lora)
example_inputs = {"input_ids": torch.randint(1, 100, (2, 8))}
```
For a vision model, list the head: `modules_to_save=["classifier"]`.

## Fix

No fix. The audit watches a running model, not source text; where the same mistake shows in the source, the static
rule that finds it there says whether `tllint check --fix` can repair it.

## Known limits
Only transformers task classes are checked (a head is a child of the model outside its `base_model`, holding a
layer sized by `config.num_labels`); a new head of a torchvision or timm model has no recognisable initial
values. A head without a bias is judged by the spread of its weights, so a head trained only a little may still
look initial; with a bias, a head loaded from a checkpoint never does. `tllint run --step N` after the head
trained a few steps no longer sees it as new.
"""

from __future__ import annotations

from collections.abc import Iterator

from tllint.runtime.evidence import Evidence, count, some
from tllint.runtime.rules import ERROR, Violation, rule


@rule("TL110", ERROR, summary="the freshly initialised head of a task model is frozen while other layers train")
def new_head_frozen(evidence: Evidence) -> Iterator[Violation]:
    rows = {row.name: row for row in evidence.rows}
    for head, params in evidence.new_heads:
        own = [rows[name] for name in params if name in rows]
        if not own or any(row.requires_grad or row.receives_gradient for row in own):
            continue
        training = [row for row in evidence.rows if row.receives_gradient and row.name not in params]
        if not training:
            continue  # nothing trains at all: nothing-trains reports it
        adapters = sum(1 for row in training if row.adapter)
        what = "LoRA adapters" if adapters == len(training) else "other layers"
        yield Violation(
            f"The head `{head}` still holds the random values it was initialised with for the new labels, and it is "
            f"frozen ({count(len(own), 'tensor')}: {some([row.name for row in own])}) while "
            f"{count(len(training), 'parameter tensor')} of {what} train: predictions come from a fixed random "
            "projection and the loss still falls a little. With PEFT, set `task_type` (SEQ_CLS, TOKEN_CLS, "
            f"QUESTION_ANS) or list it in `modules_to_save=[\"{head.rpartition('.')[2]}\"]`; otherwise set "
            "`requires_grad=True` on it.",
            params=tuple(row.name for row in own),
        )
