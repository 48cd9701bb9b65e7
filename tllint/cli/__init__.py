"""The `tllint` command. Each subcommand lives in its own module; none imports torch at import time."""

from __future__ import annotations

import click

from tllint import __version__
from tllint.cli.audit import audit_command
from tllint.cli.check import check_command
from tllint.cli.errors import Group
from tllint.cli.rule import rule_command
from tllint.cli.run import run_command


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="tllint")
def main() -> None:
    """Catch the silent mistakes of transfer learning and fine-tuning in PyTorch code."""


main.add_command(check_command)
main.add_command(rule_command)
main.add_command(audit_command)
main.add_command(run_command)
