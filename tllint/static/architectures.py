"""Architecture facts for torchvision and timm classifiers, read from the shipped data table.

The static checker must stay importable without torch, so the facts (head paths, head sizes,
parameter names, weights enums) are generated ahead of time by ``tools/gen_architectures.py`` and
loaded here from ``data/architectures.json.gz`` on the first lookup only.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

_DATA_FILE = "architectures.json.gz"
_TIMM_HUB_PREFIXES = ("hf-hub:", "hf_hub:")


@dataclass(frozen=True)
class Architecture:
    """One model constructor as the installed library built it when the table was generated."""

    name: str
    heads: tuple[str, ...]
    head_in_features: int | None
    head_out_features: int | None
    head_type: str | None
    children: tuple[str, ...]
    modules: tuple[str, ...]
    params: tuple[str, ...]
    weights_enum: str | None
    weights_members: tuple[str, ...]
    default_weights: str | None

    def has_module(self, path: str) -> bool:
        """True if ``path`` (dotted, indices as digits) names a submodule; ``""`` is the model itself."""
        return path == "" or path in self.modules


@cache
def _table() -> dict[str, Any]:
    """The decoded data file, read once per process."""
    raw = resources.files("tllint.static").joinpath("data", _DATA_FILE).read_bytes()
    return json.loads(gzip.decompress(raw))


@cache
def _entry(source: str, name: str) -> Architecture | None:
    """Build (once) the Architecture for ``name`` in the ``source`` section, or None if absent."""
    raw = _table()[source].get(name)
    if raw is None:
        return None
    modules: list[str] = []
    params: list[str] = []
    _expand(_table()["shapes"], raw["tree"], "", modules, params)
    return Architecture(
        name=name,
        heads=tuple(raw["heads"]),
        head_in_features=raw["head_in_features"],
        head_out_features=raw["head_out_features"],
        head_type=raw["head_type"],
        children=tuple(path for path in modules if "." not in path),
        modules=tuple(modules),
        params=tuple(params),
        weights_enum=raw["weights_enum"],
        weights_members=tuple(raw["weights_members"]),
        default_weights=raw["default_weights"],
    )


def _expand(shapes: list[Any], shape_id: int, prefix: str, modules: list[str], params: list[str]) -> None:
    """Append the module paths and parameter names of one interned subtree, in pre-order.

    ``shapes[i] = [own_param_names, [[child_name, child_shape_index], ...]]``; repeated blocks share
    one shape across the whole table, which keeps the file small and quick to parse.
    """
    own, children = shapes[shape_id]
    params.extend(prefix + leaf for leaf in own)
    for name, child_id in children:
        modules.append(prefix + name)
        _expand(shapes, child_id, f"{prefix}{name}.", modules, params)


def torchvision_model(qualified_name: str) -> Architecture | None:
    """'torchvision.models.resnet18', 'torchvision.models.resnet.resnet18' -> entry; anything else None."""
    name = _table()["aliases"].get(qualified_name)
    return None if name is None else _entry("torchvision", name)


def timm_model(model_name: str) -> Architecture | None:
    """The entry for a ``timm.create_model`` name, or None when the table does not know it exactly.

    A ``timm/`` (or ``hf-hub:timm/``) prefix and a ``.tag`` suffix are stripped; there is no
    guessing from name prefixes, because a wrong architecture would make the rules fire falsely.
    """
    name = model_name
    for prefix in _TIMM_HUB_PREFIXES:
        name = name.removeprefix(prefix)
    name = name.removeprefix("timm/").partition(".")[0]
    return _entry("timm", name)


def table_versions() -> dict[str, str]:
    """Library versions the table was generated with: {"torch": ..., "torchvision": ..., "timm": ...}."""
    return dict(_table()["header"]["versions"])


def torchvision_backbone(builder: str) -> Architecture | None:
    """The classification model a detection or segmentation builder uses as its backbone, by name:
    `fasterrcnn_resnet50_fpn` -> resnet50, `ssdlite320_mobilenet_v3_large` -> mobilenet_v3_large."""
    name = builder.rpartition(".")[2]
    candidates = [known for known in _table()["torchvision"] if known in name and known != name]
    return _entry("torchvision", max(candidates, key=len)) if candidates else None
