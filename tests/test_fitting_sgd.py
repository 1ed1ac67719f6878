"""Tests for companion.fitting.fit_constant_sgd (chapter 3): mini-batch SGD on a constant."""

import numpy as np
import pytest

from companion import l1_loss_grad, mse_loss_grad, pinball_loss_grad
from companion.fitting import fit_constant, fit_constant_sgd

LABELS = np.random.default_rng(0).exponential(1.0, 50)


@pytest.mark.parametrize("loss_grad", [l1_loss_grad, mse_loss_grad])
@pytest.mark.parametrize("batch_size", [50, 64])
def test_a_batch_of_every_label_is_full_batch_gradient_descent(loss_grad, batch_size):
    sgd = fit_constant_sgd(LABELS, loss_grad, init=2.0, lr=0.1, steps=80, batch_size=batch_size)
    full = fit_constant(LABELS, loss_grad, init=2.0, lr=0.1, steps=80)
    np.testing.assert_allclose(sgd, full, rtol=1e-12, atol=1e-14)


def mean_step(prediction, target, reduction):
    """The derivative of half the squared error: with lr = 1 a step jumps to the batch mean."""
    return prediction - target


def test_each_step_uses_one_batch_of_a_shuffle_and_epochs_cover_every_label():
    labels = np.arange(12.0)
    path = fit_constant_sgd(labels, mean_step, lr=1.0, steps=6, batch_size=4)
    batch_sums = path[1:] * 4
    for epoch in range(2):  # three disjoint batches per epoch hold every label once
        assert batch_sums[3 * epoch : 3 * epoch + 3].sum() == pytest.approx(labels.sum())
    assert not np.allclose(batch_sums[:3], batch_sums[3:])  # a new shuffle each epoch


def test_last_batch_of_an_epoch_may_be_smaller():
    labels = np.array([1.0, 2.0, 3.0, 4.0, 100.0])
    path = fit_constant_sgd(labels, mean_step, lr=1.0, steps=2, batch_size=4)
    assert path[2] in labels  # the second batch holds the one label left over
    assert path[1] * 4 + path[2] == pytest.approx(labels.sum())


def test_rows_are_independent_problems_with_their_own_shuffles():
    labels = np.broadcast_to(LABELS, (3, 50))
    path = fit_constant_sgd(labels, l1_loss_grad, lr=0.05, steps=200, batch_size=5)
    assert path.shape == (201, 3)
    assert not np.allclose(path[:, 0], path[:, 1])
    again = fit_constant_sgd(labels, l1_loss_grad, lr=0.05, steps=200, batch_size=5)
    np.testing.assert_array_equal(path, again)  # seeded
    other = fit_constant_sgd(labels, l1_loss_grad, lr=0.05, steps=200, batch_size=5, seed=1)
    assert not np.allclose(path, other)


def test_loss_keyword_arguments_reach_the_derivative():
    path = fit_constant_sgd(LABELS, pinball_loss_grad, lr=0.01, steps=4000, batch_size=10, tau=0.9)
    assert abs(path[-2000:].mean() - np.quantile(LABELS, 0.9)) < 0.15


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"lr": 0.0}, r"lr must be > 0, got 0.0"),
        ({"steps": -1}, r"steps must be an integer >= 0, got -1"),
        ({"batch_size": 0}, r"batch_size must be an integer >= 1, got 0"),
        ({"batch_size": 2.5}, r"batch_size must be an integer >= 1, got 2.5"),
    ],
)
def test_bad_arguments_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        fit_constant_sgd([1.0, 2.0], l1_loss_grad, **kwargs)


def test_labels_without_entries_are_refused():
    with pytest.raises(
        ValueError, match=r"at least one label on its last axis, got shape \(2, 0\)"
    ):
        fit_constant_sgd(np.zeros((2, 0)), l1_loss_grad)
