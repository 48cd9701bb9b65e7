"""Generate ``tllint/static/data/architectures.json.gz`` from the installed torchvision and timm.

The static checker needs architecture facts (head paths, head sizes, parameter names, weights enums)
without importing torch, so this script derives them from the libraries themselves and ships them as
data.  Run ``python tools/gen_architectures.py`` after upgrading torchvision or timm; the output is
byte-for-byte deterministic for the same library versions.

Module trees are stored compactly as interned "shapes" shared by all entries (a residual block or a
transformer layer is stored once for the whole table): ``shapes[i] = [own_param_names,
[[child_name, child_shape_index], ...]]`` and each entry's ``tree`` is the index of its root shape.
Walking it in pre-order gives ``named_modules()`` and ``named_parameters()`` in their original order.
"""

from __future__ import annotations

import gzip
import inspect
import json
import signal
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import timm
import torch
import torchvision
from timm.models import model_entrypoint
from torch import nn
from torchvision import models as tvm

OUTPUT = Path(__file__).resolve().parents[1] / "tllint" / "static" / "data" / "architectures.json.gz"
FORMAT_VERSION = 1
# An unusual class count makes the layers that emit the logits easy to tell apart from hidden layers.
PROBE_CLASSES = 37
BUILD_TIMEOUT_S = 20


class BuildTimeout(Exception):
    """A model took longer than BUILD_TIMEOUT_S to build or probe."""


@contextmanager
def _time_limit(seconds: int) -> Iterator[None]:
    """Abort slow models so one pathological architecture cannot stall generation (POSIX only)."""

    def _raise(signum: int, frame: Any) -> None:
        raise BuildTimeout(f"took longer than {seconds} s")

    previous = signal.signal(signal.SIGALRM, _raise)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _build(factory: Callable[[], nn.Module]) -> nn.Module:
    """Build on the meta device (no memory, no init cost); fall back to CPU for builders that read
    tensor values while constructing (e.g. torchvision RegNet)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            with torch.device("meta"):
                return factory()
        except (NotImplementedError, RuntimeError):
            return factory()


def _structure(model: nn.Module) -> dict[str, list[str]]:
    """The name lists the loader exposes: top-level children, every submodule path, every parameter."""
    return {
        "children": [name for name, _ in model.named_children()],
        "modules": [path for path, _ in model.named_modules() if path],
        "params": [name for name, _ in model.named_parameters()],
    }


class ShapeTable:
    """Interns module subtrees by content so repeated blocks are stored once across the whole table."""

    def __init__(self) -> None:
        self.shapes: list[list[Any]] = []
        self._ids: dict[str, int] = {}

    def add(self, modules: list[str], params: list[str]) -> int:
        """Intern the tree of one model and return its root shape index; checks it decodes losslessly."""
        own: dict[str, list[str]] = {"": []}
        kids: dict[str, list[str]] = {"": []}
        for path in modules:
            own[path], kids[path] = [], []
            kids[path.rpartition(".")[0]].append(path)
        for name in params:
            owner, _, leaf = name.rpartition(".")
            own[owner].append(leaf)

        def intern(path: str) -> int:
            children = [[child.rpartition(".")[2], intern(child)] for child in kids[path]]
            shape = [own[path], children]
            key = json.dumps(shape, separators=(",", ":"))
            if key not in self._ids:
                self._ids[key] = len(self.shapes)
                self.shapes.append(shape)
            return self._ids[key]

        root = intern("")
        if self.expand(root) != (modules, params):
            raise ValueError("module tree does not round-trip (shared or re-registered submodules)")
        return root

    def expand(self, shape_id: int, prefix: str = "") -> tuple[list[str], list[str]]:
        """Mirror of the loader's decoding: (module paths, parameter names) in pre-order."""
        own, children = self.shapes[shape_id]
        modules: list[str] = []
        params = [prefix + leaf for leaf in own]
        for name, child_id in children:
            modules.append(prefix + name)
            sub_modules, sub_params = self.expand(child_id, f"{prefix}{name}.")
            modules += sub_modules
            params += sub_params
        return modules, params


