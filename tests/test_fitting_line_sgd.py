"""Tests for companion.fitting.fit_line_sgd: mini-batch SGD on a line."""

from __future__ import annotations

import numpy as np
import pytest

from companion import l1_loss_grad, mse_loss_grad
from companion.data import make_line_data
from companion.fitting import fit_line, fit_line_sgd, mse_lr_limit


def test_one_batch_per_epoch_is_full_batch_gradient_descent():
    x, y = make_line_data(40, seed=1)
    sgd = fit_line_sgd(x, y, mse_loss_grad, lr=0.2, batch_size=40, epochs=50)
    full = fit_line(x, y, mse_loss_grad, lr=0.2, steps=50)
    np.testing.assert_allclose(sgd.slopes, full.slopes, rtol=1e-12)
    np.testing.assert_allclose(sgd.intercepts, full.intercepts, rtol=1e-12)


def test_steps_follow_the_formula_on_their_own_batch():
    x, y = make_line_data(23, seed=2)
    fit = fit_line_sgd(x, y, mse_loss_grad, lr=0.1, batch_size=5, epochs=2, seed=4)
    assert fit.slopes.shape == (2 * 5 + 1,)  # ceil(23 / 5) = 5 steps per epoch
    rng = np.random.default_rng(4)
    a, b, t = 0.0, 0.0, 0
    for _ in range(2):
        order = rng.permutation(23)
        for start in range(0, 23, 5):
            batch = order[start : start + 5]
            r = a * x[batch] + b - y[batch]
            a, b = a - 0.1 * 2 * np.mean(r * x[batch]), b - 0.1 * 2 * np.mean(r)
            t += 1
            assert np.isclose(fit.slopes[t], a) and np.isclose(fit.intercepts[t], b)


def test_for_mse_the_path_is_linear_in_the_targets():
    # theta <- (I - 2 eta M_B) theta + 2 eta mean_B(y (x, 1)): the targets only add
    x, y = make_line_data(30, seed=3)
    lift = np.zeros(30)
    lift[[2, 9]] = 2000.0
    kwargs = {"lr": 0.3, "batch_size": 10, "epochs": 5, "seed": 7}
    both = fit_line_sgd(np.stack([x, x, x]), np.stack([y, lift, y + lift]), mse_loss_grad, **kwargs)
    np.testing.assert_allclose(
        both.slopes[:, 0] + both.slopes[:, 1], both.slopes[:, 2], rtol=1e-9, atol=1e-9
    )


def test_whether_it_blows_up_is_decided_by_the_inputs_not_the_targets():
    x, y = make_line_data(100, seed=0)
    lifted = y.copy()
    lifted[:2] += 2000.0
    assert np.isclose(mse_lr_limit(x), 0.636, atol=1e-3)
    for lr, blows_up in [(0.3, False), (0.9, True)]:
        fit = fit_line_sgd(np.stack([x, x]), np.stack([y, lifted]), mse_loss_grad, lr=lr)
        size = np.abs(fit.slopes).max(axis=0)
        assert ((size > 1e30) == blows_up).all()


def test_rows_share_the_shuffles_and_fit_independently():
    x, y = make_line_data(20, seed=5)
    alone = fit_line_sgd(x, y, l1_loss_grad, lr=0.05, batch_size=4, epochs=3, seed=2)
    batched = fit_line_sgd(
        np.stack([x, -x]), np.stack([y, y]), l1_loss_grad, lr=0.05, batch_size=4, epochs=3, seed=2
    )
    np.testing.assert_array_equal(batched.slopes[:, 0], alone.slopes)
    other = fit_line_sgd(x, y, l1_loss_grad, lr=0.05, batch_size=4, epochs=3, seed=3)
    assert not np.array_equal(other.slopes, alone.slopes)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"lr": 0.0}, "lr must be > 0"),
        ({"batch_size": 0}, "batch_size"),
        ({"epochs": -1}, "epochs"),
    ],
)
def test_it_rejects_bad_settings(kwargs, message):
    x, y = make_line_data(10)
    with pytest.raises(ValueError, match=message):
        fit_line_sgd(x, y, mse_loss_grad, **kwargs)


def test_it_rejects_mismatched_data():
    with pytest.raises(ValueError, match="same shape"):
        fit_line_sgd(np.zeros(5), np.zeros(6), mse_loss_grad)
    with pytest.raises(ValueError, match="at least one point"):
        fit_line_sgd(np.zeros(0), np.zeros(0), mse_loss_grad)
