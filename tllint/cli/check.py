"""`tllint check PATHS`: the static checker. Imports no torch, runs no user code.

Exit codes: 0 no findings, 1 findings, 2 usage/configuration/internal error or an unreadable path
(the other files are still checked first). Output is sorted, so it does not depend on `--jobs` or the cache.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from tllint.config import Config, ConfigError, find_config, load_config, validate_codes
from tllint.findings.model import Finding
from tllint.output import FORMATS
from tllint.static.cache import Cache
from tllint.static.discovery import discover
from tllint.static.outcome import FileOutcome
from tllint.static.parallel import Job, check_all, default_jobs

PROGRESS_MIN_FILES = 200  # below this a run takes seconds at most: a bar would only flicker


def _codes_option(value: str | None, name: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    return validate_codes(value.split(","), f"--{name}")


def resolve_config(paths: tuple[str, ...], config_file: str | None, select: str | None, ignore: str | None,
                   extend_select: str | None) -> Config:
    source = Path(config_file) if config_file else find_config([Path(p) for p in paths])
    config = load_config(source)
    overrides: dict[str, tuple[str, ...]] = {}
    for field, value, name in (("select", select, "select"), ("ignore", ignore, "ignore"),
                               ("extend_select", extend_select, "extend-select")):
        codes = _codes_option(value, name)
        if codes is not None:
            overrides[field] = codes
    if overrides:
        config = Config(**{**config.__dict__, **overrides})
    return config


@click.command("check")
@click.argument("paths", nargs=-1, type=click.Path(path_type=str))
@click.option("--format", "output_format", type=click.Choice(sorted(FORMATS)), default="text", show_default=True,
              help="Output format.")
@click.option("--select", help="Comma-separated codes or prefixes to enable (overrides the config file).")
@click.option("--ignore", help="Comma-separated codes or prefixes to disable (overrides the config file).")
@click.option("--extend-select", help="Codes or prefixes to enable on top of the selection.")
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=str),
              help="Read [tool.tllint] from this file instead of the nearest pyproject.toml.")
@click.option("--force-exclude", is_flag=True,
              help="Apply `exclude` to paths given on the command line too (pre-commit passes file names).")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
              help="Worker processes (default: the number of CPUs); 1 checks in this process.")
@click.option("--no-cache", is_flag=True, help="Neither read nor write the result cache (.tllint_cache/).")
def check_command(paths: tuple[str, ...], output_format: str, select: str | None, ignore: str | None,
                  extend_select: str | None, config_file: str | None, force_exclude: bool, jobs: int | None,
                  no_cache: bool) -> None:
    """Check training scripts for transfer-learning and fine-tuning mistakes."""
    paths = paths or (".",)
    try:
        config = resolve_config(paths, config_file, select, ignore, extend_select)
    except ConfigError as error:
        raise click.UsageError(str(error)) from error
    codes = config.enabled_codes()
    problems: list[str] = []
    work: list[Job] = []
    for target in discover(paths, config, force_exclude):
        if isinstance(target, str):
            problems.append(target)
        else:
            work.append(Job(target.path, target.display, config.codes_for(target.path, codes)))
    cache = None if no_cache else Cache.beside(config.source)
    outcomes = _run(work, cache, jobs or default_jobs())
    findings: list[Finding] = [f for outcome in outcomes for f in outcome.findings]
    problems.extend(p for outcome in outcomes for p in outcome.problems)
    findings.sort(key=lambda f: f.sort_key)
    colour = output_format == "text" and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    click.echo(FORMATS[output_format](findings, len(work), colour), nl=False)
    for problem in problems:
        click.echo(f"tllint: error: {problem}", err=True)
    if problems:
        sys.exit(2)
    sys.exit(1 if findings else 0)


def _run(work: list[Job], cache: Cache | None, jobs: int) -> list[FileOutcome]:
    """Check everything; a progress bar on stderr only for long runs on a terminal, so pipes stay clean."""
    if len(work) < PROGRESS_MIN_FILES or not sys.stderr.isatty():
        return check_all(work, cache, jobs)
    with click.progressbar(length=len(work), label="checking", file=sys.stderr) as bar:
        return check_all(work, cache, jobs, bar.update)
