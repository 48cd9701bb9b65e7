"""Tracebacks as the user wants them: from their own code on, without tllint's, runpy's or importlib's frames."""

from __future__ import annotations

import importlib
import runpy
import traceback
from pathlib import Path

import tllint

_OURS = (str(Path(tllint.__file__).resolve().parent), runpy.__file__, "<frozen runpy>", "<frozen importlib",
         str(Path(importlib.__file__).resolve().parent))


def user_traceback(error: BaseException) -> str:
    """The traceback from the first frame that is not tllint's (nor runpy's / importlib's) on, without the
    frames of tllint's wrappers in between (the optimizer constructor it observes)."""
    tb = error.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename.startswith(_OURS):
        tb = tb.tb_next
    shown = traceback.TracebackException(type(error), error, tb)
    shown.stack = traceback.StackSummary.from_list(
        [frame for frame in shown.stack if not frame.filename.startswith(_OURS[0])])
    return "".join(shown.format())


def raised_by_tllint(error: BaseException) -> bool:
    """Whether the error was raised in tllint's own code (an internal error, not the user's)."""
    tb = error.__traceback__
    last = None
    while tb is not None:
        last, tb = tb, tb.tb_next
    return last is not None and last.tb_frame.f_code.co_filename.startswith(_OURS[0])
