"""## What it does
Finds gradient checkpointing with reentrant checkpoints on a model whose input embeddings are frozen, when nothing
makes the checkpointed blocks' inputs require grad:

- `model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": True})`, or with no kwargs
  when the file does not require a transformers version whose default is non-reentrant, or a `Trainer` given
  `TrainingArguments(gradient_checkpointing=True)`;
- on a PEFT model (`get_peft_model` froze the embeddings) wrapped *before* checkpointing was enabled, or on a model
  whose input embeddings were frozen while other layers still train;
- with no `model.enable_input_require_grads()`, no `prepare_model_for_kbit_training(model)`, and no
  `use_reentrant=False`.

## Why is this bad?
A reentrant checkpoint (`torch.utils.checkpoint` with `use_reentrant=True`) runs its block without building a graph
and only connects it to autograd when one of its inputs requires grad. With frozen embeddings the hidden states
entering the first block do not, so no checkpointed block gets a gradient: the LoRA parameters inside stay at
zero (`lora_B` keeps its initial zeros, so the adapters do nothing) while a trainable head after them still
trains, and the loss still falls a little. With nothing trainable after them, `backward()` raises
`element 0 of tensors does not require grad`.

Which libraries do it for you (verified): `get_peft_model` calls `enable_input_require_grads()` itself when the
model already has checkpointing on, so the order of the calls matters; `prepare_model_for_kbit_training` does it
for quantized models. transformers before 5 defaults to `use_reentrant=True` and hooks the inputs only for
adapters it loaded itself (4.46); transformers 5.25 defaults to `use_reentrant=False` and hooks the inputs of text
models (`input_ids`) itself, but not of vision or audio models. This rule assumes the older default unless the
file requires transformers >= 5.25 (`check_min_version`, `require_version("transformers>=...")`, or a PEP 723
`# /// script` header).

## Example
```python
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForImageClassification

model = AutoModelForImageClassification.from_pretrained("google/vit-base-patch16-224-in21k", num_labels=10)
model = get_peft_model(model, LoraConfig(r=16, target_modules=["query", "value"], modules_to_save=["classifier"]))
model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": True})
```

## Use instead
```python
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForImageClassification

model = AutoModelForImageClassification.from_pretrained("google/vit-base-patch16-224-in21k", num_labels=10)
model = get_peft_model(model, LoraConfig(r=16, target_modules=["query", "value"], modules_to_save=["classifier"]))
model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
```
Or call `model.enable_input_require_grads()`, or enable checkpointing before `get_peft_model`.

## Fix

No fix: enabling input gradients or switching to non-reentrant checkpointing are both right; the choice depends on
the library versions in use.

## Known limits
A warning: the default depends on the installed transformers, which the file rarely says. Checkpointing
enabled inside the model's own code, with `torch.utils.checkpoint` directly, or by a trainer other than
`transformers.Trainer` (TRL's trainers default to non-reentrant checkpoints and hook the inputs when they need
to) is not seen; nor is a model whose embeddings are frozen by a call tllint cannot see into. With transformers
5.0-5.24 pinned, the rule still assumes the old default: the versions between the two verified ones were not
checked.
"""

from __future__ import annotations

from collections.abc import Iterator

from tllint.static.facts import FileFacts, Ref
from tllint.static.facts_hf import CheckpointingEnabled, PeftWrapped
from tllint.static.rules import WARNING, Context, Violation, rule, when
from tllint.static.rules._hf import base_path, within
from tllint.static.timeline import Status, status

# The first transformers version verified to default to non-reentrant checkpoints and to hook text inputs itself.
NON_REENTRANT_SINCE = (5, 25)


@rule("TL020", WARNING, triggers=("checkpointing_enable", "gradient_checkpointing=True"),
      summary="reentrant gradient checkpointing on frozen embeddings without `enable_input_require_grads()`")
