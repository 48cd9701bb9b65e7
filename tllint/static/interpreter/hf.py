"""Hugging Face transformers and PEFT: what their calls do to trainability, as facts in `FileFacts.hf`.

- a transformers model of a class the table knows (`AutoModelForSequenceClassification.from_pretrained(...)`,
  `BertForSequenceClassification(config)`) records its heads, and which of them this call initialises fresh:
  every head of `from_config` or a direct construction; with `from_pretrained`, the heads sized by
  `num_labels` when labels are given (`num_labels=`, `id2label=`, `label2id=`, `ignore_mismatched_sizes=True`),
  or the heads a base checkpoint lacks when the checkpoint string names an official base checkpoint. A head
  fresh on a base checkpoint is also a `Replaced` event, so TL001 and TL013 treat it as the new layer it is;
- `LoraConfig(...)` (any `peft.*Config`) is a `PeftSettings` literal; `get_peft_model`, `PeftModel(...)` and the
  tuner classes (`LoraModel(...)`) wrap a model: a new PEFT object holds the base at `base_model.model` (`model`
  for a tuner), and the base's `requires_grad` becomes unknown to the timeline (PEFT froze it);
- `gradient_checkpointing_enable(...)`, a `Trainer` given `TrainingArguments(gradient_checkpointing=True)`,
  `enable_input_require_grads()` and `prepare_model_for_kbit_training(...)` are recorded for TL020, with the
  transformers version the file requires when it says (`check_min_version`, `require_version`, PEP 723).

Verified with transformers 5.25 and peft 0.21.2 (`tests/test_hf_peft_semantics.py`).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, replace

from tllint.static.architectures import timm_model
from tllint.static.facts import (
    UNKNOWN,
    Literal,
    MaybeChanged,
    ModelObject,
    ModelPassed,
    Origin,
    Ref,
    Replaced,
    Value,
    Where,
)
from tllint.static.facts_hf import (
    CheckpointingEnabled,
    HfAttributeRead,
    HfModel,
    InputGradsEnabled,
    NoneAsList,
    PeftSettings,
    PeftWrapped,
    TrainerBuilt,
)
from tllint.static.hf_architectures import (
    HfClass,
    auto_class,
    auto_classes,
    checkpoint_family,
    encoder_attributes,
    hf_class,
    is_auto_class,
)
from tllint.static.interpreter.imports import dotted
from tllint.static.interpreter.state import Base, Frame, attach
from tllint.static.interpreter.syntax import arguments, bool_literal, keyword_value, string_literal

TASK_TYPES = frozenset({"SEQ_CLS", "SEQ_2_SEQ_LM", "CAUSAL_LM", "TOKEN_CLS", "QUESTION_ANS", "FEATURE_EXTRACTION"})
LIST_METHODS_RETURNING_NONE = frozenset({"append", "extend", "insert", "sort", "reverse", "remove", "clear"})
LIST_KEYWORDS = ("modules_to_save", "target_modules", "exclude_modules")
LABEL_KEYWORDS = ("num_labels", "id2label", "label2id")
# Words in a checkpoint name that say it was fine-tuned for a task: its head may be trained already.
FINE_TUNED = re.compile(r"finetuned|fine-tuned|mnli|squad|sst|imdb|emotion|sentiment|conll|nli|cola|mrpc|qqp|"
                        r"qnli|rte|stsb|boolq|-ner|ner-|-ft|960h|100h", re.IGNORECASE)
TRAINERS = ("transformers.Trainer", "transformers.Seq2SeqTrainer", "transformers.trainer.Trainer")
TRAINING_ARGUMENTS = ("transformers.TrainingArguments", "transformers.Seq2SeqTrainingArguments",
                      "transformers.training_args.TrainingArguments")
# PEFT methods whose names mention trainability but only read it.
READ_ONLY_METHODS = frozenset({"print_trainable_parameters", "get_nb_trainable_parameters"})
# PEFT methods that may make adapters trainable again.
ADAPTER_METHODS = frozenset({"set_adapter", "enable_adapter_layers", "add_adapter", "load_adapter", "train_adapter",
                             "set_requires_grad"})
# Methods that make the inputs of checkpointed blocks require grad (PEFT's calls transformers').
INPUT_GRAD_METHODS = frozenset({"enable_input_require_grads", "prepare_model_for_gradient_checkpointing"})
CHECKPOINTING_METHODS = ("gradient_checkpointing_enable", "activation_checkpointing_enable")
VERSION_CHECKS = ("transformers.utils.check_min_version", "transformers.utils.versions.require_version",
                  "transformers.check_min_version")
SCRIPT_HEADER = re.compile(r"^# /// script\s*$(.*?)^# ///\s*$", re.MULTILINE | re.DOTALL)
VERSION = re.compile(r"(\d+)\.(\d+)(?:\.(\d+))?")


@dataclass(frozen=True)
class TrainingSettings:
    """`TrainingArguments(gradient_checkpointing=..., gradient_checkpointing_kwargs=...)`: `checkpointing` True,
    False or None (not readable); `reentrant` as in `CheckpointingEnabled`; `readable` False when the kwargs
    were given but could not be read."""

    checkpointing: bool | None
    reentrant: bool | None
    readable: bool


def _version(text: str) -> tuple[int, ...] | None:
    found = VERSION.search(text)
    return None if found is None else tuple(int(part) for part in found.groups() if part is not None)


def _reentrant(node: ast.expr | None) -> tuple[bool | None, bool]:
    """(use_reentrant, readable) of a checkpointing kwargs argument: a dict literal or `dict(...)`."""
    if node is None or (isinstance(node, ast.Constant) and node.value is None):
        return None, True
    if isinstance(node, ast.Dict):
        for key, value in zip(node.keys, node.values, strict=True):
            if key is None:
                return None, False
            if string_literal(key) == "use_reentrant":
                literal = bool_literal(value)
                return literal, literal is not None
        return None, True
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict" and not node.args:
        value = keyword_value(node, "use_reentrant")
        if value is None:
            return None, all(k.arg is not None for k in node.keywords)
        literal = bool_literal(value)
        return literal, literal is not None
    return None, False


def _strings(value: Value) -> tuple[str, ...] | None:
    if isinstance(value, Literal) and isinstance(value.value, tuple) and all(isinstance(v, str) for v in value.value):
        return value.value
    return None


def _task_type(node: ast.expr, value: Value) -> str | None:
    """`TaskType.SEQ_CLS`, `"SEQ_CLS"` or `TaskType("SEQ_CLS")` as PEFT's task name; None when not one."""
    name = None
    if isinstance(value, Literal) and isinstance(value.value, str):
        name = value.value
    elif isinstance(node, ast.Attribute) and (dotted(node.value) or "").endswith("TaskType"):
        name = node.attr
    elif isinstance(node, ast.Call) and len(node.args) == 1 and (dotted(node.func) or "").endswith("TaskType"):
        name = string_literal(node.args[0])
    return name if name in TASK_TYPES else None


