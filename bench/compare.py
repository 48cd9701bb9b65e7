"""tllint against TorchFix and ruff on the same folder, interleaved, several repetitions.

    python bench/compare.py DIR [--repeat 3] [--sample K] [--torchfix PATH] [--skip-torchfix] [--baseline TREE]
    python bench/compare.py --precommit-only [--baseline TREE]

For each tool: median wall time, CPU time (user + system of the process and its children, from wait4),
peak RSS, files/s, and the ratios tllint/TorchFix and tllint/ruff (wall time; below 1 means tllint is faster).
`--sample K` runs every tool on every K-th file only (symlinked into a temporary folder), for when TorchFix on
the whole folder would take hours. TorchFix pins libcst<1.6, so it lives in its own virtualenv: by default
/tmp/torchfix-venv, created with `pip install torchfix==0.7.0` when missing. Then the pre-commit case: the hook's
entry point (`.pre-commit-hooks.yaml`) installed in a fresh virtualenv as pre-commit installs it, on one generated
500-line training script, startup included: changed (no cache entry) and unchanged (cached), alone and importing
its model factory and freeze helper from two other files of the project (`models.py`, `freezing.py`).
Asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TORCHFIX_VENV = Path("/tmp/torchfix-venv")
ENV = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""), "NO_COLOR": "1"}
HOOK_ENV = {key: value for key, value in ENV.items() if key != "PYTHONPATH"}  # the hook runs its own install


@dataclass
class Run:
    wall: float
    cpu: float
    rss_mb: float
    code: int


def measure(command: list[str], cwd: Path | None = None, env: dict[str, str] = ENV) -> Run:
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, process.returncode)


def torchfix_command(path: str | None) -> list[str]:
    if path:
        return [path]
    binary = TORCHFIX_VENV / "bin" / "torchfix"
    if not binary.exists():
        subprocess.run([sys.executable, "-m", "venv", str(TORCHFIX_VENV)], check=True)
        subprocess.run([str(TORCHFIX_VENV / "bin" / "pip"), "install", "-q", "torchfix==0.7.0"], check=True)
    return [str(binary)]


def sample(folder: Path, every: int, into: Path) -> Path:
    files = sorted(p for p in folder.rglob("*.py") if p.is_file())[::every]
    for path in files:
        link = into / path.relative_to(folder)
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(path.resolve())
    return into


def script(lines: int, head: str | None = None) -> str:
    head = head or ("import torch\nimport torch.nn as nn\nfrom torchvision.models import resnet18\n\n"
                    "model = resnet18(weights='IMAGENET1K_V1')\nmodel.fc = nn.Linear(512, 10)\n"
                    "for param in model.parameters():\n    param.requires_grad = False\n"
                    "optimizer = torch.optim.SGD(model.parameters(), lr=0.01)\n\n")
    block = ("def evaluate_{i}(model, loader):\n    model.eval()\n    total = 0.0\n    with torch.no_grad():\n"
             "        for images, labels in loader:\n            total += (model(images).argmax(1) == labels).sum()\n"
             "    return total / len(loader.dataset)\n\n")
    text = head + "".join(block.format(i=i) for i in range((lines - head.count("\n")) // 8))
    return text + "# end\n" * (lines - text.count("\n"))  # whole blocks, padded to `lines`


# The same script with its model factory and freeze helper in two other files of the project (each 200 lines).
IMPORTING_HEAD = ("import torch\nfrom models import build_model\nfrom freezing import freeze_backbone\n\n"
                  "model = build_model()\nfreeze_backbone(model)\n"
                  "optimizer = torch.optim.SGD(model.parameters(), lr=0.01)\n\n")
MODELS_HEAD = ("import torch\nimport torch.nn as nn\nfrom torchvision.models import resnet18\n\n\n"
               "def build_model(num_classes=10):\n    model = resnet18(weights='IMAGENET1K_V1')\n"
               "    model.fc = nn.Linear(512, num_classes)\n    return model\n\n")
FREEZING_HEAD = ("import torch\n\n\ndef freeze_backbone(model):\n    for name, param in model.named_parameters():\n"
                 "        if not name.startswith('fc.'):\n            param.requires_grad = False\n\n")


def project_files(folder: Path) -> None:
    """train.py (500 lines) importing models.py and freezing.py (200 lines each)."""
    (folder / "train.py").write_text(script(500, IMPORTING_HEAD))
    (folder / "models.py").write_text(script(200, MODELS_HEAD))
    (folder / "freezing.py").write_text(script(200, FREEZING_HEAD))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, nargs="?", default=Path("."))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sample", type=int, default=1, metavar="K")
    parser.add_argument("--torchfix", help="path of the torchfix executable")
    parser.add_argument("--skip-torchfix", action="store_true")
    parser.add_argument("--precommit-only", action="store_true", help="only the pre-commit case")
    parser.add_argument("--baseline", type=Path, help="another tllint source tree, for the pre-commit case")
    args = parser.parse_args()
    if args.precommit_only:
        with tempfile.TemporaryDirectory() as scratch:
            precommit(Path(scratch), baseline=args.baseline)
        return
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.folder.resolve() if args.sample == 1 else sample(args.folder.resolve(), args.sample,
                                                                        Path(scratch) / "sample")
        files = sum(1 for p in folder.rglob("*.py") if p.is_file())
        lines = sum(p.read_bytes().count(b"\n") for p in folder.rglob("*.py") if p.is_file())
        tools = {"tllint": [sys.executable, "-m", "tllint", "check", "--no-cache", str(folder)],
                 "ruff": ["ruff", "check", "--no-cache", "--quiet", "--exit-zero", str(folder)]}
        if not args.skip_torchfix:
            tools["torchfix"] = [*torchfix_command(args.torchfix), str(folder)]
        print(f"{folder}: {files} files, {lines:,} lines; {os.cpu_count()} CPUs; {args.repeat} repetitions")
        runs: dict[str, list[Run]] = {name: [] for name in tools}
        for _ in range(args.repeat):
            for name, command in tools.items():  # interleaved: drifts in machine load hit every tool alike
                runs[name].append(measure(command))
        medians = {}
        for name, measured in runs.items():
            wall = statistics.median(r.wall for r in measured)
            medians[name] = wall
            print(f"{name:>9}: wall {wall:8.2f} s  cpu {statistics.median(r.cpu for r in measured):8.2f} s  "
                  f"peak RSS {max(r.rss_mb for r in measured):7.0f} MB  {files / wall:8.1f} files/s  "
                  f"exit {sorted({r.code for r in measured})}")
        for other in ("torchfix", "ruff"):
            if other in medians:
                ratio = medians["tllint"] / medians[other]
                verdict = f"{1 / ratio:.1f}x faster" if ratio < 1 else f"{ratio:.1f}x slower"
                print(f"tllint/{other} wall ratio: {ratio:.3f} (tllint is {verdict})")
        precommit(Path(scratch), baseline=args.baseline)


def precommit(scratch: Path, repeat: int = 11, baseline: Path | None = None) -> None:
    """One 500-line script through the hook's entry point, a fresh process each time, in a virtualenv that holds
    what pre-commit installs (tllint and its dependencies; bytecode compiled by pip), so the machine's own
    site-packages and settings are not measured. Changed file: its cache entry is gone. Unchanged: cached.
    With `baseline` (another tllint source tree), both builds run interleaved, each in its own virtualenv and
    folder, so that load drifts hit both alike."""
    trees = {"this": REPO, **({"baseline": baseline} if baseline is not None else {})}
    commands, folders = {}, {}
    for name, tree in trees.items():
        venv = scratch / f"hook-venv-{name}"
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", str(tree)], check=True, stderr=subprocess.DEVNULL)
        hook = yaml_entry(tree / ".pre-commit-hooks.yaml")
        folders[name] = scratch / f"project-{name}"
        folders[name].mkdir()
        (folders[name] / "train.py").write_text(script(500))
        folders[f"{name}-imports"] = scratch / f"project-{name}-imports"
        folders[f"{name}-imports"].mkdir()
        project_files(folders[f"{name}-imports"])
        commands[name] = [str(venv / "bin" / hook[0]), *hook[1:], "train.py"]
        print(f"pre-commit entry point ({name}: {tree}): {' '.join(hook)}")
    print(f"median of {repeat} runs after one warm-up, builds interleaved")
    cases = (("changed file", "", False), ("changed file importing two project files", "-imports", False),
             ("unchanged file, cached", "", True), ("unchanged file importing two project files, cached", "-imports",
                                                    True))
    for label, variant, keep_cache in cases:
        walls: dict[str, list[float]] = {name: [] for name in trees}
        for _ in range(repeat + 1):
            for name in trees:
                folder = folders[name + variant]
                if not keep_cache:
                    shutil.rmtree(folder / ".tllint_cache", ignore_errors=True)
                walls[name].append(measure(commands[name], cwd=folder, env=HOOK_ENV).wall)
        for name, measured in walls.items():
            measured = measured[1:]
            print(f"pre-commit, one 500-line file ({label}, {name}): median "
                  f"{statistics.median(measured) * 1000:.0f} ms, max {max(measured) * 1000:.0f} ms")


def yaml_entry(hooks: Path) -> list[str]:
    """The `entry:` of the hook definition (a one-line YAML value; no YAML parser needed)."""
    for line in hooks.read_text().splitlines():
        key, _, value = line.strip().lstrip("- ").partition(":")
        if key == "entry":
            return value.split()
    raise SystemExit(f"no entry in {hooks}")


if __name__ == "__main__":
    main()
