"""`tllint run`: run a training script as `__main__` and audit it at its first (or N-th) optimizer step.

Two global hooks do the observing: a module forward pre-hook records which modules ran (the roots among
them are the models), and an optimizer step pre-hook reads, before the step, each optimizer's param groups and
the gradients the script's own backward left. With several optimizers (a GAN steps D, then G) the audit waits
until every live optimizer has reached step N, or one of them goes past it; gradients are combined over those
moments, so each model is judged at the step of the optimizer that trains it. The audit is built by `build_audit`, as
for `audit()`; only the observation differs.
"""

from __future__ import annotations

import contextlib
import gc
import os
import runpy
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn.modules.module import register_module_forward_pre_hook
from torch.optim.optimizer import register_optimizer_step_pre_hook

import tllint
from tllint.runtime.observation import Observation, build_audit, grad_status, strongest
from tllint.runtime.results import Audit, GradStatus
from tllint.runtime.trace import Usage, hook_usage
from tllint.runtime.wrappers import unwrap

HOOK_TRACE = "hooks: recorded from the script's own forward passes"


class ScriptStopped(BaseException):
    """Raised from the step hook to end the script; a BaseException, so `except Exception` lets it pass."""


@dataclass(frozen=True)
class RunOutcome:
    """The audit (None if no step was reached) and, when the run must exit 2, why."""

    audit: Audit | None
    failure: str | None


class StepCapture:
    """The hooks' state: modules that ran, step counts, gradients seen, and the audit once complete."""

    def __init__(self, step: int, keep_going: bool, on_audit: Callable[[Audit], None]) -> None:
        self.step = step
        self.keep_going = keep_going
        self.on_audit = on_audit
        self.ran: dict[int, nn.Module] = {}
        self.counts: dict[int, int] = {}
        self.stepped: dict[int, torch.optim.Optimizer] = {}
        self.grads: dict[int, GradStatus] = {}
        self.audit: Audit | None = None
        self.failure: str | None = None

    def on_forward(self, module: nn.Module, _args: Any) -> None:
        if self.audit is None and id(module) not in self.ran:
            self.ran[id(module)] = module

    def on_step(self, optimizer: torch.optim.Optimizer, _args: Any, _kwargs: Any) -> None:
        if self.audit is not None or self.failure is not None:
            return
        count = self.counts[id(optimizer)] = self.counts.get(id(optimizer), 0) + 1
        if count == self.step:
            self.stepped[id(optimizer)] = optimizer
            self._capture(optimizer)
        if count < self.step or not self._complete(count):
            return
        try:
            self.audit = self._build_audit()
            self.on_audit(self.audit)
        except Exception:
            self.failure = "tllint failed while auditing:\n" + traceback.format_exc()
            raise ScriptStopped from None
        if not self.keep_going:
            raise ScriptStopped

    def _complete(self, count: int) -> bool:
        """Every live optimizer reached the step, or this one went past it (the others may never step)."""
        if count > self.step:
            return True
        # type(), not isinstance(): isinstance reads `__class__`, which some module-level proxies warn on.
        live = [obj for obj in gc.get_objects() if issubclass(type(obj), torch.optim.Optimizer)]
        return all(self.counts.get(id(optimizer), 0) >= self.step for optimizer in live)

    def _capture(self, optimizer: torch.optim.Optimizer) -> None:
        params = [p for _, root in self._roots() for p in root.parameters()]
        params += [p for group in optimizer.param_groups for p in group["params"]]
        for param in params:
            self.grads[id(param)] = strongest(self.grads.get(id(param), "none"), grad_status(param.grad))

    def _roots(self) -> list[tuple[str, nn.Module]]:
        """The outermost modules that ran and have parameters, unwrapped, named by class when several."""
        inside: set[int] = set()
        roots = []
        for key, module in self.ran.items():
            if key not in inside:
                inside.update(id(sub) for sub in module.modules())
                if next(module.parameters(), None) is not None:
                    roots.append(module)
        if len(roots) == 1:
            return [("", roots[0])]
        labels: dict[str, int] = {}
        named = []
        for root in roots:
            label = type(unwrap(root)[0]).__name__
            labels[label] = labels.get(label, 0) + 1
            named.append((label if labels[label] == 1 else f"{label}#{labels[label]}", root))
        return named

    def _build_audit(self) -> Audit:
        roots = [(label, *unwrap(root)) for label, root in self._roots()]
        ran = list(self.ran.values())
        usages = [hook_usage(inner, ran, prefix=label) for label, inner, _ in roots]
        usage = Usage(
            order=tuple(path for u in usages for path in u.order),
            used={name: used for u in usages for name, used in u.used.items()},
        )
        return build_audit(Observation(
            roots=[(label, inner) for label, inner, _ in roots],
            grads=self.grads,
            usage=usage,
            optimizers=list(self.stepped.values()),
            trace=HOOK_TRACE,
            gradients=f"the script's own backward at optimizer step {self.step}",
            wrappers=tuple(dict.fromkeys(name for _, _, wrappers in roots for name in wrappers)),
        ))


