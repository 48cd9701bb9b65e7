"""The assert helpers' contract: arguments, path matching, optimizer checks and the failure message."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch
from torch import nn
from torchvision.models import resnet18

from tests.helpers import REPO
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


def test_the_finding_and_the_reasons_count_the_same_frozen_tensors() -> None:
    net = resnet18(weights=None, num_classes=3)
    net.requires_grad_(False)  # the head too: it is expected to train
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    with pytest.raises(AssertionError) as raised:
        assert_transfer_learning(net, torch.randn(2, 3, 32, 32), trainable=["fc"], optimizer=optimizer)
    message = str(raised.value)
    assert "The optimizer holds 62 frozen parameter tensors" in message
    assert "  frozen, but in the optimizer: 62 " in message


def test_a_failing_assert_in_pytest_starts_with_the_message_and_shows_no_tllint_frames(tmp_path) -> None:
    test_file = tmp_path / "test_user.py"
    test_file.write_text(
        "import torch\nfrom torch import nn\nfrom tllint.runtime import assert_transfer_learning\n\n"
        "def test_head_trains():\n"
        "    model = nn.Sequential(nn.Linear(4, 4), nn.Linear(4, 2))\n"
        "    assert_transfer_learning(model, torch.randn(2, 4), trainable=['1'])\n", encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test_file)],
                            capture_output=True, text=True, cwd=tmp_path, timeout=300,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    assert result.returncode == 1, result.stdout
    failure = result.stdout.split("___ test_head_trains ___")[1]
    assert "tllint/runtime" not in failure and "def assert_trains" not in failure
    first_error = next(line for line in failure.splitlines() if line.startswith("E "))
    assert "expected only ['1'] to train; 2 parameter tensors do not match" in first_error
