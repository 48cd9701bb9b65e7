"""The options of `tllint check` that are settings, made from `tllint.settings.SETTINGS`: one entry there is one
configuration key and one option here, and the values given on the command line become the top layer of every
configuration (`tllint.config.Layer`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from tllint.config import COMMAND_LINE, Layer
from tllint.settings import SETTINGS, Kind, Setting, from_option

F = TypeVar("F", bound=Callable[..., Any])
_METAVAR = {Kind.CODES: "CODES", Kind.GLOBS: "GLOBS", Kind.PER_FILE: "GLOB:CODES", Kind.SIZE: "SIZE"}


def parameter(setting: Setting) -> str:
    """The name click passes the option's value as (`extend_select` for `--extend-select`)."""
    return setting.key.replace("-", "_")


def setting_options(command: F) -> F:
    """Add an option for each setting (in the table's order); each defaults to "not given"."""
    for setting in reversed([s for s in SETTINGS.values() if s.option]):
        if setting.kind is Kind.FLAG:
            option = click.option(f"--{setting.key}/--no-{setting.key}", parameter(setting), default=None,
                                  help=setting.help)
        else:
            option = click.option(f"--{setting.key}", parameter(setting), multiple=True,
                                  metavar=_METAVAR[setting.kind], help=setting.help)
        command = option(command)
    return command


def command_line_layer(options: dict[str, Any]) -> Layer:
    """Take the settings' values out of click's `options` and make them the command-line layer; ConfigError for
    a value that is not valid."""
    values = {}
    for setting in SETTINGS.values():
        if not setting.option:
            continue
        given = options.pop(parameter(setting))
        if given is not None and given != ():
            values[setting.key] = from_option(setting, given)
    return Layer(COMMAND_LINE, values)
