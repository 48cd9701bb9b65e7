"""What TL017-TL020 ask of a PEFT wrap: where a ref lies inside the wrapped model, which of its heads are new,
which of them the config trains, and what later events do to them; and, for TL006, attributes a known transformers
class does not have.

PEFT facts (peft 0.21, `tests/test_hf_peft_semantics.py`): `get_peft_model` freezes every parameter of the
base model except the adapters and the modules it saves; `modules_to_save` entries match the base model's module
paths by string suffix (`"classifier"`, `"out_proj"`); `get_peft_model` with `task_type` SEQ_CLS or TOKEN_CLS
adds `classifier` and `score`, QUESTION_ANS adds `qa_outputs`, and no other task type (nor `PeftModel(...)` or a
tuner class built directly) saves anything; `target_modules` entries match a path or its last components
(`"query"` matches `bert.encoder.layer.0.attention.self.query`), a string is a regular expression matched in
full, and `"all-linear"` takes every linear layer except a SEQ_CLS head.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from tllint.static.facts import (
    Effect,
    FileFacts,
    MaybeChanged,
    ModelObject,
    Origin,
    Ref,
    Replaced,
    SetRequiresGrad,
    Where,
)
from tllint.static.facts_hf import PeftSettings, PeftWrapped
from tllint.static.hf_architectures import encoder_attributes, head_attributes
from tllint.static.timeline import effect, of_type

SAVED_BY_TASK = {"SEQ_CLS": ("classifier", "score"), "TOKEN_CLS": ("classifier", "score"),
                 "QUESTION_ANS": ("qa_outputs",)}
TASK_CLASSES = {"PeftModelForSequenceClassification": "SEQ_CLS", "PeftModelForTokenClassification": "TOKEN_CLS",
                "PeftModelForQuestionAnswering": "QUESTION_ANS"}


@dataclass(frozen=True)
class NewHead:
    """A head of the base model that starts from random values: `path` (dotted, relative to the base model), the
    layers in it that emit the logits, and how it came to be new: "built" by the model's constructor, "replaced"
    by an assignment, or "one of" the heads an Auto class builds for a checkpoint tllint cannot read."""

    path: str
    logits: tuple[str, ...]
    origin: str
    line_node: object


def base_prefix(wrap: PeftWrapped) -> tuple[str, ...]:
    """Where the wrapping model keeps the base model."""
    return ("model",) if wrap.kind == "tuner" else ("base_model", "model")


def within(ref: Ref, obj: ModelObject) -> tuple[str, ...] | None:
    """The path of `ref` inside `obj`, following the objects it is attached into; None when it is not inside."""
    current, path = ref.obj, ref.path
    while current is not obj:
        if current.parent is None:
            return None
        current, path = current.parent[0], current.parent[1] + path
    return path


def base_path(ref: Ref, wrap: PeftWrapped) -> tuple[str, ...] | None:
    """The path of `ref` relative to the wrapped base model. A PEFT model forwards unknown attributes to the base
    (`peft_model.classifier` is the base's `classifier`); `peft_model` and `peft_model.base_model` are the whole
    model. None: not inside this wrap."""
    inside = within(ref, wrap.base.obj)
    if inside is not None:
        return inside
    if wrap.peft is None:
        return None
    path = within(ref, wrap.peft)
    if path is None:
        return None
    prefix = base_prefix(wrap)
    if path[:len(prefix)] == prefix:
        return path[len(prefix):]
    return path if path and path[0] not in prefix else ()


def _dotted(path: tuple[str, ...]) -> str:
    return ".".join(path)


def new_heads(facts: FileFacts, wrap: PeftWrapped) -> list[NewHead]:
    """The base model's heads that are new when it is wrapped: heads the table says this call initialised, and
    layers assigned into it before the wrap (the last assignment of each path)."""
    base = wrap.base
    if base.path:
        return []
    heads: dict[str, NewHead] = {}
    model = facts.hf.model(base.obj)
    if model is not None:
        origin = "one of" if model.alternatives else "built"
        for head, logits in model.fresh_heads:
            heads[head] = NewHead(head, logits or (head,), origin, model.where.node)
    for _, replaced in of_type(facts, Replaced, 0, wrap.at):
        path = within(replaced.ref, base.obj)
        new = replaced.new
        if path is None or not path or replaced.ref.placeholder or replaced.construction:
            continue
        if model is not None and new is not None and new.node is model.obj.node:
            continue  # the head the table already knows, as a `Replaced` event for the timeline rules
        dotted = _dotted(path)
        for known in list(heads):
            if known == dotted or known.startswith(f"{dotted}."):
                del heads[known]  # a later assignment replaced it
        if new is None or new.origin is not Origin.LAYER or not new.param_names:
            continue  # only torch.nn layers built here are surely new: a custom module may wrap the old head
        if not any(dotted.startswith(f"{known}.") for known in heads):
            heads[dotted] = NewHead(dotted, (dotted,), "replaced", replaced.where.node)
    return list(heads.values())


def _ancestors(path: str, head: str) -> Iterator[str]:
    """`classifier.out_proj` and its parents up to the head `classifier`."""
    parts = path.split(".")
    for end in range(len(parts), len(head.split(".")) - 1, -1):
        yield ".".join(parts[:end])


def saved_names(wrap: PeftWrapped) -> tuple[str, ...] | None:
    """What the wrap saves (trains in full); None when unknown."""
    settings = wrap.settings
    if settings is None or not settings.known("modules_to_save") or not settings.known("task_type"):
        return None
    names = tuple(settings.modules_to_save or ())
    task = TASK_CLASSES.get(wrap.kind, settings.task_type if wrap.kind == "get_peft_model" else None)
    return names + SAVED_BY_TASK.get(task or "", ())


def _targets(settings: PeftSettings, key: str) -> bool | None:
    """Whether LoRA (or another tuner) targets the module `key`; None when unknown."""
    targets = settings.target_modules
    if not settings.known("target_modules"):
        return None
    if targets is None:
        return False
    if isinstance(targets, str):
        if targets.lower() == "all-linear":
            return settings.task_type != "SEQ_CLS"
        try:
            return re.fullmatch(targets, key) is not None
        except re.error:
            return None
    return any(key == target or key.endswith(f".{target}") for target in targets)


def trained_by_config(head: NewHead, wrap: PeftWrapped) -> bool | None:
    """Whether the config trains the layers that emit the logits (saved whole, or an adapter on them)."""
    saved = saved_names(wrap)
    if saved is None or wrap.settings is None:
        return None
    for layer in head.logits:
        for key in _ancestors(layer, head.path):
            if any(key.endswith(name) for name in saved if name):
                return True
            targeted = _targets(wrap.settings, key)
            if targeted is None or targeted:
                return None if targeted is None else True
    return False


def enabled_later(facts: FileFacts, wrap: PeftWrapped, head: NewHead) -> bool:
    """An event after the wrap that re-enables (or may re-enable) parameters of the head."""
    target = Ref(wrap.base.obj, tuple(head.path.split(".")))
    for event in facts.events[wrap.at:]:
        if not isinstance(event, SetRequiresGrad | MaybeChanged):
            continue
        if isinstance(event, SetRequiresGrad) and event.value is False:
            continue
        path = base_path(event.ref, wrap)
        if path is None:
            continue
        dotted = _dotted(path)
        overlaps = dotted == "" or head.path.startswith(f"{dotted}.") or dotted.startswith(head.path)
        if isinstance(event, MaybeChanged):
            if overlaps:
                return True
            continue
        if overlaps and (event.selector.is_all or effect(event, target) is not Effect.UNCHANGED):
            return True
    return False


# A file that builds a transformers model tllint can know contains one of these.
HF_MODEL_WORDS = ("from_pretrained", "from_config", "ForSequence", "ForToken", "ForImage", "ForAudio", "ForQuestion",
                  "ForCausal", "ForMasked", "ForConditional", "ForMultiple", "LMHead")

# Head attributes of other libraries that users carry over to transformers models.
FOREIGN_HEADS = frozenset({"fc", "head", "heads", "classifier", "score", "lm_head", "qa_outputs"})


def misplaced_in_hf_model(facts: FileFacts) -> Iterator[tuple[object, str]]:
    """(node, message) for encoder attributes and heads that the loaded transformers class does not have:
    `model.bert` on a RoBERTa checkpoint, `model.classifier = ...` on a Llama classifier (its head is `score`)."""
    for read in facts.hf.attribute_reads:
        model = facts.hf.model(read.ref.obj)
        if model is None or read.attr in model.children or _guarded(read.where, read.attr):
            continue
        encoder = next((child for child in model.children if child in encoder_attributes()), None)
        instead = f"`model.{encoder}` (or `model.base_model`, which every architecture has)" if encoder else (
            "`model.base_model`, which every architecture has")
        yield read.node, (
            f"`{model.class_name}`{_loaded_from(model.checkpoint)} has no `{read.attr}` attribute: this line raises "
            f"AttributeError. Its encoder is {instead}.")
    for _, replaced in of_type(facts, Replaced):
        model = facts.hf.model(replaced.ref.obj)
        path = replaced.ref.path
        if (model is None or model.family is None or not model.heads or len(path) != 1 or replaced.construction
                or path[0] in model.children or path[0] not in FOREIGN_HEADS | head_attributes()
                or _guarded(replaced.where, path[0]) or (model.obj.uid, path) in facts.hf.called):
            continue  # a layer the file calls itself (`model.fc(outputs.pooler_output)`) is used
        heads = " and ".join(f"`model.{head}`" for head in model.heads)
        yield replaced.where.node, (
            f"`{model.class_name}`{_loaded_from(model.checkpoint)} has no `{path[0]}`: its forward never calls the "
            f"layer assigned to `{replaced.slot_text or path[0]}`, so the model keeps its own head and the new layer "
            f"never trains. Its head is {heads}; assign the new layer there.")


def _loaded_from(checkpoint: str | None) -> str:
    return f" (loaded from `{checkpoint}`)" if checkpoint else ""


def _guarded(where: Where, attr: str) -> bool:
    """The line runs under a test that mentions the attribute (`if hasattr(model, "bert"):`)."""
    return any(f'"{attr}"' in condition.text or f"'{attr}'" in condition.text for condition in where.conditions)
