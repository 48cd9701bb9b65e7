"""Hugging Face heads for the static checker, read from the shipped data table without importing transformers.

`tools/gen_hf_architectures.py` builds every task class of the common families from its config and records,
per class: the top-level attributes, the heads (what the bare model lacks), the new heads (what the family's
published checkpoint class lacks as well, so `from_pretrained` initialises them), the layers that emit the
logits (sized by `num_labels`), the encoder attribute, the input embeddings, the parameters that run before the
first checkpointed layer and the main input.

Which family a checkpoint string names is not in transformers: `checkpoint_family` reads the well-known
names of the official checkpoints (`bert-base-uncased`, `FacebookAI/roberta-large`, `meta-llama/Llama-3.1-8B`)
and answers None for anything else, so a fine-tune published under another name (`microsoft/codebert-base` is
a RoBERTa) never gets a wrong family.
"""

from __future__ import annotations

import gzip
import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

_DATA_FILE = "hf_architectures.json.gz"

# The repository names of official checkpoints, by family; the organisation prefix is ignored.
_CHECKPOINTS = (
    ("bert", r"bert-(base|large)-.*"),
    ("roberta", r"(roberta|distilroberta)-(base|large)(-.*)?"),
    ("xlm-roberta", r"xlm-roberta-(base|large|xl|xxl)"),
    ("deberta-v2", r"deberta-v[23]-(xsmall|small|base|large|xlarge|xxlarge)(-.*)?"),
    ("deberta", r"deberta-(base|large|xlarge)"),
    ("distilbert", r"distilbert-base-(uncased|cased|multilingual-cased|german-cased)"),
    ("electra", r"electra-(small|base|large)-(discriminator|generator)"),
    ("llama", r"(meta-)?llama-(2-\d+b|3(\.\d)?-\d+b)(-hf|-chat-hf|-instruct)?"),
    ("mistral", r"mistral-7b-(v0\.\d|instruct-v0\.\d)"),
    ("qwen2", r"qwen(1\.5|2|2\.5)-\d+(\.\d+)?b(-instruct|-chat)?"),
    ("qwen3", r"qwen3-\d+(\.\d+)?b(-base)?"),
    ("gpt2", r"(gpt2|distilgpt2)(-medium|-large|-xl)?"),
    ("t5", r"(t5|flan-t5|t5-v1_1)-(small|base|large|3b|11b|xl|xxl)"),
    ("vit", r"vit-(base|large|huge)-patch\d+-\d+(-in21k)?"),
    ("swin", r"swin-(tiny|small|base|large)-patch4-window\d+-\d+"),
    ("convnext", r"convnext-(tiny|small|base|large|xlarge)-(224|384)(-22k(-1k)?)?"),
    ("beit", r"beit-(base|large)-patch16-\d+(-pt22k(-ft22k)?)?"),
    ("deit", r"deit-(tiny|small|base)(-distilled)?-patch16-\d+"),
    ("whisper", r"whisper-(tiny|base|small|medium|large)(\.en|-v2|-v3)?"),
    ("wav2vec2", r"wav2vec2-(base|large)(-960h|-lv60|-xlsr-53|-100h|-10k-voxpopuli)?"),
)
_CHECKPOINT_PATTERNS = tuple((family, re.compile(pattern, re.IGNORECASE)) for family, pattern in _CHECKPOINTS)


@dataclass(frozen=True)
class HfClass:
    """One transformers model class as the installed library built it when the table was generated."""

    name: str
    family: str
    encoder: str | None  # the attribute holding the bare model (`bert`), None when the class is the bare model
    children: tuple[str, ...]
    heads: tuple[str, ...]
    new_heads: tuple[str, ...]  # heads a base checkpoint of the family lacks
    logits: tuple[str, ...]  # module paths of the layers sized by `num_labels`
    input_embeddings: str | None
    stem: tuple[str, ...]  # parameters that run before the first checkpointed layer
    main_input: str
    checkpoints_hold_head: bool  # the family publishes checkpoints of a task class (vision: ImageNet heads)

    @property
    def logits_heads(self) -> tuple[str, ...]:
        """The heads that hold a layer sized by `num_labels`."""
        return tuple(head for head in self.heads if any(_inside(path, head) for path in self.logits))


def _inside(path: str, module: str) -> bool:
    return path == module or path.startswith(f"{module}.")


@cache
def _table() -> dict[str, Any]:
    raw = resources.files("tllint.static").joinpath("data", _DATA_FILE).read_bytes()
    return json.loads(gzip.decompress(raw))


@cache
def hf_class(name: str) -> HfClass | None:
    """The entry of a transformers class name (`BertForSequenceClassification`), None if the table lacks it."""
    raw = _table()["classes"].get(name)
    if raw is None:
        return None
    family = _table()["families"][raw["family"]]
    return HfClass(
        name=name,
        family=raw["family"],
        encoder=raw["encoder"],
        children=tuple(raw["children"]),
        heads=tuple(raw["heads"]),
        new_heads=tuple(raw["new_heads"]),
        logits=tuple(raw["logits"]),
        input_embeddings=raw["input_embeddings"],
        stem=tuple(raw["stem"]),
        main_input=raw["main_input"],
        checkpoints_hold_head=family["checkpoint_class"] in (None, family["base_class"]),
    )


def is_auto_class(name: str) -> bool:
    return name in _table()["auto"]


def auto_class(auto: str, family: str) -> HfClass | None:
    """The class `auto` (`AutoModelForSequenceClassification`) builds for `family`; None if unknown or ambiguous."""
    names = _table()["auto"].get(auto, {}).get(family, [])
    return hf_class(names[0]) if len(names) == 1 else None


def auto_classes(auto: str) -> tuple[HfClass, ...]:
    """Every class `auto` builds for the families the table knows."""
    return tuple(known for names in _table()["auto"].get(auto, {}).values() for name in names
                 if (known := hf_class(name)) is not None)


def auto_main_input(auto: str) -> str | None:
    """The main input every family the table knows takes through `auto`, when they agree."""
    inputs = {known.main_input for known in auto_classes(auto)}
    return inputs.pop() if len(inputs) == 1 else None


def checkpoint_family(checkpoint: str) -> str | None:
    """The family of an official checkpoint name (`google-bert/bert-base-uncased` -> `bert`), else None."""
    name = checkpoint.rstrip("/").rpartition("/")[2]
    for family, pattern in _CHECKPOINT_PATTERNS:
        if pattern.fullmatch(name):
            return family
    return None


@cache
def encoder_attributes() -> frozenset[str]:
    """Every family's encoder attribute (`bert`, `roberta`, `model`, `transformer`, ...)."""
    return frozenset(raw["encoder"] for raw in _table()["classes"].values() if raw["encoder"])


@cache
def head_attributes() -> frozenset[str]:
    """Every head attribute of a task class with a logits layer (`classifier`, `score`, `qa_outputs`, ...)."""
    return frozenset(head for name in _table()["classes"] for head in hf_class(name).logits_heads)  # type: ignore[union-attr]


def table_version() -> str:
    """The transformers version the table was generated with."""
    return str(_table()["header"]["versions"]["transformers"])
