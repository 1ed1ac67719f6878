"""Tests for companion.data.make_gaussian_classes, chapter 2's problem with d features."""

import numpy as np
import pytest
from scipy.stats import norm

from companion.data import make_gaussian_classes


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
