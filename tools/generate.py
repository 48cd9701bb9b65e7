"""Write what is derived from the rule registry and the settings table: `tllint/findings/index.json`, the pages in
`rules/`, and the rule and configuration tables in README.md. `--check` writes nothing and exits 1 when any of
them is stale (the contract test runs it).

    python tools/generate.py [--check]
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tllint.findings.pages import rule_page  # noqa: E402
from tllint.findings.registry import INDEX_FILE, Half, Rule, index_text, rules  # noqa: E402
from tllint.settings import SETTINGS, render  # noqa: E402

INDEX = REPO / "tllint" / "findings" / INDEX_FILE
PAGES = REPO / "rules"
README = REPO / "README.md"
TABLE = re.compile(r"(<!-- rules:(?P<half>static|runtime) -->\n).*?(<!-- /rules -->)", re.DOTALL)
SETTINGS_TABLE = re.compile(r"(<!-- settings -->\n).*?(<!-- /settings -->)", re.DOTALL)


def rule_table(selected: list[Rule]) -> str:
    """The README table of one half: code, name, severity, summary and (where a rule of the half has one) the kind
    of fix, from the registry."""
    fixes = any(r.info.fix is not None for r in selected)
    rows = ["| code | name | severity | what it catches |" + (" fix |" if fixes else ""),
            "|---|---|---|---|" + ("---|" if fixes else "")]
    for r in selected:
        fix = f" {r.info.fix.value if r.info.fix is not None else '-'} |" if fixes else ""
        rows.append(f"| {r.info.code} | {r.info.name} | {r.info.severity.value} | {r.info.summary} |{fix}")
    return "\n".join(rows) + "\n"


def settings_table() -> str:
    """The README table of configuration keys, from `tllint.settings.SETTINGS`."""
    rows = ["| key | `tllint check` option | what it does | default |", "|---|---|---|---|"]
    for setting in SETTINGS.values():
        option = f"`--{setting.key}`" if setting.option else "-"
        rows.append(f"| `{setting.key}` | {option} | {setting.help} | `{render(setting.default)}` |")
    return "\n".join(rows) + "\n"


def expected_files() -> dict[Path, str]:
    """Every derived file and the text it must have."""
    files = {INDEX: index_text()}
    for registered in rules():
        page = rule_page(registered.info)
        files[PAGES / page.file_name] = page.text
    readme = README.read_text(encoding="utf-8")
    readme = TABLE.sub(lambda m: m.group(1) + rule_table(rules(Half(m.group("half")))) + m.group(3), readme)
    files[README] = SETTINGS_TABLE.sub(lambda m: m.group(1) + settings_table() + m.group(2), readme)
    return files


def stale(files: dict[Path, str]) -> list[str]:
    """Derived files that differ from what the registry gives, and pages of rules that no longer exist."""
    out = [str(path.relative_to(REPO)) for path, text in files.items()
           if not path.is_file() or path.read_text(encoding="utf-8") != text]
    out += [str(path.relative_to(REPO)) for path in PAGES.glob("*.md") if path not in files]
    return sorted(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if a derived file is stale")
    args = parser.parse_args()
    files = expected_files()
    outdated = stale(files)
    if args.check:
        for name in outdated:
            print(f"stale: {name} (run `python tools/generate.py`)")
        return 1 if outdated else 0
    PAGES.mkdir(exist_ok=True)
    for path in PAGES.glob("*.md"):
        if path not in files:
            path.unlink()
    for path, text in files.items():
        path.write_text(text, encoding="utf-8")
    print(f"wrote {len(files)} files ({len(outdated)} changed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
