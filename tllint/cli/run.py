"""`tllint run SCRIPT [-- ARGS]`: run a training script up to an optimizer step and audit it there."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from tllint.cli.audit import emit, runtime_codes
from tllint.cli.errors import require_torch


@click.command("run", context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.option("-m", "module", metavar="MODULE", help="Run a module as `python -m MODULE` would.")
@click.option("--step", type=click.IntRange(min=1), default=1, show_default=True,
              help="Audit at this optimizer step (for gradient accumulation or later unfreezing).")
@click.option("--patience", type=click.IntRange(min=1), default=20, show_default=True,
              help="Stop waiting for an optimizer that has not stepped while the others went this many steps "
                   "past the audited one (it is reported: optimizer-never-steps).")
@click.option("--continue", "keep_going", is_flag=True, help="Let the script run on after the report.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--select", help="Comma-separated codes or prefixes to report (overrides the config file).")
@click.option("--ignore", help="Comma-separated codes or prefixes not to report (overrides the config file).")
@click.argument("args", nargs=-1, type=click.UNPROCESSED, metavar="SCRIPT [-- ARGS]...")
@click.pass_context
def run_command(
    ctx: click.Context, module: str | None, step: int, patience: int, keep_going: bool, fmt: str,
    select: str | None, ignore: str | None, args: tuple[str, ...]
) -> None:
    """Run a training script up to its first optimizer step and audit it.

    The script runs as __main__ with ARGS as its argv (put them after `--`). At the step, tllint reports
    which parameters got gradients from the script's own backward and which the optimizers hold, then stops
    the script. Exit 1 on error/warning findings, 0 when clean, 2 when no step was reached or it failed. When
    the script raises before its first step, tllint audits what it had built: exit 1 when a finding explains
    the error, 2 otherwise. Under torchrun every rank is audited and rank 0 prints.
    """
    require_torch("run")
    script = None
    if module is None:
        if not args:
            raise click.UsageError("give a SCRIPT or -m MODULE")
        script, args = args[0], args[1:]
        if args[:1] == ("--",):  # `tllint run SCRIPT -- ARGS`: after SCRIPT click passes `--` through
            args = args[1:]
        if not Path(script).is_file():
            raise click.UsageError(f"no such script: {script}")
    codes = runtime_codes(Path(script) if script else Path.cwd(), select, ignore)
    from tllint.runtime.runner import RunOutcome, run

    stdout = sys.stdout
    first_rank = os.environ.get("RANK", "0") == "0"

    def report(outcome: RunOutcome) -> None:
        if outcome.audit is not None and first_rank:
            emit(outcome.audit, fmt, file=stdout)
        if outcome.failure is not None:
            click.echo(outcome.failure.rstrip(), err=True)
        stdout.flush()

    code = run(script, module, args, report=report, step=step, patience=patience, keep_going=keep_going,
               codes=codes, hard_exit=not keep_going, quiet_stdout=fmt == "json")
    if keep_going:
        ctx.exit(code)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # the script's threads (non-daemon ones included) end with it, as the report said