class HfCalls(Base):
    # --- library calls ----------------------------------------------------------------------------------------

    def hf_library_call(self, node: ast.Call, qual: str, frame: Frame, statement: ast.AST) -> Value | None:
        """PEFT configs and wrappers, `Trainer`, `TrainingArguments`, version checks; None for anything else."""
        last = qual.rsplit(".", 1)[-1]
        if qual.startswith("peft."):
            if last == "get_peft_model":
                return self.peft_wrap(node, last, ("model", "peft_config"), frame, statement)
            if last == "PeftModel" or last.startswith("PeftModelFor"):
                return self.peft_wrap(node, last, ("model", "peft_config"), frame, statement)
            if last.endswith("Model") and last[:1].isupper() and not last.startswith("Peft"):
                return self.peft_wrap(node, "tuner", ("model", "config"), frame, statement)
            if last == "from_pretrained" and qual.rsplit(".", 2)[-2].startswith("PeftModel"):
                return self.peft_wrap(node, "from_pretrained", ("model", "model_id"), frame, statement)
            if last == "prepare_model_for_kbit_training":
                return self.kbit_preparation(node, frame, statement)
            if last.endswith("Config") and last[:1].isupper():
                return self.peft_settings(node, frame)
        if qual in TRAINING_ARGUMENTS:
            return self.training_arguments(node, frame)
        if qual in TRAINERS:
            return self.trainer(node, frame, statement)
        if qual in VERSION_CHECKS:
            return self.version_check(node, qual, frame)
        if qual.startswith("transformers.") and hf_class(last) is not None:
            return self.hf_direct_model(node, last, frame, statement)
        return None

    def peft_settings(self, node: ast.Call, frame: Frame) -> Value:
        settings = PeftSettings(self.text(node.func), node)
        unread = set()
        for keyword in node.keywords:
            value = self.value(keyword.value, frame)
            if keyword.arg is None:
                settings.opaque = True
            elif keyword.arg == "task_type":
                settings.task_type = _task_type(keyword.value, value)
                if settings.task_type is None and not (isinstance(value, Literal) and value.value is None):
                    unread.add("task_type")
            elif keyword.arg in LIST_KEYWORDS:
                self.none_as_list(keyword, node, frame)
                if keyword.arg == "exclude_modules" or (isinstance(value, Literal) and value.value is None):
                    continue
                if keyword.arg == "target_modules" and isinstance(value, Literal) and isinstance(value.value, str):
                    settings.target_modules = value.value  # a regular expression, or "all-linear"
                    continue
                strings = _strings(value)
                if strings is None:
                    unread.add(keyword.arg)
                elif keyword.arg == "modules_to_save":
                    settings.modules_to_save = strings
                else:
                    settings.target_modules = strings
        for arg in node.args:
            self.value(arg, frame)
            settings.opaque = True  # positional config fields: not read
        settings.unread = frozenset(unread)
        return Literal(settings)

    def none_as_list(self, keyword: ast.keyword, call: ast.Call, frame: Frame) -> None:
        """`modules_to_save=names.append("classifier")`: the list method returns None."""
        value = keyword.value
        if (isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute)
                and value.func.attr in LIST_METHODS_RETURNING_NONE and keyword.arg is not None):
            self.facts.hf.none_lists.append(NoneAsList(keyword.arg, value.func.attr, self.text(call.func),
                                                       self.where(value, frame)))

    def peft_wrap(self, node: ast.Call, kind: str, names: tuple[str, str], frame: Frame, statement: ast.AST
                  ) -> Value:
        args = arguments(node)
        positional = [a for a in args if a.keyword is None and a.star == ""]
        values = {id(a): self.value(a.value, frame) for a in args}
        base = next((values[id(a)] for a in args if a.keyword == names[0]), None)
        config = next((values[id(a)] for a in args if a.keyword == names[1]), None)
        if base is None and positional:
            base = values[id(positional[0])]
        if config is None and len(positional) > 1:
            config = values[id(positional[1])]
        if not isinstance(base, Ref):
            return UNKNOWN
        settings = config.value if isinstance(config, Literal) and isinstance(config.value, PeftSettings) else None
        where = self.where(statement, frame)
        label = f"{self.text(node.func)}(...)"
        peft = ModelObject(label, Origin.INFERRED, node, constructor=f"peft.{kind}")
        prefix = ("model",) if kind == "tuner" else ("base_model", "model")
        if base.path == () and base.obj.parent is None:
            peft.attached[prefix] = base
            attach(base.obj, peft, prefix)
        self.emit(MaybeChanged(base, where))
        self.heads_handed_to_peft(base)
        self.facts.hf.wraps.append(PeftWrapped(peft, base, settings, kind, where, len(self.facts.events)))
        return Ref(peft)

    def heads_handed_to_peft(self, base: Ref) -> None:
        """The heads `from_pretrained` initialised in a model PEFT now wraps are the wrap's business (TL017):
        for the timeline rules they were built with the model, like a layer assigned in `__init__`."""
        model = self.facts.hf.models.get(base.obj.uid)
        if model is None or base.path:
            return
        for index, event in enumerate(self.facts.events):
            if isinstance(event, Replaced) and event.new is not None and event.new.node is model.obj.node:
                self.facts.events[index] = replace(event, construction=True)

    def kbit_preparation(self, node: ast.Call, frame: Frame, statement: ast.AST) -> Value:
        """`prepare_model_for_kbit_training(model)` freezes the model and, with checkpointing, hooks its inputs."""
        args = arguments(node)
        values = [self.value(a.value, frame) for a in args]
        model = values[0] if values else UNKNOWN
        if not isinstance(model, Ref):
            return UNKNOWN
        where = self.where(statement, frame)
        self.emit(MaybeChanged(model, where))
        self.facts.hf.input_grads.append(InputGradsEnabled(model, where, len(self.facts.events)))
        return model

    def training_arguments(self, node: ast.Call, frame: Frame) -> Value:
        for arg in arguments(node):
            self.value(arg.value, frame)
        if any(k.arg is None for k in node.keywords):
            return Literal(TrainingSettings(None, None, False))
        enabled = keyword_value(node, "gradient_checkpointing")
        checkpointing = False if enabled is None else bool_literal(enabled)
        reentrant, readable = _reentrant(keyword_value(node, "gradient_checkpointing_kwargs"))
        return Literal(TrainingSettings(checkpointing, reentrant, readable))

    def trainer(self, node: ast.Call, frame: Frame, statement: ast.AST) -> Value:
        """`Trainer(model=..., args=...)`: the model is handed over, and checkpointing enabled when asked."""
        args = arguments(node)
        values = {id(a): self.value(a.value, frame) for a in args}
        positional = [a for a in args if a.keyword is None and a.star == ""]
        model = next((values[id(a)] for a in args if a.keyword == "model"), None)
        settings = next((values[id(a)] for a in args if a.keyword == "args"), None)
        if model is None and positional:
            model = values[id(positional[0])]
        if settings is None and len(positional) > 1:
            settings = values[id(positional[1])]
        where = self.where(statement, frame)
        for value in values.values():
            if isinstance(value, Ref):
                self.emit(ModelPassed(value, where))
        if isinstance(model, Ref):
            self.facts.hf.trainers.append(TrainerBuilt(model, where, len(self.facts.events)))
        if (isinstance(model, Ref) and isinstance(settings, Literal) and isinstance(settings.value, TrainingSettings)
                and settings.value.checkpointing and settings.value.readable):
            self.record_checkpointing(model, settings.value.reentrant, where, "Trainer")
        return UNKNOWN

    def version_check(self, node: ast.Call, qual: str, frame: Frame) -> Value:
        """`check_min_version("4.46.0")`, `require_version("transformers>=4.46")`: the file needs at least that."""
        args = arguments(node)
        for arg in args:
            self.value(arg.value, frame)
        text = string_literal(args[0].value) if args else None
        if text is not None and (qual.endswith("check_min_version") or re.match(r"transformers\s*(>=|==)", text)):
            self.raise_floor(_version(text))
        return UNKNOWN

    def raise_floor(self, version: tuple[int, ...] | None) -> None:
        floor = self.facts.hf.transformers_floor
        if version is not None and (floor is None or version > floor):
            self.facts.hf.transformers_floor = version

    # --- models -----------------------------------------------------------------------------------------------

    def hf_direct_model(self, node: ast.Call, class_name: str, frame: Frame, statement: ast.AST) -> Value:
        """`BertForSequenceClassification(config)`: a model with random weights, every head fresh."""
        for arg in arguments(node):
            self.value(arg.value, frame)
        ref = self.new_object(node, frame, statement, Origin.LIBRARY, f"transformers.{class_name}", pretrained=False)
        self.hf_model_built(ref, node, ref.obj.constructor or "", frame, statement)
        return ref

    def hf_model_built(self, ref: Ref, node: ast.Call, constructor: str, frame: Frame, statement: ast.AST) -> None:
        """Record what tllint knows of a transformers (or timm) model just built by `node`."""
        if constructor.startswith("timm:"):
            self.timm_model_built(ref, node, constructor, frame, statement)
            return
        if not constructor.startswith("transformers."):
            return
        parts = constructor.split(".")
        method = parts[-1] if parts[-1] in ("from_pretrained", "from_config") else None
        class_name = parts[-2] if method else parts[-1]
        args = arguments(node)
        checkpoint = None
        if method == "from_pretrained":
            first = next((a.value for a in args if a.keyword in (None, "pretrained_model_name_or_path")
                          and a.star == ""), None)
            value = self.value_quietly(first, frame)
            checkpoint = value.value if isinstance(value, Literal) and isinstance(value.value, str) else None
        family = checkpoint_family(checkpoint) if checkpoint else None
        if is_auto_class(class_name) and family is None:
            self.auto_model_built(ref, node, class_name, method, frame, statement)
            return
        known = auto_class(class_name, family) if is_auto_class(class_name) else hf_class(class_name)
        if known is None:
            return
        fresh = self.fresh_heads(known, node, method, checkpoint)
        where = self.where(statement, frame)
        self.facts.hf.models[ref.obj.uid] = HfModel(
            ref.obj, known.name, known.family, checkpoint, known.children, known.heads,
            tuple((head, tuple(p for p in known.logits if p == head or p.startswith(f"{head}."))) for head in fresh),
            known.stem, known.main_input, where)
        if method != "from_pretrained" or self.base_checkpoint(known, checkpoint):
            for head in fresh:
                self.new_head(ref, head, node, where)

    def auto_model_built(self, ref: Ref, node: ast.Call, auto: str, method: str | None, frame: Frame,
                         statement: ast.AST) -> None:
        """An Auto class whose family tllint cannot tell: its head is one of the families' heads, and new when
        labels are given."""
        candidates = auto_classes(auto)
        inputs = {known.main_input for known in candidates}
        heads = {head: tuple(p for p in known.logits if p == head or p.startswith(f"{head}."))
                 for known in candidates for head in self.fresh_heads(known, node, method, None)}
        self.facts.hf.models[ref.obj.uid] = HfModel(
            ref.obj, auto, None, None, (), tuple(heads), tuple(sorted(heads.items())), (),
            inputs.pop() if len(inputs) == 1 else None, self.where(statement, frame), alternatives=True)

    def timm_model_built(self, ref: Ref, node: ast.Call, constructor: str, frame: Frame, statement: ast.AST
                         ) -> None:
        """`timm.create_model(name, num_classes=10)`: a new head, where the table says the classifier is."""
        arch = timm_model(constructor.removeprefix("timm:"))
        classes = self.value_quietly(keyword_value(node, "num_classes"), frame)
        if arch is None or not arch.heads or not isinstance(classes, Literal) or not isinstance(classes.value, int):
            return
        head = arch.heads[0]
        fresh = ((head, (head,)),) if 0 < classes.value != arch.head_out_features else ()
        self.facts.hf.models[ref.obj.uid] = HfModel(
            ref.obj, arch.name, None, None, arch.children, (head,), fresh, (), None, self.where(statement, frame))

    def value_quietly(self, node: ast.expr | None, frame: Frame) -> Value:
        """The value of a name or literal already evaluated by the caller (no call is evaluated twice)."""
        if isinstance(node, ast.Name):
            return frame.env.get(node.id, UNKNOWN)
        if isinstance(node, ast.Constant) and isinstance(node.value, str | int) and not isinstance(node.value, bool):
            return Literal(node.value)
        return UNKNOWN

    @staticmethod
    def base_checkpoint(known: HfClass, checkpoint: str | None) -> bool:
        """An official base checkpoint of the class's family, not one fine-tuned for a task."""
        return (checkpoint is not None and checkpoint_family(checkpoint) == known.family
                and not FINE_TUNED.search(checkpoint) and not known.checkpoints_hold_head)

    def fresh_heads(self, known: HfClass, node: ast.Call, method: str | None, checkpoint: str | None
                    ) -> tuple[str, ...]:
        """The heads sized by `num_labels` that this call initialises rather than loads."""
        if method != "from_pretrained":
            return known.logits_heads
        labels = any(keyword_value(node, name) is not None for name in LABEL_KEYWORDS)
        mismatched_node = keyword_value(node, "ignore_mismatched_sizes")
        mismatched = mismatched_node is not None and bool_literal(mismatched_node) is True
        if checkpoint is not None and FINE_TUNED.search(checkpoint) and not mismatched:
            return ()  # a task checkpoint: its head is trained, and loads when the labels match
        if labels or mismatched:
            return known.logits_heads
        if self.base_checkpoint(known, checkpoint):
            return tuple(head for head in known.logits_heads if head in known.new_heads)
        return ()

    def new_head(self, ref: Ref, head: str, node: ast.Call, where: Where) -> None:
        """A head `from_pretrained` initialises is a new layer in the model, as if assigned there."""
        layer = ModelObject(f"the new `{head}` head", Origin.LAYER, node, has_params=True)
        slot = Ref(ref.obj, (head,))
        ref.obj.attached[slot.path] = Ref(layer)
        attach(layer, ref.obj, slot.path)
        self.emit(Replaced(slot, layer, where, f"model.{head}"))

    def hf_attribute_read(self, base: Value, node: ast.Attribute, frame: Frame) -> None:
        """`model.bert` on a known model: recorded for TL006; a PEFT config read after it was built is opaque."""
        if isinstance(base, Literal) and isinstance(base.value, PeftSettings):
            base.value.opaque = True
            return
        if not isinstance(base, Ref) or base.path:
            return
        model = self.facts.hf.models.get(base.obj.uid)
        if model is not None and model.family is not None and node.attr in encoder_attributes():
            self.facts.hf.attribute_reads.append(HfAttributeRead(base, node.attr, node, self.where(node, frame)))

    def hf_setting_written(self, receiver: Value) -> bool:
        """`config.modules_to_save = [...]` after the config was built: nothing is known of it any more."""
        if isinstance(receiver, Literal) and isinstance(receiver.value, PeftSettings):
            receiver.value.opaque = True
            return True
        return False

    # --- methods ----------------------------------------------------------------------------------------------

    def hf_model_method(self, node: ast.Call, method: str, ref: Ref, frame: Frame, statement: ast.AST
                        ) -> Value | None:
        if method in CHECKPOINTING_METHODS:
            kwargs = keyword_value(node, "gradient_checkpointing_kwargs") or keyword_value(
                node, "activation_checkpointing_kwargs")
            positional = [a.value for a in arguments(node) if a.keyword is None]
            if kwargs is None and positional:
                kwargs = positional[0]
            for arg in arguments(node):
                self.value(arg.value, frame)
            reentrant, readable = _reentrant(kwargs)
            if readable and not any(k.arg is None for k in node.keywords):
                self.record_checkpointing(ref, reentrant, self.where(statement, frame))
            return UNKNOWN
        if method in READ_ONLY_METHODS:
            return UNKNOWN
        if ref.obj.uid in self.facts.hf.models:
            self.facts.hf.called.add((ref.obj.uid, (*ref.path, method)))
        if method in ADAPTER_METHODS:
            for arg in arguments(node):
                self.value(arg.value, frame)
            self.emit(MaybeChanged(ref, self.where(statement, frame)))
            return UNKNOWN
        if method in INPUT_GRAD_METHODS:
            where = self.where(statement, frame)
            self.facts.hf.input_grads.append(InputGradsEnabled(ref, where, len(self.facts.events)))
            return UNKNOWN
        return None

    def record_checkpointing(self, ref: Ref, reentrant: bool | None, where: Where, via: str = "") -> None:
        if self.facts.hf.transformers_floor is None or not self.facts.hf.checkpointing:
            header = SCRIPT_HEADER.search("\n".join(self.source.lines))
            if header is not None:
                pin = re.search(r"""["']transformers\s*(?:>=|==|~=)\s*([\d.]+)""", header.group(1))
                self.raise_floor(_version(pin.group(1)) if pin else None)
        self.facts.hf.checkpointing.append(
            CheckpointingEnabled(ref, reentrant, where, len(self.facts.events), via))
