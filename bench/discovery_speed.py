"""Discovery and per-file-ignores, this tree against another tllint tree, interleaved; asserts nothing.

    python bench/discovery_speed.py CORPUS [--baseline TREE] [--repeat 5]

Copies CORPUS once to a scratch folder with a typical 15-line `.gitignore` at its top (a git checkout), then, in
fresh processes, times (1) discovery alone (`discover`, no reading), and (2) `Config.codes_for` for every file with
2,000 per-file-ignore globs and with none; `git ls-files -co --exclude-standard` lists the files for comparison.
The baseline tree may be older: it is driven through the API it had at bf40550 (`Config(root=...)`).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GITIGNORE = ("__pycache__/\n*.py[cod]\n*.egg-info/\nbuild/\ndist/\n.venv\n*.log\n/data/\ndocs/_build/\n"
             "**/checkpoints/\n!keep.pyc\ntests/fixtures/*.py\nwandb/\noutputs/\n*.ckpt\n")
PROBE = """
import sys, time
from pathlib import Path
sys.path.insert(0, {tree!r})
from tllint.config import Config
from tllint.static.discovery import discover
root = Path({folder!r})
try:
    from tllint.config import Resolver
    where = Resolver()
except ImportError:
    where = Config(root=root)
started = time.perf_counter()
targets = [t for t in discover([str(root)], where) if not isinstance(t, str)]
walk = time.perf_counter() - started
table = {{f"pkg{{i}}/*.py": ("TL001",) if i % 2 else ("TL002", "TL003") for i in range(2000)}}
for name, config in (("globs", Config(per_file_ignores=table, root=root)), ("none", Config(root=root))):
    codes = config.enabled_codes()
    started = time.perf_counter()
    for target in targets:
        config.codes_for(target.path, codes)
    print(name, time.perf_counter() - started)
print("walk", walk)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--baseline", type=Path)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    trees = {"this": REPO, **({"baseline": args.baseline} if args.baseline else {})}
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "corpus"
        shutil.copytree(args.corpus, folder, symlinks=True)
        (folder / ".gitignore").write_text(GITIGNORE)
        subprocess.run(["git", "init", "-q", str(folder)], check=True)
        times: dict[tuple[str, str], list[float]] = {}
        for _ in range(args.repeat):
            for name, tree in trees.items():
                out = subprocess.run([sys.executable, "-c", PROBE.format(tree=str(tree), folder=str(folder))],
                                     capture_output=True, text=True, check=True, cwd=scratch).stdout
                for line in out.splitlines():
                    key, value, *_ = line.split()
                    times.setdefault((name, key), []).append(float(value))
            started = time.perf_counter()
            subprocess.run(["git", "-C", str(folder), "ls-files", "-co", "--exclude-standard", "-z", "--", "*.py"],
                           capture_output=True, check=True)
            times.setdefault(("git ls-files", "walk"), []).append(time.perf_counter() - started)
        labels = {"walk": "discovery", "globs": "2,000 per-file-ignore globs", "none": "no per-file-ignores"}
        for (name, key), values in sorted(times.items()):
            print(f"{name:>12}, {labels[key]:<28}: median {statistics.median(values) * 1000:8.0f} ms")


if __name__ == "__main__":
    main()
