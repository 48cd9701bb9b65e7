"""## What it does
Finds a freeze that reaches the adapters of a PEFT model: `peft_model.base_model.requires_grad_(False)`, a loop
over `peft_model.base_model.parameters()` (or over the whole PEFT model, or over the model that was wrapped)
setting `requires_grad = False` without sparing the adapters by name, when nothing re-enables them afterwards and
the model is trained after it (a `backward()`, an optimizer or a `Trainer` follows).

## Why is this bad?
For a transformers model, `model.base_model` is the encoder (`model.bert`): freezing it leaves the head
trainable, a common and correct recipe. For a PEFT model, `peft_model.base_model` is the `LoraModel` that wraps
the whole model, and the adapters live inside it (`...query.lora_A`): freezing it freezes everything, adapters
and saved heads included. Training then raises (`element 0 of tensors does not require grad`) or, if something
outside still trains, silently learns nothing where it should. The freeze is also unnecessary: `get_peft_model`
already freezes every parameter except the adapters and `modules_to_save`.

## Example
```python
from peft import LoraConfig, TaskType, get_peft_model
from transformers import AutoModelForSequenceClassification

model = AutoModelForSequenceClassification.from_pretrained("bert-base-uncased", num_labels=2)
model = get_peft_model(model, LoraConfig(task_type=TaskType.SEQ_CLS, r=8))
for param in model.base_model.parameters():  # meant: freeze BERT, keep the adapters
    param.requires_grad = False
model(**batch).loss.backward()
```

## Use instead
```python
from peft import LoraConfig, TaskType, get_peft_model
from transformers import AutoModelForSequenceClassification

model = AutoModelForSequenceClassification.from_pretrained("bert-base-uncased", num_labels=2)
model = get_peft_model(model, LoraConfig(task_type=TaskType.SEQ_CLS, r=8))
model.print_trainable_parameters()  # get_peft_model already froze everything but the adapters and the head
model(**batch).loss.backward()
```
To freeze only part of the wrapped model, spare the adapters by name (`if "lora_" not in name`).

## Fix

No fix: PEFT already freezes the base weights, so the freeze may simply go, or it may have meant a part of the base
model only; which is the author's choice.

## Known limits
Only PEFT methods that put adapters inside the layers are checked (LoRA, AdaLoRA, IA3, LoHa, LoKr, OFT, BOFT,
recognised by their config class and their parameter names `lora_`, `ia3_`, `hada_`, `lokr_`, `oft_`): prompt
tuning keeps its prompt encoder outside `base_model`, and a config tllint cannot read (or an adapter loaded with
`PeftModel.from_pretrained`) keeps the rule quiet. A freeze that spares the adapters but reaches a saved head is
not reported. A freeze in a helper tllint cannot follow, or followed by a call tllint cannot see into
(`model.set_adapter(...)`), stays quiet.
"""

from __future__ import annotations

from collections.abc import Iterator

from tllint.static.facts import Effect, FileFacts, MaybeChanged, OptimizerBuilt, Ref, SetRequiresGrad, TrainingStep
from tllint.static.facts_hf import PeftWrapped
from tllint.static.rules import ERROR, REQUIRES_GRAD_WORDS, Context, Violation, rule, via, when
from tllint.static.rules._hf import base_path, base_prefix, within
from tllint.static.timeline import of_type

# The parameter name an adapter of each PEFT method adds under the layer it adapts.
ADAPTER_NAMES = {"LoraConfig": ("lora_A", "lora_B"), "AdaLoraConfig": ("lora_A", "lora_E"), "IA3Config": ("ia3_l",),
                 "LoHaConfig": ("hada_w1_a",), "LoKrConfig": ("lokr_w1",), "OFTConfig": ("oft_R",),
                 "BOFTConfig": ("boft_R",)}


@rule("TL018", ERROR, triggers=REQUIRES_GRAD_WORDS,
      summary="a freeze of `peft_model.base_model` (or its parameters) also freezes the adapters")
def peft_base_model_frozen(facts: FileFacts, ctx: Context) -> Iterator[Violation]:
    for index, freeze in of_type(facts, SetRequiresGrad):
        if freeze.value is not False:
            continue
        for wrap in facts.hf.wraps:
            if wrap.at > index or base_path(freeze.ref, wrap) != ():
                continue
            names = _adapter_names(wrap, freeze.ref)
            if names is None or any(freeze.effect_on(name) is not Effect.FREEZES for name in names):
                continue
            if _reenabled(facts, wrap, index, names) or not _trained_after(facts, wrap, index):
                continue
            yield Violation(
                f"This freeze{via(freeze.where)} reaches {_what(freeze.ref, wrap, ctx)}, which holds the adapters "
                "(`lora_A`/`lora_B` inside the layers they adapt): they are frozen and never train. "
                "`get_peft_model` already froze every other parameter; remove the freeze, or spare the adapters "
                f"by name (`if \"lora_\" not in name`).{when(freeze.where)}",
                freeze.where.node,
            )
            break


def _what(ref: Ref, wrap: PeftWrapped, ctx: Context) -> str:
    path = within(ref, wrap.peft) if wrap.peft is not None else None
    if path == ("base_model",):
        return "`base_model` of the PEFT model (the `LoraModel` wrapping the whole model, not the encoder)"
    if path == ():
        return "every parameter of the PEFT model"
    return (f"the model wrapped on line {ctx.line(wrap.where.node)} (PEFT injected the adapters into it, so it "
            "is the same model)")


def _adapter_names(wrap: PeftWrapped, ref: Ref) -> list[str] | None:
    """Parameter names (relative to `ref`) that stand for the adapters of the wrap; None when unknown."""
    settings = wrap.settings
    markers = ADAPTER_NAMES.get(settings.label.rsplit(".", 1)[-1]) if settings is not None else None
    if settings is None or markers is None:
        return None
    targets = settings.target_modules if settings.known("target_modules") else None
    layer = targets[0] if isinstance(targets, tuple) and targets else "query"
    full = [f"{'.'.join(base_prefix(wrap))}.encoder.layer.0.{layer}.{marker}.default.weight" for marker in markers]
    if wrap.peft is None:
        return None
    path = within(ref, wrap.peft)
    if path is None:
        inside = within(ref, wrap.base.obj)
        path = None if inside is None else base_prefix(wrap) + inside
    if path is None:
        return None
    prefix = ".".join(path)
    if not prefix:
        return full
    return [name[len(prefix) + 1:] for name in full if name.startswith(f"{prefix}.")] or None


def _reenabled(facts: FileFacts, wrap: PeftWrapped, after: int, names: list[str]) -> bool:
    for event in facts.events[after + 1:]:
        if isinstance(event, MaybeChanged) and base_path(event.ref, wrap) is not None:
            return True
        if isinstance(event, SetRequiresGrad) and event.value is not False and base_path(event.ref, wrap) is not None:
            return True
    return False


def _trained_after(facts: FileFacts, wrap: PeftWrapped, after: int) -> bool:
    """A backward, an optimizer over this model, or a Trainer given it, after the freeze."""
    if any(True for _ in of_type(facts, TrainingStep, after + 1)):
        return True
    if any(base_path(source.ref, wrap) is not None for _, built in of_type(facts, OptimizerBuilt, after + 1)
           for source in built.sources()):
        return True
    return any(trainer.at > after and base_path(trainer.ref, wrap) is not None for trainer in facts.hf.trainers)
