"""Findings shared by the static checker and the runtime audit: types, the code catalog, rule pages."""

from tllint.findings.catalog import CATALOG, Half, RuleInfo, rule_info
from tllint.findings.model import Edit, Finding, Fix, Severity, Span

__all__ = ["CATALOG", "Edit", "Finding", "Fix", "Half", "RuleInfo", "Severity", "Span", "rule_info"]