def _head_facts(model: nn.Module, heads: list[str]) -> dict[str, Any]:
    """Type, parent type and in/out sizes of the primary head as built with the default class count."""
    head = model.get_submodule(heads[0])
    parent_path = heads[0].rpartition(".")[0]
    in_f = getattr(head, "in_features", getattr(head, "in_channels", None))
    out_f = getattr(head, "out_features", getattr(head, "out_channels", None))
    return {
        "head_in_features": in_f if isinstance(in_f, int) else None,
        "head_out_features": out_f if isinstance(out_f, int) else None,
        "head_type": type(head).__name__,
        "head_parent_type": type(model.get_submodule(parent_path)).__name__,
    }


def find_logit_layers(model: nn.Module, num_classes: int, sizes: tuple[int, ...] = (224, 299)) -> list[str]:
    """Module paths of the parameterised layers that emit ``num_classes`` features, primary head first.

    Runs one training-mode forward pass on the meta device so auxiliary heads (Inception, GoogLeNet)
    also fire; the primary head is the last such layer to run, the auxiliary ones follow in call order.
    """
    model = model.to("meta").train()
    names = {module: path for path, module in model.named_modules() if path}
    order: list[str] = []

    def hook(module: nn.Module, args: Any, out: Any) -> None:
        if not isinstance(out, torch.Tensor) or out.ndim < 2 or module not in names:
            return
        if next(module.parameters(recurse=False), None) is None:
            return
        features = out.shape[1] if out.ndim == 4 else out.shape[-1]  # NCHW conv maps vs (..., C)
        if features == num_classes and names[module] not in order:
            order.append(names[module])

    handles = [module.register_forward_hook(hook) for module in names]
    try:
        for size in sizes:
            try:
                model(torch.empty(2, 3, size, size, device="meta"))
                break
            except (RuntimeError, AssertionError, ValueError):
                order.clear()
        else:
            raise RuntimeError(f"no forward pass succeeded for input sizes {sizes}")
    finally:
        for handle in handles:
            handle.remove()
    if not order:
        raise RuntimeError(f"no layer emits {num_classes} features")
    return [order[-1], *order[:-1]]


def describe_torchvision(name: str) -> dict[str, Any]:
    """Table entry for one torchvision classification builder (e.g. ``"resnet18"``)."""
    builder = tvm.get_model_builder(name)
    with _time_limit(BUILD_TIMEOUT_S * 6):  # torchvision must be complete; only guard against hangs
        probe = _build(lambda: builder(weights=None, num_classes=PROBE_CLASSES))
        heads = find_logit_layers(probe, PROBE_CLASSES)
        model = _build(lambda: builder(weights=None))
    weights_enum = tvm.get_model_weights(name)
    weights_default = inspect.signature(builder).parameters["weights"].default
    return {
        "source": "torchvision",
        "family": builder.__module__.rpartition(".")[2],
        "heads": heads,
        **_head_facts(model, heads),
        **_structure(model),
        "pretrained_default": weights_default is not None,
        "weights_enum": weights_enum.__name__,
        "weights_members": list(weights_enum.__members__),
        "default_weights": weights_enum.DEFAULT.name,
    }


def timm_family(name: str) -> str:
    """The timm module a model is registered from, e.g. ``timm.models.resnet`` -> ``"resnet"``."""
    return model_entrypoint(name).__module__.rpartition(".")[2]


