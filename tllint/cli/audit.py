"""`tllint audit MODULE:FACTORY`: audit a real model built by a factory. Imports torch only when it runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO, TYPE_CHECKING

import click

from tllint.cli.errors import EXIT_INTERRUPTED, require_torch

if TYPE_CHECKING:
    from tllint.runtime import Audit


class RuntimeUsageError(click.ClickException):
    """A usage or internal problem of the runtime commands: exit 2, distinct from findings (exit 1)."""

    exit_code = 2


def emit(audit: Audit, fmt: str, file: IO[str] | None = None) -> None:
    """Print the audit as the table or as JSON."""
    click.echo(json.dumps(audit.to_dict(), indent=2) if fmt == "json" else str(audit), file=file)


def findings_exit_code(audit: Audit) -> int:
    """1 when error or warning findings exist, else 0."""
    return 1 if audit.problems else 0


@click.command("audit")
@click.argument("target", metavar="MODULE:FACTORY")
@click.option("--input-shape", "input_shapes", multiple=True, metavar="2,3,224,224",
              help="Shape of a random example input; repeat for several positional inputs.")
@click.option("--input-dtype", type=click.Choice(["float32", "float64", "long"]), default="float32",
              show_default=True, help="dtype of the random inputs (long: 0/1 token ids).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--select", help="Comma-separated codes or prefixes to report (overrides the config file).")
@click.option("--ignore", help="Comma-separated codes or prefixes not to report (overrides the config file).")
@click.pass_context
def audit_command(
    ctx: click.Context, target: str, input_shapes: tuple[str, ...], input_dtype: str, fmt: str,
    select: str | None, ignore: str | None,
) -> None:
    """Audit a real model: which layers get gradients, which sit in the optimizer.

    FACTORY, importable from the current directory, returns a model, (model, optimizer), or a dict with
    `model` and optionally `optimizer`, `example_inputs`, `loss_fn`. Exit 1 on error/warning findings.
    """
    require_torch("audit")
    codes = runtime_codes(Path.cwd(), select, ignore)
    from tllint.runtime import AuditError, audit
    from tllint.runtime.factory import FactoryError, FactoryRaised, load, parse_shape, random_inputs
    from tllint.runtime.tracebacks import raised_by_tllint, user_traceback

    try:
        subject = load(target)
        inputs = subject.example_inputs
        if input_shapes:
            inputs = random_inputs([parse_shape(shape) for shape in input_shapes], input_dtype)
        if inputs is None:
            raise FactoryError("no example inputs: pass --input-shape, or return 'example_inputs' "
                               "from the factory")
        result = audit(subject.model, inputs, optimizer=subject.optimizer, loss_fn=subject.loss_fn)
    except (FactoryError, AuditError) as error:
        raise RuntimeUsageError(str(error)) from error
    except FactoryRaised as error:
        click.echo(user_traceback(error.__cause__ or error).rstrip(), err=True)
        raise RuntimeUsageError(str(error)) from error
    except KeyboardInterrupt:
        ctx.exit(EXIT_INTERRUPTED)
    except Exception as error:
        if raised_by_tllint(error):
            raise RuntimeUsageError(f"internal error: {type(error).__name__}: {error}") from error
        click.echo(user_traceback(error).rstrip(), err=True)
        raise RuntimeUsageError("the audit failed: the model raised the error above") from error
    result = result.only(codes)
    emit(result, fmt)
    ctx.exit(findings_exit_code(result))


def runtime_codes(near: Path, select: str | None, ignore: str | None) -> frozenset[str]:
    """The runtime codes to report: the configuration that governs `near`, then `--select` / `--ignore`."""
    from tllint.config import COMMAND_LINE, Layer, Resolver
    from tllint.findings.registry import Half
    from tllint.settings import ConfigError, validate_codes

    try:
        given = {key: validate_codes(value.split(","), f"--{key}")
                 for key, value in (("select", select), ("ignore", ignore)) if value is not None}
        config = Resolver(Layer(COMMAND_LINE, given)).for_path(near, near.is_dir())
        return config.enabled_codes(Half.RUNTIME)
    except ConfigError as error:
        raise click.UsageError(str(error)) from error
