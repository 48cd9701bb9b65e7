"""What checking one file gives, whether it was decided from its bytes, served from the cache or analysed."""

from __future__ import annotations

from dataclasses import dataclass, field

from tllint.findings.model import Finding


@dataclass
class FileOutcome:
    """The findings of one file, and the problems to print on stderr (it could not be read, or tllint failed on
    it). `analysed`: the file was parsed and the rules ran, rather than decided from its bytes."""

    findings: list[Finding] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    analysed: bool = False
