"""`tllint audit MODULE:FACTORY`: import and call the factory; make example inputs from `--input-shape`."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from tllint.runtime.probe import Inputs, LossFn

DTYPES = {"float32": torch.float32, "float64": torch.float64, "long": torch.long}
INPUT_SEED = 0


class FactoryError(Exception):
    """The target cannot be imported, exits, or returns something that is not a model."""


class FactoryRaised(Exception):
    """The factory (or the import of its module) raised; `__cause__` is the user's error."""


@dataclass(frozen=True)
class Subject:
    """What a factory produced: the model, and optionally its optimizer, example inputs and loss."""

    model: nn.Module
    optimizer: torch.optim.Optimizer | None = None
    example_inputs: Inputs | None = None
    loss_fn: LossFn | None = None


def load(target: str) -> Subject:
    """Import `module:callable` from the current directory, call it and normalise what it returns."""
    module_name, _, attribute = target.partition(":")
    if not module_name or not attribute:
        raise FactoryError(f"expected MODULE:FACTORY, got {target!r}")
    if str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name is not None and module_name.startswith(error.name):
            raise FactoryError(f"cannot import {target!r}: {error}") from error
        raise FactoryRaised(f"importing {module_name!r} raised the error above") from error
    except SystemExit as error:
        raise FactoryError(f"importing {module_name!r} exited with status {error.code}") from None
    except Exception as error:
        raise FactoryRaised(f"importing {module_name!r} raised the error above") from error
    factory = getattr(module, attribute, None)
    if factory is None:
        raise FactoryError(f"cannot import {target!r}: module {module_name!r} has no attribute {attribute!r}")
    try:
        made = factory()
    except SystemExit as error:
        raise FactoryError(f"the factory exited with status {error.code}") from None
    except Exception as error:
        raise FactoryRaised("the factory raised the error above") from error
    return _subject(made)


def _subject(made: Any) -> Subject:
    if isinstance(made, nn.Module):
        return Subject(made)
    if isinstance(made, tuple) and len(made) == 2 and isinstance(made[0], nn.Module):
        return Subject(made[0], made[1])
    if isinstance(made, Mapping) and isinstance(made.get("model"), nn.Module):
        return Subject(made["model"], made.get("optimizer"), made.get("example_inputs"), made.get("loss_fn"))
    raise FactoryError(
        f"the factory returned {type(made).__name__}; expected a model, (model, optimizer), "
        "or a dict with 'model' and optionally 'optimizer', 'example_inputs', 'loss_fn'"
    )


def parse_shape(text: str) -> tuple[int, ...]:
    """`2,3,224,224` -> (2, 3, 224, 224)."""
    try:
        shape = tuple(int(part) for part in text.replace("x", ",").split(","))
    except ValueError as error:
        raise FactoryError(f"bad --input-shape {text!r}: expected integers like 2,3,224,224") from error
    if not shape or any(size <= 0 for size in shape):
        raise FactoryError(f"bad --input-shape {text!r}: sizes must be positive")
    return shape


def random_inputs(shapes: Sequence[tuple[int, ...]], dtype: str) -> Inputs:
    """Seeded example inputs, one per shape; integer inputs are 0/1, valid indices for any embedding."""
    generator = torch.Generator().manual_seed(INPUT_SEED)
    if DTYPES[dtype].is_floating_point:
        tensors = [torch.randn(shape, generator=generator, dtype=DTYPES[dtype]) for shape in shapes]
    else:
        tensors = [torch.randint(0, 2, shape, generator=generator) for shape in shapes]
    return tensors[0] if len(tensors) == 1 else tuple(tensors)
