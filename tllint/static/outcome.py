"""What checking one file gives, whether it was decided from its bytes, served from the cache or analysed."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from tllint import REPOSITORY_URL
from tllint.findings.model import Finding


class Skipped(str, enum.Enum):
    """Why a file was decided from its bytes, without being parsed."""

    NO_TRAINING_CODE = "no training code"  # it mentions none of the words the enabled rules need
    SKIP_FILE = "# tllint: skip-file"


@dataclass
class FileOutcome:
    """The findings of one file, and the problems to print on stderr (it could not be read, or tllint failed on
    it). `analysed`: the file was parsed and the rules ran; `skipped`: it was decided from its bytes; `unread`: it
    could not be read. `details` holds the tracebacks of internal errors (shown with `--verbose`). `dependencies`:
    the other files of the project its analysis looked at, each with its content hash (None: absent)."""

    findings: list[Finding] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    details: list[str] = field(default_factory=list)
    analysed: bool = False
    skipped: Skipped | None = None
    unread: bool = False
    dependencies: tuple[tuple[str, str | None], ...] = ()

    def internal_error(self, path: str, where: str, error: BaseException) -> None:
        """Record a bug of tllint met on this file: one line that names the file and asks for a report, and the
        traceback for `--verbose`."""
        self.problems.append(f"{path}: internal error{where}: {type(error).__name__}: {error} (a bug in tllint: "
                             f"please report it with this file at {REPOSITORY_URL}/issues; --verbose shows the "
                             f"traceback)")
        import traceback

        self.details.append("".join(traceback.format_exception(type(error), error, error.__traceback__)))
