"""`str(audit)`: the per-module table, with long runs of identical modules collapsed into one line.

A fine-tuned resnet50 has 160 modules with parameters and they all read the same; the interesting rows are
the ones that differ (the head, the offending modules), so a run of identical rows shows as
`first … last` with the count, and marked rows (`!`) carry the codes that concern them.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from itertools import groupby
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tllint.runtime.results import Audit, LayerRow

COLLAPSE_AT = 4
HEADERS = ("", "module", "type", "weights", "trainable", "grad", "optimizer", "group", "lr", "used", "codes")


def render(audit: Audit, marked: Collection[str] | None = None, title: str | None = None) -> str:
    """The table. `marked`: parameters whose modules get a `!` (default: those in error/warning findings)."""
    codes_by_param: dict[str, set[str]] = {}
    for finding in audit.problems:
        for name in finding.params:
            codes_by_param.setdefault(name, set()).add(finding.code)
    marked = set(codes_by_param) if marked is None else set(marked)
    cells = []
    for key, run in groupby(audit.layers, key=lambda layer: _key(layer, marked, codes_by_param)):
        layers = list(run)
        chunks = [layers] if len(layers) >= COLLAPSE_AT else [[layer] for layer in layers]
        cells.extend(_row(chunk, key) for chunk in chunks)
    head = [title, audit.verdict, _summary(audit)] if title else [audit.verdict, _summary(audit)]
    lines = [*head, *_columns([HEADERS, *cells])]
    lines.extend(f"{f.severity.value:<7} {f.code} {f.name}: {f.message}" for f in audit.findings)
    if not audit.findings:
        lines.append("no findings")
    return "\n".join(lines)


def _key(layer: LayerRow, marked: Collection[str], codes_by_param: dict[str, set[str]]) -> tuple[Any, ...]:
    codes = sorted({code for name in layer.params for code in codes_by_param.get(name, ())})
    mark = "!" if any(name in marked for name in layer.params) else ""
    return (mark, _yes_no(layer.requires_grad), layer.grad, _yes_no(layer.in_optimizer),
            _text(layer.group), _text(layer.lr), _yes_no(layer.used_in_forward, unknown="?"), " ".join(codes))


def _row(layers: Sequence[LayerRow], key: tuple[Any, ...]) -> tuple[str, ...]:
    first, last = layers[0], layers[-1]
    numel = _weights(sum(layer.numel for layer in layers))
    if len(layers) == 1:
        return (key[0], first.module or "<root>", first.module_type, numel, *key[1:])
    span = f"{first.module or '<root>'} … {last.module}"
    return (key[0], span, f"({len(layers)} modules)", numel, *key[1:])


def _summary(audit: Audit) -> str:
    rows = audit.params
    trainable = sum(row.requires_grad for row in rows)
    reached = sum(row.receives_gradient for row in rows)
    parts = [f"trace: {audit.trace}", f"gradients: {audit.gradients}",
             f"{len(rows)} parameter tensors in {len(audit.layers)} modules",
             f"trainable {trainable}", f"receive gradients {reached}"]
    if any(row.in_optimizer is not None for row in rows):
        parts.append(f"in optimizer {sum(bool(row.in_optimizer) for row in rows)}")
    if audit.wrappers:
        parts.append("audited inside " + " > ".join(audit.wrappers))
    return " · ".join(parts)


def _columns(rows: Iterable[Sequence[str]]) -> list[str]:
    rows = list(rows)
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
            for row in rows]


def _yes_no(value: Any, unknown: str = "-") -> str:
    if value is None:
        return unknown
    return {True: "yes", False: "no"}.get(value, str(value))


def _text(value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _weights(n: int) -> str:
    for unit, size in (("M", 1e6), ("K", 1e3)):
        if n >= size:
            return f"{n / size:.1f}{unit}"
    return str(n)
