"""Explain a script that raised before its first optimizer step: the moment a user reaches for a tool.

When everything is frozen the script dies at `backward()` ("element 0 of tensors does not require grad and
does not have a grad_fn") or at the optimizer ("optimizer got an empty parameter list"). tllint audits what
the script had built: the modules whose forward ran, else the `nn.Module` objects in the failing frames, with
the optimizers built so far. No backward ran, so only what does not need gradients is judged (everything
frozen, frozen tensors in the optimizer, lr=0). The static half reads the script's source for the mistake that
caused it (a layer frozen after it was replaced, on which line). Then the original traceback.
"""

from __future__ import annotations

import types
from collections.abc import Collection
from pathlib import Path

from torch import nn

from tllint.findings.model import Severity
from tllint.runtime.capture import HOOK_TRACE, StepCapture, name_roots, outermost, usage_of
from tllint.runtime.observation import Observation, build_audit
from tllint.runtime.runner import RunOutcome
from tllint.runtime.trace import Usage
from tllint.runtime.tracebacks import user_traceback
from tllint.runtime.wrappers import unwrap

_HEADLINES = {
    "does not require grad and does not have a grad_fn": "backward() found no trainable parameter behind the loss",
    "optimizer got an empty parameter list": "the optimizer received no trainable parameter",
}


def explain(capture: StepCapture, error: BaseException, script: str | None,
            codes: Collection[str] | None) -> RunOutcome:
    """The audit of what the script had built, the static findings on its source, and the traceback."""
    modules = outermost(capture.ran.values()) or outermost(_modules_in_frames(error))
    roots = [(label, unwrap(module)[0]) for label, module in name_roots(modules)]
    optimizers = [t.ref() for t in capture.live()]
    audit = None
    if roots:
        audit = build_audit(Observation(
            roots=roots,
            grads={},
            usage=usage_of(roots, list(capture.ran.values())) if capture.ran else _unknown(roots),
            optimizers=[opt for opt in optimizers if opt is not None],
            trace=HOOK_TRACE,
            gradients="none: the script raised before its first optimizer step",
            gradients_seen=False,
        ))
        if codes is not None:
            audit = audit.only(codes)
    static = _static_findings(script)
    headline = next((text for marker, text in _HEADLINES.items() if marker in str(error)), None)
    explains = bool(static) or (audit is not None and any(f.severity is Severity.ERROR for f in audit.findings))
    lines = []
    if explains:
        lines.append(f"tllint run: {headline or 'the script raised before its first optimizer step'}; what "
                     "explains it:")
        lines += [f"  {line}" for line in static]
        if audit is not None:
            lines += [f"  {f.code} {f.name}: {f.message}" for f in audit.findings if f.severity is Severity.ERROR]
    lines.append(user_traceback(error).rstrip())
    lines.append("tllint run: the script raised the error above before its first optimizer step"
                 + ("" if explains else "; nothing tllint found explains it"))
    return RunOutcome(audit, "\n".join(lines), explained=True, static_errors=bool(static))


def _unknown(roots: list[tuple[str, nn.Module]]) -> Usage:
    """No forward ran: whether a parameter is used is not known."""
    return Usage(order=(), used={name: None for label, root in roots for name, _ in root.named_parameters(
        prefix=label)})


def _modules_in_frames(error: BaseException) -> list[nn.Module]:
    """`nn.Module` objects held by the variables of the failing frames (the script's first)."""
    found: dict[int, nn.Module] = {}
    tb: types.TracebackType | None = error.__traceback__
    while tb is not None:
        for value in tb.tb_frame.f_locals.values():
            if isinstance(value, nn.Module):
                found.setdefault(id(value), value)
        tb = tb.tb_next
    return list(found.values())


def _static_findings(script: str | None) -> list[str]:
    """Error-severity findings of the static checker on the script, as `file:line: CODE message`."""
    if script is None:
        return []
    from tllint.config import Config
    from tllint.static.engine import check_source

    path = Path(script)
    try:
        outcome = check_source(path.read_bytes(), str(path), Config().enabled_codes())
    except Exception:  # the explanation is a bonus: never let it hide the user's traceback
        return []
    return [f"{f.path}:{f.span.line}: {f.code} {f.message}" for f in outcome.findings
            if f.severity is Severity.ERROR]
