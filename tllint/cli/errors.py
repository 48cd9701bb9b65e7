"""How `tllint` ends when something goes wrong: one line on stderr and the documented exit code, never a
traceback unless `--verbose` asks for it.

Exit codes: 0 clean, 1 findings, 2 usage, configuration or internal error, 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Any, NoReturn

import click

from tllint import REPOSITORY_URL

EXIT_ERROR = 2
EXIT_INTERRUPTED = 130
_state = {"verbose": False}


def set_verbose(ctx: click.Context, param: click.Parameter, value: bool) -> bool:
    """Callback of `--verbose`: internal errors show their traceback."""
    _state["verbose"] = value
    return value


def verbose() -> bool:
    return _state["verbose"]


class Failure(click.ClickException):
    """A problem the user must fix (configuration, a path that cannot be used): `tllint: error: ...`, exit 2."""

    exit_code = EXIT_ERROR

    def show(self, file: Any = None) -> None:
        click.echo(f"tllint: error: {self.message}", err=True)


class MissingTorch(Failure):
    """A runtime command in an install without torch (the static checker needs none)."""

    def show(self, file: Any = None) -> None:
        click.echo(self.message, err=True)


def require_torch(command: str) -> None:
    """Import torch for `tllint audit` / `tllint run`, or exit 2 with one line saying how to install it."""
    try:
        import torch  # noqa: F401
    except ModuleNotFoundError as error:
        if (error.name or "torch").split(".")[0] != "torch":
            raise
        raise MissingTorch(f'tllint {command} needs torch: pip install "tllint[runtime]"') from error
    except ImportError as error:
        raise Failure(f"tllint {command} cannot import torch: {error}") from error


def internal_error(error: BaseException) -> None:
    """A bug of tllint outside any one file: one line asking for a report; the traceback with `--verbose`."""
    if verbose():
        import traceback

        traceback.print_exception(type(error), error, error.__traceback__, file=sys.stderr)
    click.echo(f"tllint: internal error: {type(error).__name__}: {error} (a bug in tllint: please report it at "
               f"{REPOSITORY_URL}/issues{'' if verbose() else '; --verbose shows the traceback'})", err=True)


def interrupted() -> NoReturn:
    """Ctrl-C: exit 130 at once. Interpreter shutdown is skipped (after flushing the output): its exit hooks would
    wake the threads of a process pool torn down mid-run, and can print a traceback doing so."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(EXIT_INTERRUPTED)


class Group(click.Group):
    """The `tllint` group: click's own handling of usage errors, and the exit codes above for everything else
    (click alone reports Ctrl-C as "Aborted!" with exit 1, which reads as "findings")."""

    def main(self, args: Any = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            result = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.ClickException as error:
            error.show()
            sys.exit(error.exit_code)
        except (click.Abort, KeyboardInterrupt):
            interrupted()
        except Exception as error:
            internal_error(error)
            sys.exit(EXIT_ERROR)
        sys.exit(result if isinstance(result, int) else 0)
