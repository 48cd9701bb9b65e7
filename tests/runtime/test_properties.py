"""Properties over random freeze patterns, DDP through a real (gloo, world size 1) process group, CUDA."""

from __future__ import annotations

import socket

import pytest
import torch
import torch.distributed as dist
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from tests.helpers import assert_same, fingerprint
from tllint.runtime import audit


def chain(frozen: list[bool], dropout: bool) -> nn.Sequential:
    layers: list[nn.Module] = []
    for index in range(len(frozen)):
        layers += [nn.Linear(5, 5), nn.BatchNorm1d(5), nn.Tanh()]
        if dropout and index == 0:
            layers.append(nn.Dropout(0.5))
    model = nn.Sequential(*layers)
    for index, is_frozen in enumerate(frozen):
        model[3 * index + (index > 0 and dropout)].requires_grad_(not is_frozen)
    return model


@settings(max_examples=25, deadline=None, database=None)
@given(frozen=st.lists(st.booleans(), min_size=1, max_size=5), dropout=st.booleans(),
       train=st.booleans(), stale_grad=st.booleans())
def test_exactly_the_trainable_parameters_of_a_chain_get_gradients(
    frozen: list[bool], dropout: bool, train: bool, stale_grad: bool
) -> None:
    model = chain(frozen, dropout).train(train)
    if stale_grad:
        first = next(model.parameters())
        first.grad = torch.ones_like(first)
    inputs = torch.randn(4, 5)
    before = fingerprint(model)

    result = audit(model, inputs)

    assert_same(before, fingerprint(model))
    assert {row.name for row in result.params if row.receives_gradient} == {
        row.name for row in result.params if row.requires_grad}
    assert ("TL101" in {f.code for f in result.findings}) == all(
        not p.requires_grad for p in model.parameters())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def process_group():
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{_free_port()}", rank=0, world_size=1)
    yield
    dist.destroy_process_group()


def test_ddp_is_audited_through_module_without_touching_its_reducer(process_group: None) -> None:
    model = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 3))
    model[0].requires_grad_(False)
    ddp = DistributedDataParallel(model)
    optimizer = torch.optim.SGD(ddp.parameters(), lr=0.1)
    inputs = torch.randn(4, 6)
    before = fingerprint(ddp, optimizer)

    result = audit(ddp, inputs, optimizer=optimizer)

    assert_same(before, fingerprint(ddp, optimizer))
    assert result.wrappers == ("DistributedDataParallel",)
    assert [row.name for row in result.params if row.receives_gradient] == ["2.weight", "2.bias"]
    assert [f.code for f in result.findings] == ["TL103"]  # the optimizer was built over all parameters
    # the wrapper still trains normally afterwards: its reducer saw nothing of the audit
    ddp(torch.randn(4, 6)).sum().backward()
    optimizer.step()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_model_cpu_inputs_and_cuda_rng_untouched() -> None:
    model = nn.Sequential(nn.Linear(6, 8), nn.Dropout(0.5), nn.Linear(8, 3)).cuda().train()
    model[0].requires_grad_(False)
    inputs = torch.randn(4, 6)
    cuda_rng = torch.cuda.get_rng_state()

    result = audit(model, inputs)

    assert torch.equal(cuda_rng, torch.cuda.get_rng_state())
    assert [row.name for row in result.params if row.receives_gradient] == ["2.weight", "2.bias"]
