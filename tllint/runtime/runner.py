"""`tllint run`: run a training script as `__main__`, audit it at its N-th optimizer step, and stop it.

`tllint.runtime.capture` observes (modules that ran, optimizers, gradients at the step, closures included);
the audit is built by `build_audit`, as for `audit()`. With several optimizers the report comes when every
optimizer that steps has reached step N; one that stays idle while the others go `patience` steps further, or
until the script ends, is not waited for and is reported. The report ends the script: `ScriptStopped` is
raised from the step, and with `hard_exit` (the CLI) the process exits with the report's code right after the
report, so a script that catches every exception or leaves threads behind stops all the same. When the script
raises before its first step, `tllint.runtime.crash` audits what it had built and explains the error.
"""

from __future__ import annotations

import contextlib
import os
import runpy
import sys
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field

from tllint.findings.model import Severity
from tllint.runtime.capture import StepCapture, observing
from tllint.runtime.observation import build_audit
from tllint.runtime.results import Audit
from tllint.runtime.tracebacks import user_traceback

DEFAULT_PATIENCE = 20
INTERRUPTED = 130


class ScriptStopped(BaseException):
    """Raised from the step hook to end the script; a BaseException, so `except Exception` lets it pass."""


@dataclass(frozen=True)
class RunOutcome:
    """What to report: the audit (None if there is none) and, when the run went wrong, why.

    `explained`: the script crashed before its first step and `audit`/`explanation` say what tllint found in
    what it had built; the exit code is 1 when an error-severity finding explains the crash, else 2.
    """

    audit: Audit | None
    failure: str | None = None
    explanation: tuple[str, ...] = ()
    explained: bool = False
    static_errors: bool = False

    @property
    def exit_code(self) -> int:
        if self.explained:
            errors = self.audit is not None and any(f.severity is Severity.ERROR for f in self.audit.findings)
            return 1 if errors or self.static_errors else 2
        if self.audit is None or self.failure is not None:
            return 2
        return 1 if self.audit.problems else 0


@dataclass
class _Run:
    """One run's moving parts: the capture, the report callback and what has been reported."""

    script: str | None
    step: int
    keep_going: bool
    hard_exit: bool
    report: Callable[[RunOutcome], None]
    codes: Collection[str] | None
    capture: StepCapture = field(init=False)
    reported: RunOutcome | None = None

    def audit(self, end_of_script: bool = False) -> Audit:
        audit = build_audit(self.capture.observation(end_of_script))
        return audit.only(self.codes) if self.codes is not None else audit

    def on_complete(self) -> None:
        """Every optimizer that steps reached step N: report, then stop the script (or let it go on)."""
        try:
            outcome = RunOutcome(self.audit())
        except Exception as error:
            outcome = RunOutcome(None, "tllint failed while auditing:\n" + user_traceback(error))
        self.finish(outcome)
        if not self.keep_going:
            self.exit(outcome.exit_code)

    def finish(self, outcome: RunOutcome) -> None:
        self.reported = outcome
        self.report(outcome)

    def exit(self, code: int) -> None:
        if self.hard_exit:
            _flush()
            _real_exit(code)
        raise ScriptStopped

    def end(self, crash: BaseException | None, status: object = None) -> int:
        """The script is over (returned, raised, exited): report what is left and give the exit code."""
        if self.reported is not None:
            if crash is not None:
                print(user_traceback(crash).rstrip() + "\ntllint run: the script raised the error above after "
                      "the report", file=sys.stderr)
                return 2
            if status not in (None, 0):
                print(f"tllint run: the script exited with status {status} after the report", file=sys.stderr)
                return 2
            return self.reported.exit_code
        if not self.capture.any_step():
            if crash is not None:
                from tllint.runtime.crash import explain

                outcome = explain(self.capture, crash, self.script, self.codes)
            else:
                how = "" if status in (None, 0) else f" (exit status {status})"
                outcome = RunOutcome(None, "the script exited before its first optimizer step" + how
                                     if status is not None else self._not_reached())
            self.finish(outcome)
            return outcome.exit_code
        if self.capture.reached():
            outcome = RunOutcome(self.audit(end_of_script=True))
            self.finish(outcome)
            if crash is not None:
                print(user_traceback(crash).rstrip(), file=sys.stderr)
                return 2
            return 2 if status not in (None, 0) else outcome.exit_code
        failure = self._not_reached()
        if crash is not None:
            failure = user_traceback(crash) + "the script raised the error above before optimizer step " \
                f"{self.step}"
        elif status not in (None, 0):
            failure = f"the script exited with status {status} before optimizer step {self.step}"
        self.finish(RunOutcome(None, failure))
        return 2

    def _not_reached(self) -> str:
        seen = ", ".join(str(t.steps) for t in self.capture.optimizers.values()) or "none"
        return (f"the script finished without reaching optimizer step {self.step} (steps per optimizer seen: "
                f"{seen}); tllint run audits at a torch.optim optimizer's step()")


def run(
    script: str | None,
    module: str | None,
    args: Sequence[str],
    *,
    report: Callable[[RunOutcome], None],
    step: int = 1,
    patience: int = DEFAULT_PATIENCE,
    keep_going: bool = False,
    codes: Collection[str] | None = None,
    hard_exit: bool = False,
    quiet_stdout: bool = False,
) -> int:
    """Run `script` (or `-m module`) with `args` until the audit is complete and report it; the exit code.

    `report` is called once (the audit, or why there is none). `hard_exit`: end the process right after the
    report (and on `os._exit`), whatever the script does; otherwise `ScriptStopped` unwinds the script.
    """
    state = _Run(script, step, keep_going, hard_exit, report, codes)
    state.capture = StepCapture(step, patience, state.on_complete)
    crash: BaseException | None = None
    status: object = None
    namespace: dict[str, object] = {}  # the script's globals, alive until the end is judged
    with observing(state.capture), _as_main(script, module, args), _stdout_to_stderr(quiet_stdout), \
            _os_exit_ends_the_run(state):
        try:
            if module is not None:
                namespace = runpy.run_module(module, run_name="__main__", alter_sys=True)
            else:
                namespace = runpy.run_path(str(script), run_name="__main__")
        except ScriptStopped:
            pass
        except SystemExit as error:
            status = 0 if error.code is None else error.code
            namespace = {"exit": error}  # its traceback keeps the script's frames, and so its objects, alive
        except KeyboardInterrupt:
            return INTERRUPTED
        except BaseException as error:  # the script's own error: explained or shown, never ours to raise
            crash = error
        code = state.end(crash, status)
        namespace.clear()
        return code


_real_exit = os._exit


@contextlib.contextmanager
def _os_exit_ends_the_run(state: _Run) -> Iterator[None]:
    """`os._exit(n)` in the script: report what there is to report, then exit with the run's code.

    Only in this process: a forked DataLoader worker inherits the patch and must exit as it asked.
    """
    pid = os.getpid()

    def exit_from_script(code: int) -> None:
        if os.getpid() != pid:
            _real_exit(code)
        final = state.end(None, code)
        _flush()
        _real_exit(final)

    os._exit = exit_from_script  # type: ignore[assignment]
    try:
        yield
    finally:
        os._exit = _real_exit


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        with contextlib.suppress(Exception):
            if stream is not None:
                stream.flush()


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
