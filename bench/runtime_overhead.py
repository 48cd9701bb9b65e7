"""Measure the runtime audit against one plain forward+backward of the same model and input.

    python bench/runtime_overhead.py [--repeat 5] [--models resnet18,resnet50]   # CPU, batch 2
    PYTHONPATH=. python bench/runtime_overhead.py --device cuda   # resnet50, vit_b_16, batch 64

224x224, random weights, train mode. Time: median of `--repeat` runs after warm-up, for (a) a plain step:
forward, the same probe loss, `backward()` into `.grad`; (b) the first audit of the model in the process (the
fx trace is made then; its cache is emptied first); (c) later audits (the trace comes from the per-process
cache); (d) the fx trace alone. On CUDA every timing ends with `torch.cuda.synchronize()` and peak memory is
`torch.cuda.max_memory_allocated` above the model and input; on CPU each variant runs once in a fresh
subprocess and reports its peak RSS growth (sampled every millisecond). Prints figures; asserts nothing.
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


def _setup(name: str, device: str, batch: int):
    import torch
    import torchvision.models as tvm

    model = getattr(tvm, name)(weights=None).train().to(device)
    inputs = torch.randn(batch, 3, 224, 224, generator=torch.Generator().manual_seed(0)).to(device)
    return model, inputs


def _variants(model, inputs) -> dict[str, Callable[[], None]]:
    import torch

    from tllint.runtime import audit
    from tllint.runtime.probe import probe_loss
    from tllint.runtime.trace import fx_usage

    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)

    def plain() -> None:
        model.zero_grad(set_to_none=True)
        probe_loss(model(inputs)).backward()

    return {
        "plain": plain,
        "audit": lambda: audit(model, inputs, optimizer=optimizer),
        "trace": lambda: fx_usage(model, inputs),
    }


def _timed(run: Callable[[], None], device: str) -> float:
    import torch

    if device == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    run()
    if device == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def _rss_kib() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() // 1024


def measure_memory(name: str, variant: str, batch: int) -> None:
    """Child process: peak RSS growth (MiB) of one run of `variant`, sampled every millisecond, as JSON."""
    model, inputs = _setup(name, "cpu", batch)
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


def _cuda_peak_mib(run: Callable[[], None]) -> float:
    import torch

    torch.cuda.synchronize()
    base = torch.cuda.memory_allocated()
    torch.cuda.reset_peak_memory_stats()
    run()
    torch.cuda.synchronize()
    return (torch.cuda.max_memory_allocated() - base) / 2**20


def measure(name: str, device: str, batch: int, repeat: int) -> dict[str, float]:
    """Median seconds per variant (variants take turns, so load from other processes hits them alike), the
    first audit's time with an empty trace cache, and on CUDA the peak memory of plain and audit."""
    from tllint.runtime.trace import clear_trace_cache

    model, inputs = _setup(name, device, batch)
    variants = _variants(model, inputs)
    for _ in range(3):
        variants["plain"]()
    clear_trace_cache()
    figures = {"first": _timed(variants["audit"], device)}
    samples: dict[str, list[float]] = {variant: [] for variant in variants}
    for _ in range(repeat):
        for variant, run in variants.items():
            samples[variant].append(_timed(run, device))
    figures.update({variant: statistics.median(times) for variant, times in samples.items()})
    if device == "cuda":
        figures["plain_mib"] = _cuda_peak_mib(variants["plain"])
        figures["audit_mib"] = _cuda_peak_mib(variants["audit"])
    else:
        for variant in ("plain", "audit"):
            figures[f"{variant}_mib"] = json.loads(subprocess.run(
                [sys.executable, __file__, "--memory-child", name, variant, str(batch)],
                capture_output=True, text=True, check=True).stdout)["peak_mib"]
    return figures


def untouched_on_device(name: str, device: str, batch: int) -> bool:
    """One audit of a model in train mode with a stale `.grad`: state dict, `.grad`, flags and the CPU and
    CUDA RNG states are bit for bit what they were (the CPU tests cannot check a GPU's RNG)."""
    import torch

    from tllint.runtime import audit

    model, inputs = _setup(name, device, batch)
    first = next(model.parameters())
    first.grad = torch.ones_like(first)

    def state() -> dict:
        return {"tensors": {k: v.clone() for k, v in model.state_dict().items()},
                "grads": [None if p.grad is None else p.grad.clone() for p in model.parameters()],
                "flags": [(p.requires_grad, m.training) for m in model.modules() for p in m.parameters(False)],
                "rng": [torch.get_rng_state()] + ([torch.cuda.get_rng_state()] if device == "cuda" else [])}

    def same(a: object, b: object) -> bool:
        if isinstance(a, torch.Tensor):
            return isinstance(b, torch.Tensor) and a.dtype == b.dtype and torch.equal(a, b)
        if isinstance(a, dict):
            return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
        if isinstance(a, list | tuple):
            return isinstance(b, list | tuple) and len(a) == len(b) and all(map(same, a, b))
        return a == b

    before = state()
    audit(model, inputs)
    return same(before, state())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--repeat", type=int, default=None, help="default: 5 on CPU, 10 on CUDA")
    parser.add_argument("--batch", type=int, default=None, help="default: 2 on CPU, 64 on CUDA")
    parser.add_argument("--models", default=None, help="default: resnet18,resnet50 on CPU, resnet50,vit_b_16 on CUDA")
    parser.add_argument("--memory-child", nargs=3, metavar=("MODEL", "VARIANT", "BATCH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        name, variant, batch = args.memory_child
        measure_memory(name, variant, int(batch))
        return
    import torch
    import torchvision

    cuda = args.device == "cuda"
    repeat = args.repeat or (10 if cuda else 5)
    batch = args.batch or (64 if cuda else 2)
    models = args.models or ("resnet50,vit_b_16" if cuda else "resnet18,resnet50")
    where = torch.cuda.get_device_name() if cuda else f"CPU, {torch.get_num_threads()} threads"
    print(f"torch {torch.__version__} · torchvision {torchvision.__version__} · {where} · batch {batch} · "
          f"224x224 · median of {repeat}", flush=True)
    for name in models.split(","):
        f = measure(name, args.device, batch, repeat)
        plain = f["plain"]
        print(f"{name}: plain fwd+bwd {plain * 1000:.1f} ms · first audit {f['first'] * 1000:.0f} ms "
              f"(x{f['first'] / plain:.2f}) · later audits {f['audit'] * 1000:.1f} ms (x{f['audit'] / plain:.2f}) · "
              f"fx trace alone {f['trace'] * 1000:.0f} ms · peak memory plain {f['plain_mib']:.0f} MiB, "
              f"audit {f['audit_mib']:.0f} MiB (x{f['audit_mib'] / f['plain_mib']:.2f})", flush=True)
        print(f"{name}: model state and RNGs untouched by the audit: "
              f"{'yes' if untouched_on_device(name, args.device, batch) else 'NO'}", flush=True)


if __name__ == "__main__":
    main()
