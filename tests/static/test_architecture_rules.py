"""Generated acceptance tests for the architecture rules (issue 4) over every torchvision classifier in the table.

For each torchvision classification model the table knows, small scripts are generated and checked in-process with
every enabled static code:

- the real head path, written in Python syntax (`classifier.6` -> `model.classifier[6]`), with the right input size
  is quiet: no finding at all, of any code;
- a common head attribute the model does not have (`fc`, `classifier`, `head`) fires TL006 at the assignment, and
  the message names the real head;
- a wrong literal input size (`in + 1`) fires TL007 at the assignment, and nothing else. Heads that are not an
  `nn.Linear` (SqueezeNet's `classifier[1]` is a 1x1 `Conv2d`) are left out of TL007: the issue defines TL007 for
  `nn.Linear(in, out)` only, and the quiet check covers them with the right `nn.Conv2d`;
- freezing a model built with its default weights enum before the head is replaced is quiet, and the same freeze
  after `weights=None` fires TL041 at the freeze (the message names the constructor line).

TL040 messages are checked, for every builder that has legacy weights, against torchvision's own legacy mapping:
`pretrained=True` loads the `IMAGENET1K_V1` weights, which is not always the `DEFAULT` (resnet50's DEFAULT is
IMAGENET1K_V2).

The expectations come from torchvision's behaviour, not from the rule code. Nothing here imports torch; the one
cross-check against the installed torchvision is skipped without it.
"""

from __future__ import annotations

import re
from functools import cache

import pytest

from tllint.config import Config
from tllint.findings.model import Finding
from tllint.static.architectures import Architecture, _table, torchvision_model
from tllint.static.engine import check_source

CODES = Config().enabled_codes()
TORCHVISION_NAMES = sorted(_table()["torchvision"])
ASSIGN_LINE = 5
COMMON_HEAD_NAMES = ("fc", "classifier", "head")
# Input sizes of the secondary (auxiliary) heads; the table records only the primary head's size.
SECONDARY_IN_FEATURES = {("googlenet", "aux1.fc2"): 1024, ("googlenet", "aux2.fc2"): 1024,
                         ("inception_v3", "AuxLogits.fc"): 768}


@cache
def arch(name: str) -> Architecture:
    entry = torchvision_model(f"torchvision.models.{name}")
    assert entry is not None, name
    return entry


def python_path(dotted: str) -> str:
    """`classifier.6` -> `classifier[6]`, `heads.head` -> `heads.head`, `features.0.0` -> `features[0][0]`."""
    out = ""
    for part in dotted.split("."):
        out += f"[{part}]" if part.isdigit() else (f".{part}" if out else part)
    return out


def new_layer(entry: Architecture, in_features: int) -> str:
    if entry.head_type == "Conv2d":
        return f"nn.Conv2d({in_features}, 10, kernel_size=1)"
    return f"nn.Linear({in_features}, 10)"


def run(source: str, name: str) -> list[Finding]:
    result = check_source(source.encode("utf-8"), f"<generated {name}>", CODES)
    assert not result.problems, result.problems
    assert result.analysed, source
    return result.findings


def describe(findings: list[Finding]) -> str:
    return "\n".join(f"  {f.span.line} {f.code} {f.message}" for f in findings) or "  (none)"


def findings_of(findings: list[Finding]) -> list[tuple[int, str]]:
    return sorted((f.span.line, f.code) for f in findings)


# --- the table really covers torchvision -------------------------------------------------------------------


def test_table_lists_every_torchvision_classifier() -> None:
    assert len(TORCHVISION_NAMES) >= 80, len(TORCHVISION_NAMES)
    for family in ("resnet18", "vgg16", "efficientnet_b0", "mobilenet_v2", "vit_b_16", "convnext_tiny", "swin_t",
                   "densenet121", "squeezenet1_0", "inception_v3", "googlenet", "maxvit_t", "regnet_y_400mf"):
        assert family in TORCHVISION_NAMES, family


def test_table_matches_installed_torchvision_list() -> None:
    torchvision = pytest.importorskip("torchvision")
    installed = set(torchvision.models.list_models(module=torchvision.models))
    assert installed == set(TORCHVISION_NAMES), (sorted(installed - set(TORCHVISION_NAMES)),
                                                 sorted(set(TORCHVISION_NAMES) - installed))


