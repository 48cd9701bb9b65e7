"""Each finding fires exactly when it should; the probe, wrappers and the table behave."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn
from torchvision.models import resnet18

from tests.helpers import RUNTIME_FIXTURES, load_module
from tllint.runtime import audit
from tllint.runtime.probe import probe_loss

_SPECIAL = load_module(RUNTIME_FIXTURES / "special_models.py")
SoftmaxNet = _SPECIAL.SoftmaxNet

X = torch.randn(4, 6)


def mlp() -> nn.Sequential:
    return nn.Sequential(nn.Linear(6, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3))


def by_code(result, code):
    return [f for f in result.findings if f.code == code]


class CutOff(nn.Module):
    """`body` runs but is detached from the loss; `spare` is never called."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Linear(6, 6)
        self.spare = nn.Linear(6, 6)
        self.head = nn.Linear(6, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x).detach())


def test_tl102_names_the_cause() -> None:
    result = audit(CutOff(), X)
    messages = {f.params: f.message for f in by_code(result, "TL102")}
    assert set(messages) == {("body.weight", "body.bias"), ("spare.weight", "spare.bias")}
    assert "cut off" in messages[("body.weight", "body.bias")]
    assert "not used in the forward" in messages[("spare.weight", "spare.bias")]
    rows = {row.name: row for row in result.params}
    assert rows["body.weight"].used_in_forward is True and rows["spare.weight"].used_in_forward is False


def test_tl101_when_the_loss_does_not_require_grad() -> None:
    model = mlp()
    (tl101,) = by_code(audit(model, X, loss_fn=lambda out: out.detach().sum()), "TL101")
    assert "loss does not require grad" in tl101.message


def test_tl103_and_tl107() -> None:
    model = mlp()
    model[0].requires_grad_(False)
    optimizer = torch.optim.SGD([{"params": model[:2].parameters(), "lr": 0.1},
                                 {"params": model[3].parameters(), "lr": 0.0}], lr=0.1)
    result = audit(model, X, optimizer=optimizer)
    (tl103,) = by_code(result, "TL103")
    assert tl103.params == ("0.weight", "0.bias")
    (tl107,) = by_code(result, "TL107")
    assert tl107.params == ("3.weight", "3.bias") and "group 1" in tl107.message
    assert not by_code(result, "TL104") and not by_code(result, "TL108")


@pytest.mark.parametrize(
    ("setup", "fires"),
    [
        (lambda m: m[1].requires_grad_(False), True),
        (lambda m: (m[1].requires_grad_(False), m[1].eval()), False),  # eval: statistics do not move
        (lambda m: None, False),  # trainable BN: not frozen
        (lambda m: m[1].weight.requires_grad_(False), False),  # only partly frozen
    ],
)
def test_tl105_only_for_fully_frozen_norms_in_train_mode(setup, fires: bool) -> None:
    model = mlp().train()
    setup(model)
    assert bool(by_code(audit(model, X), "TL105")) is fires


def test_tl105_not_for_norms_without_running_stats() -> None:
    model = nn.Sequential(nn.Linear(6, 8), nn.BatchNorm1d(8, track_running_stats=False), nn.Linear(8, 2))
    model[1].requires_grad_(False)
    assert not by_code(audit(model, X), "TL105")


def test_probe_is_not_degenerate_after_softmax() -> None:
    """`probs.sum()` is constant (1 per row): its gradient vanishes up to rounding; the probe's does not."""
    model = SoftmaxNet()
    params = list(model.parameters())
    summed = torch.autograd.grad(model(X).probs.sum(), params)
    probed = torch.autograd.grad(probe_loss(model(X)), params)
    assert max(g.abs().max().item() for g in summed) < 1e-5
    assert min(g.abs().max().item() for g in probed) > 1e-3
    assert {row.grad for row in audit(model, X).params} == {"nonzero"}


def test_probe_covers_nested_outputs_and_leaves_global_rng_alone() -> None:
    a = torch.randn(3, requires_grad=True)
    b = torch.randn(2, 2, requires_grad=True)
    state = torch.get_rng_state()
    loss = probe_loss({"x": [a, (b, torch.tensor([1, 2]))]})
    assert torch.equal(state, torch.get_rng_state())
    loss.backward()
    assert a.grad is not None and b.grad is not None and bool(b.grad.ne(0).all())


def test_wrappers_are_audited_through() -> None:
    model = resnet18(weights=None)
    model.requires_grad_(False)
    model.fc = nn.Linear(512, 3)
    wrapped = nn.DataParallel(torch.compile(model))
    result = audit(wrapped, torch.randn(2, 3, 32, 32))
    assert result.wrappers == ("DataParallel", "OptimizedModule")
    assert [row.name for row in result.params if row.grad != "none"] == ["fc.weight", "fc.bias"]
    assert "audited inside DataParallel > OptimizedModule" in str(result)


def test_audit_inside_no_grad_still_computes_gradients() -> None:
    with torch.no_grad():
        result = audit(mlp(), X)
    assert {row.grad for row in result.params} == {"nonzero"}


def test_table_collapses_identical_runs_and_marks_offenders() -> None:
    model = resnet18(weights=None)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    model.fc = nn.Linear(512, 3)
    table = str(audit(model, torch.randn(2, 3, 32, 32), optimizer=optimizer))
    lines = table.splitlines()
    assert any("conv1 … layer4.1.bn2" in line and "(40 modules)" in line for line in lines)
    (fc,) = [line for line in lines if line.split()[:2] == ["!", "fc"]]
    assert fc.rstrip().endswith("TL104")
    assert len(lines) < 10