def run(
    script: str | None,
    module: str | None,
    args: Sequence[str],
    *,
    step: int = 1,
    keep_going: bool = False,
    on_audit: Callable[[Audit], None],
    quiet_stdout: bool = False,
) -> RunOutcome:
    """Run `script` (or `-m module`) with `args` until the audit is complete, then stop it (or not)."""
    capture = StepCapture(step, keep_going, on_audit)
    failure = None
    with _hooks(capture), _as_main(script, module, args), _stdout_to_stderr(quiet_stdout):
        try:
            if module is not None:
                runpy.run_module(module, run_name="__main__", alter_sys=True)
            else:
                runpy.run_path(str(script), run_name="__main__")
        except ScriptStopped:
            pass
        except SystemExit as error:
            if error.code not in (None, 0):
                failure = f"the script exited with code {error.code!r}"
        except Exception as error:
            failure = _user_traceback(error) + "the script raised the error above"
    if capture.failure is not None:
        failure = capture.failure
    if capture.audit is None and failure is None:
        seen = ", ".join(str(count) for count in capture.counts.values()) or "none"
        failure = (f"the script finished without reaching optimizer step {step} (steps per optimizer seen: "
                   f"{seen}); tllint run audits at a torch.optim optimizer's step()")
    return RunOutcome(capture.audit, failure)


@contextlib.contextmanager
def _hooks(capture: StepCapture) -> Iterator[None]:
    handles = [register_module_forward_pre_hook(capture.on_forward),
               register_optimizer_step_pre_hook(capture.on_step)]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


@contextlib.contextmanager
def _as_main(script: str | None, module: str | None, args: Sequence[str]) -> Iterator[None]:
    """`sys.argv` and `sys.path[0]` as `python SCRIPT ARGS` / `python -m MODULE ARGS` would set them."""
    saved_argv, saved_path = sys.argv[:], sys.path[:]
    sys.argv = [str(script) if script is not None else str(module), *args]
    sys.path.insert(0, os.path.dirname(os.path.abspath(script)) if script is not None else os.getcwd())
    try:
        yield
    finally:
        sys.argv, sys.path[:] = saved_argv, saved_path


@contextlib.contextmanager
def _stdout_to_stderr(enabled: bool) -> Iterator[None]:
    """Keep the script's prints out of a JSON report on stdout."""
    if not enabled:
        yield
        return
    with contextlib.redirect_stdout(sys.stderr):
        yield


_OURS = (str(Path(tllint.__file__).resolve().parent), runpy.__file__, "<frozen runpy>")


def _user_traceback(error: BaseException) -> str:
    """The traceback from the script's first frame on; tllint's and runpy's frames are noise to the user."""
    tb = error.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename.startswith(_OURS):
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(error), error, tb))
