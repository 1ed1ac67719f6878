"""Tests for companion.logistic: logistic model, accuracy, cross-entropy, training."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from companion import binary_cross_entropy_with_logits
from companion.data import make_gaussian_classes, make_two_class_data
from companion.logistic import (
    accuracy,
    central_difference,
    fit_logistic,
    logistic_loss_grad,
    logits,
    random_search,
    sigmoid,
)


@pytest.fixture
def data():
    return make_two_class_data(60, separation=2.0, seed=3)


def test_logits_broadcast_over_weight_grids():
    z = logits(np.array([[1.0], [2.0]]), np.array([0.0, 1.0, 2.0]), [1.0, -1.0])
    assert z.shape == (2, 3, 2)
    assert z[1, 2].tolist() == [4.0, 0.0]


def test_sigmoid_is_stable_and_symmetric():
    z = np.array([-1000.0, -3.0, 0.0, 3.0, 1000.0])
    s = sigmoid(z)
    assert np.all(np.isfinite(s))
    np.testing.assert_allclose(s + sigmoid(-z), 1.0)
    np.testing.assert_allclose(s[1:4], 1 / (1 + np.exp(-z[1:4])))


def test_accuracy_counts_positive_logits_as_class_one():
    z = np.array([[2.0, -1.0, 0.0, 0.3], [-2.0, 1.0, 5.0, -0.3]])
    y = np.array([[1.0, 0.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0]])
    np.testing.assert_allclose(accuracy(z, y), [0.75, 0.25])


def test_loss_gradient_matches_finite_differences(data):
    x, y = data
    w, b = np.array([0.7, -1.2]), np.array([0.3, 0.5])

    def mean_loss(w, b):
        z = logits(w, b, x)
        return binary_cross_entropy_with_logits(
            z, np.broadcast_to(y, z.shape), reduction="none"
        ).mean(-1)

    dw, db = logistic_loss_grad(w, b, x, y)
    np.testing.assert_allclose(dw, central_difference(lambda v: mean_loss(v, b), w, 1e-6), 1e-6)
    np.testing.assert_allclose(db, central_difference(lambda v: mean_loss(w, v), b, 1e-6), 1e-6)


def test_finite_differences_of_accuracy_vanish_between_steps(data):
    x, y = data
    biases = np.linspace(-2, 2, 401)
    fd = central_difference(
        lambda b: accuracy(logits(1.0, b, x), np.broadcast_to(y, (401, 60))), biases, 1e-5
    )
    # accuracy only changes where the threshold -b crosses a data point
    crossing = np.abs(biases[:, None] + x).min(axis=1) < 1e-5
    assert np.all(fd[~crossing] == 0.0)
    assert (fd == 0).mean() > 0.9


def test_fit_logistic_lowers_the_loss_and_raises_accuracy(data):
    x, y = data
    fit = fit_logistic(x, y, init=(-1.0, 1.0), lr=0.5, epochs=40)
    assert fit.weights.shape == fit.loss.shape == fit.accuracy.shape == (41,)
    assert np.all(np.diff(fit.loss) < 0)
    assert fit.accuracy[-1] > fit.accuracy[0] + 0.3
    np.testing.assert_allclose(
        logistic_loss_grad(fit.weights[-1], fit.biases[-1], x, y), 0, atol=1e-2
    )


def test_fit_logistic_with_features_takes_the_cross_entropy_gradient_step():
    x, y = make_gaussian_classes(40, features=3, seed=2)
    init = [0.5, -0.2, 0.1, 0.3]
    fit = fit_logistic(x, y, init=init, lr=0.7, epochs=2)
    assert fit.weights.shape == (3, 3) and fit.biases.shape == (3,)
    params = torch.tensor(init, dtype=torch.float64, requires_grad=True)
    xt, yt = torch.tensor(x), torch.tensor(y)
    for epoch in (1, 2):
        loss = F.binary_cross_entropy_with_logits(xt @ params[:3] + params[3], yt)
        np.testing.assert_allclose(fit.loss[epoch - 1], loss.item(), rtol=1e-12)
        (grad,) = torch.autograd.grad(loss, params)
        with torch.no_grad():
            params -= 0.7 * grad
        np.testing.assert_allclose(fit.weights[epoch], params[:3].detach().numpy(), rtol=1e-12)
        np.testing.assert_allclose(fit.biases[epoch], params[3].item(), rtol=1e-12)


def test_one_feature_as_a_column_gives_the_same_fit_and_search(data):
    x, y = data
    flat = fit_logistic(x, y, init=(-1.0, 1.0), epochs=5)
    column = fit_logistic(x[:, None], y, init=(-1.0, 1.0), epochs=5)
    np.testing.assert_allclose(column.weights[:, 0], flat.weights)
    np.testing.assert_allclose(column.loss, flat.loss)
    np.testing.assert_array_equal(
        random_search(x, y, init=(-1.0, 1.0), evaluations=30, seeds=2),
        random_search(x[:, None], y, init=(-1.0, 1.0), evaluations=30, seeds=2),
    )


def test_random_search_with_features_starts_at_init_and_improves():
    x, y = make_gaussian_classes(200, features=5, seed=1)
    best = random_search(x, y, step=1.0, evaluations=100, seeds=3)
    assert best.shape == (3, 101)
    np.testing.assert_array_equal(best[:, 0], 0.5)  # zero weights: class 0 everywhere
    assert np.all(np.diff(best, axis=1) >= 0) and np.all(best[:, -1] > 0.75)


def test_random_search_never_gets_worse_and_is_seeded(data):
    x, y = data
    a = random_search(x, y, init=(-1.0, 1.0), evaluations=200, seeds=[4, 9])
    b = random_search(x, y, init=(-1.0, 1.0), evaluations=200, seeds=[4, 9])
    np.testing.assert_array_equal(a, b)
    assert a.shape == (2, 201)
    assert np.all(np.diff(a, axis=1) >= 0) and np.all(a[:, -1] > a[:, 0])
    # a search depends on its own seed only, and different seeds search differently
    np.testing.assert_array_equal(
        random_search(x, y, init=(-1.0, 1.0), evaluations=200, seeds=[9])[0], a[1]
    )
    assert not np.array_equal(a[0], a[1])


def test_random_search_counts_seeds():
    best = random_search([-1.0, 1.0], [0.0, 1.0], evaluations=3, seeds=5)
    assert best.shape == (5, 4)
    np.testing.assert_array_equal(best[:, 0], 0.5)  # init (0, 0) predicts class 0 everywhere


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: logits(1.0, 0.0, np.ones((2, 2))), "x must be 1-D"),
        (lambda: accuracy([1.0, 2.0], [1.0]), "same shape"),
        (lambda: accuracy([1.0, 2.0], [1.0, 2.0]), "labels must be 0 or 1"),
        (lambda: logistic_loss_grad(1.0, 0.0, [1.0, 2.0], [1.0]), "same shape"),
        (lambda: central_difference(np.sin, 1.0, 0.0), "h must be > 0"),
        (lambda: fit_logistic([1.0], [1.0], lr=0.0), "lr must be > 0"),
        (lambda: fit_logistic([1.0], [1.0], epochs=-1), "epochs must be an integer >= 0"),
        (lambda: fit_logistic([1.0], [0.5]), "labels must be 0 or 1"),
        (lambda: random_search([1.0], [1.0], step=-1.0), "step must be > 0"),
        (lambda: random_search(np.ones((2, 3)), [0.0, 1.0], init=[1.0, 2.0]), "init must hold 4"),
        (lambda: fit_logistic(np.ones((2, 1, 1)), [0.0, 1.0]), r"x must have shape \(N,\) or"),
        (lambda: fit_logistic(np.ones((3, 2)), [0.0, 1.0]), "same shape"),
        (lambda: random_search([1.0], [1.0], evaluations=1.5), "evaluations must be an integer"),
        (lambda: random_search([1.0, 2.0], [1.0]), "same shape"),
        (lambda: random_search([1.0], [1.0], seeds=0), "seeds must be an integer >= 1"),
        (lambda: random_search([1.0], [1.0], seeds=[]), "seeds must be a positive int or a 1-D"),
        (lambda: random_search([1.0], [1.0], seeds=[0.5]), "seeds must be a positive int or a 1-D"),
    ],
)
def test_bad_arguments_raise(call, match):
    with pytest.raises(ValueError, match=match):
        call()
