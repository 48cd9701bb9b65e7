"""What an audit reports: one row per parameter, the rows rolled up per module, and the findings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

from tllint.findings.model import Severity
from tllint.runtime.table import render

GradStatus = Literal["nonzero", "zero", "none"]
MIXED = "mixed"


@dataclass(frozen=True)
class ParamRow:
    """One parameter. `grad`: "nonzero", "zero" (reached, all zeros) or "none" (not reached)."""

    name: str
    module: str
    module_type: str
    requires_grad: bool
    grad: GradStatus
    in_optimizer: bool | None
    group: str | None
    lr: float | None
    weight_decay: float | None
    used_in_forward: bool | None
    numel: int
    adapter: str | None = None  # a PEFT adapter's kind (`lora_A`, `modules_to_save`, ...): tllint/runtime/peft.py

    @property
    def receives_gradient(self) -> bool:
        """Autograd reached it: its gradient exists (even if it happens to be all zeros)."""
        return self.grad != "none"


@dataclass(frozen=True)
class LayerRow:
    """The parameters a module holds directly, rolled up; a field whose values differ reads "mixed"."""

    module: str
    module_type: str
    params: tuple[str, ...]
    numel: int
    requires_grad: bool | str
    grad: str
    in_optimizer: bool | str | None
    group: str | None
    lr: float | str | None
    weight_decay: float | str | None
    used_in_forward: bool | str | None


@dataclass(frozen=True)
class RuntimeFinding:
    """A runtime finding: the code and name of the shared catalog, and the parameters it is about."""

    code: str
    name: str
    severity: Severity
    message: str
    params: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "severity": self.severity.value,
            "message": self.message,
            "params": list(self.params),
        }


def _rollup(values: Sequence[Any]) -> Any:
    first = values[0]
    return first if all(value == first for value in values) else MIXED


def roll_up(params: Sequence[ParamRow], order: Sequence[str]) -> tuple[LayerRow, ...]:
    """Group rows by owning module, in forward order; modules the forward never touched come last."""
    by_module: dict[str, list[ParamRow]] = {}
    for row in params:
        by_module.setdefault(row.module, []).append(row)
    rank = {path: index for index, path in enumerate(order)}
    modules = sorted(by_module, key=lambda path: rank.get(path, len(rank)))
    layers = []
    for path in modules:
        rows = by_module[path]
        layers.append(
            LayerRow(
                module=path,
                module_type=rows[0].module_type,
                params=tuple(row.name for row in rows),
                numel=sum(row.numel for row in rows),
                requires_grad=_rollup([row.requires_grad for row in rows]),
                grad=_rollup([row.grad for row in rows]),
                in_optimizer=_rollup([row.in_optimizer for row in rows]),
                group=_rollup([row.group for row in rows]),
                lr=_rollup([row.lr for row in rows]),
                weight_decay=_rollup([row.weight_decay for row in rows]),
                used_in_forward=_rollup([row.used_in_forward for row in rows]),
            )
        )
    return tuple(layers)


@dataclass(frozen=True)
class Audit:
    """The result of `tllint.runtime.audit` or `tllint run`. `str(audit)` is the table."""

    params: tuple[ParamRow, ...]
    layers: tuple[LayerRow, ...]
    findings: tuple[RuntimeFinding, ...]
    trace: str
    gradients: str
    wrappers: tuple[str, ...] = ()

    @property
    def problems(self) -> tuple[RuntimeFinding, ...]:
        """Error and warning findings: the ones that fail `tllint audit` / `tllint run` (exit 1)."""
        return tuple(f for f in self.findings if f.severity in (Severity.ERROR, Severity.WARNING))

    def to_dict(self) -> dict[str, Any]:
        return {
            "trace": self.trace,
            "gradients": self.gradients,
            "wrappers": list(self.wrappers),
            "params": [asdict(row) for row in self.params],
            "layers": [{**asdict(layer), "params": list(layer.params)} for layer in self.layers],
            "findings": [finding.to_dict() for finding in self.findings],
        }

    def __str__(self) -> str:
        return render(self)
