"""What `tllint run` observes while the script runs: modules that ran, optimizers built and stepped, gradients.

Global hooks do the observing. A module forward pre-hook records which modules ran (the roots among them are
the models). An optimizer step pre-hook counts steps and reads, at step N, the optimizer's param groups and
the gradients the script's own backward left; when the step is given a closure (LBFGS, Lightning's automatic
optimization) the forward and backward run inside `step()`, after the pre-hook, so the hook wraps the closure
and reads the gradients when it returns. `Optimizer.__init__` and `DistributedDataParallel.__init__` are
wrapped while the script runs, to know every optimizer (and where it was built) and which parameters DDP's
reducer was built with.
"""

from __future__ import annotations

import gc
import traceback
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn.modules.module import register_module_forward_pre_hook
from torch.optim.optimizer import register_optimizer_step_pre_hook

import tllint
from tllint.runtime.observation import Observation, grad_statuses, strongest
from tllint.runtime.results import GradStatus
from tllint.runtime.trace import Usage, hook_usage
from tllint.runtime.wrappers import unwrap

HOOK_TRACE = "hooks: recorded from the script's own forward passes"
_LIBRARIES = (str(Path(torch.__file__).resolve().parent), str(Path(tllint.__file__).resolve().parent))


@dataclass
class GroupsSnapshot:
    """An optimizer's param groups as they were at its audited step (a scheduler may change them later)."""

    param_groups: list[dict[str, Any]]

    @classmethod
    def of(cls, optimizer: torch.optim.Optimizer) -> GroupsSnapshot:
        return cls([{**group, "params": list(group["params"])} for group in optimizer.param_groups])


@dataclass
class Tracked:
    """One optimizer the script built: where, how often it stepped, and the fastest count at its last step."""

    ref: Callable[[], torch.optim.Optimizer | None]
    where: str
    kind: str
    steps: int = 0
    fastest_at_last_step: int = 0
    snapshot: GroupsSnapshot | None = None