def reentrant_checkpointing_without_input_grads(facts: FileFacts, ctx: Context) -> Iterator[Violation]:
    modern = facts.hf.transformers_floor is not None and facts.hf.transformers_floor >= NON_REENTRANT_SINCE
    for enabled in facts.hf.checkpointing:
        if enabled.reentrant is False or (enabled.reentrant is None and modern):
            continue
        wrap = next((w for w in reversed(facts.hf.wraps) if base_path(enabled.ref, w) is not None), None)
        frozen = _frozen_by_peft(wrap, enabled, ctx) if wrap is not None else _frozen_embeddings(facts, enabled)
        if frozen is None:
            continue
        model = facts.hf.model(wrap.base.obj if wrap is not None else enabled.ref.absolute()[0])
        if modern and model is not None and model.main_input == "input_ids":
            continue  # transformers >= 5.25 hooks the inputs of text models itself
        if _inputs_hooked(facts, enabled, wrap):
            continue
        how = "`use_reentrant=True`" if enabled.reentrant else "`use_reentrant=True`, transformers' default before 5"
        where = "The Trainer enables" if enabled.via == "Trainer" else "This enables"
        inside = "the LoRA adapters inside them get" if wrap is not None else "the layers inside them get"
        yield Violation(
            f"{where} gradient checkpointing with reentrant checkpoints ({how}) on a model whose input embeddings "
            f"are frozen ({frozen}): the checkpointed blocks receive inputs that do not require grad, so {inside} "
            "no gradient and never train, while a head after them still does. "
            "Pass `gradient_checkpointing_kwargs={\"use_reentrant\": False}`, or call "
            f"`model.enable_input_require_grads()`.{when(enabled.where)}",
            enabled.where.node,
        )


def _frozen_by_peft(wrap: PeftWrapped, enabled: CheckpointingEnabled, ctx: Context) -> str | None:
    """PEFT froze the embeddings, and (wrapped before checkpointing) did not hook the inputs."""
    if wrap.at > enabled.at and wrap.kind != "tuner":
        return None  # PeftModel.__init__ calls enable_input_require_grads() when checkpointing is already on
    settings = wrap.settings
    if settings is not None and settings.known("modules_to_save") and any(
            "emb" in name or name in ("wte", "shared") for name in settings.modules_to_save or ()):
        return None
    return f"`{ctx.text(wrap.where.node).split('(', 1)[0]}` on line {ctx.line(wrap.where.node)} froze them"


def _frozen_embeddings(facts: FileFacts, enabled: CheckpointingEnabled) -> str | None:
    """Everything that runs before the first checkpointed layer ends up frozen while other parameters train."""
    root = enabled.ref.absolute()[0]
    model = facts.hf.model(root)
    if model is None or not model.stem or enabled.ref.path:
        return None
    end = len(facts.events)
    stem = [Ref(root, tuple(name.split("."))) for name in model.stem]
    if any(status(facts, ref, end) is not Status.FROZEN for ref in stem):
        return None
    if status(facts, Ref(root), end) is not Status.PARTIAL:
        return None
    modules = sorted({name.rpartition(".")[0] for name in model.stem})
    shared: list[str] = []
    for column in zip(*(module.split(".") for module in modules), strict=False):
        if len(set(column)) > 1:
            break
        shared.append(column[0])
    common = ".".join(shared)
    shown = f"`{common}`" if common.count(".") else " and ".join(f"`{module}`" for module in modules)
    return f"{shown}: everything before the first checkpointed layer"


def _inputs_hooked(facts: FileFacts, enabled: CheckpointingEnabled, wrap: PeftWrapped | None) -> bool:
    """`enable_input_require_grads()` (or `prepare_model_for_kbit_training`) on the same model, at any time."""
    for hooked in facts.hf.input_grads:
        if wrap is not None and base_path(hooked.ref, wrap) is not None:
            return True
        if wrap is None and within(hooked.ref, enabled.ref.absolute()[0]) is not None:
            return True
    return False
