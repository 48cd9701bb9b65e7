"""The shipped architecture table: loader behaviour, and agreement with the installed libraries."""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tllint.static.architectures import Architecture, table_versions, timm_model, torchvision_model

REPO = Path(__file__).resolve().parents[2]
GENERATOR = REPO / "tools" / "gen_architectures.py"
TORCHVISION_SAMPLE = (
    "resnet18",
    "vgg16",
    "efficientnet_b0",
    "vit_b_16",
    "swin_t",
    "densenet121",
    "squeezenet1_0",
    "inception_v3",
    "googlenet",
    "regnet_y_400mf",
)
TIMM_SAMPLE = ("resnet50", "vit_base_patch16_224", "convnext_tiny", "deit_base_distilled_patch16_224")


def tv(name: str) -> Architecture:
    """A torchvision entry that must exist."""
    arch = torchvision_model(f"torchvision.models.{name}")
    assert arch is not None, name
    return arch


# --- loader -----------------------------------------------------------------------------------------


def test_resnet18_facts() -> None:
    arch = tv("resnet18")
    assert arch.name == "resnet18"
    assert arch.heads == ("fc",)
    assert (arch.head_in_features, arch.head_out_features) == (512, 1000)
    assert arch.head_type == "Linear"
    assert arch.children == (
        "conv1",
        "bn1",
        "relu",
        "maxpool",
        "layer1",
        "layer2",
        "layer3",
        "layer4",
        "avgpool",
        "fc",
    )
    assert arch.params[:3] == ("conv1.weight", "bn1.weight", "bn1.bias")
    assert "layer4.1.conv2" in arch.modules
    assert (arch.weights_enum, arch.default_weights) == ("ResNet18_Weights", "IMAGENET1K_V1")
    assert arch.weights_members == ("IMAGENET1K_V1", "DEFAULT")


def test_qualified_forms_are_the_same_entry() -> None:
    assert torchvision_model("torchvision.models.resnet.resnet18") is tv("resnet18")
    assert torchvision_model("torchvision.models.vision_transformer.vit_b_16") is tv("vit_b_16")


@pytest.mark.parametrize(
    ("name", "heads", "head_type", "in_features"),
    [
        ("vgg16", ("classifier.6",), "Linear", 4096),
        ("vit_b_16", ("heads.head",), "Linear", 768),
        ("efficientnet_b0", ("classifier.1",), "Linear", 1280),
        ("mobilenet_v3_small", ("classifier.3",), "Linear", 1024),
        ("convnext_tiny", ("classifier.2",), "Linear", 768),
        ("swin_t", ("head",), "Linear", 768),
        ("densenet121", ("classifier",), "Linear", 1024),
        ("squeezenet1_0", ("classifier.1",), "Conv2d", 512),
        ("inception_v3", ("fc", "AuxLogits.fc"), "Linear", 2048),
        ("googlenet", ("fc", "aux1.fc2", "aux2.fc2"), "Linear", 1024),
    ],
)
def test_torchvision_heads(name: str, heads: tuple[str, ...], head_type: str, in_features: int) -> None:
    arch = tv(name)
    assert arch.heads == heads
    assert (arch.head_type, arch.head_in_features) == (head_type, in_features)
    assert all(arch.has_module(head) for head in heads)


def test_has_module_and_params() -> None:
    vgg = tv("vgg16")
    assert vgg.has_module("classifier.6") and vgg.has_module("features.0") and vgg.has_module("")
    assert not vgg.has_module("fc") and not vgg.has_module("classifier.7")
    assert [name for name in vgg.params if name.startswith("classifier.6.")] == [
        "classifier.6.weight", "classifier.6.bias"]
    assert not any(name.startswith("fc") for name in vgg.params)  # the `startswith("fc")` filter trap


def test_unknown_torchvision_names() -> None:
    for name in (
        "resnet18",
        "torchvision.models.resnet.vgg16",
        "torchvision.models.nope",
        "torchvision.models.detection.fasterrcnn_resnet50_fpn",
        "torchvision.models.",
        "",
    ):
        assert torchvision_model(name) is None, name