@pytest.mark.parametrize(("dotted", "python"), [("fc", "fc"), ("classifier.6", "classifier[6]"),
                                                ("heads.head", "heads.head"), ("features.0.0", "features[0][0]"),
                                                ("AuxLogits.fc", "AuxLogits.fc")])
def test_python_path(dotted: str, python: str) -> None:
    assert python_path(dotted) == python


# --- generated over every torchvision classifier --------------------------------------------------------------


@pytest.mark.parametrize("name", TORCHVISION_NAMES)
def test_correct_head_is_quiet(name: str) -> None:
    entry = arch(name)
    assert entry.heads and entry.head_in_features, name
    lines = [f"model.{python_path(entry.heads[0])} = {new_layer(entry, entry.head_in_features)}"]
    for secondary in entry.heads[1:]:
        size = SECONDARY_IN_FEATURES[(name, secondary)]
        lines.append(f"model.{python_path(secondary)} = {new_layer(entry, size)}")
    source = ("import torch.nn as nn\nfrom torchvision import models\n\n"
              f"model = models.{name}(weights=None)\n" + "\n".join(lines) + "\n")
    findings = run(source, name)
    assert not findings, f"{name}: the real head with the right size must be quiet\n{source}\n{describe(findings)}"


def wrong_attribute_cases() -> list[tuple[str, str]]:
    cases = []
    for name in TORCHVISION_NAMES:
        entry = arch(name)
        cases += [(name, attr) for attr in COMMON_HEAD_NAMES if not entry.has_module(attr)]
    return cases


@pytest.mark.parametrize(("name", "attribute"), wrong_attribute_cases())
def test_wrong_attribute_fires_tl006(name: str, attribute: str) -> None:
    entry = arch(name)
    source = ("import torch.nn as nn\nfrom torchvision.models import " + name + "\n\n"
              f"model = {name}(weights=None)\n"
              f"model.{attribute} = {new_layer(entry, entry.head_in_features or 1)}\n")
    findings = run(source, name)
    assert findings_of(findings) == [(ASSIGN_LINE, "TL006")], f"{name}.{attribute}\n{describe(findings)}"
    (finding,) = findings
    head = entry.heads[0]
    assert python_path(head) in finding.message or head in finding.message, (
        f"{name}: the TL006 message must name the real head `{python_path(head)}`: {finding.message}")


def test_every_model_has_a_wrong_attribute_case() -> None:
    covered = {name for name, _ in wrong_attribute_cases()}
    assert covered == set(TORCHVISION_NAMES), sorted(set(TORCHVISION_NAMES) - covered)


LINEAR_HEADS = [name for name in TORCHVISION_NAMES if arch(name).head_type == "Linear"]
NON_LINEAR_HEADS = sorted(set(TORCHVISION_NAMES) - set(LINEAR_HEADS))


def test_only_squeezenet_has_a_non_linear_head() -> None:
    """Documents the TL007 exclusion: SqueezeNet's head is `classifier[1]`, a 1x1 Conv2d (torchvision 0.29)."""
    assert NON_LINEAR_HEADS == ["squeezenet1_0", "squeezenet1_1"], NON_LINEAR_HEADS
    assert all(arch(name).heads == ("classifier.1",) and arch(name).head_type == "Conv2d"
               for name in NON_LINEAR_HEADS)


@pytest.mark.parametrize("name", NON_LINEAR_HEADS)
def test_squeezenet_conv_head_wrong_channels(name: str) -> None:
    """Beyond the issue's `nn.Linear` case: a 1x1 Conv2d head with the wrong `in_channels` crashes the same way
    (SqueezeNet's classifier[1] takes 512 channels); the right Conv2d is covered by `test_correct_head_is_quiet`."""
    source = ("import torch.nn as nn\nfrom torchvision import models\n\n"
              f"model = models.{name}(weights=None)\n"
              "model.classifier[1] = nn.Conv2d(1024, 10, kernel_size=1)\n")
    findings = run(source, name)
    assert findings_of(findings) == [(ASSIGN_LINE, "TL007")], describe(findings)
    assert "512" in findings[0].message


