"""Tests for the gradient-descent fits in companion.fitting."""

import numpy as np
import pytest

from companion.fitting import LineFit, fit_constant, fit_line


def squared_error_grad(pred, target, reduction):
    assert reduction == "none"
    return 2.0 * (pred - target)


def absolute_error_grad(pred, target, reduction):
    assert reduction == "none"
    return np.sign(pred - target)


def test_fit_constant_path_starts_at_init_and_has_one_row_per_step():
    path = fit_constant([1.0, 2.0, 6.0], squared_error_grad, init=-1.0, lr=0.1, steps=7)
    assert path.shape == (8,)
    assert path[0] == -1.0


def test_fit_constant_reaches_the_mean_for_squared_error_and_median_for_absolute_error():
    y = np.array([0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0])
    mean_path = fit_constant(y, squared_error_grad, init=2.0, lr=0.25, steps=200)
    assert mean_path[-1] == pytest.approx(0.375)
    median_path = fit_constant(y, absolute_error_grad, init=2.0, lr=0.01, steps=800)
    # A fixed step size cannot settle exactly: it ends within one step of the median 0.
    assert abs(median_path[-1]) <= 0.01 + 1e-12


def test_fit_constant_is_batched_over_leading_axes():
    y = np.array([[1.0, 3.0], [10.0, 20.0]])
    path = fit_constant(y, squared_error_grad, lr=0.25, steps=100)
    assert path.shape == (101, 2)
    np.testing.assert_allclose(path[-1], [2.0, 15.0])


def test_fit_line_recovers_an_exact_line_in_a_batch():
    x = np.tile(np.linspace(-2, 2, 9), (3, 1))
    slopes = np.array([[1.0], [-2.0], [0.5]])
    fit = fit_line(x, slopes * x + 3.0, squared_error_grad, lr=0.1, steps=400)
    assert isinstance(fit, LineFit)
    assert fit.slopes.shape == fit.intercepts.shape == (401, 3)
    np.testing.assert_allclose(fit.slope, slopes.ravel(), atol=1e-9)
    np.testing.assert_allclose(fit.intercept, 3.0, atol=1e-9)
    assert not fit.diverged.any()


def test_fit_line_passes_loss_keyword_arguments_through():
    seen = {}

    def grad(pred, target, reduction, beta):
        seen["beta"] = beta
        return squared_error_grad(pred, target, reduction)

    fit_line([0.0, 1.0], [1.0, 2.0], grad, steps=1, beta=0.5)
    assert seen == {"beta": 0.5}


def test_fit_line_reports_divergence_silently():
    x = np.linspace(-2, 2, 9)
    fit = fit_line(x, x, squared_error_grad, lr=2.0, steps=2000)
    assert fit.diverged
    assert not np.isfinite(fit.slope)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"lr": 0.0}, r"lr must be > 0, got 0.0"),
        ({"lr": float("nan")}, r"lr must be > 0, got nan"),
        ({"steps": -1}, r"steps must be an integer >= 0, got -1"),
        ({"steps": 1.5}, r"steps must be an integer >= 0, got 1.5"),
    ],
)
def test_bad_schedules_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        fit_line([0.0, 1.0], [0.0, 1.0], squared_error_grad, **kwargs)
    with pytest.raises(ValueError, match=message):
        fit_constant([0.0, 1.0], squared_error_grad, **kwargs)


def test_fit_line_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match=r"same shape, got \(3,\) and \(2,\)"):
        fit_line([0.0, 1.0, 2.0], [0.0, 1.0], squared_error_grad)


def test_companion_losses_drive_the_fits_to_their_minimisers():
    from companion import huber_loss_grad, l1_loss_grad, mse_loss_grad

    y = np.array([0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0])
    assert fit_constant(y, mse_loss_grad, lr=0.25, steps=200)[-1] == pytest.approx(0.375)
    assert abs(fit_constant(y, l1_loss_grad, init=2.0, lr=0.01, steps=800)[-1]) <= 0.01 + 1e-12
    # With delta larger than every residual, Huber is half the squared error: minimiser the mean.
    huber = fit_constant(y, huber_loss_grad, lr=0.5, steps=200, delta=5.0)
    assert huber[-1] == pytest.approx(0.375)
