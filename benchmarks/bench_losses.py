"""Time the companion's losses against PyTorch, hand-written NumPy and scikit-learn.

Run ``python benchmarks/bench_losses.py`` (well under two minutes). It prints one markdown table:
for n = 1e3, 1e5, 1e7 float32 elements, the best-of-repeats time per call of the companion
and of the baseline, their ratio, and the project's target for n >= 1e5:

- companion on torch tensors vs ``torch.nn.functional``: <= 1.5x forward,
  <= 2x forward + backward (the ``*_reference`` formulas are shown too, for comparison);
- companion on NumPy arrays vs the same formula written by hand in NumPy: <= 1.2x;
- companion on NumPy arrays vs scikit-learn's ``mean_absolute_error`` /
  ``mean_squared_error`` (when scikit-learn is installed): faster (< 1x).

This is a measurement, not a test: nothing fails on a slow machine. Timings on a shared
machine are noisy; the two sides of each ratio are measured alternately (best of up to 25
timings each) so that they share the noise. PyTorch runs on one thread (``--threads``).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from functools import partial

import numpy as np
import torch
import torch.nn.functional as F

import companion

try:
    from sklearn.metrics import mean_absolute_error, mean_squared_error
except ImportError:  # scikit-learn is optional
    mean_absolute_error = mean_squared_error = None

SIZES = (10**3, 10**5, 10**7)
# The composite reference formulas are timed up to this size only (at 1e7 they would take
# most of the two-minute budget; the 1e5 rows already show how far they are from fused kernels).
REFERENCE_MAX_N = 10**5
LOSSES = {  # name: keyword arguments (the kink at 1, PyTorch's default)
    "l1_loss": {},
    "mse_loss": {},
    "smooth_l1_loss": {"beta": 1.0},
    "huber_loss": {"delta": 1.0},
}


def numpy_by_hand(name: str) -> Callable:
    """The loss written directly in NumPy, as a reader would."""

    def l1(x, y):
        return np.mean(np.abs(x - y))

    def mse(x, y):
        return np.mean((x - y) ** 2)

    def smooth_l1(x, y, beta=1.0):
        d = np.abs(x - y)
        return np.mean(np.where(d < beta, 0.5 * d * d / beta, d - 0.5 * beta))

    def huber(x, y, delta=1.0):
        d = np.abs(x - y)
        return np.mean(np.where(d < delta, 0.5 * d * d, delta * (d - 0.5 * delta)))

    return {"l1_loss": l1, "mse_loss": mse, "smooth_l1_loss": smooth_l1, "huber_loss": huber}[name]


def best_times(a: Callable[[], object], b: Callable[[], object]) -> tuple[float, float]:
    """Best seconds per call of ``a`` and of ``b``, timed alternately for about a second."""
    a(), b()  # warm up
    start = time.perf_counter()
    a()
    once = time.perf_counter() - start
    number = max(1, int(0.005 / max(once, 1e-9)))  # each timing at least ~5 ms
    repeats = min(25, max(3, int(0.5 / (number * once))))
    best = [float("inf"), float("inf")]
    for _ in range(repeats):
        for i, f in enumerate((a, b)):
            start = time.perf_counter()
            for _ in range(number):
                f()
            best[i] = min(best[i], (time.perf_counter() - start) / number)
    return best[0], best[1]


def forward_backward(loss: Callable, x: torch.Tensor, y: torch.Tensor, **params) -> Callable:
    """One training step's worth of loss work: forward, then backward to ``x``."""

    def step():
        loss(x, y, **params).backward()
        x.grad = None

    return step


def comparisons(n: int):
    """Yield (loss, comparison, companion call, baseline call, target ratio or None)."""
    rng = np.random.default_rng(0)
    x_np = rng.standard_normal(n, dtype=np.float32) * 2
    y_np = rng.standard_normal(n, dtype=np.float32)
    x, y = torch.from_numpy(x_np.copy()), torch.from_numpy(y_np.copy())
    xg = x.clone().requires_grad_(True)
    big = n >= 10**5
    for name, params in LOSSES.items():
        ours = getattr(companion, name)
        reference = getattr(companion, f"{name}_reference")
        theirs = getattr(F, name)
        fwd = partial(theirs, x, y, **params)
        fwd_bwd = forward_backward(theirs, xg, y, **params)
        yield name, "torch fwd: companion / F", partial(ours, x, y, **params), fwd, 1.5 * big
        yield (
            name,
            "torch fwd+bwd: companion / F",
            forward_backward(ours, xg, y, **params),
            fwd_bwd,
            2.0 * big,
        )
        if n <= REFERENCE_MAX_N:
            yield name, "torch fwd: reference / F", partial(reference, x, y, **params), fwd, 0
            yield (
                name,
                "torch fwd+bwd: reference / F",
                forward_backward(reference, xg, y, **params),
                fwd_bwd,
                0,
            )
        hand = partial(numpy_by_hand(name), x_np, y_np, **params)
        yield (
            name,
            "numpy: companion / by hand",
            partial(ours, x_np, y_np, **params),
            hand,
            1.2 * big,
        )
        metric = {"l1_loss": mean_absolute_error, "mse_loss": mean_squared_error}.get(name)
        if metric is not None:
            sklearn_call = partial(metric, y_np, x_np)
            yield (
                name,
                "numpy: companion / sklearn",
                partial(ours, x_np, y_np),
                sklearn_call,
                1.0 * big,
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    print(
        f"companion {companion.__version__}, torch {torch.__version__} "
        f"({torch.get_num_threads()} thread), numpy {np.__version__}, float32; "
        "best time per call\n"
    )
    print("| loss | n | comparison | companion | baseline | ratio | target | met |")
    print("|---|---:|---|---:|---:|---:|---:|:---:|")
    for n in SIZES:
        for name, comparison, ours, baseline, target in comparisons(n):
            ours_s, base_s = best_times(ours, baseline)
            ratio = ours_s / base_s
            target_text = met = ""
            if target:
                target_text = "< 1x" if target == 1.0 else f"<= {target:g}x"
                met = "yes" if (ratio < 1.0 if target == 1.0 else ratio <= target) else "NO"
            print(
                f"| {name} | {n:.0e} | {comparison} | {ours_s * 1e6:,.1f} us "
                f"| {base_s * 1e6:,.1f} us | {ratio:.2f}x | {target_text} | {met} |"
            )
    print(f"\n(total {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
