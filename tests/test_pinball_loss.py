"""The pinball (quantile) loss and its derivative: values, gradients and every error path.

Values are checked against a direct NumPy formula and scikit-learn's ``mean_pinball_loss``,
the analytic derivative against PyTorch's autograd through the companion's own formula.
"""

from __future__ import annotations

import math
import re
import warnings

import numpy as np
import pytest
import torch
from conftest import BACKEND_DTYPES, BACKENDS, asarray, dtype_name, to_numpy
from sklearn.metrics import mean_pinball_loss

from companion import l1_loss, l1_loss_grad, pinball_loss, pinball_loss_grad

FUNCTIONS = [pinball_loss, pinball_loss_grad]
TAUS = [0.01, 0.1, 0.5, 0.9, 0.99]


def numpy_pinball(x: np.ndarray, y: np.ndarray, tau: float) -> np.ndarray:
    """The textbook definition: tau * u for u = y - x >= 0, (tau - 1) * u otherwise."""
    u = y - x
    return np.where(u >= 0, tau * u, (tau - 1) * u)


def sample(seed: int = 0, n: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """Predictions and targets with exact ties, the kink of the loss."""
    rng = np.random.default_rng(seed)
    x, y = rng.normal(size=(2, n))
    x[::10] = y[::10]
    return x, y


# --------------------------------------------------------------------------- values


@pytest.mark.parametrize("tau", TAUS)
def test_values_match_the_numpy_formula_for_every_reduction(tau):
    x, y = sample()
    per_element = numpy_pinball(x, y, tau)
    np.testing.assert_allclose(pinball_loss(x, y, "none", tau=tau), per_element, rtol=1e-15)
    np.testing.assert_allclose(pinball_loss(x, y, "sum", tau=tau), per_element.sum(), rtol=1e-13)
    np.testing.assert_allclose(pinball_loss(x, y, tau=tau), per_element.mean(), rtol=1e-13)


@pytest.mark.parametrize("tau", TAUS)
def test_mean_matches_scikit_learn(tau):
    x, y = sample(1)
    expected = mean_pinball_loss(y, x, alpha=tau)  # (y_true, y_pred)
    assert float(pinball_loss(x, y, tau=tau)) == pytest.approx(expected, rel=1e-13)


def test_half_is_half_the_l1_loss():
    x, y = sample(2)
    for reduction in ("none", "sum", "mean"):
        np.testing.assert_allclose(
            pinball_loss(x, y, reduction, tau=0.5), l1_loss(x, y, reduction) / 2, rtol=1e-15
        )
        np.testing.assert_allclose(
            pinball_loss_grad(x, y, reduction, tau=0.5), l1_loss_grad(x, y, reduction) / 2
        )


def test_costs_tau_per_unit_short_and_one_minus_tau_per_unit_over():
    loss = pinball_loss(np.array([0.0, 3.0, 1.0]), np.array([2.0, 1.0, 1.0]), "none", tau=0.8)
    np.testing.assert_allclose(loss, [0.8 * 2, 0.2 * 2, 0.0])


@pytest.mark.parametrize("tau", [0.1, 0.25, 0.9])
def test_best_constant_is_the_tau_quantile(tau):
    y = np.random.default_rng(3).exponential(size=1001)
    grid = np.sort(y)  # a minimiser is always one of the data points
    totals = [float(pinball_loss(np.full_like(y, c), y, "sum", tau=tau)) for c in grid]
    assert grid[int(np.argmin(totals))] == np.quantile(y, tau, method="inverted_cdf")


def test_infinite_and_nan_differences():
    x = np.array([math.inf, -math.inf, math.nan, 1.0])
    y = np.array([0.0, 0.0, 0.0, math.nan])
    np.testing.assert_array_equal(
        pinball_loss(x, y, "none", tau=0.9), [math.inf, math.inf, *[math.nan] * 2]
    )
    np.testing.assert_array_equal(
        pinball_loss_grad(x, y, "none", tau=0.9), [1 - 0.9, -0.9, math.nan, math.nan]
    )


def test_empty_input_mean_is_nan_without_a_warning_and_sum_is_zero():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert math.isnan(pinball_loss(np.zeros(0), np.zeros(0), tau=0.3))
        assert float(pinball_loss(np.zeros(0), np.zeros(0), "sum", tau=0.3)) == 0.0
        assert pinball_loss_grad(np.zeros(0), np.zeros(0), tau=0.3).shape == (0,)


@pytest.mark.parametrize(("backend", "dtype"), BACKEND_DTYPES)
@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
def test_every_library_and_dtype_gives_the_numpy_values(backend, dtype, reduction):
    xp = BACKENDS[backend]
    x, y = sample(4, n=50)
    x, y = x.astype(dtype), y.astype(dtype)
    for fn, expected in [
        (pinball_loss, numpy_pinball(x, y, 0.7)),
        (pinball_loss_grad, np.where(x > y, 0.3, np.where(x < y, -0.7, -0.2))),
    ]:
        result = fn(asarray(xp, x, dtype), asarray(xp, y, dtype), reduction, tau=0.7)
        assert dtype_name(result) == dtype
        if reduction == "sum":
            expected = expected.sum() if fn is pinball_loss else expected
        elif reduction == "mean":
            expected = expected.mean() if fn is pinball_loss else expected / x.size
        rtol = 1e-2 if dtype == "float16" else 1e-6
        np.testing.assert_allclose(to_numpy(result).astype(np.float64), expected, rtol=rtol)


def test_inputs_are_not_modified():
    x, y = sample(5)
    x_copy, y_copy = x.copy(), y.copy()
    pinball_loss(x, y, "none", tau=0.3)
    pinball_loss_grad(x, y, "none", tau=0.3)
    np.testing.assert_array_equal(x, x_copy)
    np.testing.assert_array_equal(y, y_copy)


def test_python_numbers_and_lists_are_accepted():
    assert float(pinball_loss(2, 1, tau=0.25)) == 0.75
    np.testing.assert_allclose(pinball_loss([0, 2], [1, 1], "none", tau=0.25), [0.25, 0.75])


# --------------------------------------------------------------------------- gradients


@pytest.mark.parametrize("tau", TAUS)
@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
def test_gradient_matches_autograd_including_the_kink(tau, reduction):
    x, y = sample(6)
    x_t = torch.tensor(x, requires_grad=True)
    loss = pinball_loss(x_t, torch.tensor(y), reduction, tau=tau)
    (autograd,) = torch.autograd.grad(loss.sum(), x_t)
    analytic = pinball_loss_grad(x, y, reduction, tau=tau)
    np.testing.assert_allclose(analytic, autograd.numpy(), rtol=1e-15, atol=0)
    assert np.all(analytic[::10] == (0.5 - tau) / (x.size if reduction == "mean" else 1))


def test_gradient_at_infinite_differences_is_finite_under_autograd():
    x = torch.tensor([math.inf, -math.inf], dtype=torch.float64, requires_grad=True)
    pinball_loss(x, torch.zeros(2, dtype=torch.float64), "sum", tau=0.9).backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1 - 0.9, -0.9])
    np.testing.assert_array_equal(
        pinball_loss_grad(x.detach(), torch.zeros(2, dtype=torch.float64), "sum", tau=0.9).numpy(),
        x.grad.numpy(),
    )


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize("tau", [0, 0.0, 1, 1.0, -0.5, 1.5, math.nan, math.inf, -math.inf])
@pytest.mark.parametrize("fn", FUNCTIONS, ids=lambda f: f.__name__)
def test_tau_outside_the_open_unit_interval_raises_value_error(fn, tau):
    message = (
        f"tau must be a real number strictly between 0 and 1 (the quantile level); got {tau!r}"
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        fn(np.ones(3), np.zeros(3), tau=tau)


@pytest.mark.parametrize("tau", [True, "0.5", 0.5j, None, np.array([0.5])])
@pytest.mark.parametrize("fn", FUNCTIONS, ids=lambda f: f.__name__)
def test_tau_that_is_not_a_real_number_raises_type_error(fn, tau):
    message = (
        f"tau must be a real number strictly between 0 and 1 (the quantile level); got {tau!r}"
    )
    with pytest.raises(TypeError, match=re.escape(message)):
        fn(np.ones(3), np.zeros(3), tau=tau)


@pytest.mark.parametrize("reduction", ["avg", "MEAN", None])
@pytest.mark.parametrize("fn", FUNCTIONS, ids=lambda f: f.__name__)
def test_unknown_reduction_is_named(fn, reduction):
    message = f"reduction must be one of 'none', 'mean', 'sum'; got {reduction!r}"
    with pytest.raises(ValueError, match=re.escape(message)):
        fn(np.ones(3), np.zeros(3), reduction, tau=0.5)


@pytest.mark.parametrize("fn", FUNCTIONS, ids=lambda f: f.__name__)
def test_unequal_shapes_name_both(fn):
    with pytest.raises(ValueError, match=re.escape("input.shape=(3, 1) and target.shape=(3,)")):
        fn(np.ones((3, 1)), np.zeros(3))


@pytest.mark.parametrize("fn", FUNCTIONS, ids=lambda f: f.__name__)
def test_mixed_libraries_booleans_and_complex_raise_type_error(fn):
    with pytest.raises(TypeError, match="same array library"):
        fn(torch.ones(3), np.zeros(3))
    with pytest.raises(TypeError, match="not booleans"):
        fn(np.ones(3, dtype=bool), np.zeros(3))
    with pytest.raises(TypeError, match="not complex numbers"):
        fn(np.ones(3, dtype=complex), np.zeros(3))
    with pytest.raises(TypeError, match="not a string"):
        fn("1", np.zeros(1))
