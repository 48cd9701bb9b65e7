"""The audit leaves no trace, by construction: generated models, real timm models, forwards that change things.

Every check compares the full state bit for bit (`tests.helpers.fingerprint`): parameters and their identity,
`.grad`, `requires_grad`, buffers, the state dict, train/eval flags, the `__dict__` keys of every module, the
torch, Python and NumPy RNGs.
"""

from __future__ import annotations

import random
import types

import numpy
import pytest
import timm
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch.utils.checkpoint import checkpoint

from tests.helpers import assert_same, fingerprint
from tllint.runtime import AuditError, audit


class Meddler(nn.Module):
    """A forward that changes everything it can: buffers, RNGs, flags, attributes, parameters in place."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(10, 4, max_norm=0.5)
        self.head = nn.Linear(4, 2)
        self.register_buffer("calls", torch.zeros(()))

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        self.last_seed = random.random() + numpy.random.rand()
        self.head.requires_grad_(True)
        self.embed.eval()
        noise = torch.rand(1)
        self.added = nn.Linear(1, 1)
        return self.head(self.embed(tokens).mean(1)) + 0 * noise


def full_audit_is_invisible(model: nn.Module, inputs, times: int = 1, **kwargs):
    before = fingerprint(model, kwargs.get("optimizer"))
    results = [audit(model, inputs, **kwargs) for _ in range(times)]
    assert_same(before, fingerprint(model, kwargs.get("optimizer")))
    return results[-1]


def test_a_forward_that_changes_everything_is_undone() -> None:
    model = Meddler().train()
    model.head.requires_grad_(False)
    with torch.no_grad():
        model.embed.weight.mul_(10)  # rows above max_norm: the forward renormalises them in place
    result = full_audit_is_invisible(model, torch.tensor([[1, 2, 3]]), times=2)
    assert {row.name for row in result.params if row.receives_gradient} == {"embed.weight"}


def stack(draw: st.DrawFn) -> nn.Sequential:
    layers: list[nn.Module] = []
    for kind in draw(st.lists(st.sampled_from(["linear", "bn", "dropout", "counter", "noise", "tied"]),
                              min_size=1, max_size=6)):
        if kind == "linear":
            layers.append(nn.Linear(5, 5))
        elif kind == "bn":
            layers.append(nn.BatchNorm1d(5, momentum=draw(st.sampled_from([0.1, None]))))
        elif kind == "dropout":
            layers.append(nn.Dropout(0.5))
        elif kind == "counter":
            layers.append(Counter())
        elif kind == "noise":
            layers.append(Noise())
        elif kind == "tied" and any(isinstance(layer, nn.Linear) for layer in layers):
            first = next(layer for layer in layers if isinstance(layer, nn.Linear))
            tied = nn.Linear(5, 5)
            tied.weight = first.weight
            layers.append(tied)
    return nn.Sequential(*layers, nn.Linear(5, 3))


class Counter(nn.Module):
    """Updates a buffer in place on every call, like BatchNorm's num_batches_tracked."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("seen", torch.zeros(5))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.seen.add_(x.detach().abs().mean(0))
        return x


