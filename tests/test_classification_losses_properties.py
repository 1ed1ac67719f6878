"""Hypothesis property tests for the classification losses.

The properties the book relies on: every loss is non-negative; the cross-entropy of a
distribution q is at least its entropy, with equality at q itself, and exceeds it by exactly
the KL divergence; label smoothing is cross-entropy against the smoothed one-hot target, and
at its limit of 1 ignores the target; ``nll_loss(log_softmax(x)) == cross_entropy(x)``; the
focal loss with gamma = 0 and no alpha is the binary cross-entropy with logits, and below it
otherwise; adding a constant to a sample's logits changes nothing. Examples are derandomized
(the same on every run) and few, to keep the suite fast.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import BACKENDS, to_numpy
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import companion

FAST = settings(max_examples=30, deadline=None, derandomize=True)

logit_values = st.floats(-30, 30, allow_nan=False, allow_subnormal=False)
unit_values = st.floats(0, 1, allow_nan=False, allow_subnormal=False)


@st.composite
def logits_and_classes(draw, max_classes=6):
    """(N, C) float64 logits and (N,) class indices."""
    n = draw(st.integers(1, 6))
    c = draw(st.integers(1, max_classes))
    x = draw(hnp.arrays(np.float64, (n, c), elements=logit_values))
    y = draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, c - 1)))
    return x, y


@st.composite
def distributions(draw, shape, positive=False):
    """Rows of probabilities (along axis 1) that sum to 1; all > 0 if ``positive``."""
    low = 1e-3 if positive else 0.0
    raw = draw(hnp.arrays(np.float64, shape, elements=st.floats(low, 1.0)))
    raw[:, 0] += 1e-3  # no row of zeros
    return raw / raw.sum(axis=1, keepdims=True)


def entropy(q: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return -np.where(q > 0, q * np.log(q), 0.0).sum(axis=1)


def log_softmax(x: np.ndarray) -> np.ndarray:
    shifted = x - x.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def on(backend: str, array: np.ndarray):
    xp = BACKENDS[backend]
    dtype = xp.int64 if array.dtype.kind == "i" else xp.float64
    return xp.asarray(array.tolist(), dtype=dtype)


@pytest.mark.parametrize("backend", list(BACKENDS))
@FAST
@given(data=logits_and_classes(), t=st.data())
def test_every_loss_is_non_negative(backend, data, t):
    x, y = data
    q = t.draw(distributions(x.shape))
    b = t.draw(hnp.arrays(np.float64, x.shape, elements=unit_values))
    x_, y_, q_, b_ = (on(backend, a) for a in (x, y, q, b))
    p_ = on(backend, 1 / (1 + np.exp(-x)))
    losses = [
        companion.cross_entropy(x_, y_, reduction="none"),
        companion.cross_entropy(x_, q_, reduction="none", label_smoothing=0.1),
        companion.nll_loss(on(backend, log_softmax(x)), y_, reduction="none"),
        companion.multi_margin_loss(x_, y_, reduction="none", p=2),
        companion.binary_cross_entropy(p_, b_, reduction="none"),
        companion.binary_cross_entropy_with_logits(x_, b_, reduction="none"),
        companion.sigmoid_focal_loss(x_, b_),
        # KL is non-negative per sample (its elements alone may be negative)
        companion.kl_div(on(backend, log_softmax(x)), q_, reduction="sum"),
    ]
    for loss in losses:
        assert np.all(to_numpy(loss) >= -1e-12)


@FAST
@given(x_and_y=logits_and_classes(), t=st.data())
def test_cross_entropy_is_at_least_the_entropy_with_equality_at_the_target(x_and_y, t):
    """H(q, p) >= H(q), = H(q) at p = q; the excess is KL(q || p), which kl_div gives."""
    x, _ = x_and_y
    q = t.draw(distributions(x.shape, positive=True))
    cross = companion.cross_entropy(x, q, reduction="none")
    h = entropy(q)
    assert np.all(cross >= h - 1e-12 * (1 + np.abs(h)))
    np.testing.assert_allclose(
        companion.cross_entropy(np.log(q), q, reduction="none"), h, rtol=1e-10, atol=1e-12
    )
    kl = companion.kl_div(log_softmax(x), q, reduction="none").sum(axis=1)
    np.testing.assert_allclose(cross - h, kl, rtol=1e-9, atol=1e-9 * (1 + np.abs(cross).max()))
    np.testing.assert_allclose(
        companion.kl_div(log_softmax(x), q, reduction="batchmean"),
        kl.mean(),
        rtol=1e-12,
        atol=1e-12,
    )


@pytest.mark.parametrize("backend", list(BACKENDS))
@FAST
@given(x_and_y=logits_and_classes(), eps=st.floats(0, 1))
def test_label_smoothing_is_the_smoothed_one_hot_target(backend, x_and_y, eps):
    """With weights too: index targets with smoothing eps equal probability targets
    (1 - eps) one_hot + eps / C (PyTorch computes the two differently)."""
    x, y = x_and_y
    c = x.shape[1]
    w = np.linspace(0.5, 2.0, c)
    smoothed = (1 - eps) * np.eye(c)[y] + eps / c
    for weight in (None, w):
        wb = None if weight is None else on(backend, weight)
        by_index = companion.cross_entropy(
            on(backend, x), on(backend, y), weight=wb, reduction="none", label_smoothing=eps
        )
        by_probability = companion.cross_entropy(
            on(backend, x), on(backend, smoothed), weight=wb, reduction="none"
        )
        np.testing.assert_allclose(
            to_numpy(by_index), to_numpy(by_probability), rtol=1e-10, atol=1e-10
        )


@FAST
@given(x_and_y=logits_and_classes(max_classes=5))
def test_label_smoothing_limit_ignores_the_target(x_and_y):
    """At eps = 1 every target gives -mean_c log p_c; eps -> 0 recovers the plain loss."""
    x, y = x_and_y
    uniform = -log_softmax(x).mean(axis=1)
    for shifted in (y, (y + 1) % x.shape[1]):
        np.testing.assert_allclose(
            companion.cross_entropy(x, shifted, reduction="none", label_smoothing=1.0),
            uniform,
            rtol=1e-12,
            atol=1e-12,
        )
    plain = companion.cross_entropy(x, y, reduction="none")
    nearly = companion.cross_entropy(x, y, reduction="none", label_smoothing=1e-9)
    np.testing.assert_allclose(nearly, plain, rtol=1e-7, atol=1e-7)


@pytest.mark.parametrize("backend", list(BACKENDS))
@FAST
@given(x_and_y=logits_and_classes(), ignore=st.booleans())
def test_nll_of_log_softmax_is_cross_entropy(backend, x_and_y, ignore):
    x, y = x_and_y
    y = np.where(np.arange(y.size) % 3 == 1, -100, y) if ignore else y
    w = on(backend, np.linspace(0.5, 2.0, x.shape[1]))
    for reduction in ("none", "mean", "sum"):
        nll = companion.nll_loss(
            on(backend, log_softmax(x)), on(backend, y), weight=w, reduction=reduction
        )
        ce = companion.cross_entropy(on(backend, x), on(backend, y), weight=w, reduction=reduction)
        np.testing.assert_allclose(to_numpy(nll), to_numpy(ce), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("backend", list(BACKENDS))
@FAST
@given(x=hnp.arrays(np.float64, st.integers(1, 20), elements=logit_values), t=st.data())
def test_focal_with_gamma_0_and_no_alpha_is_binary_cross_entropy(backend, x, t):
    """Equal up to the rounding of PyTorch's expression for the cross-entropy, which cancels
    for a confident right answer (the focal loss's does not): an absolute ulp of |x|."""
    b = t.draw(hnp.arrays(np.float64, x.shape, elements=unit_values))
    x_, b_ = on(backend, x), on(backend, b)
    focal = to_numpy(companion.sigmoid_focal_loss(x_, b_, alpha=-1.0, gamma=0.0))
    bce = to_numpy(companion.binary_cross_entropy_with_logits(x_, b_, reduction="none"))
    np.testing.assert_allclose(focal, bce, rtol=1e-12, atol=4 * np.spacing(np.abs(x).max()))
    for gamma in (0.5, 2.0):
        smaller = to_numpy(companion.sigmoid_focal_loss(x_, b_, alpha=-1.0, gamma=gamma))
        assert np.all(smaller <= focal * (1 + 1e-12) + 1e-300)


@FAST
@given(x_and_y=logits_and_classes(), shift=st.floats(-1e3, 1e3))
def test_shifting_a_samples_logits_changes_nothing(x_and_y, shift):
    """Softmax is invariant to a constant added to a sample's logits, and so are the losses
    and their gradients; the shifted log-sum-exp keeps this exact up to rounding."""
    x, y = x_and_y
    scale = 1e-12 * (np.abs(x).max() + abs(shift) + 1)
    for fn in (companion.cross_entropy, companion.cross_entropy_grad):
        np.testing.assert_allclose(
            fn(x + shift, y, reduction="none"),
            fn(x, y, reduction="none"),
            rtol=1e-9,
            atol=10 * scale,
        )


@FAST
@given(x_and_y=logits_and_classes(), margin=st.floats(0, 5))
def test_multi_margin_is_zero_once_the_target_leads_by_the_margin(x_and_y, margin):
    x, y = x_and_y
    x = x.copy()
    x[np.arange(y.size), y] = x.max(axis=1) + margin
    loss = companion.multi_margin_loss(x, y, margin=margin, reduction="none")
    # 0 up to the rounding of (margin - x_y) + x_j, where x_y was rounded too
    np.testing.assert_allclose(loss, 0.0, atol=1e-14 * (np.abs(x).max() + margin + 1))
