"""Generate ``tllint/static/data/hf_architectures.json.gz`` from the installed transformers.

The static checker must know Hugging Face heads without importing transformers: which attribute holds the
head of a task class (``classifier``, ``score``, ``lm_head``, ``qa_outputs``, ...), which layer emits the
logits and so is built fresh for a new ``num_labels``, which heads a base checkpoint lacks, the encoder
attribute (``bert``, ``roberta``, ``model``, ...), the input embeddings, the parameters that run before the first
checkpointed layer, and the main input. This script builds
every task class of the common families from its config (on the meta device, one layer, no download) and
writes those facts as data. Run ``python tools/gen_hf_architectures.py`` after upgrading transformers; the
output is byte-for-byte deterministic for the same versions.
"""

from __future__ import annotations

import gzip
import json
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import torch
import transformers
from torch import nn
from transformers import AutoConfig
from transformers.modeling_layers import GradientCheckpointingLayer

OUTPUT = Path(__file__).resolve().parents[1] / "tllint" / "static" / "data" / "hf_architectures.json.gz"
FORMAT_VERSION = 1
# An unusual label count makes the layers that emit the logits easy to tell apart from hidden layers.
PROBE_LABELS = 37
FAMILIES = (
    "bert", "roberta", "xlm-roberta", "deberta", "deberta-v2", "distilbert", "electra", "llama", "mistral",
    "qwen2", "qwen3", "gpt2", "t5", "vit", "swin", "convnext", "beit", "deit", "whisper", "wav2vec2",
)
AUTO_CLASSES = (
    "AutoModel", "AutoModelForPreTraining", "AutoModelForCausalLM", "AutoModelForMaskedLM", "AutoModelForSeq2SeqLM",
    "AutoModelForSequenceClassification", "AutoModelForTokenClassification", "AutoModelForQuestionAnswering",
    "AutoModelForMultipleChoice", "AutoModelForImageClassification", "AutoModelForAudioClassification",
    "AutoModelForCTC", "AutoModelForSpeechSeq2Seq", "AutoModelForMaskedImageModeling", "AutoModelForTextEncoding",
)
# The class whose checkpoints a family publishes as its pretrained weights, in order of preference: a head
# that class does not have is initialised fresh when a task class is loaded from such a checkpoint.
CHECKPOINT_CLASSES = ("AutoModelForPreTraining", "AutoModelForCausalLM", "AutoModelForSeq2SeqLM",
                      "AutoModelForSpeechSeq2Seq", "AutoModel")
LAYER_COUNTS = ("num_hidden_layers", "n_layers", "num_layers", "num_decoder_layers", "encoder_layers",
                "decoder_layers")


def auto_names(auto: str) -> dict[str, tuple[str, ...]]:
    """family -> class names the Auto class builds for it (DeiT's image classification has two)."""
    mapping = getattr(transformers, auto)._model_mapping._model_mapping
    return {family: names if isinstance(names, tuple) else (names,)
            for family, names in mapping.items() if family in FAMILIES}


def tiny_config(family: str, labels: int) -> Any:
    """The family's default config with one layer per stack and `labels` labels."""
    config = AutoConfig.for_model(family)
    for key in LAYER_COUNTS:
        if isinstance(getattr(config, key, None), int):
            setattr(config, key, 1)
    config.num_labels = labels
    return config


def build(class_name: str, family: str) -> tuple[nn.Module, int]:
    """The class built with the probe label count, or with 2 for heads that only accept 2 (extractive QA in
    DistilBERT); returns the model and the label count it was built with."""
    with warnings.catch_warnings(), torch.device("meta"):
        warnings.simplefilter("ignore")
        try:
            return getattr(transformers, class_name)(tiny_config(family, PROBE_LABELS)), PROBE_LABELS
        except ValueError:
            return getattr(transformers, class_name)(tiny_config(family, 2)), 2


def _emits(module: nn.Module, labels: int) -> bool:
    return labels in (getattr(module, "out_features", None), getattr(module, "out_channels", None))


def _input_embeddings(model: nn.Module) -> str | None:
    try:
        embeddings = model.get_input_embeddings()
    except (NotImplementedError, AttributeError):
        return None
    return next((path for path, module in model.named_modules() if module is embeddings and path), None)


