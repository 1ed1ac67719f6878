"""Tests for chapter 2's data: make_gaussian_classes (d features), gaussian_classes_accuracy
(a linear rule's accuracy on the whole distribution) and gaussian_line_mae (a line's MAE on the
whole distribution of make_line_data)."""

import numpy as np
import pytest
from scipy.stats import norm

from companion.data import (
    gaussian_classes_accuracy,
    gaussian_line_mae,
    make_gaussian_classes,
    make_line_data,
    make_two_class_data,
)


@pytest.mark.parametrize("features", [1, 2, 10, 50])
def test_classes_differ_along_the_diagonal_by_the_separation(features):
    x, y = make_gaussian_classes(4000, features, separation=2.0, seed=0)
    assert x.shape == (4000, features) and x.dtype == np.float64
    assert y.tolist() == [0.0] * 2000 + [1.0] * 2000
    u = np.full(features, 1 / np.sqrt(features))
    gap = x[y == 1].mean(axis=0) - x[y == 0].mean(axis=0)
    np.testing.assert_allclose(gap, 2.0 * u, atol=4 * np.sqrt(2 / 2000))
    # unit variance around each class mean, in every feature
    spread = np.concatenate([x[y == k] - x[y == k].mean(axis=0) for k in (0, 1)]).std(axis=0)
    np.testing.assert_allclose(spread, 1.0, atol=0.05)


@pytest.mark.parametrize("features", [1, 10])
def test_the_best_rule_is_right_with_probability_phi_of_half_the_separation(features):
    x, y = make_gaussian_classes(20000, features, separation=2.0, seed=3)
    best = ((x.sum(axis=1) > 0) == (y == 1)).mean()
    assert abs(best - norm.cdf(1.0)) < 4 * np.sqrt(0.84 * 0.16 / 20000)


def test_seeded():
    a = make_gaussian_classes(10, 3, seed=5)
    b = make_gaussian_classes(10, 3, seed=5)
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(a[0], make_gaussian_classes(10, 3, seed=6)[0])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n": 1}, "n must be an integer >= 2"),
        ({"features": 0}, "features must be an integer >= 1"),
        ({"features": 2.0}, "features must be an integer >= 1"),
        ({"separation": -1.0}, "separation must be >= 0"),
        ({"separation": float("nan")}, "separation must be >= 0"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_gaussian_classes(**({"n": 10, "features": 2} | kwargs))


@pytest.mark.parametrize("features", [1, 3, 20])
def test_accuracy_on_the_distribution_matches_a_large_sample(features):
    x, y = make_gaussian_classes(200_000, features, separation=1.5, seed=4)
    rng = np.random.default_rng(0)
    weights, biases = rng.normal(size=(4, features)), rng.normal(size=4)
    exact = gaussian_classes_accuracy(weights, biases, separation=1.5)
    sampled = ((x @ weights.T + biases > 0) == (y[:, None] == 1)).mean(axis=0)
    assert exact.shape == (4,)
    np.testing.assert_allclose(exact, sampled, atol=4 * np.sqrt(0.25 / 200_000))


def test_accuracy_of_the_one_feature_problem():
    x, y = make_two_class_data(200_000, separation=2.0, seed=1)
    exact = gaussian_classes_accuracy([[1.9], [-0.7]], [0.13, 0.4])
    sampled = [((w * x + b > 0) == (y == 1)).mean() for w, b in [(1.9, 0.13), (-0.7, 0.4)]]
    np.testing.assert_allclose(exact, sampled, atol=4 * np.sqrt(0.25 / 200_000))
    # the best rule reaches Phi(s / 2) whatever its scale; flipping it gives 1 - Phi(s / 2)
    np.testing.assert_allclose(
        gaussian_classes_accuracy([[0.1], [5.0], [-2.0]], 0.0), [*[norm.cdf(1.0)] * 2, norm.cdf(-1)]
    )


def test_accuracy_broadcasts_and_handles_zero_weights():
    weights = np.ones((2, 3, 5))
    assert gaussian_classes_accuracy(weights, 0.0).shape == (2, 3)
    assert gaussian_classes_accuracy(weights[0], np.zeros((2, 3))).shape == (2, 3)
    np.testing.assert_array_equal(gaussian_classes_accuracy(np.zeros((2, 4)), [1.0, -2.0]), 0.5)


@pytest.mark.parametrize(
    "args, kwargs, match",
    [
        ((1.0, 0.0), {}, "weights must have a last axis"),
        (([np.nan], 0.0), {}, "weights and bias must be finite"),
        (([1.0], np.inf), {}, "weights and bias must be finite"),
        (([1.0], 0.0), {"separation": -1.0}, "separation must be >= 0"),
    ],
)
def test_accuracy_rejects_bad_arguments(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        gaussian_classes_accuracy(*args, **kwargs)


def test_line_mae_on_the_distribution_matches_a_large_sample():
    x, y = make_line_data(400_000, slope=-1.0, intercept=0.5, scale=0.8, seed=2)
    slopes, intercepts = np.array([-1.0, -0.7, -1.5, 0.0]), np.array([0.5, 0.6, -0.4, 2.0])
    exact = gaussian_line_mae(slopes, intercepts, true_slope=-1.0, true_intercept=0.5, scale=0.8)
    for a, b, value in zip(slopes, intercepts, exact, strict=True):
        errors = np.abs(a * x + b - y)
        assert abs(errors.mean() - value) < 4 * errors.std() / np.sqrt(x.size)


def test_line_mae_is_least_for_the_true_line():
    # sigma * sqrt(2 / pi) at the truth, more for any other line, symmetric in the gap
    np.testing.assert_allclose(gaussian_line_mae(2.0, 1.0), 0.5 * np.sqrt(2 / np.pi))
    assert np.all(gaussian_line_mae([2.01, 1.9, 2.0], [1.0, 1.0, 0.99]) > gaussian_line_mae(2, 1))
    np.testing.assert_allclose(gaussian_line_mae(2.3, 1.2), gaussian_line_mae(1.7, 0.8))
    assert gaussian_line_mae(np.full((3, 2), 2.0), [1.0, 1.1]).shape == (3, 2)


@pytest.mark.parametrize(
    "args, kwargs, match",
    [
        ((np.nan, 1.0), {}, "slope and intercept must be finite"),
        ((2.0, [1.0, np.inf]), {}, "slope and intercept must be finite"),
        ((2.0, 1.0), {"scale": 0.0}, "scale must be a finite number > 0"),
    ],
)
def test_line_mae_rejects_bad_arguments(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        gaussian_line_mae(*args, **kwargs)
