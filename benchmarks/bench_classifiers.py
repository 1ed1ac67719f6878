"""Time ``companion.networks.train_classifier`` on the workload of Part II's chapters.

Run ``python benchmarks/bench_classifiers.py`` (about a minute). The workload is a measured grid
of a Part II chapter: 300 runs (for example 5 noise levels x 3 imbalances x 20 seeds) of a
classifier on 1000 two-dimensional points each (``GaussianClasses``, one data set per run),
trained with Adam for 100 steps, once per loss (cross-entropy, label-smoothed cross-entropy,
focal loss on one logit, multi-class hinge, Brier score). It prints one markdown table: per
loss and model (the linear model, one hidden layer of 16 units), mini-batches of 100 (10 epochs)
and full batches (100 epochs), the best-of-3 seconds per call, the steps per second and the
cost of one example in one step (seconds / (steps x runs x batch)); then the five losses
together, and, for scale, the same 300 runs of cross-entropy trained one at a time with
``torch.nn`` and ``torch.optim``.

This is a measurement, not a test: nothing fails on a slow machine, and on a shared machine
the numbers are inflated by the other jobs (``os.getloadavg()`` is printed with them).
Training runs on one thread, as ``train_classifier`` always does.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F

from companion import cross_entropy, mse_loss, multi_margin_loss, sigmoid_focal_loss
from companion.data import GaussianClasses
from companion.networks import train_classifier

RUNS, POINTS, STEPS = 300, 1000, 100


def brier(logits: torch.Tensor, target: torch.Tensor, reduction: str = "none") -> torch.Tensor:
    """The Brier score of the softmax probabilities, per logit (summed over the classes)."""
    onehot = F.one_hot(target, logits.shape[1]).to(logits.dtype)
    return mse_loss(torch.softmax(logits, 1), onehot, reduction=reduction)


# name: (loss, loss_kwargs, n_out)
LOSSES: dict[str, tuple[Callable[..., torch.Tensor], dict[str, float], int]] = {
    "cross_entropy": (cross_entropy, {}, 2),
    "label smoothing 0.1": (cross_entropy, {"label_smoothing": 0.1}, 2),
    "focal (one logit)": (sigmoid_focal_loss, {"gamma": 2.0}, 1),
    "multi_margin (hinge)": (multi_margin_loss, {}, 2),
    "Brier (softmax + mse)": (brier, {}, 2),
}


def best_of(repeats: int, call: Callable[[], object]) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return min(times)


def one_at_a_time(x: np.ndarray, y: np.ndarray, batch: int, epochs: int) -> None:
    """The same runs, one after the other, with torch.nn.Linear and torch.optim.Adam."""
    for run in range(x.shape[0]):
        generator = torch.Generator().manual_seed(run)
        model = torch.nn.Linear(2, 2)
        optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
        inputs, targets = torch.as_tensor(x[run], dtype=torch.float32), torch.as_tensor(y[run])
        for _ in range(epochs):
            order = torch.randperm(POINTS, generator=generator)
            for start in range(0, POINTS, batch):
                rows = order[start : start + batch]
                optimizer.zero_grad()
                F.cross_entropy(model(inputs[rows]), targets[rows]).backward()
                optimizer.step()


def main() -> None:
    torch.set_num_threads(1)
    x, y = GaussianClasses(separation=2.0, priors=(10, 1)).sample(POINTS, seeds=range(RUNS))
    print(f"load average before: {os.getloadavg()[0]:.1f}")
    print(f"\n{RUNS} runs x {POINTS} points (d = 2), Adam, {STEPS} steps per call\n")
    print("| loss | hidden | batch | s per call | steps/s | ns per example-step |")
    print("|---|---|---|---|---|---|")
    totals: dict[tuple[int, int], float] = {}
    for n_hidden in (0, 16):
        for batch in (100, POINTS):
            for name, (loss, kwargs, n_out) in LOSSES.items():
                seconds = best_of(
                    3,
                    lambda loss=loss, kwargs=kwargs, n_out=n_out, batch=batch, n_hidden=n_hidden: (
                        train_classifier(
                            x, y, loss, seeds=range(RUNS), lr=0.05, n_out=n_out,
                            optimizer="adam", batch_size=batch, epochs=STEPS * batch // POINTS,
                            n_hidden=n_hidden, loss_kwargs=kwargs,
                        )
                    ),
                )  # fmt: skip
                totals[n_hidden, batch] = totals.get((n_hidden, batch), 0.0) + seconds
                per_example = seconds / (STEPS * RUNS * batch) * 1e9
                print(
                    f"| {name} | {n_hidden} | {batch} | {seconds:.3f} | {STEPS / seconds:.0f} "
                    f"| {per_example:.0f} |"
                )
    print("\n| the five losses together | hidden | batch | s |")
    print("|---|---|---|---|")
    for (n_hidden, batch), seconds in totals.items():
        print(f"| train_classifier | {n_hidden} | {batch} | {seconds:.2f} |")
    seconds = best_of(1, lambda: one_at_a_time(x, y, 100, STEPS * 100 // POINTS))
    print(f"| cross_entropy, one run at a time (torch.nn, torch.optim) | 0 | 100 | {seconds:.2f} |")
    print(f"\nload average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