@pytest.mark.parametrize("name", LINEAR_HEADS)
def test_wrong_literal_fires_tl007(name: str) -> None:
    entry = arch(name)
    right = entry.head_in_features
    assert right is not None
    source = ("import torch.nn as nn\nimport torchvision\n\n"
              f"model = torchvision.models.{name}(weights=None)\n"
              f"model.{python_path(entry.heads[0])} = nn.Linear({right + 1}, 10)\n")
    findings = run(source, name)
    assert findings_of(findings) == [(ASSIGN_LINE, "TL007")], f"{name}\n{source}\n{describe(findings)}"
    assert str(right) in findings[0].message, f"{name}: the message must give the right size {right}"


@pytest.mark.parametrize("name", TORCHVISION_NAMES)
def test_freeze_pretrained_then_replace_head_is_quiet(name: str) -> None:
    entry = arch(name)
    assert entry.weights_enum and entry.default_weights, name
    source = ("import torch.nn as nn\nfrom torchvision import models\n\n"
              f"model = models.{name}(weights=models.{entry.weights_enum}.{entry.default_weights})\n"
              "for param in model.parameters():\n"
              "    param.requires_grad = False\n"
              f"model.{python_path(entry.heads[0])} = {new_layer(entry, entry.head_in_features or 1)}\n")
    findings = run(source, name)
    assert not findings, f"{name}\n{source}\n{describe(findings)}"


@pytest.mark.parametrize("name", TORCHVISION_NAMES)
def test_freeze_random_weights_fires_tl041(name: str) -> None:
    entry = arch(name)
    source = ("import torch.nn as nn\nfrom torchvision import models\n\n"
              f"model = models.{name}(weights=None)\n"
              "for param in model.parameters():\n"
              "    param.requires_grad = False\n"
              f"model.{python_path(entry.heads[0])} = {new_layer(entry, entry.head_in_features or 1)}\n")
    findings = run(source, name)
    assert findings_of(findings) == [(5, "TL041")], f"{name}\n{source}\n{describe(findings)}"
    assert "line 4" in findings[0].message, f"TL041 must name the constructor line: {findings[0].message}"


# --- TL040: the exact enum that `pretrained=True` stood for ------------------------------------------------------

# torchvision 0.29 `handle_legacy_interface(weights=("pretrained", X))` of each builder; a few of these differ from
# the DEFAULT (resnet50, mobilenet_v2, efficientnet_b1, regnet_y_400mf have IMAGENET1K_V2 as DEFAULT).
LEGACY_WEIGHTS = {
    "resnet18": "ResNet18_Weights.IMAGENET1K_V1",
    "vgg16": "VGG16_Weights.IMAGENET1K_V1",
    "efficientnet_b0": "EfficientNet_B0_Weights.IMAGENET1K_V1",
    "vit_b_16": "ViT_B_16_Weights.IMAGENET1K_V1",
    "swin_t": "Swin_T_Weights.IMAGENET1K_V1",
    "convnext_tiny": "ConvNeXt_Tiny_Weights.IMAGENET1K_V1",
    "densenet121": "DenseNet121_Weights.IMAGENET1K_V1",
    "resnet50": "ResNet50_Weights.IMAGENET1K_V1",
    "mobilenet_v2": "MobileNet_V2_Weights.IMAGENET1K_V1",
    "efficientnet_b1": "EfficientNet_B1_Weights.IMAGENET1K_V1",
    "regnet_y_400mf": "RegNet_Y_400MF_Weights.IMAGENET1K_V1",
}


@pytest.mark.parametrize("name", sorted(LEGACY_WEIGHTS))
def test_tl040_names_the_exact_weights_enum(name: str) -> None:
    source = f"import torchvision.models as models\n\nmodel = models.{name}(\n    pretrained=True,\n)\n"
    findings = run(source, name)
    assert findings_of(findings) == [(4, "TL040")], describe(findings)
    assert f"weights={LEGACY_WEIGHTS[name]}" in findings[0].message, (
        f"{name}: `pretrained=True` loads {LEGACY_WEIGHTS[name]}: {findings[0].message}")