@dataclass
class StepCapture:
    """The hooks' state; `on_complete` is called once every optimizer that steps has reached step N."""

    step: int
    patience: int
    on_complete: Callable[[], None]
    ran: dict[int, nn.Module] = field(default_factory=dict)
    optimizers: dict[int, Tracked] = field(default_factory=dict)
    grads: dict[int, GradStatus] = field(default_factory=dict)
    requires_grad: dict[int, bool] = field(default_factory=dict)
    ddp_saw: dict[int, dict[int, bool]] = field(default_factory=dict)
    done: bool = False
    stepped: bool = False  # a step got past its closure: a closure that raises is a crash before the first step

    # -- hooks --------------------------------------------------------------------------------------------
    def on_forward(self, module: nn.Module, _args: Any) -> None:
        if not self.done and id(module) not in self.ran:
            self.ran[id(module)] = module

    def on_built(self, optimizer: torch.optim.Optimizer) -> None:
        self.optimizers.setdefault(id(optimizer), Tracked(weakref.ref(optimizer), _where_built(),
                                                          type(optimizer).__name__))

    def on_ddp(self, ddp: nn.Module) -> None:
        self.ddp_saw[id(ddp)] = {id(p): p.requires_grad for p in ddp.module.parameters()}

    def on_step(self, optimizer: torch.optim.Optimizer, args: tuple[Any, ...],
                kwargs: dict[str, Any]) -> tuple[tuple[Any, ...], dict[str, Any]] | None:
        if self.done:
            return None
        self.on_built(optimizer)  # built before the hooks (or by a subclass that skips Optimizer.__init__)
        tracked = self.optimizers[id(optimizer)]
        tracked.steps += 1
        tracked.fastest_at_last_step = max(t.steps for t in self.optimizers.values())
        at_step = tracked.steps == self.step
        # `args` starts with the optimizer itself: `step(self, closure=None)`
        closure = kwargs.get("closure", args[1] if len(args) > 1 else None)
        if closure is None:
            self._stepped(optimizer, at_step)
            return None
        wrapped = self._after_closure(optimizer, closure, at_step)
        if "closure" in kwargs:
            return args, {**kwargs, "closure": wrapped}
        return (args[0], wrapped, *args[2:]), kwargs

    def _stepped(self, optimizer: torch.optim.Optimizer, at_step: bool) -> None:
        self.stepped = True
        if at_step:
            self._capture(optimizer)
        self._check()

    def _after_closure(self, optimizer: torch.optim.Optimizer, closure: Callable[[], Any],
                       at_step: bool) -> Callable[[], Any]:
        """The closure, going on with the step when its first call returns (its backward has run)."""
        first = True

        def audited_closure(*args: Any, **kwargs: Any) -> Any:
            nonlocal first
            result = closure(*args, **kwargs)
            if first and not self.done:
                first = False
                self._stepped(optimizer, at_step)
            return result

        return audited_closure

    # -- state ----------------------------------------------------------------------------------------------
    def _capture(self, optimizer: torch.optim.Optimizer) -> None:
        held = [p for group in optimizer.param_groups for p in group["params"]]
        params = [p for _, root in self.roots() for p in root.parameters()] + held
        for param, status in zip(params, grad_statuses([p.grad for p in params]), strict=True):
            self.grads[id(param)] = strongest(self.grads.get(id(param), "none"), status)
            self.requires_grad.setdefault(id(param), param.requires_grad)
        self.requires_grad.update({id(p): p.requires_grad for p in held})
        self.optimizers[id(optimizer)].snapshot = GroupsSnapshot.of(optimizer)

    def live(self) -> list[Tracked]:
        return [t for t in self.optimizers.values() if t.ref() is not None or t.steps]

    def idle(self) -> list[Tracked]:
        """Optimizers short of step N that have not stepped while the fastest went `patience` steps past N (or
        past their own last step, whichever is later): a WGAN's generator stepping every fifth step is not."""
        fastest = max((t.steps for t in self.optimizers.values()), default=0)
        return [t for t in self.live() if t.steps < self.step
                and fastest - max(self.step, t.fastest_at_last_step) >= self.patience]

    def reached(self) -> list[Tracked]:
        return [t for t in self.live() if t.steps >= self.step]

    def _check(self) -> None:
        """Report once some optimizer reached step N and every other one did too or is idle."""
        if self.done or not self.reached():
            return
        idle = {id(t) for t in self.idle()}
        if any(t.steps < self.step and id(t) not in idle for t in self.live()):
            return
        self.done = True
        self.on_complete()

    def any_step(self) -> bool:
        return self.stepped

    def roots(self) -> list[tuple[str, nn.Module]]:
        """The outermost modules that ran and have parameters, named by class when there are several."""
        return name_roots(outermost(self.ran.values()))

    # -- the observation ---------------------------------------------------------------------------------
    def observation(self, end_of_script: bool = False) -> Observation:
        gc.collect()  # an optimizer the script dropped may wait in a reference cycle: it is not idle
        roots = [(label, *unwrap(root)) for label, root in self.roots()]
        usage = usage_of([(label, inner) for label, inner, _ in roots], list(self.ran.values()))
        short = [t for t in self.live() if t.steps < self.step]
        idle = short if end_of_script else self.idle()
        return Observation(
            roots=[(label, inner) for label, inner, _ in roots],
            grads=self.grads,
            usage=usage,
            optimizers=[t.snapshot or _snapshot_now(t) for t in self.live() if t.snapshot or t.ref()],
            trace=HOOK_TRACE,
            gradients=f"the script's own backward at optimizer step {self.step}",
            wrappers=tuple(dict.fromkeys(name for _, _, wrappers in roots for name in wrappers)),
            requires_grad=self.requires_grad,
            idle_optimizers=[(describe_idle(t, self.step), _held(t)) for t in idle],
            ddp_changed=self.ddp_changed(),
        )

    def ddp_changed(self) -> list[tuple[torch.Tensor, bool]]:
        """(parameter, requires_grad now) for parameters whose flag differs from when DDP wrapped them."""
        changed = []
        for module in self.ran.values():
            saw = self.ddp_saw.get(id(module))
            if saw is not None:
                changed += [(p, p.requires_grad) for p in module.parameters()
                            if id(p) in saw and saw[id(p)] != p.requires_grad]
        return changed