class Noise(nn.Module):
    """Draws from every global RNG in its forward."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale = random.uniform(0.9, 1.1) * float(numpy.random.uniform(0.9, 1.1))
        return x * scale + torch.randn_like(x) * 0.01


@settings(max_examples=20, deadline=None, database=None)
@given(data=st.data(), train=st.booleans(), frozen=st.lists(st.booleans(), max_size=8))
def test_generated_models_are_left_bit_for_bit(data: st.DataObject, train: bool, frozen: list[bool]) -> None:
    model = data.draw(st.builds(lambda: None).flatmap(lambda _: st.composite(stack)())).train(train)
    linears = [module for module in model if isinstance(module, nn.Linear)]
    for module, is_frozen in zip(linears, frozen, strict=False):
        module.requires_grad_(not is_frozen)
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad] or [torch.zeros(1)], lr=0.1)
    full_audit_is_invisible(model, torch.randn(4, 5), times=2, optimizer=optimizer)


@pytest.mark.parametrize(("name", "shape"), [
    ("efficientnet_b0", (1, 3, 64, 64)),
    ("mobilenetv3_small_100", (2, 3, 64, 64)),
    ("swin_tiny_patch4_window7_224", (1, 3, 224, 224)),
])
def test_timm_models_audited_three_times_are_unchanged(name: str, shape: tuple[int, ...]) -> None:
    model = timm.create_model(name, pretrained=False, num_classes=5).train()
    result = full_audit_is_invisible(model, torch.randn(shape), times=3)
    assert result.trace == "fx" or "fx could not trace" in result.trace
    assert all(row.receives_gradient for row in result.params)


def test_uninitialised_lazy_modules_are_refused_and_stay_lazy() -> None:
    model = nn.Sequential(nn.LazyLinear(4), nn.ReLU(), nn.Linear(4, 2))
    with pytest.raises(AuditError, match=r"lazy modules .*`0`.*run one forward first"):
        audit(model, torch.randn(2, 3))
    assert isinstance(model[0], nn.LazyLinear)


def test_meta_tensors_and_inference_mode_are_refused() -> None:
    with torch.device("meta"):
        meta = nn.Linear(3, 2)
    with pytest.raises(AuditError, match="meta device"):
        audit(meta, torch.randn(2, 3))
    with torch.inference_mode(), pytest.raises(AuditError, match="inference_mode"):
        audit(nn.Linear(3, 2), torch.randn(2, 3))


def test_a_compiled_module_is_audited_through_its_original_forward() -> None:
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    model[0].requires_grad_(False)
    model.compile()
    compiled_call = model._compiled_call_impl
    torch._dynamo.reset()
    result = full_audit_is_invisible(model, torch.randn(2, 3))
    assert model._compiled_call_impl is compiled_call
    assert not torch._dynamo.utils.counters["frames"], "the audit compiled the model"
    assert [row.name for row in result.params if row.receives_gradient] == ["2.weight", "2.bias"]


class Checkpointed(nn.Module):
    def __init__(self, reentrant: bool) -> None:
        super().__init__()
        self.reentrant = reentrant
        self.embed = nn.Linear(4, 8)
        self.blocks = nn.ModuleList(nn.Sequential(nn.Linear(8, 8), nn.GELU()) for _ in range(2))
        self.unused = nn.Linear(8, 8)
        self.head = nn.Linear(8, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.embed(x)
        for block in self.blocks:
            h = checkpoint(block, h, use_reentrant=self.reentrant)
        return self.head(h)


def test_reentrant_checkpointing_gives_the_non_reentrant_answer() -> None:
    answers = []
    for reentrant in (False, True):
        model = Checkpointed(reentrant)
        stale = next(model.head.parameters())
        stale.grad = torch.ones_like(stale)
        result = full_audit_is_invisible(model, torch.randn(2, 4))
        answers.append(([(row.name, row.grad, row.used_in_forward) for row in result.params],
                        [(f.code, f.params) for f in result.findings]))
    assert answers[0] == answers[1]
    assert answers[0][1] == [("TL102", ("unused.weight", "unused.bias"))]


@pytest.mark.filterwarnings("ignore:None of the inputs have requires_grad")
def test_reentrant_checkpointing_after_a_frozen_embedding_trains_nothing_inside_and_says_so() -> None:
    model = Checkpointed(reentrant=True)
    model.embed.requires_grad_(False)  # the checkpoint's input needs no grad: PyTorch skips the blocks
    result = full_audit_is_invisible(model, torch.randn(2, 4))
    assert [row.name for row in result.params if row.receives_gradient] == ["head.weight", "head.bias"]


def test_sparse_gradients() -> None:
    model = nn.Sequential(nn.Embedding(20, 4, sparse=True), nn.Flatten(), nn.Linear(8, 2))
    result = full_audit_is_invisible(model, torch.tensor([[1, 2], [3, 4]]))
    assert {row.name: row.grad for row in result.params}["0.weight"] == "nonzero"
    assert not result.findings


class NamespaceOutput(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Linear(4, 4)
        self.head = nn.Linear(4, 2)

    def forward(self, x: torch.Tensor) -> types.SimpleNamespace:
        logits = self.head(self.body(x))
        return types.SimpleNamespace(logits=logits, loss=F.cross_entropy(logits, torch.zeros(len(x)).long()))


def test_an_output_object_with_loss_and_logits() -> None:
    result = full_audit_is_invisible(NamespaceOutput(), torch.randn(3, 4))
    assert all(row.grad == "nonzero" for row in result.params) and not result.findings
    result = audit(NamespaceOutput(), torch.randn(3, 4), loss_fn=lambda out: out.loss)
    assert all(row.grad == "nonzero" for row in result.params)
