"""One valid call of every classification function and code path, as NumPy data, for the tests
of the companion under its clients (JAX, dask, torch.func): the client's result is compared with
the companion's on NumPy arrays of the same values.

Each case holds ``R = 2`` independent problems stacked on a leading axis (for ``vmap``), with
``N = 6`` samples and ``C = 3`` classes each; ``case.problem(r)`` is one of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

import companion

R, N, C = 2, 6, 3


@dataclass(frozen=True)
class Case:
    """``fn(input, target, reduction=..., **kwargs)`` for each of ``reductions``."""

    name: str
    fn: Any
    input: np.ndarray  # (R, N, C, ...)
    target: np.ndarray  # (R, N, ...) class indices, or (R, N, C, ...) floats
    kwargs: dict[str, Any] = field(default_factory=dict)  # arrays here are shared by problems
    reductions: tuple[str, ...] = ("none", "mean", "sum")
    index: bool = False  # target holds class indices
    grad: Any = None  # the analytic derivative, if the companion has one

    def problem(self, r: int) -> tuple[np.ndarray, np.ndarray]:
        return self.input[r], self.target[r]

    def __repr__(self) -> str:  # the test id
        return self.name


def _data() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(12)
    x = rng.uniform(-4, 4, size=(R, N, C))
    x[0, 0] = [30.0, -30.0, 0.0]  # confident, with float32 exp(-30) far below 1
    q = rng.uniform(0.05, 1, size=(R, N, C))
    q /= q.sum(axis=-1, keepdims=True)
    t = rng.integers(0, 2, size=(R, N, C)).astype(np.float64)
    t[:, :, 0] = 0.25  # soft binary targets too
    y = rng.integers(0, C, size=(R, N))
    dropped = y.copy()
    dropped[:, 1] = -100  # ignore_index
    return {
        "x": x,
        "p": np.clip(1 / (1 + np.exp(-x)), 1e-6, 1 - 1e-6),  # inside (0, 1): see the module
        "q": q,
        "log_q": np.log(q),
        "t": t,
        "y": y,
        "y_dropped": dropped,
        "x_spatial": rng.uniform(-4, 4, size=(R, N, C, 2)),
        "y_spatial": rng.integers(0, C, size=(R, N, 2)),
        "class_weight": np.array([1.0, 2.5, 0.5]),
        "pos_weight": np.array([1.0, 3.0, 0.5]),
    }


def cases() -> list[Case]:
    d = _data()
    c = companion
    w, pw = {"weight": d["class_weight"]}, {"pos_weight": d["pos_weight"]}
    kl = ("none", "batchmean", "mean", "sum")
    return [
        Case("bce", c.binary_cross_entropy, d["p"], d["t"]),
        Case("bce-reference", c.binary_cross_entropy_reference, d["p"], d["t"]),
        Case(
            "bce-logits",
            c.binary_cross_entropy_with_logits,
            d["x"],
            d["t"],
            pw,
            grad=c.binary_cross_entropy_with_logits_grad,
        ),
        Case("bce-logits-reference", c.binary_cross_entropy_with_logits_reference, d["x"], d["t"]),
        Case("focal", c.sigmoid_focal_loss, d["x"], d["t"]),
        Case("ce", c.cross_entropy, d["x"], d["y_dropped"], w, index=True),
        Case("ce-reference", c.cross_entropy_reference, d["x"], d["y_dropped"], w, index=True),
        Case(
            "ce-smoothing",
            c.cross_entropy,
            d["x"],
            d["y"],
            {"label_smoothing": 0.2, **w},
            index=True,
            grad=c.cross_entropy_grad,
        ),
        Case("ce-probabilities", c.cross_entropy, d["x"], d["q"], grad=c.cross_entropy_grad),
        Case("ce-spatial", c.cross_entropy, d["x_spatial"], d["y_spatial"], w, index=True),
        Case(
            "ce-spatial-reference",
            c.cross_entropy_reference,
            d["x_spatial"],
            d["y_spatial"],
            w,
            index=True,
        ),
        Case("nll", c.nll_loss, d["log_q"], d["y_dropped"], w, index=True),
        Case("nll-reference", c.nll_loss_reference, d["log_q"], d["y"], index=True),
        Case("kl", c.kl_div, d["log_q"], np.roll(d["q"], 1, axis=1), reductions=kl),
        Case(
            "kl-log-target",
            c.kl_div_reference,
            d["log_q"],
            np.roll(d["log_q"], 1, axis=1),
            {"log_target": True},
            reductions=kl,
        ),
        Case("margin", c.multi_margin_loss, d["x"], d["y"], {"p": 2, **w}, index=True),
        Case(
            "margin-reference",
            c.multi_margin_loss_reference,
            d["x"],
            d["y"],
            {"margin": 0.5},
            index=True,
        ),
    ]


CASES = cases()
# The analytic derivatives, called like their losses.
GRAD_CASES = [
    Case(f"{case.name}-grad", case.grad, case.input, case.target, case.kwargs, index=case.index)
    for case in CASES
    if case.grad is not None
]