def describe_timm(name: str) -> dict[str, Any]:
    """Table entry for one timm model name; heads come from timm's own pretrained config."""
    with _time_limit(BUILD_TIMEOUT_S):
        model = _build(lambda: timm.create_model(name))
    if getattr(model, "num_classes", 0) <= 0:
        raise ValueError("not a classifier (num_classes=0 by default)")
    classifier = model.pretrained_cfg.get("classifier")
    candidates = [classifier] if isinstance(classifier, str) else list(classifier or ())
    heads = [path for path in candidates if _is_layer(model, path)]
    if not heads:
        live = model.get_classifier()
        heads = [path for path, module in model.named_modules() if path and module is live]
        if not heads or not _is_layer(model, heads[0]):
            raise ValueError(f"pretrained_cfg classifier {classifier!r} names no layer")
    pretrained_default = inspect.signature(timm.create_model).parameters["pretrained"].default
    return {
        "source": "timm",
        "family": timm_family(name),
        "heads": heads,
        **_head_facts(model, heads),
        **_structure(model),
        "pretrained_default": bool(pretrained_default),
        "weights_enum": None,
        "weights_members": [],
        "default_weights": None,
    }


def _is_layer(model: nn.Module, path: str) -> bool:
    """True if ``path`` names a submodule with parameters (not an Identity placeholder)."""
    try:
        module = model.get_submodule(path)
    except AttributeError:
        return False
    return next(module.parameters(), None) is not None


def _pack(entry: dict[str, Any], shapes: ShapeTable) -> dict[str, Any]:
    """Replace an entry's name lists by its interned tree (the loader re-derives them)."""
    packed = {key: value for key, value in entry.items() if key not in ("children", "modules", "params")}
    packed["tree"] = shapes.add(entry["modules"], entry["params"])
    return packed


def generate() -> dict[str, Any]:
    """Build the whole table as a JSON-ready dict."""
    skipped: dict[str, str] = {}
    shapes = ShapeTable()
    torchvision_entries: dict[str, Any] = {}
    aliases: dict[str, str] = {}
    for name in tvm.list_models(module=tvm):
        entry = describe_torchvision(name)
        torchvision_entries[name] = _pack(entry, shapes)
        aliases[f"torchvision.models.{name}"] = name
        aliases[f"torchvision.models.{entry['family']}.{name}"] = name
        print(f"torchvision {name}: {entry['heads']}", file=sys.stderr)
    timm_entries: dict[str, Any] = {}
    for name in timm.list_models():
        try:
            timm_entries[name] = _pack(describe_timm(name), shapes)
        except Exception as exc:
            skipped[f"timm:{name}"] = f"{type(exc).__name__}: {exc}"[:200]
            continue
        print(f"timm {name}: {timm_entries[name]['heads']}", file=sys.stderr)
    families = {entry["family"] for entry in timm_entries.values()}
    for family in sorted(set(timm.list_modules()) - families):
        skipped[f"timm-family:{family}"] = "no model in this module has a classifier by default"
    header = {
        "format": FORMAT_VERSION,
        "generator": "tools/gen_architectures.py",
        "versions": {
            "torch": torch.__version__,
            "torchvision": torchvision.__version__,
            "timm": timm.__version__,
        },
        "timm_families": sorted(families),
        "skipped": skipped,
    }
    return {
        "header": header,
        "aliases": aliases,
        "shapes": shapes.shapes,
        "torchvision": torchvision_entries,
        "timm": timm_entries,
    }


def serialize(table: dict[str, Any]) -> bytes:
    """Deterministic bytes: sorted keys, no whitespace, gzip without timestamp or file name."""
    text = json.dumps(table, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return gzip.compress(text.encode("ascii"), compresslevel=9, mtime=0)


def main() -> None:
    """Regenerate the shipped table and report what was produced."""
    start = time.monotonic()
    table = generate()
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_bytes(serialize(table))
    print(
        f"wrote {OUTPUT}: {len(table['torchvision'])} torchvision, {len(table['timm'])} timm models "
        f"({len(table['header']['timm_families'])} families), {len(table['header']['skipped'])} skipped, "
        f"{OUTPUT.stat().st_size} bytes in {time.monotonic() - start:.0f} s",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
