"""Facts about Hugging Face transformers and PEFT, kept in `FileFacts.hf`.

They stay out of the timeline's event types: each carries `at`, the number of timeline events before it, so the
HF rules order them against the events while every other rule can ignore them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import ast

    from tllint.static.facts import ModelObject, Ref, Where


@dataclass(eq=False)
class PeftSettings:
    """What a PEFT config constructor (`LoraConfig(...)`, any `peft.*Config`) was given.

    `task_type`, `modules_to_save`, `target_modules`: the literal value, None when not given; a name in `unread`
    was given a value tllint cannot read. `opaque`: `**kwargs`, or the config was read or changed after it was
    built (`config.modules_to_save = ...`): nothing is known."""

    label: str
    node: ast.AST
    task_type: str | None = None
    modules_to_save: tuple[str, ...] | None = None
    target_modules: tuple[str, ...] | str | None = None
    unread: frozenset[str] = frozenset()
    opaque: bool = False

    def known(self, name: str) -> bool:
        return not self.opaque and name not in self.unread


@dataclass(frozen=True)
class HfModel:
    """A transformers (or timm) model built in this file whose class tllint knows: `heads` are its head attributes,
    `fresh_heads` the ones this call initialises (a new `num_labels`, a base checkpoint, `from_config`), each with
    the module paths of its layers that emit the logits."""

    obj: ModelObject
    class_name: str
    family: str | None
    checkpoint: str | None
    children: tuple[str, ...]
    heads: tuple[str, ...]
    fresh_heads: tuple[tuple[str, tuple[str, ...]], ...]
    stem: tuple[str, ...]  # parameters that run before the first checkpointed layer
    main_input: str | None
    where: Where
    alternatives: bool = False  # the class depends on a checkpoint tllint cannot read: one of `fresh_heads` exists


@dataclass(frozen=True)
class PeftWrapped:
    """`get_peft_model(base, config)`, `PeftModel(base, config)`, `LoraModel(base, config, name)`: `peft` is the
    wrapping model (None for a tuner that injects in place), `settings` the config (None when unknown), `kind`
    the call (`get_peft_model` dispatches on the task type; the classes do not)."""

    peft: ModelObject | None
    base: Ref
    settings: PeftSettings | None
    kind: str
    where: Where
    at: int


@dataclass(frozen=True)
class CheckpointingEnabled:
    """`gradient_checkpointing_enable(...)` (or `TrainingArguments(gradient_checkpointing=True)` given to a
    `Trainer`) on `ref`. `reentrant`: True/False when the kwargs say so, None for the library default."""

    ref: Ref
    reentrant: bool | None
    where: Where
    at: int
    via: str = ""  # "Trainer" when the Trainer enables it


@dataclass(frozen=True)
class InputGradsEnabled:
    """`enable_input_require_grads()` or `prepare_model_for_kbit_training(model)`: checkpointed blocks get inputs
    that require grad."""

    ref: Ref
    where: Where
    at: int


@dataclass(frozen=True)
class TrainerBuilt:
    """`Trainer(model=ref, ...)`: the model will be trained by code tllint does not see."""

    ref: Ref
    where: Where
    at: int


@dataclass(frozen=True)
class NoneAsList:
    """`modules_to_save=names.append("classifier")`: a list method that returns None passed as a list."""

    keyword: str
    method: str
    config: str
    where: Where


@dataclass(frozen=True)
class HfAttributeRead:
    """`model.<attr>` read on a known transformers model, `attr` an encoder attribute of some family."""

    ref: Ref
    attr: str
    node: ast.AST
    where: Where


@dataclass
class HfFacts:
    """Everything HF-specific the pass learned; `models` by object uid. `transformers_floor`: the lowest
    transformers version the file requires (`check_min_version`, `require_version`, PEP 723), when it says."""

    models: dict[int, HfModel] = field(default_factory=dict)
    wraps: list[PeftWrapped] = field(default_factory=list)
    checkpointing: list[CheckpointingEnabled] = field(default_factory=list)
    input_grads: list[InputGradsEnabled] = field(default_factory=list)
    trainers: list[TrainerBuilt] = field(default_factory=list)
    none_lists: list[NoneAsList] = field(default_factory=list)
    attribute_reads: list[HfAttributeRead] = field(default_factory=list)
    called: set[tuple[int, tuple[str, ...]]] = field(default_factory=set)  # (model uid, path): `model.fc(x)`
    transformers_floor: tuple[int, ...] | None = None

    def model(self, obj: ModelObject) -> HfModel | None:
        return self.models.get(obj.uid)

    def wrap_of(self, obj: ModelObject) -> PeftWrapped | None:
        """The wrap that built the PEFT model `obj`."""
        return next((wrap for wrap in self.wraps if wrap.peft is obj), None)