def test_timm_lookup_strips_hub_prefix_and_tag() -> None:
    vit = timm_model("vit_base_patch16_224")
    assert vit is not None and vit.weights_enum is None
    assert vit.heads == ("head",) and vit.head_in_features == 768
    assert vit.params[:2] == ("cls_token", "pos_embed")  # root-level parameters are kept
    assert timm_model("timm/vit_base_patch16_224.augreg_in21k") is vit
    assert timm_model("hf-hub:timm/vit_base_patch16_224.augreg2_in21k_ft_in1k") is vit
    convnext = timm_model("convnext_tiny")
    assert convnext is not None and convnext.heads == ("head.fc",)
    assert timm_model("deit_base_distilled_patch16_224").heads == ("head", "head_dist")


def test_timm_and_torchvision_namespaces_are_separate() -> None:
    timm_resnet = timm_model("resnet50")
    assert timm_resnet is not None and timm_resnet.weights_enum is None
    assert tv("resnet50").default_weights == "IMAGENET1K_V2"
    assert timm_model("vgg16") is None or timm_model("vgg16") is not tv("vgg16")


def test_unknown_timm_names_are_none_not_guesses() -> None:
    for name in ("convnext", "resnet50_not_a_model", "vit_base_patch16", "timm/", "someone/resnet50", ""):
        assert timm_model(name) is None, name


def test_table_versions() -> None:
    assert set(table_versions()) == {"torch", "torchvision", "timm"}


def test_loader_is_lazy_and_never_imports_torch() -> None:
    code = textwrap.dedent(
        """
        import sys
        from tllint.static import architectures as a
        assert a._table.cache_info().currsize == 0, "table read at import time"
        assert a.torchvision_model("torchvision.models.vgg16").heads == ("classifier.6",)
        assert a.timm_model("resnet50") is not None
        loaded = sorted({"torch", "torchvision", "timm", "numpy"} & set(sys.modules))
        assert not loaded, loaded
        """
    )
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


# --- agreement with the installed libraries ---------------------------------------------------------


@pytest.fixture(scope="module")
def generator() -> ModuleType:
    """tools/gen_architectures.py imported as a module (it needs torch, torchvision and timm)."""
    pytest.importorskip("torchvision", reason="torchvision is not installed")
    pytest.importorskip("timm", reason="timm is not installed")
    spec = importlib.util.spec_from_file_location("gen_architectures", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def require_table_version(library: str) -> None:
    """Skip unless the installed library is the version the shipped table was generated with."""
    installed = importlib.import_module(library).__version__
    shipped = table_versions()[library]
    if installed != shipped:
        pytest.skip(
            f"installed {library} {installed} differs from the table's {shipped}; "
            "run `python tools/gen_architectures.py` to regenerate"
        )


def assert_matches(arch: Architecture | None, described: dict[str, Any]) -> None:
    """Every field the loader reads equals what the generator derives from the installed library today."""
    assert arch is not None
    for field in {field.name for field in dataclasses.fields(Architecture)} - {"name"}:
        value = described[field]
        assert getattr(arch, field) == (tuple(value) if isinstance(value, list) else value), field


@pytest.mark.parametrize("name", TORCHVISION_SAMPLE)
def test_torchvision_entry_matches_installed(generator: ModuleType, name: str) -> None:
    require_table_version("torchvision")
    assert_matches(tv(name), generator.describe_torchvision(name))


@pytest.mark.parametrize("name", TIMM_SAMPLE)
def test_timm_entry_matches_installed(generator: ModuleType, name: str) -> None:
    require_table_version("timm")
    assert_matches(timm_model(name), generator.describe_timm(name))


def test_every_torchvision_classifier_is_in_the_table(generator: ModuleType) -> None:
    require_table_version("torchvision")
    import torchvision

    names = torchvision.models.list_models(module=torchvision.models)
    missing = [name for name in names if torchvision_model(f"torchvision.models.{name}") is None]
    assert not missing
    assert names
