"""In-process speed of the static checker on a folder, stage by stage.

    python bench/static_speed.py DIR [--select CODES]

Runs the engine's own steps in its order (read, prefilter = skip-file comment + decode + trigger words, parse =
CPython's parser and compiler checks, analysis, rules, positions + noqa for files with reports) on one core and
prints files/s, kLOC/s, the time of each stage, and how many files the prefilter skipped. Asserts nothing.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tllint.config import Config, validate_codes  # noqa: E402
from tllint.findings.model import Finding  # noqa: E402
from tllint.static import engine, prefilter  # noqa: E402
from tllint.static.interpreter import build_facts  # noqa: E402
from tllint.static.source import Source  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--select", default=None, help="comma-separated codes (default: the default selection)")
    args = parser.parse_args()
    config = Config(select=validate_codes(args.select.split(","), "--select")) if args.select else Config()
    codes = config.enabled_codes()
    files = sorted(p for p in args.folder.rglob("*.py") if p.is_file())
    stages: Counter[str] = Counter()
    counts: Counter[str] = Counter()
    lines = kept_lines = 0
    started = time.perf_counter()
    for path in files:
        clock = time.perf_counter()

        def lap(stage: str) -> None:
            nonlocal clock
            now = time.perf_counter()
            stages[stage] += now - clock
            clock = now

        data = path.read_bytes()
        lap("read")
        lines += data.count(b"\n")
        text = prefilter.decode(data, str(path))
        skipped = bool(prefilter.SKIP_FILE.search(data)) or not prefilter.triggered(data, codes)
        skip = skipped or isinstance(text, Finding)
        lap("prefilter")
        if skip:
            counts["skipped"] += 1
            continue
        kept_lines += data.count(b"\n")
        assert isinstance(text, str)
        module = engine.parse(text, str(path))
        lap("parse")
        if isinstance(module, Finding):
            counts["TL000"] += 1
            continue
        try:
            source = Source(text)
            facts = build_facts(module, source)
        except Exception:
            counts["analysis errors"] += 1
            continue
        lap("analysis")
        rules = engine.static_rules()
        violations = [(rules[code], v) for code in sorted(codes & rules.keys())
                      for v in rules[code].check(facts, source)]  # type: ignore[misc]
        lap("rules")
        if violations:
            counts["files with reports"] += 1
            engine._locate(violations, source, text, str(path))
            lap("positions")
    total = time.perf_counter() - started
    print(f"{len(files)} files, {lines:,} lines in {args.folder}; {total:.1f} s on one core: "
          f"{len(files) / total:,.0f} files/s, {lines / total / 1000:,.1f} kLOC/s")
    print(f"prefilter skipped {counts['skipped']} files; kept {len(files) - counts['skipped']} files, "
          f"{kept_lines:,} lines ({100 * kept_lines / max(lines, 1):.0f}%)")
    for stage in ("read", "prefilter", "parse", "analysis", "rules", "positions"):
        print(f"  {stage:<10} {stages[stage]:8.2f} s  {100 * stages[stage] / total:5.1f}%")
    print("  " + ", ".join(f"{key}: {value}" for key, value in sorted(counts.items()) if key != "skipped"))


if __name__ == "__main__":
    main()
