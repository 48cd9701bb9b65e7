"""## What it does
Finds `get_peft_model(model, config)` (and `PeftModel(model, config)`, `LoraModel(model, config, name)`) on a
model whose head is new, when the config neither has a task type that saves that head nor lists it in
`modules_to_save` (nor puts an adapter on it), and nothing re-enables it afterwards. A head is new when:

- the model is a transformers task class with a head sized by `num_labels` (`AutoModelForSequenceClassification`,
  `...ForTokenClassification`, `...ForQuestionAnswering`, `AutoModelForImageClassification`, ...) loaded with
  labels (`num_labels=`, `id2label=`, `label2id=`, `ignore_mismatched_sizes=True`), or from the official base
  checkpoint of its family (`"roberta-large"`, `"bert-base-uncased"`), or built from a config;
- a timm model is created with a `num_classes` other than its default;
- a layer was assigned into the model before the wrap (`model.classifier = nn.Linear(...)`, `model.fc = ...`).

## Why is this bad?
`get_peft_model` freezes every parameter of the base model except the adapters and the modules it saves. A
classification head that `from_pretrained` just initialised (the "Some weights were newly initialized" warning)
is frozen at its random values: the adapters train through a fixed random projection, the loss still falls a
little, and the accuracy stays near chance. PEFT prints only a trainable-parameter count.
With `task_type="SEQ_CLS"` or `"TOKEN_CLS"`, `get_peft_model` adds `classifier` and `score` to
`modules_to_save`, and `"QUESTION_ANS"` adds `qa_outputs`; no task type saves a vision head, a T5
`classification_head` or a head you named yourself, and `PeftModel(...)` or `LoraModel(...)` built directly
ignore the task type. `modules_to_save` entries match module paths by their ending (`"classifier"`,
`"out_proj"`).

## Example
```python
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForSequenceClassification

model = AutoModelForSequenceClassification.from_pretrained("roberta-large", num_labels=3)
config = LoraConfig(r=8, lora_alpha=16, target_modules=["query", "value"])
model = get_peft_model(model, config)
```

## Use instead
```python
from peft import LoraConfig, TaskType, get_peft_model
from transformers import AutoModelForSequenceClassification

model = AutoModelForSequenceClassification.from_pretrained("roberta-large", num_labels=3)
config = LoraConfig(task_type=TaskType.SEQ_CLS, r=8, lora_alpha=16, target_modules=["query", "value"])
model = get_peft_model(model, config)
```
For a vision model, or any head the task type does not name, list it: `modules_to_save=["classifier"]`.

## Fix

No fix: which modules PEFT should keep trainable (`modules_to_save`) depends on the model and the task.

## Known limits
Verified with transformers 5.25 and peft 0.21. A checkpoint is taken as a base checkpoint only when its name is
an official one of a family the table knows; a name with a task in it (`-finetuned-sst-2`, `-mnli`, `-squad`) or
a checkpoint in a variable, loaded without labels, may already hold a trained head and stays quiet, and so does a
head loaded with labels from a checkpoint fine-tuned on as many labels. Only the layer that emits the logits is
checked: DistilBERT's `pre_classifier` or RoBERTa's `classifier.dense` left frozen by a `modules_to_save` that
names only the last layer is not reported. A config built elsewhere, read or changed after it was built, or
given as `**kwargs` keeps the rule quiet, as does a wrap inside a helper whose model tllint cannot follow.
"""

from __future__ import annotations

from collections.abc import Iterator

from tllint.static.facts import FileFacts
from tllint.static.facts_hf import PeftWrapped
from tllint.static.rules import ERROR, Context, Violation, rule, when
from tllint.static.rules._hf import NewHead, enabled_later, new_heads, trained_by_config

PEFT_WORDS = ("peft",)


@rule("TL017", ERROR, triggers=PEFT_WORDS,
      summary="`get_peft_model` on a model with a new head that the config neither saves nor trains")
def peft_new_head_frozen(facts: FileFacts, ctx: Context) -> Iterator[Violation]:
    for wrap in facts.hf.wraps:
        heads = new_heads(facts, wrap)
        frozen = [head for head in heads
                  if trained_by_config(head, wrap) is False and not enabled_later(facts, wrap, head)]
        if any(head.origin == "one of" for head in heads if head not in frozen):
            frozen = [head for head in frozen if head.origin != "one of"]  # the real head may be the trained one
        if frozen:
            yield Violation(_message(frozen, wrap, facts, ctx), wrap.where.node)


def _message(heads: list[NewHead], wrap: PeftWrapped, facts: FileFacts, ctx: Context) -> str:
    known = [head for head in heads if head.origin != "one of"]
    options = sorted((head for head in heads if head.origin == "one of"), key=lambda head: _COMMON.get(head.path, 9))
    names = [f"`{head.path}`" for head in known]
    if options:
        names.append(" or ".join(f"`{head.path}`" for head in options) + " (whichever the checkpoint's class has)")
    origins = "; ".join(dict.fromkeys(_origin(head, ctx) for head in known + options))
    call = "get_peft_model" if wrap.kind == "get_peft_model" else ctx.text(wrap.where.node).split("(", 1)[0]
    listed = ", ".join(dict.fromkeys(f'"{head.path.rpartition(".")[2]}"' for head in known + options[:1]))
    return (f"`{call}` freezes every parameter except the adapters and `modules_to_save`, so the new head "
            f"{', '.join(names)} ({origins}) stays at its random initial values while the adapters train: "
            "predictions come from a fixed random projection and the loss still falls a little. Add "
            f"`modules_to_save=[{listed}]` to the config{_task_hint(known + options, wrap, facts)}."
            f"{when(wrap.where)}")


# Head names by how common they are, to name the likeliest first when the checkpoint is unknown.
_COMMON = {"classifier": 0, "score": 1, "qa_outputs": 2}


def _origin(head: NewHead, ctx: Context) -> str:
    line = ctx.line(head.line_node)  # type: ignore[arg-type]
    return f"assigned on line {line}" if head.origin == "replaced" else f"initialised on line {line}"


def _task_hint(heads: list[NewHead], wrap: PeftWrapped, facts: FileFacts) -> str:
    """The task type that would save these heads, when there is one and the wrap honours it."""
    model = facts.hf.model(wrap.base.obj)
    if wrap.kind != "get_peft_model" or model is None or model.main_input != "input_ids":
        return ""
    names = {head.path for head in heads if head.origin != "one of"}
    if not names <= {"classifier", "score", "qa_outputs"} or (len(names) > 1 and "qa_outputs" in names):
        return ""
    if "qa_outputs" in names or ("QuestionAnswering" in model.class_name and not names):
        return ", or set `task_type=TaskType.QUESTION_ANS`"
    task = "TOKEN_CLS" if "TokenClassification" in model.class_name else "SEQ_CLS"
    return f", or set `task_type=TaskType.{task}` (which saves `classifier` and `score`)"