# Every other builder: `pretrained=True` stood for `<Enum>.IMAGENET1K_V1` (24 of them have IMAGENET1K_V2 as DEFAULT).
# vit_h_14 and regnet_y_128gf have no IMAGENET1K_V1 weights: their `pretrained=True` raises in torchvision itself.
NO_LEGACY_WEIGHTS = ("regnet_y_128gf", "vit_h_14")
LEGACY_NAMES = [name for name in TORCHVISION_NAMES if name not in NO_LEGACY_WEIGHTS]


@pytest.mark.parametrize("name", LEGACY_NAMES)
def test_tl040_every_builder_names_imagenet1k_v1(name: str) -> None:
    entry = arch(name)
    assert "IMAGENET1K_V1" in entry.weights_members, name
    source = f"from torchvision import models\n\nmodel = models.{name}(pretrained=True)\n"
    findings = run(source, name)
    assert findings_of(findings) == [(3, "TL040")], describe(findings)
    assert f"weights={entry.weights_enum}.IMAGENET1K_V1" in findings[0].message, findings[0].message


def test_legacy_v1_rule_matches_installed_torchvision() -> None:
    models = pytest.importorskip("torchvision.models")
    for name in TORCHVISION_NAMES:
        builder, found = models.get_model_builder(name), []
        while builder is not None:
            found += [cell.cell_contents for cell in builder.__closure__ or ()
                      if isinstance(cell.cell_contents, dict) and "weights" in cell.cell_contents]
            builder = getattr(builder, "__wrapped__", None)
        legacy = found[0]["weights"][1] if found else None
        if name in NO_LEGACY_WEIGHTS:
            assert legacy is None, name
        else:
            assert legacy is not None and legacy.name == "IMAGENET1K_V1", (name, legacy)


def test_tl040_pretrained_backbone_names_the_backbone_enum() -> None:
    source = ("from torchvision.models.detection import fasterrcnn_resnet50_fpn\n\n"
              "model = fasterrcnn_resnet50_fpn(weights=None, pretrained_backbone=True, num_classes=3)\n")
    findings = run(source, "fasterrcnn")
    assert findings_of(findings) == [(3, "TL040")], describe(findings)
    assert "weights_backbone=ResNet50_Weights.IMAGENET1K_V1" in findings[0].message, findings[0].message


def test_legacy_weights_match_installed_torchvision() -> None:
    """The hard-coded enums above are torchvision's own legacy mapping (checked when torchvision is installed)."""
    models = pytest.importorskip("torchvision.models")
    for name, expected in LEGACY_WEIGHTS.items():
        found, builder = [], models.get_model_builder(name)
        while builder is not None:  # the legacy-interface decorator keeps its mapping in a closure
            found += [cell.cell_contents for cell in builder.__closure__ or ()
                      if isinstance(cell.cell_contents, dict) and "weights" in cell.cell_contents]
            builder = getattr(builder, "__wrapped__", None)
        assert found, name
        legacy = found[0]["weights"][1]
        assert f"{type(legacy).__name__}.{legacy.name}" == expected, name


def test_weights_enum_table_fields_for_legacy_models() -> None:
    for name, expected in LEGACY_WEIGHTS.items():
        assert arch(name).weights_enum == expected.split(".")[0], name
        assert expected.split(".")[1] in arch(name).weights_members, name


# --- messages of the fixtures ----------------------------------------------------------------------------------


def test_tl006_message_names_real_head_for_vgg() -> None:
    source = ("import torch.nn as nn\nfrom torchvision import models\n\n"
              "model = models.vgg16(weights=models.VGG16_Weights.IMAGENET1K_V1)\nmodel.fc = nn.Linear(4096, 10)\n")
    (finding,) = run(source, "vgg16")
    assert finding.code == "TL006"
    assert re.search(r"classifier(\[6\]|\.6)", finding.message), finding.message


def test_tl041_names_constructor_line_through_method() -> None:
    source = ("import torch.nn as nn\nfrom torchvision.models import swin_t\n\n\n"
              "class Net(nn.Module):\n"
              "    def __init__(self):\n"
              "        super().__init__()\n"
              "        self.backbone = swin_t(weights=None)\n"
              "        self.backbone.requires_grad_(False)\n"
              "        self.backbone.head = nn.Linear(768, 3)\n")
    findings = run(source, "swin_t method")
    assert findings_of(findings) == [(9, "TL041")], describe(findings)
    assert "line 8" in findings[0].message, findings[0].message
