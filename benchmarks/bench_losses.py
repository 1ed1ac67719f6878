"""Time the companion's losses against PyTorch, hand-written NumPy and scikit-learn.

Run ``python benchmarks/bench_losses.py`` (a few minutes; ``--losses classification`` or
``--losses regression`` for one half). It prints one markdown table. For
the regression losses, n = 1e3, 1e5, 1e7 float32 elements; for the classification losses,
logits of shape (N, C) = (100, 10), (1000, 100), (10000, 100), so n = N C = 1e3, 1e5, 1e6.
Each row gives the best-of-repeats time per call of the companion and of the baseline, their
ratio, and the project's target for n >= 1e5:

- companion on torch tensors vs ``torch.nn.functional`` (vs torchvision's formula for
  ``sigmoid_focal_loss``): <= 1.5x forward, <= 2x forward + backward (the ``*_reference``
  formulas are shown too, for comparison);
- companion on NumPy arrays vs the same formula written by hand in NumPy: <= 1.2x
  (regression losses);
- companion on NumPy arrays vs scikit-learn's ``mean_absolute_error`` /
  ``mean_squared_error`` / ``log_loss`` (when scikit-learn is installed): faster (< 1x).

This is a measurement, not a test: nothing fails on a slow machine. Timings on a shared
machine are noisy; the two sides of each ratio are measured alternately (best of up to 25
timings each) so that they share the noise. PyTorch runs on one thread (``--threads``).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from functools import partial
from itertools import chain

import numpy as np
import torch
import torch.nn.functional as F

import companion

try:
    from sklearn.metrics import log_loss, mean_absolute_error, mean_squared_error
except ImportError:  # scikit-learn is optional
    log_loss = mean_absolute_error = mean_squared_error = None

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


def forward_backward(loss: Callable, x: torch.Tensor, *rest: torch.Tensor, **params) -> Callable:
    """One training step's worth of loss work: forward, then backward to ``x``."""

    def step():
        loss(x, *rest, **params).backward()
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


CLASSIFICATION_SHAPES = ((100, 10), (1000, 100), (10000, 100))


def torchvision_sigmoid_focal_loss(inputs, targets, alpha=0.25, gamma=2.0, reduction="none"):
    """``torchvision.ops.sigmoid_focal_loss`` (torchvision/ops/focal_loss.py), transcribed."""
    p = torch.sigmoid(inputs)
    ce_loss = F.binary_cross_entropy_with_logits(inputs, targets, reduction="none")
    p_t = p * targets + (1 - p) * (1 - targets)
    loss = ce_loss * ((1 - p_t) ** gamma)
    if alpha >= 0:
        loss = (alpha * targets + (1 - alpha) * (1 - targets)) * loss
    return {"none": loss, "mean": loss.mean(), "sum": loss.sum()}[reduction]


def classification_comparisons(rows: int, classes: int):
    """Yield (loss, comparison, companion call, baseline call, target ratio or None)."""
    rng = np.random.default_rng(0)
    x_np = rng.standard_normal((rows, classes), dtype=np.float32) * 3
    y_np = rng.integers(0, classes, size=rows)
    t_np = (rng.random((rows, classes)) < 0.3).astype(np.float32)  # multi-label targets
    x, y, t = torch.from_numpy(x_np), torch.from_numpy(y_np), torch.from_numpy(t_np)
    p = torch.sigmoid(x)
    log_p = F.log_softmax(x, dim=1)
    q = F.softmax(torch.flip(x, dims=[1]), dim=1)
    mean = {"reduction": "mean"}
    calls = {  # name: (arguments of the differentiable input's tensor, other arguments, params)
        "binary_cross_entropy": (p, (t,), {}),
        "binary_cross_entropy_with_logits": (x, (t,), {}),
        "cross_entropy": (x, (y,), {}),
        "nll_loss": (log_p, (y,), {}),
        "kl_div": (log_p, (q,), {"reduction": "batchmean"}),
        "sigmoid_focal_loss": (x, (t,), mean),
        "multi_margin_loss": (x, (y,), {}),
    }
    big = rows * classes >= 10**5
    for name, (first, rest, params) in calls.items():
        ours = getattr(companion, name)
        theirs = (
            torchvision_sigmoid_focal_loss if name == "sigmoid_focal_loss" else getattr(F, name)
        )
        reference = getattr(companion, f"{name}_reference", None)
        grad_input = first.detach().clone().requires_grad_(True)
        baseline = "torchvision" if name == "sigmoid_focal_loss" else "F"
        fwd = partial(theirs, first, *rest, **params)
        fwd_bwd = forward_backward(theirs, grad_input, *rest, **params)
        yield (
            name,
            f"torch fwd: companion / {baseline}",
            partial(ours, first, *rest, **params),
            fwd,
            1.5 * big,
        )
        yield (
            name,
            f"torch fwd+bwd: companion / {baseline}",
            forward_backward(ours, grad_input, *rest, **params),
            fwd_bwd,
            2.0 * big,
        )
        if reference is not None:
            yield (
                name,
                "torch fwd: reference / F",
                partial(reference, first, *rest, **params),
                fwd,
                0,
            )
            yield (
                name,
                "torch fwd+bwd: reference / F",
                forward_backward(reference, grad_input, *rest, **params),
                fwd_bwd,
                0,
            )
    if log_loss is None:
        return
    # From probabilities, as scikit-learn takes them: binary (one column) and C classes.
    p_np, yb_np = p.numpy()[:, 0].astype(np.float64), t_np[:, 0].astype(np.int64)
    yield (
        "binary_cross_entropy",
        "numpy: companion / sklearn log_loss",
        partial(companion.binary_cross_entropy, p_np, yb_np),
        partial(log_loss, yb_np, p_np),
        1.0 * big,
    )
    probs = F.softmax(x.double(), dim=1).numpy()
    labels = np.arange(classes)
    yield (
        "nll_loss",
        "numpy: companion(log P) / sklearn log_loss",
        lambda: companion.nll_loss(np.log(probs), y_np),
        partial(log_loss, y_np, probs, labels=labels),
        1.0 * big,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    parser.add_argument("--losses", choices=("all", "regression", "classification"), default="all")
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
    rows = []  # generators: each size's data exists only while its rows are timed
    if args.losses in ("all", "regression"):
        rows.append((n, row) for n in SIZES for row in comparisons(n))
    if args.losses in ("all", "classification"):
        rows.append(
            (r * k, row)
            for r, k in CLASSIFICATION_SHAPES
            for row in classification_comparisons(r, k)
        )
    for n, (name, comparison, ours, baseline, target) in chain(*rows):
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
