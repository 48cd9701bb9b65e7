"""`tllint run SCRIPT [-- ARGS]`: run a training script up to an optimizer step and audit it there."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from tllint.cli.audit import RuntimeUsageError, emit, findings_exit_code
from tllint.cli.errors import require_torch


@click.command("run", context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.option("-m", "module", metavar="MODULE", help="Run a module as `python -m MODULE` would.")
@click.option("--step", type=click.IntRange(min=1), default=1, show_default=True,
              help="Audit at this optimizer step (for gradient accumulation or later unfreezing).")
@click.option("--continue", "keep_going", is_flag=True, help="Let the script run on after the report.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.argument("args", nargs=-1, type=click.UNPROCESSED, metavar="SCRIPT [-- ARGS]...")
@click.pass_context
def run_command(
    ctx: click.Context, module: str | None, step: int, keep_going: bool, fmt: str, args: tuple[str, ...]
) -> None:
    """Run a training script up to its first optimizer step and audit it.

    The script runs as __main__ with ARGS as its argv (put them after `--`). At the step, tllint reports
    which parameters got gradients from the script's own backward and which the optimizers hold, then stops
    the script. Exit 1 on error/warning findings, 0 when clean, 2 when no step was reached or it failed.
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
    from tllint.runtime.runner import run

    stdout = sys.stdout
    outcome = run(script, module, args, step=step, keep_going=keep_going,
                  on_audit=lambda audit: emit(audit, fmt, file=stdout), quiet_stdout=fmt == "json")
    if outcome.failure is not None:
        click.echo(outcome.failure.rstrip(), err=True)
    if outcome.audit is None or outcome.failure is not None:
        ctx.exit(RuntimeUsageError.exit_code)
    ctx.exit(findings_exit_code(outcome.audit))
