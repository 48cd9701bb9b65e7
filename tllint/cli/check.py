"""`tllint check PATHS`: the static checker. Imports no torch, runs no user code.

Exit codes: 0 no findings (or `--exit-zero`), 1 findings, 2 usage/configuration/internal error or a path that
cannot be checked (the other files are still checked first), 130 interrupted. Output is sorted, so it does not
depend on `--jobs` or the cache.

The options that are settings (`--select`, `--exclude`, ...) come from `tllint.settings.SETTINGS`; the options
of the run itself are the fields of `CheckOptions`, each with its click option below.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import click

from tllint.cli.errors import Failure, set_verbose
from tllint.cli.fixes import Fixer, fixable_codes
from tllint.cli.options import command_line_layer, setting_options
from tllint.cli.report import RunResult, show_files, show_settings, write_report
from tllint.config import Config, Layer, Resolver
from tllint.findings.registry import Half, catalog
from tllint.output import FORMATS
from tllint.settings import ConfigError
from tllint.static.cache import Cache
from tllint.static.discovery import discover
from tllint.static.outcome import FileOutcome
from tllint.static.parallel import Job, check_all, check_bytes, default_jobs
from tllint.static.prefilter import too_large

PROGRESS_MIN_FILES = 200  # below this a run takes seconds at most: a bar would only flicker
STDIN = "-"


@dataclass(frozen=True)
class CheckOptions:
    """The options of one run that are not settings."""

    config_file: str | None
    output_format: str
    output_file: str | None
    exit_zero: bool
    statistics: bool
    quiet: bool
    silent: bool
    stdin_filename: str | None
    show_settings: bool
    show_files: bool
    force_exclude: bool
    jobs: int | None
    no_cache: bool
    diff: bool
    show_fixes: bool


@click.command("check")
@click.argument("paths", nargs=-1, type=click.Path(path_type=str))
@setting_options
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=str),
              help="Read this configuration file for every path: a pyproject.toml ([tool.tllint]) or a tllint.toml "
                   "(top-level keys), instead of the closest one.")
@click.option("--output-format", "--format", "output_format", type=click.Choice(sorted(FORMATS)), default="text",
              show_default=True, help="Output format.")
@click.option("-o", "--output-file", type=click.Path(dir_okay=False, path_type=str),
              help="Write the report to this file instead of stdout.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings (errors still exit 2).")
@click.option("--statistics", is_flag=True, help="Print how many findings of each code, instead of the findings.")
@click.option("-q", "--quiet", is_flag=True, help="Print the findings only (no summary, no notes).")
@click.option("-s", "--silent", is_flag=True, help="Print nothing on stdout; the exit code tells.")
@click.option("--stdin-filename", type=str, metavar="PATH",
              help="The name of the file read from stdin (`-`): its configuration and per-file-ignores apply (and, "
                   "with --force-exclude, its excludes).")
@click.option("--show-settings", is_flag=True, help="Print the effective settings and where each comes from.")
@click.option("--show-files", is_flag=True,
              help="List the files that would be checked, and those skipped because they hold no training code.")
@click.option("--force-exclude", is_flag=True,
              help="Apply `exclude` to paths given on the command line too (pre-commit passes file names).")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
              help="Worker processes (default: the number of CPUs); 1 checks in this process.")
@click.option("--no-cache", is_flag=True, help="Neither read nor write the result cache (.tllint_cache/).")
@click.option("--diff", is_flag=True,
              help="Print the unified diff of what --fix (with --unsafe-fixes: also the unsafe fixes) would change, "
                   "and write nothing; exit 1 when there is a change.")
@click.option("--show-fixes", is_flag=True, help="List the fixes that were applied, after the report.")
@click.option("-v", "--verbose", is_flag=True, expose_value=False, is_eager=True, callback=set_verbose,
              help="Show the traceback of internal errors.")
def check_command(paths: tuple[str, ...], **given: Any) -> None:
    """Check training scripts for transfer-learning and fine-tuning mistakes.

    PATHS are files or folders (default: the current folder); `-` reads the source from stdin."""
    options = CheckOptions(**{f.name: given.pop(f.name) for f in fields(CheckOptions)})
    try:
        layer = command_line_layer(given)
        if given:  # an option declared above that is neither a setting nor a field of CheckOptions
            raise TypeError(f"options with no field in CheckOptions: {', '.join(sorted(given))}")
        _static_selectors_only(layer)
    except ConfigError as error:
        raise click.UsageError(str(error)) from error
    from_stdin = paths == (STDIN,) or (not paths and options.stdin_filename is not None)
    if STDIN in paths and not from_stdin:
        raise click.UsageError("`-` (read stdin) cannot be combined with other paths")
    try:
        sys.exit(_check(paths or (".",), options, layer, from_stdin))
    except ConfigError as error:
        raise Failure(str(error)) from error


def _static_selectors_only(layer: Layer) -> None:
    """`--select TL1` on `tllint check` selects runtime codes only: a usage error that says where they come from."""
    static = [code for code, info in catalog().items() if info.half is Half.STATIC]
    for key in ("select", "extend-select"):
        for selector in layer.values.get(key, ()):
            if selector != "ALL" and not any(code.startswith(selector) for code in static):
                raise ConfigError(f"--{key} {selector}: runtime codes are reported by `tllint audit` and "
                                  "`tllint run` (the runtime audit), not by `tllint check`")


def _check(paths: tuple[str, ...], options: CheckOptions, layer: Layer, from_stdin: bool) -> int:
    resolver = Resolver(layer, Path(options.config_file) if options.config_file else None)
    first = options.stdin_filename if from_stdin and options.stdin_filename else paths[0]
    base = resolver.for_path(first, not from_stdin and os.path.isdir(first))
    if resolver.forced is not None and not (options.quiet or options.silent):
        click.echo(f"tllint: read the configuration from {resolver.forced.file.origin}", err=True)
    if options.show_settings:
        cache_folder = None if options.no_cache else Cache.folder_beside(base.source)
        click.echo(show_settings(first, base, cache_folder), nl=False)
        return 0
    result = RunResult()
    fixer = Fixer(options.diff)
    if from_stdin:
        _check_stdin(base, options, result, fixer)
    else:
        targets = _jobs(paths, resolver, options, result)
        jobs = [job for job, _ in targets]
        if options.show_files:
            click.echo(show_files(jobs, result), nl=False)
            return result.exit_code(exit_zero=True)
        cache = None if options.no_cache else Cache.open(Cache.folder_beside(base.source), warn=_warn(options))
        for (job, config), outcome in zip(targets, _run(jobs, cache, options.jobs or default_jobs()), strict=True):
            result.add(fixer.file(job, config, outcome), job.codes)
    result.problems.extend(fixer.problems)
    result.notes.extend(fixer.notes)
    result.fixes = fixer.counts
    for note in result.notes:
        _warn(options)(note)
    write_report(result, options)
    return result.exit_code(options.exit_zero, options.diff)


def _jobs(paths: tuple[str, ...], resolver: Resolver, options: CheckOptions,
          result: RunResult) -> list[tuple[Job, Config]]:
    """The files to check, each with its configuration (which also says how to fix it)."""
    jobs = []
    for target in discover(paths, resolver, options.force_exclude):
        if isinstance(target, str):
            result.problems.append(target)
        else:
            jobs.append((Job(target.path, target.display, _codes(target.config, target.path, result),
                             target.config.max_file_size, target.config.root), target.config))
    return jobs


def _codes(config: Config, path: Path | str, result: RunResult) -> frozenset[str]:
    """The codes enabled for one file (its configuration's, less its per-file-ignores), noting once per
    configuration a selection that selects nothing."""
    enabled = result.enabled.get(id(config))
    if enabled is None:
        enabled = result.enabled[id(config)] = config.enabled_codes()
        if config.file.values.get("select") == ():
            result.notes.append(f"{config.file.origin}: `select = []` selects no rule, so nothing is reported")
    return config.codes_for(path, enabled)


def _check_stdin(config: Config, options: CheckOptions, result: RunResult, fixer: Fixer) -> None:
    """The file read from stdin, shown and configured as `--stdin-filename` (or `-`); never cached, and never
    fixed (there is no file to write): its fixes are reported."""
    name = options.stdin_filename
    if name is not None and options.force_exclude and config.excluded(name):
        return
    codes = _codes(config, name or STDIN, result)
    data = sys.stdin.buffer.read(config.max_file_size + 1)
    display = name or STDIN
    if len(data) > config.max_file_size:
        outcome = FileOutcome([too_large(display, len(data), config.max_file_size)])
    else:
        outcome = check_bytes(data, display, codes)
    if options.diff or config.value("fix"):
        result.notes.append("the source read from stdin is checked, not fixed: its fixes are in the report")
    fixer.count(outcome.findings, fixable_codes(config, codes), bool(config.value("unsafe-fixes")))
    result.add(outcome, codes)


def _warn(options: CheckOptions) -> Callable[[str], None]:
    """Print a warning on stderr, unless --silent."""

    def warn(message: str) -> None:
        if not options.silent:
            click.echo(f"tllint: warning: {message}", err=True)

    return warn


def _run(work: list[Job], cache: Cache | None, jobs: int) -> list[FileOutcome]:
    """Check everything; a progress bar on stderr only for long runs on a terminal, so pipes stay clean."""
    if len(work) < PROGRESS_MIN_FILES or not sys.stderr.isatty():
        return check_all(work, cache, jobs)
    with click.progressbar(length=len(work), label="checking", file=sys.stderr) as bar:
        return check_all(work, cache, jobs, bar.update)