def _stem(model: nn.Module) -> list[str]:
    """The parameters that run before the first checkpointed layer (embeddings, patch or feature stems): when
    all of them are frozen, a reentrant checkpoint's inputs do not require grad. Empty when the class has no
    checkpointed layers."""
    stem: list[str] = []
    for path, module in model.named_modules():
        if isinstance(module, GradientCheckpointingLayer):
            return stem
        stem.extend(f"{path}.{name}" if path else name for name, _ in module.named_parameters(recurse=False))
    return []


def _names(model: nn.Module, prefix: str = "") -> set[str]:
    return {name for name, _ in model.named_parameters(prefix=prefix, remove_duplicate=False)}


def _within(names: set[str], known: set[str], encoder: str) -> bool:
    """Every name is one of `known`, directly or once the encoder attribute is stripped (`bert.x` -> `x`)."""
    return all(name in known or name.removeprefix(f"{encoder}.") in known for name in names)


def describe(class_name: str, family: str, base: nn.Module, reference: nn.Module | None) -> dict[str, Any]:
    """The facts of one task class. `base` is the family's bare model (AutoModel), `reference` the class its
    published checkpoints hold, both built the same way: a head is what the bare model lacks, and a new head is
    what the checkpoint class lacks as well."""
    model, labels = build(class_name, family)
    prefix = model.base_model_prefix
    children = [name for name, _ in model.named_children()]
    base_names = _names(base)
    heads = [name for name, child in model.named_children()
             if name != prefix and _names(child, name) and not _within(_names(child, name), base_names, prefix)]
    known = set() if reference is None else _names(reference)
    new_heads = [head for head in heads
                 if reference is not None and not _within(_names(model.get_submodule(head), head), known, prefix)]
    return {
        "family": family,
        "encoder": prefix if prefix in children else None,
        "children": children,
        "heads": heads,
        "new_heads": new_heads,
        "logits": [path for path, module in model.named_modules() if path and _emits(module, labels)],
        "input_embeddings": _input_embeddings(model),
        "stem": _stem(model),
        "main_input": model.main_input_name,
    }


def checkpoint_class(family: str, tables: dict[str, dict[str, tuple[str, ...]]]) -> str | None:
    for auto in CHECKPOINT_CLASSES:
        names = tables[auto].get(family)
        if names:
            return names[0]
    return None


def generate() -> dict[str, Any]:
    tables = {auto: auto_names(auto) for auto in AUTO_CLASSES}
    classes: dict[str, Any] = {}
    families: dict[str, Any] = {}
    autos: dict[str, dict[str, list[str]]] = {}
    for family in FAMILIES:
        reference_name = checkpoint_class(family, tables)
        reference = build(reference_name, family)[0] if reference_name else None
        base_name = tables["AutoModel"][family][0]
        base = build(base_name, family)[0]
        families[family] = {"base_class": base_name, "checkpoint_class": reference_name}
        for auto in AUTO_CLASSES:
            for class_name in tables[auto].get(family, ()):
                autos.setdefault(auto, {}).setdefault(family, []).append(class_name)
                if class_name not in classes:
                    classes[class_name] = describe(class_name, family, base, reference)
                    print(f"{family} {class_name}: {classes[class_name]['heads']}", file=sys.stderr)
    header = {
        "format": FORMAT_VERSION,
        "generator": "tools/gen_hf_architectures.py",
        "versions": {"transformers": transformers.__version__, "torch": torch.__version__},
        "families": list(FAMILIES),
    }
    return {"header": header, "auto": autos, "families": families, "classes": classes}


def serialize(table: dict[str, Any]) -> bytes:
    """Deterministic bytes: sorted keys, no whitespace, gzip without timestamp or file name."""
    text = json.dumps(table, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return gzip.compress(text.encode("ascii"), compresslevel=9, mtime=0)


def main() -> None:
    start = time.monotonic()
    table = generate()
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_bytes(serialize(table))
    print(f"wrote {OUTPUT}: {len(table['classes'])} classes of {len(FAMILIES)} families, "
          f"{OUTPUT.stat().st_size} bytes in {time.monotonic() - start:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
