"""The seed scenarios of issue 5 on a real torchvision resnet18 (random weights)."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torchvision.models import resnet18

from tllint.runtime import assert_fine_tuning, assert_transfer_learning, audit

X = torch.randn(2, 3, 32, 32)


def codes(result) -> set[str]:
    return {finding.code for finding in result.findings}


def test_freeze_then_replace_trains_only_the_head() -> None:
    model = resnet18(weights=None)
    for param in model.parameters():
        param.requires_grad = False
    model.fc = nn.Linear(512, 10)
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.01)

    result = assert_transfer_learning(model, X, trainable=["fc"], optimizer=optimizer)

    assert [row.name for row in result.params if row.grad != "none"] == ["fc.weight", "fc.bias"]
    assert all(row.grad == "nonzero" for row in result.params if row.module == "fc")
    assert codes(result) == {"TL105"}  # frozen BatchNorm layers in train mode: info only
    assert not result.problems
    assert result.trace == "fx"


def test_replace_then_freeze_is_tl101() -> None:
    model = resnet18(weights=None)
    model.fc = nn.Linear(512, 10)
    for param in model.parameters():
        param.requires_grad = False

    result = audit(model, X)

    assert "TL101" in codes(result)
    tl101 = next(f for f in result.findings if f.code == "TL101")
    assert "requires_grad=False" in tl101.message and tl101.severity.value == "error"
    with pytest.raises(AssertionError, match=r"expected only \['fc'\] to train") as raised:
        assert_transfer_learning(model, X, trainable=["fc"])
    assert "!  fc" in str(raised.value) and "expected to train, gets no gradient" in str(raised.value)


def test_optimizer_before_replacement_is_tl104_and_tl108() -> None:
    model = resnet18(weights=None)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    model.fc = nn.Linear(512, 10)

    result = audit(model, X, optimizer=optimizer)

    assert {"TL104", "TL108"} <= codes(result)
    tl104 = next(f for f in result.findings if f.code == "TL104")
    assert tl104.params == ("fc.weight", "fc.bias")
    tl108 = next(f for f in result.findings if f.code == "TL108")
    assert "(1000, 512)" in tl108.message
    fc = next(layer for layer in result.layers if layer.module == "fc")
    assert fc.in_optimizer is False and fc.grad == "nonzero"
    with pytest.raises(AssertionError, match="not in the optimizer"):
        assert_fine_tuning(model, X, optimizer=optimizer)


def test_fine_tuning_every_parameter_gets_a_gradient() -> None:
    model = resnet18(weights=None)
    model.fc = nn.Linear(512, 10)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)

    result = assert_fine_tuning(model, X, optimizer=optimizer)

    assert all(row.grad == "nonzero" and row.in_optimizer for row in result.params)
    assert not result.findings
    with pytest.raises(AssertionError, match="expected frozen, gets a gradient"):
        assert_transfer_learning(model, X, trainable=["fc"], optimizer=optimizer)
