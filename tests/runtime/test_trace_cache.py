"""The fx trace is cached per process: hits for the same structure and input kind, a new trace otherwise, and
the same audit either way."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch
from torch import nn
from torchvision.models import resnet18

from tllint.runtime import audit
from tllint.runtime import trace as trace_module


@pytest.fixture
def traces(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The names of the models fx really traced during the test (an empty cache to start with)."""
    traced: list[str] = []
    real = trace_module.fx_usage

    def counting(model: nn.Module, inputs: object) -> trace_module.Usage:
        traced.append(type(model).__name__)
        return real(model, inputs)

    trace_module.clear_trace_cache()
    monkeypatch.setattr(trace_module, "fx_usage", counting)
    yield traced
    trace_module.clear_trace_cache()


def frozen_resnet(head: nn.Module | None = None) -> nn.Module:
    model = resnet18(weights=None, num_classes=4)
    model.requires_grad_(False)
    model.fc = head or nn.Linear(512, 4)
    return model


def table(result) -> list[tuple]:
    return [(row.name, row.grad, row.used_in_forward) for row in result.params] + [
        (finding.code, finding.params) for finding in result.findings]


def test_the_same_architecture_is_traced_once(traces: list[str]) -> None:
    x = torch.randn(2, 3, 32, 32)
    first = audit(frozen_resnet(), x)
    again = audit(frozen_resnet(), torch.randn(3, 3, 32, 32))  # another instance, another batch size
    assert traces == ["ResNet"]
    assert table(first) == table(again)


def test_a_changed_structure_or_input_kind_is_traced_again(traces: list[str]) -> None:
    x = torch.randn(2, 3, 32, 32)
    audit(frozen_resnet(), x)
    replaced = frozen_resnet(nn.Sequential(nn.Dropout(0.1), nn.Linear(512, 4)))
    result = audit(replaced, x)
    assert [row.name for row in result.params if row.receives_gradient] == ["fc.1.weight", "fc.1.bias"]
    audit(frozen_resnet().double(), x.double())
    assert traces == ["ResNet", "ResNet", "ResNet"]


class Gated(nn.Module):
    """Which branch runs depends on a plain attribute; a cached trace must not hide the switch."""

    def __init__(self) -> None:
        super().__init__()
        self.use_extra = False
        self.body = nn.Linear(4, 4)
        self.extra = nn.Linear(4, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.extra(self.body(x)) if self.use_extra else self.body(x)


def test_plain_attributes_and_train_eval_are_part_of_the_key(traces: list[str]) -> None:
    model = Gated()
    unused = {f.params for f in audit(model, torch.randn(2, 4)).findings}
    assert unused == {("extra.weight", "extra.bias")}
    model.use_extra = True
    assert not audit(model, torch.randn(2, 4)).findings
    model.eval()
    audit(model, torch.randn(2, 4))
    assert traces == ["Gated"] * 3


class Branchy(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Linear(4, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.a(x) if x.sum() > 0 else -self.a(x)


def test_a_failed_trace_is_cached_too(traces: list[str]) -> None:
    first = audit(Branchy(), torch.randn(2, 4))
    second = audit(Branchy(), torch.randn(2, 4))
    assert traces == ["Branchy"]
    assert first.trace == second.trace and first.trace.startswith("fx could not trace")
