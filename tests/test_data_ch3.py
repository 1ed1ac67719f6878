"""Tests for companion.data.make_skewed_line_data and skewed_line_truth (chapter 3)."""

import numpy as np
import pytest

from companion.data import make_skewed_line_data, skewed_line_truth

PARAMS = {"slope": -1.0, "intercept": 3.0, "scale": 0.8, "scale_slope": 0.3}


def test_skewed_line_data_is_deterministic_per_seed_and_float64():
    first, again, other = (make_skewed_line_data(50, seed=s) for s in (7, 7, 8))
    assert first[0].shape == first[1].shape == (50,)
    assert first[0].dtype == first[1].dtype == np.float64
    np.testing.assert_array_equal(first[1], again[1])
    assert not np.array_equal(first[1], other[1])


def test_noise_is_exponential_with_a_scale_linear_in_x():
    x, y = make_skewed_line_data(200_000, **PARAMS, seed=0)
    assert x.min() >= -2.0 and x.max() <= 2.0
    e = (y - (PARAMS["slope"] * x + PARAMS["intercept"])) / (
        PARAMS["scale"] + PARAMS["scale_slope"] * x
    )
    assert e.min() >= 0.0
    # Exp(1): mean 1, median ln 2, standard deviation 1; 200 000 draws give about 0.0022 SE.
    assert e.mean() == pytest.approx(1.0, abs=0.01)
    assert np.median(e) == pytest.approx(np.log(2.0), abs=0.01)
    assert e.std() == pytest.approx(1.0, abs=0.015)


@pytest.mark.parametrize("tau", [0.1, 0.5, 0.9])
def test_quantile_lines_have_the_share_tau_of_targets_below_them(tau):
    x, y = make_skewed_line_data(200_000, **PARAMS, seed=1)
    slope, intercept = skewed_line_truth(tau, **PARAMS)
    below = y < slope * x + intercept
    assert below.mean() == pytest.approx(tau, abs=0.005)
    # ... everywhere along the line, not only on average over x.
    for part in (x < -1.0, x > 1.0):
        assert below[part].mean() == pytest.approx(tau, abs=0.01)


def test_mean_line_has_zero_mean_residual_everywhere_along_x():
    x, y = make_skewed_line_data(200_000, **PARAMS, seed=2)
    slope, intercept = skewed_line_truth("mean", **PARAMS)
    residual = y - (slope * x + intercept)
    for part in (x < 0.0, x >= 0.0):
        assert residual[part].mean() == pytest.approx(0.0, abs=0.01)
    # Least squares on many points recovers the mean line.
    np.testing.assert_allclose(np.polyfit(x, y, 1), [slope, intercept], atol=0.01)


def test_median_is_the_half_quantile_and_lies_below_the_mean():
    assert skewed_line_truth("median") == pytest.approx(skewed_line_truth(0.5))
    (median_slope, median_intercept), (mean_slope, mean_intercept) = (
        skewed_line_truth(s) for s in ("median", "mean")
    )
    assert mean_intercept - median_intercept == pytest.approx(1 - np.log(2))
    assert mean_slope - median_slope == pytest.approx(0.4 * (1 - np.log(2)))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n": 0}, r"n must be an integer >= 1, got 0"),
        ({"scale": 0.5, "scale_slope": 0.4}, r"s\(x\) = scale \+ scale_slope \* x must be"),
        ({"scale": 1.0, "scale_slope": -0.6}, r"got scale=1.0, scale_slope=-0.6"),
        ({"scale": float("nan")}, r"must be finite and >= 0 on \[-2, 2\], got scale=nan"),
    ],
)
def test_bad_data_arguments_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_skewed_line_data(**kwargs)


@pytest.mark.parametrize("statistic", ["mode", 0.0, 1.0, 1.5, -0.2, True, None])
def test_unknown_statistics_are_refused(statistic):
    with pytest.raises(ValueError, match=r"statistic must be 'mean', 'median' or a quantile"):
        skewed_line_truth(statistic)


def test_truth_refuses_a_negative_noise_scale():
    with pytest.raises(ValueError, match=r"must be finite and >= 0"):
        skewed_line_truth("mean", scale=0.1, scale_slope=1.0)
