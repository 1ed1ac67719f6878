"""Tests for the seeded toy datasets in companion.data."""

import numpy as np
import pytest

from companion.data import NOISE_KINDS, make_line_data, make_noise, make_two_class_data


@pytest.mark.parametrize("noise", NOISE_KINDS)
def test_line_data_is_deterministic_per_seed(noise):
    first = make_line_data(50, noise=noise, outlier_fraction=0.1, seed=3)
    again = make_line_data(50, noise=noise, outlier_fraction=0.1, seed=3)
    other = make_line_data(50, noise=noise, outlier_fraction=0.1, seed=4)
    np.testing.assert_array_equal(first[0], again[0])
    np.testing.assert_array_equal(first[1], again[1])
    assert not np.array_equal(first[1], other[1])


def test_line_data_without_noise_lies_on_the_line():
    x, y = make_line_data(20, slope=-1.5, intercept=4.0, scale=0.0, seed=0)
    assert x.dtype == y.dtype == np.float64
    assert x.min() >= -2.0 and x.max() <= 2.0
    np.testing.assert_allclose(y, -1.5 * x + 4.0)


def test_outliers_are_the_requested_share_and_shift():
    x, y = make_line_data(40, scale=0.0, outlier_fraction=0.25, outlier_shift=7.0, seed=1)
    residual = y - (2.0 * x + 1.0)
    assert np.count_nonzero(np.isclose(residual, 7.0)) == 10
    assert np.count_nonzero(np.isclose(residual, 0.0)) == 30


def test_noise_scales_match_their_laws():
    rng = np.random.default_rng(0)
    gaussian = make_noise(200_000, "gaussian", 2.0, rng=rng)
    laplace = make_noise(200_000, "laplace", 2.0, rng=rng)
    student = make_noise(200_000, "student_t", 1.0, rng=rng)
    assert gaussian.std() == pytest.approx(2.0, rel=0.01)
    # A Laplace law with scale s has mean absolute deviation s.
    assert np.abs(laplace).mean() == pytest.approx(2.0, rel=0.01)
    # For t with 2 degrees of freedom, F(t) = 1/2 + t / (2 sqrt(2 + t^2)), so the median of |t|
    # solves F(t) = 3/4: t = sqrt(2/3).
    assert np.median(np.abs(student)) == pytest.approx(np.sqrt(2 / 3), rel=0.02)


def test_two_class_data_is_balanced_and_separated():
    x, y = make_two_class_data(1001, separation=3.0, seed=2)
    assert x.shape == y.shape == (1001,)
    assert set(np.unique(y)) == {0.0, 1.0}
    assert np.count_nonzero(y == 0.0) == 500
    assert x[y == 1.0].mean() - x[y == 0.0].mean() == pytest.approx(3.0, abs=0.15)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: make_line_data(0), r"n must be an integer >= 1, got 0"),
        (lambda: make_line_data(2.5), r"n must be an integer >= 1, got 2.5"),
        (lambda: make_line_data(10, noise="cauchy"), r"noise kind must be one of .* 'cauchy'"),
        (lambda: make_line_data(10, scale=-1.0), r"scale must be >= 0, got -1.0"),
        (lambda: make_line_data(10, outlier_fraction=1.5), r"outlier_fraction .* got 1.5"),
        (lambda: make_two_class_data(1), r"n must be an integer >= 2, got 1"),
        (lambda: make_two_class_data(True), r"n must be an integer >= 2, got True"),
    ],
)
def test_bad_arguments_are_named(call, message):
    with pytest.raises(ValueError, match=message):
        call()
