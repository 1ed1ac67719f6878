"""Tests for companion.fitting.mse_lr_limit: the stability limit of gradient descent on MSE."""

import numpy as np
import pytest

from companion import mse_loss_grad
from companion.data import make_leverage_data
from companion.fitting import fit_line, mse_lr_limit


def test_limit_of_centred_inputs_is_one_over_the_larger_of_mean_square_and_one():
    # Centred inputs make M diagonal: diag(mean x^2, 1).
    assert mse_lr_limit(np.array([-3.0, 3.0])) == pytest.approx(1 / 9)
    assert mse_lr_limit(np.array([-0.5, 0.5])) == pytest.approx(1.0)


def test_limit_matches_the_hessian_of_the_mean_squared_error():
    x = np.array([0.0, 1.0, 4.0])
    hessian = 2 * np.array([[np.mean(x**2), np.mean(x)], [np.mean(x), 1.0]])
    assert mse_lr_limit(x) == pytest.approx(2 / np.linalg.eigvalsh(hessian).max())


@pytest.mark.parametrize("seed", [0, 1])
def test_gradient_descent_converges_below_the_limit_and_diverges_above(seed):
    x, y = make_leverage_data(40, seed=seed)
    limit = float(mse_lr_limit(x))
    below = fit_line(x, y, mse_loss_grad, lr=0.95 * limit, steps=3000)
    above = fit_line(x, y, mse_loss_grad, lr=1.05 * limit, steps=3000)
    least_squares = np.polyfit(x, y, 1)
    np.testing.assert_allclose([below.slope, below.intercept], least_squares, rtol=1e-6)
    assert above.diverged or abs(above.slope) > 1e20


def test_limit_is_batched_over_leading_axes():
    x = np.stack([np.array([-3.0, 3.0]), np.array([-0.5, 0.5])])
    np.testing.assert_allclose(mse_lr_limit(x), [1 / 9, 1.0])


@pytest.mark.parametrize("x", [np.float64(1.0), np.zeros(0), np.zeros((2, 0))])
def test_inputs_without_points_are_refused(x):
    with pytest.raises(ValueError, match=r"x must have at least one point on its last axis"):
        mse_lr_limit(x)
