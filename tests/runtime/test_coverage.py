"""Every model audits correctly (fx or the hook fallback) and is left bit-identical.

Before the audit each model has taken one real SGD-with-momentum step (so running statistics, `.grad` and
optimizer state are all non-trivial) and has a mix of `.grad` states: None, zeros and stale values.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import timm
import torch
import torchvision.models as tvm
from torch import nn

from tests.helpers import RUNTIME_FIXTURES, assert_same, fingerprint, load_module
from tllint.runtime import audit
from tllint.runtime.probe import floating_tensors

_SPECIAL = load_module(RUNTIME_FIXTURES / "special_models.py")
Router = _SPECIAL.Router
TokenPair = _SPECIAL.TokenPair

IMAGE = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(1))

TORCHVISION: dict[str, tuple[Callable[[], nn.Module], torch.Tensor]] = {
    "resnet18": (lambda: tvm.resnet18(weights=None), IMAGE),
    "mobilenet_v3_small": (lambda: tvm.mobilenet_v3_small(weights=None), IMAGE),
    "efficientnet_b0": (lambda: tvm.efficientnet_b0(weights=None), IMAGE),
    "vit_b_16": (lambda: tvm.vit_b_16(weights=None, image_size=32), IMAGE),
    "convnext_tiny": (lambda: tvm.convnext_tiny(weights=None), IMAGE),
    "swin_t": (lambda: tvm.swin_t(weights=None), IMAGE),
    "densenet121": (lambda: tvm.densenet121(weights=None), IMAGE),
    "regnet_y_400mf": (lambda: tvm.regnet_y_400mf(weights=None), IMAGE),
    "googlenet": (lambda: tvm.googlenet(weights=None, init_weights=False), IMAGE),
    # aux_logits needs >= 299 px in train mode; the main path works from 75 px.
    "inception_v3": (
        lambda: tvm.inception_v3(weights=None, aux_logits=False, init_weights=False),
        torch.randn(2, 3, 75, 75),
    ),
    "timm_resnet18": (lambda: timm.create_model("resnet18", pretrained=False, num_classes=5), IMAGE),
}


def _train_one_step(model: nn.Module, inputs: Any, optimizer: torch.optim.Optimizer) -> None:
    """A real step so that buffers, grads and optimizer state are non-trivial, then mix the `.grad` states."""
    output = model(*inputs) if isinstance(inputs, tuple) else model(inputs)
    sum(t.float().square().mean() for t in floating_tensors(output) if t.requires_grad).backward()
    optimizer.step()
    params = [p for p in model.parameters() if p.grad is not None]
    params[0].grad = None
    params[1].grad.zero_()


def _audit_unchanged(model: nn.Module, inputs: Any, **kwargs: Any):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    _train_one_step(model, inputs, optimizer)
    before = fingerprint(model, optimizer)
    result = audit(model, inputs, optimizer=optimizer, **kwargs)
    assert_same(before, fingerprint(model, optimizer))
    return result


@pytest.mark.parametrize("name", list(TORCHVISION))
def test_classifier_fine_tuning(name: str) -> None:
    build, inputs = TORCHVISION[name]
    model = build().train()

    result = _audit_unchanged(model, inputs)

    assert result.trace == "fx"
    assert len(result.params) == len(list(model.parameters()))
    assert [row for row in result.params if row.grad == "none"] == []
    assert all(row.used_in_forward and row.in_optimizer for row in result.params)
    assert not result.problems, str(result)
    assert sum(layer.numel for layer in result.layers) == sum(p.numel() for p in model.parameters())


def test_googlenet_eval_mode_leaves_aux_heads_without_gradient() -> None:
    """In eval mode googlenet skips its auxiliary classifiers: their trainable weights get nothing (TL102)."""
    model = tvm.googlenet(weights=None, init_weights=False).eval()

    result = _audit_unchanged(model, IMAGE)

    tl102 = [f for f in result.findings if f.code == "TL102"]
    assert len(tl102) == 1 and "not used in the forward" in tl102[0].message
    assert {name.split(".")[0] for name in tl102[0].params} == {"aux1", "aux2"}
    assert all(row.grad == "nonzero" for row in result.params if not row.name.startswith("aux"))


def test_data_dependent_control_flow_falls_back_to_hooks() -> None:
    model = Router().train()
    inputs = torch.randn(2, 3, 8, 8)
    with torch.no_grad():
        taken = "bright" if model.stem(inputs).mean() > 0 else "dark"
    skipped = {"bright", "dark"} - {taken}

    result = _audit_unchanged(model, inputs)

    assert result.trace == ("fx could not trace (symbolically traced variables cannot be used as inputs to "
                            "control flow), used module hooks")
    unused = {row.module for row in result.params if row.used_in_forward is False}
    assert unused == skipped
    (tl102,) = [f for f in result.findings if f.code == "TL102"]
    assert "not used in the forward" in tl102.message
    assert {row.module for row in result.params if row.grad == "nonzero"} == {
        "stem.0", "stem.1", taken, "head"}
    assert [layer.module for layer in result.layers][:2] == ["stem.0", "stem.1"]


def test_embedding_model_with_two_integer_inputs() -> None:
    model = TokenPair()
    model.tokens.weight.requires_grad_(False)
    generator = torch.Generator().manual_seed(3)
    tokens = torch.randint(0, 30, (2, 5), generator=generator)
    inputs = (tokens, torch.randint(0, 2, (2, 5), generator=generator))

    result = _audit_unchanged(model, inputs)

    assert result.trace == "fx"
    grads = {row.name: row.grad for row in result.params}
    assert grads["tokens.weight"] == "none"
    assert all(status == "nonzero" for name, status in grads.items() if name != "tokens.weight")
    assert [f.code for f in result.findings] == ["TL103"]  # the frozen table is still in the SGD optimizer
