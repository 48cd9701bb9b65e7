"""What an audit reports: one row per parameter, the rows rolled up per module, and the findings."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

from tllint.findings.model import Severity
from tllint.runtime.table import render

GradStatus = Literal["nonzero", "zero", "none"]
MIXED = "mixed"


class AuditError(Exception):
    """The model cannot be audited as it is (and the audit changed nothing): the message says what to do."""


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
    verdict: str = ""

    @property
    def problems(self) -> tuple[RuntimeFinding, ...]:
        """Error and warning findings: the ones that fail `tllint audit` / `tllint run` (exit 1)."""
        return tuple(f for f in self.findings if f.severity in (Severity.ERROR, Severity.WARNING))

    def only(self, codes: Collection[str]) -> Audit:
        """The same audit with only the findings whose code is in `codes` (`--select` / `--ignore`)."""
        return replace(self, findings=tuple(f for f in self.findings if f.code in codes))

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "trace": self.trace,
            "gradients": self.gradients,
            "wrappers": list(self.wrappers),
            "params": [asdict(row) for row in self.params],
            "layers": [{**asdict(layer), "params": list(layer.params)} for layer in self.layers],
            "findings": [finding.to_dict() for finding in self.findings],
        }

    def __str__(self) -> str:
        return render(self)


def verdict(rows: Sequence[ParamRow], has_optimizer: bool, gradients_seen: bool = True,
            idle: Collection[str] = ()) -> str:
    """One line: what trains. A parameter trains when it gets a gradient and, with an optimizer, sits in one
    that steps (not in `idle`) at a non-zero learning rate (before any backward: when it requires grad). Names
    the fewest modules that hold exactly the training parameters."""
    def trains(row: ParamRow) -> bool:
        moved = row.receives_gradient if gradients_seen else row.requires_grad
        return moved and (not has_optimizer or (bool(row.in_optimizer) and row.lr != 0 and row.name not in idle))

    if not rows:
        return "no parameters"
    paths = _covering(rows, trains, "")
    if not paths:
        return "nothing trains"
    if paths == [""]:
        return "fine-tuning: every layer trains"
    names = [f"`{path}`" for path in paths]
    if len(names) == 1:
        return f"transfer learning: only {names[0]} trains"
    shown = names[:3] if len(names) > 4 else names
    listed = ", ".join(shown[:-1]) + f" and {shown[-1]}" if len(shown) == len(names) else (
        f"{', '.join(shown)} and {len(names) - len(shown)} more")
    return f"partial: {listed} train"


def _covering(rows: Sequence[ParamRow], trains: Callable[[ParamRow], bool], prefix: str) -> list[str]:
    inside = [row for row in rows if prefix == "" or row.name == prefix or row.name.startswith(f"{prefix}.")]
    flags = [trains(row) for row in inside]
    if all(flags):
        return [prefix]
    if not any(flags):
        return []
    depth = len(prefix.split(".")) if prefix else 0
    children = dict.fromkeys(".".join(row.name.split(".")[: depth + 1]) for row in inside)
    return [path for child in children for path in _covering(inside, trains, child)]