def _snapshot_now(tracked: Tracked) -> GroupsSnapshot:
    optimizer = tracked.ref()
    return GroupsSnapshot.of(optimizer) if optimizer is not None else GroupsSnapshot([])


def _held(tracked: Tracked) -> list[torch.Tensor]:
    optimizer = tracked.ref()
    return [] if optimizer is None else [p for group in optimizer.param_groups for p in group["params"]]


def describe_idle(tracked: Tracked, step: int) -> str:
    what = "never stepped" if tracked.steps == 0 else f"stepped only {tracked.steps} of {step} times"
    return f"{tracked.kind} built at {tracked.where} {what}"


def usage_of(roots: Sequence[tuple[str, nn.Module]], ran: list[nn.Module]) -> Usage:
    usages = [hook_usage(inner, ran, prefix=label) for label, inner in roots]
    return Usage(order=tuple(path for u in usages for path in u.order),
                 used={name: used for u in usages for name, used in u.used.items()})


def outermost(modules: Iterator[nn.Module] | Sequence[nn.Module]) -> list[nn.Module]:
    """The modules not inside another one of `modules`, with parameters, in first-seen order."""
    modules = list(modules)
    inside: set[int] = set()
    for module in modules:
        inside.update(id(sub) for sub in module.modules() if sub is not module)
    return [m for m in modules if id(m) not in inside and next(m.parameters(), None) is not None]


def name_roots(roots: Sequence[nn.Module]) -> list[tuple[str, nn.Module]]:
    if len(roots) == 1:
        return [("", roots[0])]
    labels: dict[str, int] = {}
    named = []
    for root in roots:
        label = type(unwrap(root)[0]).__name__
        labels[label] = labels.get(label, 0) + 1
        named.append((label if labels[label] == 1 else f"{label}#{labels[label]}", root))
    return named


def _where_built() -> str:
    """`file.py:12`: the innermost frame of the stack that is neither torch's nor tllint's."""
    for frame in reversed(traceback.extract_stack()[:-1]):
        if not frame.filename.startswith(_LIBRARIES):
            return f"{Path(frame.filename).name}:{frame.lineno}"
    return "an unknown place"


@contextmanager
def observing(capture: StepCapture) -> Iterator[None]:
    """Install the hooks and the constructor wrappers for the duration of the block."""
    from torch.nn.parallel import DistributedDataParallel

    original_init = torch.optim.Optimizer.__init__
    original_ddp_init = DistributedDataParallel.__init__

    def optimizer_init(optimizer: torch.optim.Optimizer, *args: Any, **kwargs: Any) -> None:
        original_init(optimizer, *args, **kwargs)
        capture.on_built(optimizer)

    def ddp_init(ddp: DistributedDataParallel, *args: Any, **kwargs: Any) -> None:
        original_ddp_init(ddp, *args, **kwargs)
        capture.on_ddp(ddp)

    torch.optim.Optimizer.__init__ = optimizer_init  # type: ignore[method-assign]
    DistributedDataParallel.__init__ = ddp_init  # type: ignore[method-assign]
    handles = [register_module_forward_pre_hook(capture.on_forward),
               register_optimizer_step_pre_hook(capture.on_step)]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()
        torch.optim.Optimizer.__init__ = original_init  # type: ignore[method-assign]
        DistributedDataParallel.__init__ = original_ddp_init  # type: ignore[method-assign]
