"""What `--fix` costs: one 500-line training script with one finding each of TL002, TL003, TL004, TL005, TL040
(safe) and TL001, TL011 (unsafe), a fresh process each time, interleaved, medians; then, in one process, checking
the file against fixing it (every round's re-check and verification included). The script imports
`from torchvision.models import resnet18`, so the TL040 fix's `ResNet18_Weights` is merged into that import, which
imports libcst; `check --fix, no merge` fixes the same script importing `torchvision.models as models`, where the
enum's import stays a line of its own and libcst is not imported: the difference is what the merge costs. With a
corpus folder, also `tllint check` against `tllint check --diff --unsafe-fixes` over it (once each: `--diff` writes
nothing).

    python bench/fix_speed.py [--repeat 11] [--corpus DIR]

Asserts nothing; prints figures.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))

from compare import ENV, measure, script

from tllint.config import Config
from tllint.static.engine import check_source
from tllint.static.fixing.apply import FixPolicy, fix_bytes

FIXABLE_HEAD = ("import torch\nimport torch.nn as nn\nfrom torchvision.models import resnet18\n\n"
                "model = resnet18(pretrained=True)  # TL040\n"
                "model.requires_grad = False  # TL002\n"
                "for p in model.layer4.parameters():\n    p.requires_grad == True  # TL003\n"
                "model.fc = nn.Linear(512, 10)\n"
                "for p in model.parameters():  # TL001\n    p.require_grad = False  # TL004\n"
                "map(lambda p: p.requires_grad_(False), model.bn1.parameters())  # TL005\n"
                "optimizer = torch.optim.SGD(model.parameters(), lr=0.01)  # TL011\n\n")


def training_script(lines: int = 500) -> str:
    body = script(lines).split("\n\n", 2)[2]  # compare.py's evaluation helpers, without its own head
    return "\n".join((FIXABLE_HEAD + body).split("\n")[:lines]) + "\n"


def processes(folder: Path, repeat: int) -> None:
    source, unmerged = folder / "source.py", folder / "unmerged.py"
    source.write_text(training_script())
    unmerged.write_text(training_script().replace("from torchvision.models import resnet18\n",
                                                  "import torchvision.models as models\n", 1)
                        .replace("= resnet18(pretrained", "= models.resnet18(pretrained", 1))
    target = folder / "train.py"
    commands = {
        "check": (source, ["check", "--no-cache", "train.py"]),
        "check --diff": (source, ["check", "--no-cache", "--diff", "train.py"]),
        "check --fix": (source, ["check", "--no-cache", "--fix", "train.py"]),
        "check --fix, no merge": (unmerged, ["check", "--no-cache", "--fix", "train.py"]),
        "check --fix --unsafe-fixes": (source, ["check", "--no-cache", "--fix", "--unsafe-fixes", "train.py"]),
    }
    walls: dict[str, list[float]] = {name: [] for name in commands}
    for run in range(repeat + 1):  # the first round warms the disk cache and is not counted
        for name, (original, args) in commands.items():
            shutil.copyfile(original, target)
            result = measure([sys.executable, "-m", "tllint", *args], cwd=folder, env=ENV)
            if run:
                walls[name].append(result.wall)
    for name, values in walls.items():
        print(f"{name:<28} 500 lines, fresh process: median {statistics.median(values) * 1000:.0f} ms "
              f"(min {min(values) * 1000:.0f}, max {max(values) * 1000:.0f}, {repeat} runs)")


def in_process(repeat: int) -> None:
    data = training_script().encode()
    codes = Config().enabled_codes()
    every = FixPolicy(codes, unsafe=True)
    for name, step in (("check_source", lambda: check_source(data, "train.py", codes)),
                       ("fix_bytes, safe", lambda: fix_bytes(data, "train.py", codes, FixPolicy(codes))),
                       ("fix_bytes, unsafe too", lambda: fix_bytes(data, "train.py", codes, every))):
        step()
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            step()
            times.append(time.perf_counter() - started)
        print(f"{name:<28} in one process: median {statistics.median(times) * 1000:.1f} ms")
    result = fix_bytes(data, "train.py", codes, every)
    print(f"  fixed {len(result.fixed)} findings; {len(result.outcome.findings)} remain; "
          f"problems: {result.problems or 'none'}")


def corpus(folder: Path) -> None:
    for name, args in (("check", ["check", "--no-cache", str(folder)]),
                       ("check --diff --unsafe-fixes", ["check", "--no-cache", "--diff", "--unsafe-fixes",
                                                        str(folder)])):
        result = measure([sys.executable, "-m", "tllint", *args], env=ENV)
        print(f"{name:<28} corpus {folder}: {result.wall:.1f} s wall, {result.cpu:.1f} s CPU, exit {result.code}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=11)
    parser.add_argument("--corpus", type=Path)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        processes(Path(scratch), options.repeat)
    in_process(options.repeat)
    if options.corpus is not None:
        corpus(options.corpus)


if __name__ == "__main__":
    main()
