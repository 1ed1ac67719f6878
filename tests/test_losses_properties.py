"""Hypothesis property tests for the companion's losses.

Properties every regression loss here must have (zero at equality, symmetry, non-negativity),
the scaling laws of L1 and MSE, the exact Huber / Smooth L1 relation, and the beta -> 0 limit.
Examples are derandomized (same examples on every run) and few, to keep the suite fast.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import BACKENDS, to_numpy
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import companion

FAST = settings(max_examples=40, deadline=None, derandomize=True)

values = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False, allow_subnormal=False)
kinks = st.floats(1e-3, 1e3)


@st.composite
def pairs(draw):
    """Two float64 arrays of the same shape (1-d or 2-d, up to 24 elements)."""
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=6))
    x = draw(hnp.arrays(np.float64, shape, elements=values))
    y = draw(hnp.arrays(np.float64, shape, elements=values))
    return x, y


LOSSES = [
    (companion.l1_loss, {}),
    (companion.mse_loss, {}),
    (companion.smooth_l1_loss, {"beta": 0.0}),
    (companion.smooth_l1_loss, {"beta": 0.5}),
    (companion.smooth_l1_loss, {"beta": 20.0}),
    (companion.huber_loss, {"delta": 0.5}),
    (companion.huber_loss, {"delta": 20.0}),
]


def on(backend, array):
    return BACKENDS[backend].asarray(array.tolist(), dtype=BACKENDS[backend].float64)


@pytest.mark.parametrize("backend", list(BACKENDS))
@FAST
@given(pair=pairs())
def test_zero_symmetric_nonnegative(backend, pair):
    x, y = on(backend, pair[0]), on(backend, pair[1])
    for loss, params in LOSSES:
        forward = to_numpy(loss(x, y, "none", **params))
        backward = to_numpy(loss(y, x, "none", **params))
        np.testing.assert_array_equal(forward, backward)  # |x - y| == |y - x| exactly
        assert np.all(forward >= 0)
        np.testing.assert_array_equal(to_numpy(loss(x, x, "none", **params)), 0.0)
        for reduction in ("mean", "sum"):
            assert to_numpy(loss(x, x, reduction, **params)) == 0.0


@FAST
@given(pair=pairs(), k=st.floats(-1e3, 1e3).filter(lambda k: abs(k) > 1e-3))
def test_l1_and_mse_scaling(pair, k):
    """L1(kx, ky) = |k| L1(x, y) and MSE(kx, ky) = k^2 MSE(x, y) (and RMSE scales by |k|)."""
    x, y = pair
    # Rounding of k*x - k*y is relative to the inputs' size, not to their difference.
    atol = 1e-12 * abs(k) * (np.max(np.abs(x)) + np.max(np.abs(y)) + 1.0)
    for reduction in ("none", "mean", "sum"):
        l1 = companion.l1_loss(k * x, k * y, reduction)
        np.testing.assert_allclose(
            l1, abs(k) * companion.l1_loss(x, y, reduction), 1e-12, atol * x.size
        )
    mse = companion.mse_loss(k * x, k * y)
    scale = atol * (np.max(np.abs(x)) + np.max(np.abs(y)) + 1.0) * abs(k)
    np.testing.assert_allclose(mse, k**2 * companion.mse_loss(x, y), rtol=1e-12, atol=4 * scale)
    rmse = companion.rmse(k * x, k * y)
    np.testing.assert_allclose(rmse, abs(k) * companion.rmse(x, y), rtol=1e-12, atol=atol)


@pytest.mark.parametrize("backend", list(BACKENDS))
@FAST
@given(pair=pairs(), delta=kinks)
def test_huber_is_delta_times_smooth_l1_with_beta_delta(backend, pair, delta):
    x, y = on(backend, pair[0]), on(backend, pair[1])
    # Exact up to rounding for normal numbers; subnormal intermediates (d**2 below the
    # smallest normal number) keep only a few digits, so differences below it do not count.
    atol = np.finfo(pair[0].dtype).smallest_normal
    for reduction in ("none", "mean", "sum"):
        huber = to_numpy(companion.huber_loss(x, y, reduction, delta=delta))
        smooth = to_numpy(companion.smooth_l1_loss(x, y, reduction, beta=delta))
        np.testing.assert_allclose(huber, delta * smooth, rtol=1e-12, atol=atol)
    huber_grad = to_numpy(companion.huber_loss_grad(x, y, delta=delta))
    smooth_grad = to_numpy(companion.smooth_l1_loss_grad(x, y, beta=delta))
    np.testing.assert_allclose(huber_grad, delta * smooth_grad, rtol=1e-12, atol=atol)


@FAST
@given(pair=pairs(), beta=st.floats(1e-9, 10.0))
def test_smooth_l1_tends_to_l1_as_beta_tends_to_zero(pair, beta):
    """0 <= |d| - SmoothL1_beta(d) <= beta / 2, so the gap closes linearly with beta."""
    x, y = pair
    gap = companion.l1_loss(x, y, "none") - companion.smooth_l1_loss(x, y, "none", beta=beta)
    rounding = 1e-12 * np.abs(x - y)
    assert np.all(gap >= -rounding)
    assert np.all(gap <= beta / 2 + rounding)
    # ... and so does the gradient, outside the shrinking quadratic zone
    outside = np.abs(x - y) >= beta
    np.testing.assert_array_equal(
        companion.smooth_l1_loss_grad(x, y, "none", beta=beta)[outside],
        companion.l1_loss_grad(x, y, "none")[outside],
    )


@FAST
@given(pair=pairs(), delta=kinks)
def test_huber_lies_between_its_quadratic_and_linear_pieces(pair, delta):
    """Huber <= d^2 / 2 everywhere, and <= delta |d|: it takes the smaller growth."""
    x, y = pair
    d = x - y
    huber = companion.huber_loss(x, y, "none", delta=delta)
    assert np.all(huber <= 0.5 * d * d * (1 + 1e-12))
    assert np.all(huber <= delta * np.abs(d) * (1 + 1e-12))


@FAST
@given(pair=pairs())
def test_mse_is_squared_l2_norm_over_n_and_rmse_its_root(pair):
    x, y = pair
    mse = companion.mse_loss(x, y)
    np.testing.assert_allclose(mse, np.linalg.norm((x - y).ravel()) ** 2 / x.size, rtol=1e-12)
    np.testing.assert_allclose(companion.rmse(x, y), np.sqrt(mse), rtol=1e-15)
