"""Tests for Huber's weights and the IRLS line fit in companion.fitting."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from companion import huber_loss_grad
from companion.data import make_line_data
from companion.fitting import fit_line, fit_line_irls, huber_weights


def test_huber_weights_are_one_inside_the_band_and_delta_over_size_outside():
    r = np.array([0.0, 0.3, -1.0, 2.0, -50.0])
    np.testing.assert_allclose(huber_weights(r, 1.0), [1.0, 1.0, 1.0, 0.5, 0.02])
    # psi = weight * residual is Huber's clipped derivative
    np.testing.assert_allclose(
        huber_weights(r, 1.0) * r, huber_loss_grad(r, np.zeros(5), reduction="none")
    )


@pytest.mark.parametrize("delta", [0.0, -1.0, float("nan"), float("inf")])
def test_huber_weights_reject_a_bad_delta(delta):
    with pytest.raises(ValueError, match="delta must be a finite number > 0"):
        huber_weights(np.ones(3), delta)


def test_irls_starts_at_least_squares_and_a_wide_band_stays_there():
    x, y = make_line_data(50, outlier_fraction=0.1, seed=3)
    fit = fit_line_irls(x, y, delta=1e6, steps=5)
    assert fit.slopes.shape == fit.intercepts.shape == (6,)
    np.testing.assert_allclose(np.stack([fit.slopes, fit.intercepts], 1), [np.polyfit(x, y, 1)] * 6)


@pytest.mark.parametrize("delta", [0.1, 0.6725, 2.0])
def test_irls_reaches_the_minimiser_that_gradient_descent_finds(delta):
    x, y = make_line_data(100, outlier_fraction=0.1, seed=0)
    irls = fit_line_irls(x, y, delta, steps=200)
    descent = fit_line(x, y, huber_loss_grad, lr=1.0, steps=20000, delta=delta)
    np.testing.assert_allclose([irls.slope, irls.intercept], [descent.slope, descent.intercept])
    # the Huber loss's gradient vanishes there
    r = irls.slope * x + irls.intercept - y
    psi = huber_loss_grad(r, np.zeros_like(r), reduction="none", delta=delta)
    assert abs((psi * x).sum()) < 1e-8 and abs(psi.sum()) < 1e-8


def test_irls_is_batched_over_leading_axes():
    pairs = [make_line_data(30, outlier_fraction=0.1, seed=s) for s in range(4)]
    x, y = np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs])
    batched = fit_line_irls(x.reshape(2, 2, 30), y.reshape(2, 2, 30), 0.5, steps=20)
    assert batched.slope.shape == (2, 2)
    for s in range(4):
        single = fit_line_irls(x[s], y[s], 0.5, steps=20)
        assert batched.slope.ravel()[s] == pytest.approx(float(single.slope), rel=1e-12)


def test_irls_agrees_with_scikit_learns_huber_regressor_at_its_scale():
    """HuberRegressor estimates a scale s with the line; at fixed s its line is Huber's with
    delta = epsilon * s (its default epsilon is 1.35, the value the book quotes)."""
    sklearn = pytest.importorskip("sklearn.linear_model")
    epsilon = inspect.signature(sklearn.HuberRegressor).parameters["epsilon"].default
    assert epsilon == 1.35
    x, y = make_line_data(100, outlier_fraction=0.1, seed=0)
    model = sklearn.HuberRegressor(alpha=0.0, max_iter=1000, tol=1e-10).fit(x[:, None], y)
    fit = fit_line_irls(x, y, epsilon * model.scale_, steps=100)
    assert float(fit.slope) == pytest.approx(model.coef_[0], abs=1e-4)
    assert float(fit.intercept) == pytest.approx(model.intercept_, abs=1e-4)


def test_irls_rejects_bad_input():
    with pytest.raises(ValueError, match="same shape with at least two points"):
        fit_line_irls(np.ones(3), np.ones(4), 1.0)
    with pytest.raises(ValueError, match="same shape with at least two points"):
        fit_line_irls(np.ones(1), np.ones(1), 1.0)
    with pytest.raises(ValueError, match="steps must be an integer >= 0"):
        fit_line_irls(np.arange(3.0), np.ones(3), 1.0, steps=-1)
    with pytest.raises(ValueError, match="delta must be a finite number > 0"):
        fit_line_irls(np.arange(3.0), np.ones(3), 0.0, steps=0)