def test_to_dict_is_json() -> None:
    result = audit(CutOff(), X, optimizer=torch.optim.SGD(CutOff().parameters(), lr=0.1))
    data = json.loads(json.dumps(result.to_dict()))
    assert data["trace"] == "fx"
    assert {f["code"] for f in data["findings"]} >= {"TL102", "TL104", "TL108"}
    row = data["params"][0]
    assert set(row) == {"name", "module", "module_type", "requires_grad", "grad", "in_optimizer", "group",
                        "lr", "weight_decay", "used_in_forward", "numel", "adapter"}
    assert [layer["module"] for layer in data["layers"]] == ["body", "head", "spare"]


# The message defects found while writing the runtime fixtures, one test each.

def test_tl101_names_a_head_the_forward_never_calls_instead_of_blaming_the_loss() -> None:
    from torchvision.models import vgg11

    model = vgg11(weights=None)
    model.requires_grad_(False)
    model.fc = nn.Linear(4096, 5)
    (tl101,) = audit(model, torch.randn(2, 3, 32, 32)).findings
    assert tl101.code == "TL101" and "`fc`, which the forward pass never calls" in tl101.message
    assert "detach" not in tl101.message and "loss does not require grad" not in tl101.message


def test_tl101_is_one_finding_tl102_does_not_repeat_it() -> None:
    result = audit(mlp(), X, loss_fn=lambda out: out.detach().sum())
    assert [f.code for f in result.findings] == ["TL101"]
    assert "loss does not require grad" in result.findings[0].message


class TwoHeads(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Linear(6, 6)
        self.main = nn.Linear(6, 2)
        self.aux = nn.Linear(6, 2)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.body(x)
        return self.main(h), self.aux(h)


def test_tl102_does_not_claim_a_cut_when_a_real_loss_ignores_an_output() -> None:
    (ignored,) = by_code(audit(TwoHeads(), X, loss_fn=lambda out: out[0].sum()), "TL102")
    assert ignored.params == ("aux.weight", "aux.bias")
    assert "the loss does not use the output they feed" in ignored.message
    (cut,) = by_code(audit(CutOff(), X), "TL102")[:1]
    assert "cut off from the loss" in cut.message and "does not use the output" not in cut.message


def test_singular_counts_take_singular_verbs() -> None:
    model = nn.Sequential(nn.Linear(6, 3))
    old = nn.Parameter(torch.zeros(2))
    optimizer = torch.optim.SGD([{"params": model.parameters()}, {"params": [old]}], lr=0.1)
    (tl108,) = audit(model, X, optimizer=optimizer).findings
    assert "1 tensor that is not a parameter of the model and gets no gradient" in tl108.message
    spare = CutOff()
    spare.body.bias.requires_grad_(False)
    messages = " ".join(f.message for f in audit(spare, X).findings)
    assert "1 trainable parameter tensor (`body.weight`) is used" in messages and " are " not in messages.split(
        "(`body.weight`)")[1].split(":")[0]


def test_tl107_is_one_finding_for_all_zero_lr_groups() -> None:
    model = nn.Sequential(*(nn.Linear(6, 6) for _ in range(5)))
    optimizer = torch.optim.SGD([{"params": layer.parameters(), "lr": 0.0} for layer in model[:4]]
                                + [{"params": model[4].parameters(), "lr": 0.1}])
    (tl107,) = by_code(audit(model, X, optimizer=optimizer), "TL107")
    assert tl107.message.startswith("Param groups 0, 1, 2 and 3 have lr=0 and hold 8 trainable tensors")
    assert "get gradients" not in tl107.message


def test_tl108_learnable_temperature_used_only_by_loss_fn_is_not_foreign() -> None:
    model = mlp()
    temperature = nn.Parameter(torch.tensor(1.0))
    optimizer = torch.optim.SGD([{"params": model.parameters()}, {"params": [temperature]}], lr=0.1)
    labels = torch.tensor([0, 1, 2, 0])
    result = audit(model, X, optimizer=optimizer,
                   loss_fn=lambda out: nn.functional.cross_entropy(out / temperature, labels))
    assert not by_code(result, "TL108")
    assert temperature.grad is None


@pytest.mark.parametrize(("freeze", "verdict"), [
    (lambda m: (m.requires_grad_(False), m.fc.requires_grad_(True)), "transfer learning: only `fc` trains"),
    (lambda m: None, "fine-tuning: every layer trains"),
    (lambda m: m.requires_grad_(False), "nothing trains"),
    (lambda m: (m.requires_grad_(False), m.layer4.requires_grad_(True), m.fc.requires_grad_(True)),
     "partial: `layer4` and `fc` train"),
])
def test_verdict_first_in_the_table_and_in_json(freeze, verdict: str) -> None:
    model = resnet18(weights=None, num_classes=3)
    freeze(model)
    result = audit(model, torch.randn(2, 3, 32, 32))
    assert result.verdict == verdict
    assert str(result).splitlines()[0] == verdict and result.to_dict()["verdict"] == verdict


def test_verdict_counts_the_optimizer() -> None:
    model = mlp()
    optimizer = torch.optim.SGD(model[3].parameters(), lr=0.1)
    assert audit(model, X, optimizer=optimizer).verdict == "transfer learning: only `3` trains"
