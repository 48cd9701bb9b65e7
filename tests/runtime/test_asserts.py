"""The assert helpers' contract: arguments, path matching, optimizer checks and the failure message."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from tllint.runtime import assert_fine_tuning, assert_trains, assert_transfer_learning

X = torch.randn(2, 6)


def model() -> nn.Sequential:
    net = nn.Sequential(nn.Sequential(nn.Linear(6, 8), nn.ReLU()), nn.Linear(8, 3))
    net[0].requires_grad_(False)
    return net


def test_exactly_one_of_only_and_all() -> None:
    with pytest.raises(TypeError):
        assert_trains(model(), X)
    with pytest.raises(TypeError):
        assert_trains(model(), X, only=["1"], all=True)


def test_a_path_that_matches_nothing_fails_instead_of_passing_vacuously() -> None:
    with pytest.raises(AssertionError, match=r"no parameter under \['head'\]"):
        assert_transfer_learning(model(), X, trainable=["head"])


def test_paths_match_whole_components_and_wrapper_prefixes() -> None:
    net = model()
    assert_transfer_learning(net, X, trainable=["1"])
    assert_transfer_learning(nn.DataParallel(net), X, trainable=["module.1"])
    wide = nn.Sequential(*[nn.Linear(6, 6) for _ in range(11)])
    wide[:10].requires_grad_(False)
    with pytest.raises(AssertionError, match="expected frozen, gets a gradient: 2"):
        assert_transfer_learning(wide, X, trainable=["1"])  # `1` is not `10`


def test_optimizer_must_hold_the_trainable_and_nothing_frozen() -> None:
    net = model()
    frozen_inside = torch.optim.SGD(net.parameters(), lr=0.1)
    with pytest.raises(AssertionError, match="frozen, but in the optimizer: 2"):
        assert_transfer_learning(net, X, trainable=["1"], optimizer=frozen_inside)
    zero_lr = torch.optim.SGD(net[1].parameters(), lr=0.0)
    with pytest.raises(AssertionError, match="lr=0"):
        assert_transfer_learning(net, X, trainable=["1"], optimizer=zero_lr)
    assert_transfer_learning(net, X, trainable=["1"], optimizer=torch.optim.SGD(net[1].parameters(), lr=0.1))


def test_failure_message_is_the_table_with_offenders_marked() -> None:
    with pytest.raises(AssertionError) as raised:
        assert_fine_tuning(model(), X)
    lines = str(raised.value).splitlines()
    assert lines[0].startswith("expected every parameter to train; 2 parameter tensors do not match")
    marked = [line.split()[1] for line in lines if line.startswith("!")]
    assert marked == ["0.0"]
    assert "expected to train, gets no gradient (requires_grad=False): 2 (0.0.weight, 0.0.bias)" in lines[-1]
