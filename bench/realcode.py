"""Recall and false alarms of `tllint check` on real public files at pinned commits.

    python bench/realcode.py DIR [--tolerance N] [--json]

DIR is where `bench/realcode/materialise.sh` put the files (DIR/<owner>+<repo>/<commit>/<path>). The manifest
(`bench/realcode/manifest.toml`) lists each file as a bug (with the expected code(s) and line of each mistake)
or as correct code that looks like one. The public code itself stays outside the repository.

Printed figures:
- recall: expected mistakes reported with an expected code within `tolerance` lines of the expected line;
- false alarms: error-severity findings on correct files; warnings on correct files are listed apart;
- each miss and each false alarm, so a reviewer can read the file at the line.
The tllint that runs is the one of the tree this script lives in, or the tree given with `--tllint-root`
(to measure another branch's worktree with this manifest).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 reads TOML with the tomli backport, as tllint does
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = ROOT / "bench" / "realcode" / "manifest.toml"
INTERNAL_ERROR = re.compile(r"^tllint: error: (?P<path>.+?): (?P<reason>internal error.*)$")


@dataclass(frozen=True)
class Expected:
    """One mistake in a bug file: any of `codes` reported near `line` (of `cell`, in a notebook) finds it."""

    codes: tuple[str, ...]
    line: int
    cell: int | None = None

    def matches(self, finding: dict, tolerance: int) -> bool:
        return (finding["code"] in self.codes and abs(finding["line"] - self.line) <= tolerance
                and (self.cell is None or finding.get("cell") == self.cell))


@dataclass
class Entry:
    """One file of the manifest and what tllint said about it."""

    repo: str
    commit: str
    path: str
    kind: str
    evidence: str
    expected: list[Expected]
    tolerance: int
    findings: list[dict] = field(default_factory=list)
    failure: str | None = None

    def location(self, root: Path) -> Path:
        return root / self.repo.replace("/", "+") / self.commit / self.path

    @property
    def label(self) -> str:
        return f"{self.repo}@{self.commit[:10]}:{self.path}"


def load_manifest(manifest: Path, default_tolerance: int) -> list[Entry]:
    with manifest.open("rb") as handle:
        raw = tomllib.load(handle)["file"]
    entries = []
    for item in raw:
        expected = [
            Expected(tuple([e["code"]] if isinstance(e["code"], str) else e["code"]), int(e["line"]), e.get("cell"))
            for e in item.get("expect", [])
        ]
        if item["kind"] not in ("bug", "correct") or (item["kind"] == "bug") != bool(expected):
            raise SystemExit(f"manifest: {item['repo']}:{item['path']}: a bug needs `expect`, a correct file none")
        entries.append(Entry(item["repo"], item["commit"], item["path"], item["kind"], item["evidence"],
                             expected, int(item.get("tolerance", default_tolerance))))
    return entries


def run_tllint(files: list[Path], tllint_root: Path) -> tuple[list[dict], dict[str, str]]:
    """One `tllint check --select ALL` over every file, with an empty configuration and no cache: the findings,
    and the files tllint could not analyse (an internal error, exit 2) with the reason it gave."""
    with tempfile.TemporaryDirectory() as scratch:
        config = Path(scratch) / "tllint.toml"
        config.write_text("")
        env = dict(os.environ, PYTHONPATH=str(tllint_root))
        done = subprocess.run(
            [sys.executable, "-m", "tllint", "check", "--select", "ALL", "--output-format", "json",
             "--no-cache", "--config", str(config), *map(str, files)],
            capture_output=True, text=True, env=env, cwd=scratch, check=False,
        )
    try:
        findings = json.loads(done.stdout)
    except json.JSONDecodeError:
        raise SystemExit(f"tllint exited {done.returncode} without a report:\n{done.stderr}") from None
    failures = (INTERNAL_ERROR.match(line) for line in done.stderr.splitlines())
    return findings, {match["path"]: match["reason"] for match in failures if match}


def is_found(expected: Expected, findings: list[dict], tolerance: int) -> bool:
    return any(expected.matches(f, tolerance) for f in findings)


def describe(finding: dict) -> str:
    cell = f"cell {finding['cell']} " if finding.get("cell") is not None else ""
    return f"{finding['code']} ({finding['severity']}) {cell}line {finding['line']}: {finding['message'][:110]}"


def report(entries: list[Entry], root: Path) -> dict:
    bugs = [e for e in entries if e.kind == "bug"]
    correct = [e for e in entries if e.kind == "correct"]
    misses = [(e, x) for e in bugs for x in e.expected if not is_found(x, e.findings, e.tolerance)]
    total = sum(len(e.expected) for e in bugs)
    alarms = [(e, f) for e in correct for f in e.findings if f["severity"] == "error"]
    warnings = [(e, f) for e in correct for f in e.findings if f["severity"] != "error"]
    extra = [(e, f) for e in bugs for f in e.findings
             if f["severity"] == "error" and not any(x.matches(f, e.tolerance) for x in e.expected)]
    return {
        "files": {"bug": len(bugs), "correct": len(correct)},
        "recall": {"found": total - len(misses), "expected": total},
        "false_alarms": {"errors": len(alarms), "files_with_errors": len({e.label for e, _ in alarms}),
                         "warnings": len(warnings)},
        "misses": [{"file": e.label, "path": str(e.location(root)), "codes": list(x.codes),
                    "where": (f"cell {x.cell} " if x.cell else "") + f"line {x.line}",
                    "reported": [describe(f) for f in e.findings], "evidence": e.evidence} for e, x in misses],
        "alarms": [{"file": e.label, "path": str(e.location(root)), "finding": describe(f)} for e, f in alarms],
        "warnings": [{"file": e.label, "path": str(e.location(root)), "finding": describe(f)} for e, f in warnings],
        "other_errors_on_bug_files": [{"file": e.label, "finding": describe(f)} for e, f in extra],
        "not_analysed": [{"file": e.label, "kind": e.kind, "finding": e.failure} for e in entries if e.failure],
    }


def print_text(result: dict) -> None:
    recall = result["recall"]
    alarms = result["false_alarms"]
    share = recall["found"] / recall["expected"] if recall["expected"] else 0.0
    print(f"files: {result['files']['bug']} with bugs, {result['files']['correct']} correct")
    print(f"recall: {recall['found']}/{recall['expected']} = {share:.0%}")
    print(f"false alarms (errors on correct files): {alarms['errors']} in {alarms['files_with_errors']} files")
    print(f"warnings on correct files: {alarms['warnings']}")
    if result["not_analysed"]:
        print(f"files tllint failed to analyse (internal error): {len(result['not_analysed'])}")
    sections = (("MISSES", "misses"), ("FALSE ALARMS", "alarms"), ("WARNINGS ON CORRECT FILES", "warnings"),
                ("OTHER ERRORS ON BUG FILES (not the expected mistake)", "other_errors_on_bug_files"),
                ("NOT ANALYSED (tllint internal error)", "not_analysed"))
    for title, key in sections:
        if not result[key]:
            continue
        print(f"\n{title}")
        for item in result[key]:
            if key == "misses":
                print(f"- {item['file']}: expected {'/'.join(item['codes'])} near {item['where']}"
                      f" ({item['evidence']})")
                for finding in item["reported"]:
                    print(f"    reported: {finding}")
            else:
                print(f"- {item['file']}: {item['finding']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dir", type=Path, help="where materialise.sh put the files")
    parser.add_argument("--tolerance", type=int, default=3, help="lines either side of the expected line")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--tllint-root", type=Path, default=ROOT, help="the source tree whose tllint runs")
    parser.add_argument("--manifest", type=Path, default=MANIFEST, help="the manifest to measure")
    args = parser.parse_args()
    entries = load_manifest(args.manifest, args.tolerance)
    missing = [e.label for e in entries if not e.location(args.dir).is_file()]
    if missing:
        raise SystemExit("not materialised (run bench/realcode/materialise.sh): " + ", ".join(missing))
    by_path = {str(e.location(args.dir).resolve()): e for e in entries}
    findings, failures = run_tllint([e.location(args.dir) for e in entries], args.tllint_root.resolve())
    for finding in findings:
        by_path[str(Path(finding["path"]).resolve())].findings.append(finding)
    for path, reason in failures.items():
        by_path[str(Path(path).resolve())].failure = reason
    result = report(entries, args.dir)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print_text(result)


if __name__ == "__main__":
    main()
