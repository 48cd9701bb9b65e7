"""Measure the runtime audit against one plain forward+backward of the same model and input.

    python bench/runtime_overhead.py [--repeat 5] [--models resnet18,resnet50]

CPU, batch 2, 224x224, random weights, train mode. Time: median of `--repeat` runs after one warm-up, for
(a) a plain step: forward, the same probe loss, `backward()` into `.grad`; (b) the audit; (c) the fx trace
alone (the audit's one-off part). Peak memory: each variant runs once in a fresh subprocess and reports
its peak RSS growth over the RSS after building the model and input (sampled every millisecond), so
variants do not share a high-water mark. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def _setup(name: str):
    import torch
    import torchvision.models as tvm

    model = getattr(tvm, name)(weights=None).train()
    inputs = torch.randn(2, 3, 224, 224, generator=torch.Generator().manual_seed(0))
    return model, inputs


def _variants(model, inputs) -> dict[str, Callable[[], None]]:
    import torch

    from tllint.runtime import audit
    from tllint.runtime.probe import probe_loss
    from tllint.runtime.trace import fx_usage

    def plain() -> None:
        model.zero_grad(set_to_none=True)
        probe_loss(model(inputs)).backward()

    return {
        "plain": plain,
        "audit": lambda: audit(model, inputs, optimizer=torch.optim.SGD(model.parameters(), lr=0.1)),
        "trace": lambda: fx_usage(model, inputs),
    }


def _rss_kib() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() // 1024


def measure_memory(name: str, variant: str) -> None:
    """Child process: peak RSS growth (MiB) of one run of `variant`, sampled every millisecond, as JSON."""
    model, inputs = _setup(name)
    run = _variants(model, inputs)[variant]
    base = peak = _rss_kib()
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _rss_kib())
            time.sleep(0.001)

    sampler = threading.Thread(target=sample)
    sampler.start()
    run()
    done.set()
    sampler.join()
    print(json.dumps({"peak_mib": (max(peak, _rss_kib()) - base) / 1024}))


def measure_time(name: str, repeat: int) -> dict[str, float]:
    """Median seconds per variant; variants take turns, so load from other processes hits them alike."""
    model, inputs = _setup(name)
    variants = _variants(model, inputs)
    samples: dict[str, list[float]] = {variant: [] for variant in variants}
    for run in variants.values():
        run()
    for _ in range(repeat):
        for variant, run in variants.items():
            start = time.perf_counter()
            run()
            samples[variant].append(time.perf_counter() - start)
    return {variant: statistics.median(times) for variant, times in samples.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--models", default="resnet18,resnet50")
    parser.add_argument("--memory-child", nargs=2, metavar=("MODEL", "VARIANT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        measure_memory(*args.memory_child)
        return
    import torch
    import torchvision

    print(f"torch {torch.__version__} · torchvision {torchvision.__version__} · "
          f"threads {torch.get_num_threads()} · CPU · batch 2 · 224x224 · median of {args.repeat}")
    for name in args.models.split(","):
        times = measure_time(name, args.repeat)
        memory = {
            variant: json.loads(subprocess.run(
                [sys.executable, __file__, "--memory-child", name, variant],
                capture_output=True, text=True, check=True).stdout)["peak_mib"]
            for variant in ("plain", "audit")
        }
        print(f"{name}: plain {times['plain'] * 1000:.0f} ms, audit {times['audit'] * 1000:.0f} ms "
              f"(x{times['audit'] / times['plain']:.2f}), of which fx trace {times['trace'] * 1000:.0f} ms; "
              f"audit without trace x{(times['audit'] - times['trace']) / times['plain']:.2f}; "
              f"peak memory plain {memory['plain']:.0f} MiB, audit {memory['audit']:.0f} MiB "
              f"(x{memory['audit'] / memory['plain']:.2f})")


if __name__ == "__main__":
    main()
