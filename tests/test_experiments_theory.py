"""Tests for companion.experiments.huber_line_theory: bias and error of Huber's line."""

from __future__ import annotations

import math

import numpy as np
import pytest

from companion.experiments import (
    huber_gaussian_efficiency,
    huber_line_theory,
    huber_location,
    line_error,
    seeded_line_data,
)
from companion.fitting import fit_line_irls


def test_a_band_wider_than_everything_is_least_squares():
    bias, error = huber_line_theory(1e6)
    assert abs(bias) < 1e-9 and math.isclose(error, math.sqrt(2 * 0.25 / 100))
    # with a tenth of the points lifted by 20: the mean lift, and the lifts' spread in the
    # slope (x is random) but not in the intercept (their number is fixed)
    bias, error = huber_line_theory(1e6, outlier_fraction=0.1)
    assert math.isclose(bias, 2.0, rel_tol=1e-9)
    expected = 4.0 + ((0.25 + 0.1 * 0.9 * 400) + 0.25) / 100
    assert math.isclose(error, math.sqrt(expected), rel_tol=1e-9)


@pytest.mark.parametrize("k", [0.3, 1.0, 1.345, 2.5])
def test_on_clean_data_the_error_ratio_is_hubers_efficiency(k):
    _, least_squares = huber_line_theory(1e6)
    _, huber = huber_line_theory(k * 0.5)
    assert math.isclose((least_squares / huber) ** 2, huber_gaussian_efficiency(k), rel_tol=1e-9)


@pytest.mark.parametrize("delta", [0.2, 1.0, 4.0])
def test_the_bias_is_the_huber_location_of_the_residuals(delta):
    rng = np.random.default_rng(0)
    residual = 0.5 * rng.normal(size=400_000)
    residual[:40_000] += 20.0
    bias, _ = huber_line_theory(delta, outlier_fraction=0.1)
    assert abs(bias - float(huber_location(residual, delta))) < 0.005


def test_the_bias_is_eps_delta_over_one_minus_eps_when_outliers_are_far():
    for delta in (2.0, 4.0):
        bias, _ = huber_line_theory(delta, outlier_fraction=0.1)
        assert math.isclose(bias, 0.1 * delta / 0.9, rel_tol=1e-3)


@pytest.mark.parametrize("ratio", [0.5, 2.0, 16.0])
def test_the_prediction_matches_simulated_fits(ratio):
    xs, ys = seeded_line_data(range(1000), 100, outlier_fraction=0.1)
    fit = fit_line_irls(xs, ys, ratio * 0.5, steps=50)
    measured = np.sqrt((line_error(fit.slope, fit.intercept, 2.0, 1.0) ** 2).mean())
    _, predicted = huber_line_theory(ratio * 0.5, outlier_fraction=0.1)
    assert abs(measured / predicted - 1) < 0.05


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((0.0,), {}, "delta and sigma"),
        ((1.0,), {"sigma": -1.0}, "delta and sigma"),
        ((float("inf"),), {}, "delta and sigma"),
        ((1.0,), {"outlier_fraction": 1.0}, "outlier_fraction"),
        ((1.0,), {"n": 0}, "n"),
    ],
)
def test_it_rejects_bad_arguments(args, kwargs, message):
    with pytest.raises(ValueError, match=message):
        huber_line_theory(*args, **kwargs)
