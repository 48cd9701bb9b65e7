"""`tllint rule CODE` prints a rule's page; `tllint rule --all` lists every rule."""

from __future__ import annotations

import click

from tllint.findings.pages import rule_page
from tllint.findings.registry import by_name, catalog


@click.command("rule")
@click.argument("code", required=False)
@click.option("--all", "list_all", is_flag=True, help="List every rule with its severity and summary.")
def rule_command(code: str | None, list_all: bool) -> None:
    """Explain a rule: what it detects, why it is wrong, a bad example and the fix."""
    if list_all or code is None:
        for info in catalog().values():
            opt_in = " (opt-in)" if info.opt_in else ""
            click.echo(f"{info.code}  {info.name:<38} {info.severity.value:<8} {info.half.value:<8}"
                       f"{info.summary}{opt_in}")
        return
    info = catalog().get(code.upper()) or by_name(code.lower())
    if info is None:
        raise click.UsageError(f"unknown rule {code!r}; `tllint rule --all` lists them")
    click.echo(rule_page(info).text.rstrip())
