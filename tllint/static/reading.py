"""Read a file to check: regular files only, never more than the size limit, never blocking.

Discovery has already skipped FIFOs, devices and sockets; the file is checked again on the open descriptor (it
may have been replaced since), and opened non-blocking so that a FIFO put in its place cannot hang the run.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)


class NotRegular(OSError):
    """The path is not a regular file (any more)."""


class TooLarge(Exception):
    """The file is over the size limit; `size` is what it holds (at least)."""

    def __init__(self, size: int) -> None:
        super().__init__(size)
        self.size = size


def read_limited(path: Path, limit: int) -> bytes:
    """The file's bytes; OSError when it cannot be read, NotRegular for anything but a regular file, TooLarge over
    `limit` bytes."""
    descriptor = os.open(path, _FLAGS)
    with open(descriptor, "rb", closefd=True) as handle:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise NotRegular("not a regular file")
        if info.st_size > limit:
            raise TooLarge(info.st_size)
        data = handle.read(limit + 1)
    if len(data) > limit:  # it grew since the stat
        raise TooLarge(len(data))
    return data
