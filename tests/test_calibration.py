"""Tests for companion.calibration: reliability-diagram bins and the expected calibration error."""

import numpy as np
import pytest
from sklearn.calibration import calibration_curve

from companion.calibration import CalibrationBins, calibration_bins, expected_calibration_error


def loop_ece(outcome, confidence, n_bins):
    """The ECE by its definition, one bin at a time (Guo et al. 2017, eq. 3)."""
    total = 0.0
    for m in range(n_bins):
        low, high = m / n_bins, (m + 1) / n_bins
        inside = (confidence > low) & (confidence <= high) if m else confidence <= high
        if inside.any():
            gap = abs(outcome[inside].mean() - confidence[inside].mean())
            total += inside.sum() / confidence.size * gap
    return total


@pytest.mark.parametrize("n_bins", [1, 5, 10, 15])
def test_binary_bins_equal_sklearn_calibration_curve(n_bins):
    rng = np.random.default_rng(n_bins)
    p = rng.beta(0.7, 0.7, 500)
    p[:20] = np.linspace(0, 1, 11).repeat(2)[:20]  # values on the bin edges
    y = (rng.random(500) < p**1.5).astype(int)
    bins = calibration_bins(y, p, n_bins=n_bins)
    assert isinstance(bins, CalibrationBins)
    np.testing.assert_array_equal(bins.edges, np.linspace(0, 1, n_bins + 1))
    frequency, confidence = calibration_curve(y, p, n_bins=n_bins, strategy="uniform")
    nonempty = bins.counts > 0
    np.testing.assert_allclose(bins.frequency[nonempty], frequency, rtol=1e-12)
    np.testing.assert_allclose(bins.confidence[nonempty], confidence, rtol=1e-12)
    assert bins.counts.sum() == 500 and np.isnan(bins.frequency[~nonempty]).all()
    assert float(bins.ece) == pytest.approx(loop_ece(y.astype(float), p, n_bins), rel=1e-12)


def test_top_label_bins_are_those_of_correctness_against_confidence():
    rng = np.random.default_rng(0)
    logits = 2 * rng.normal(size=(400, 4))
    proba = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    y = rng.integers(0, 4, 400)
    correct = (proba.argmax(1) == y).astype(float)
    confidence = proba.max(1)
    bins = calibration_bins(y, proba, n_bins=10)
    frequency, mean_confidence = calibration_curve(correct, confidence, n_bins=10)
    np.testing.assert_allclose(bins.frequency[bins.counts > 0], frequency, rtol=1e-12)
    np.testing.assert_allclose(bins.confidence[bins.counts > 0], mean_confidence, rtol=1e-12)
    assert float(bins.ece) == pytest.approx(loop_ece(correct, confidence, 10), rel=1e-12)
    assert bins.counts[:2].sum() == 0  # a top-label confidence is at least 1/4


def test_many_runs_at_once_equal_one_run_at_a_time():
    rng = np.random.default_rng(1)
    p = rng.random((2, 3, 200))
    y = (rng.random((2, 3, 200)) < p).astype(int)
    ece = expected_calibration_error(y, p, n_bins=8)
    assert ece.shape == (2, 3)
    for i in range(2):
        for j in range(3):
            assert ece[i, j] == calibration_bins(y[i, j], p[i, j], n_bins=8).ece
    proba = rng.dirichlet(np.ones(3), size=(5, 100))
    labels = rng.integers(0, 3, (5, 100))
    many = calibration_bins(labels, proba)
    assert many.counts.shape == (5, 15)
    for run in range(5):
        np.testing.assert_array_equal(
            many.counts[run], calibration_bins(labels[run], proba[run]).counts
        )


def test_calibrated_predictions_have_a_small_error_and_overconfident_ones_do_not():
    rng = np.random.default_rng(2)
    p = rng.random(200_000)
    y = (rng.random(200_000) < p).astype(int)
    assert expected_calibration_error(y, p) < 0.005
    sharpened = p**3 / (p**3 + (1 - p) ** 3)  # the same ranking, overconfident
    assert expected_calibration_error(y, sharpened) > 0.05
    # predicting the base rate everywhere is calibrated (to rounding)
    base = np.full(10, 0.3)
    assert expected_calibration_error([1, 1, 1, 0, 0, 0, 0, 0, 0, 0], base) < 1e-15


@pytest.mark.parametrize(
    "y_true, y_prob, error, match",
    [
        ([0, 1], [0.5, 1.5], ValueError, r"probabilities in \[0, 1\]"),
        ([0, 1], [0.5, np.nan], ValueError, r"probabilities in \[0, 1\]"),
        ([], [], ValueError, "non-empty"),
        ([0, 2], [0.5, 0.5], ValueError, "y_true must be 0 or 1"),
        ([0, 3], [[0.5, 0.5, 0.0]] * 2, ValueError, r"class indices in \[0, 3\)"),
        ([0, 1, 1], [0.5, 0.5], ValueError, r"y_prob must have y_true's shape"),
        ([0, 1], [[1.0], [1.0]], ValueError, r"\(\.\.\., N, K\) with K >= 2"),
        (0, 0.5, ValueError, r"y_prob must have y_true's shape"),
        (["a", "b"], [0.5, 0.5], TypeError, "must be real numbers"),
        ([0, 1], [0.5 + 1j, 0.5], TypeError, "must be real numbers"),
    ],
)
def test_calibration_bins_rejects_bad_input(y_true, y_prob, error, match):
    with pytest.raises(error, match=match):
        calibration_bins(y_true, y_prob)


def test_n_bins_must_be_a_positive_integer():
    with pytest.raises(ValueError, match="n_bins must be an integer >= 1"):
        expected_calibration_error([0, 1], [0.2, 0.8], n_bins=0)
