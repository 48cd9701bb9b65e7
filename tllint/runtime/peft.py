"""Hugging Face models in the audit: PEFT rows named by the base model's paths, adapters as their own kind, the
new heads of transformers task classes, and whether gradient checkpointing is on. No import of peft or
transformers: they are recognised by their classes' modules and attributes.

- A PEFT model keeps the base model at `base_model.model` (`model` for a tuner such as `LoraModel` used alone);
  its rows drop that prefix, the `base_layer.` a LoRA layer puts around the original weight, and the adapter name
  (`default`): `base_model.model.bert.encoder.layer.0.attention.self.query.lora_A.default.weight` reads
  `bert.encoder.layer.0.attention.self.query.lora_A.weight`, of kind `lora_A`. A module in `modules_to_save`
  reads as the module itself (`classifier.weight`, kind `modules_to_save`); its frozen original copy keeps its
  `original_module` component and kind.
- A new head is a head of a transformers task class (`...ForSequenceClassification`, `...ForImageClassification`,
  ...) outside the bare model, holding a layer sized by `config.num_labels`, whose weights are still at
  transformers' initial values: zero biases and weights at `config.initializer_range`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import torch
from torch import nn

from tllint.runtime.results import ParamRow
from tllint.runtime.trace import owner_path

TASK_SUFFIXES = ("ForSequenceClassification", "ForTokenClassification", "ForImageClassification",
                 "ForAudioClassification", "ForQuestionAnswering", "ForMultipleChoice")
SAVED_COPY, ORIGINAL = "modules_to_save", "original_module"


def is_peft(module: nn.Module) -> bool:
    """A PEFT wrapper: a `PeftModel` (or subclass) or a tuner model (`LoraModel`) from the `peft` package."""
    return type(module).__module__.startswith("peft.") and hasattr(module, "peft_config")


def base_of(module: nn.Module) -> tuple[str, nn.Module]:
    """(name prefix, base model) of a PEFT wrapper; ("", module) for anything else."""
    if not is_peft(module):
        return "", module
    inner = module.base_model if isinstance(getattr(module, "base_model", None), nn.Module) else module
    if inner is not module and is_peft(inner) and isinstance(getattr(inner, "model", None), nn.Module):
        return "base_model.model.", inner.model
    if isinstance(getattr(module, "model", None), nn.Module):
        return "model.", module.model
    return "", module


def _display(relative: str, adapters: frozenset[str]) -> tuple[str, str | None]:
    """A parameter name inside a PEFT model as the base model names it, and its adapter kind (None: a base
    weight)."""
    parts = relative.split(".")
    kind = None
    out: list[str] = []
    for index, part in enumerate(parts):
        nxt = parts[index + 1] if index + 1 < len(parts) else None
        if part == "base_layer":
            continue
        if part in adapters and out and index < len(parts) - 1:
            kind = out[-1]
            if kind == SAVED_COPY:
                out.pop()
            continue
        if part == ORIGINAL and nxt is not None:
            kind = ORIGINAL
        out.append(part)
    return ".".join(out), kind


def rename(roots: Sequence[tuple[str, nn.Module]], rows: Sequence[ParamRow], order: Sequence[str],
           modules: dict[str, nn.Module]) -> tuple[tuple[ParamRow, ...], tuple[str, ...]]:
    """Rows (and the forward order of their modules) of PEFT roots named by the base model's paths; `modules`
    (path -> module) learns the new paths."""
    mapping: dict[str, tuple[str, str | None]] = {}
    for label, root in roots:
        strip, _ = base_of(root)
        if not strip:
            continue
        adapters = frozenset(getattr(root, "peft_config", {}) or ())
        prefix = f"{label}." if label else ""
        for name, _ in root.named_parameters(prefix=label):
            inner = name[len(prefix):]
            if inner.startswith(strip):
                shown, kind = _display(inner[len(strip):], adapters)
                mapping[name] = (prefix + shown, kind)
    if not mapping:
        return tuple(rows), tuple(order)
    renamed = []
    moved: dict[str, str] = {}
    for row in rows:
        shown, kind = mapping.get(row.name, (row.name, None))
        module = owner_path(shown)
        moved[row.module] = module
        modules.setdefault(module, modules[row.module])
        renamed.append(replace(row, name=shown, module=module, adapter=kind,
                               module_type=kind if kind not in (None, SAVED_COPY) else row.module_type))
    return tuple(renamed), tuple(dict.fromkeys(moved.get(path, path) for path in order))


def _task_model(module: nn.Module) -> nn.Module | None:
    _, base = base_of(module)
    return base if type(base).__name__.endswith(TASK_SUFFIXES) and hasattr(base, "config") else None


def _at_initial_values(head: nn.Module, spread: float | None) -> bool:
    """transformers' initialisation of a linear or conv layer: zero bias, weights drawn at `initializer_range`."""
    bias, weight = getattr(head, "bias", None), getattr(head, "weight", None)
    if not isinstance(weight, torch.Tensor):
        return False
    with torch.no_grad():
        if isinstance(bias, torch.Tensor):
            return bool(bias.eq(0).all())
        if spread is None or weight.numel() < 2:
            return False
        std = float(weight.float().std())
        return 0.5 * spread <= std <= 1.5 * spread and abs(float(weight.float().mean())) < 3 * spread


def new_heads(roots: Sequence[tuple[str, nn.Module]], rows: Sequence[ParamRow]
              ) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(module, parameter names) of the new heads of transformers task models, named as the rows are."""
    found = []
    for label, root in roots:
        model = _task_model(root)
        if model is None:
            continue
        config = model.config
        labels = getattr(config, "num_labels", None)
        spread = getattr(config, "initializer_range", None)
        encoder = getattr(model, "base_model_prefix", "")
        prefix = f"{label}." if label else ""
        for name, child in model.named_children():
            if name == encoder:
                continue
            layers = [m for m in child.modules() if labels in (getattr(m, "out_features", None),
                                                              getattr(m, "out_channels", None))]
            if not layers or not all(_at_initial_values(layer, spread) for layer in layers):
                continue
            params = tuple(row.name for row in rows if row.adapter != ORIGINAL
                           and (row.name.startswith(f"{prefix}{name}.")))
            if params:
                found.append((f"{prefix}{name}", params))
    return tuple(found)


def checkpointing(roots: Sequence[tuple[str, nn.Module]]) -> bool:
    """Gradient checkpointing is enabled somewhere in the audited models (transformers' flag)."""
    return any(getattr(module, "gradient_checkpointing", False) is True
               for _, root in roots for module in root.modules())
