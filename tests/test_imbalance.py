"""Tests for companion.imbalance: a threshold's decisions, and the probability a loss aims at."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score

from companion import binary_cross_entropy_with_logits, mse_loss, sigmoid_focal_loss
from companion.imbalance import best_probability, decisions, precision_recall_points


def test_decisions_equal_scikit_learn_run_by_run():
    rng = np.random.default_rng(0)
    y = (rng.random((3, 4, 200)) < 0.1).astype(int)
    score = rng.normal(size=y.shape) + 2.0 * y
    cuts = rng.normal(0.5, 0.5, size=(3, 4))
    d = decisions(y, score, cuts)
    assert d.precision.shape == (3, 4)
    for i in range(3):
        for j in range(4):
            predicted = (score[i, j] > cuts[i, j]).astype(int)
            kwargs = {"zero_division": 0}
            assert d.precision[i, j] == pytest.approx(precision_score(y[i, j], predicted, **kwargs))
            assert d.recall[i, j] == pytest.approx(recall_score(y[i, j], predicted))
            assert d.f1[i, j] == pytest.approx(f1_score(y[i, j], predicted, **kwargs))
            assert d.accuracy[i, j] == pytest.approx(accuracy_score(y[i, j], predicted))
            assert d.predicted_positives[i, j] == predicted.sum()


def test_decisions_at_the_default_threshold_and_in_corner_cases():
    y = np.array([[1, 0, 0, 1], [0, 0, 0, 0]])
    z = np.array([[2.0, -1.0, 0.0, -0.5], [-3.0, -2.0, -1.0, -0.1]])  # 0 is not > 0
    d = decisions(y, z)
    assert d.true_positives.tolist() == [1, 0] and d.false_positives.tolist() == [0, 0]
    assert d.false_negatives.tolist() == [1, 0] and d.true_negatives.tolist() == [2, 4]
    # nothing predicted positive: precision and F1 are 0 (scikit-learn's zero_division=0)
    assert d.precision.tolist() == [1.0, 0.0] and d.f1.tolist() == [pytest.approx(2 / 3), 0.0]
    # no positive at all: the recall is undefined
    assert d.recall[0] == 0.5 and np.isnan(d.recall[1])
    assert d.accuracy.tolist() == [0.75, 1.0]


@pytest.mark.parametrize(
    "y, z, threshold, error, match",
    [
        ([0, 1], [0.5], 0.0, ValueError, "same shape"),
        (0, 0.5, 0.0, ValueError, "same shape"),
        ([0, 2], [0.5, 0.5], 0.0, ValueError, "labels 0 and 1"),
        ([[0, 1]], [[0.5, 0.5]], [0.0, 1.0], ValueError, "one per run"),
        (["a", "b"], [0.5, 0.5], 0.0, TypeError, "real numbers"),
    ],
)
def test_decisions_reject_bad_input(y, z, threshold, error, match):
    with pytest.raises(error, match=match):
        decisions(y, z, threshold)


def test_best_probability_of_cross_entropy_is_the_truth_and_pos_weight_shifts_the_logit():
    eta = 1 / (1 + np.exp(-np.linspace(-6, 6, 61)))
    bce = binary_cross_entropy_with_logits
    np.testing.assert_allclose(best_probability(bce, eta), eta, atol=2e-5)
    for rho in (0.25, 3.0, 99.0):
        q = best_probability(bce, eta, pos_weight=rho)
        logit = np.log(q / (1 - q))
        np.testing.assert_allclose(logit, np.log(eta / (1 - eta)) + np.log(rho), atol=1e-3)


def test_best_probability_of_the_focal_loss_matches_a_fine_search():
    eta = np.array([0.01, 0.2, 0.5, 0.8])
    q = best_probability(sigmoid_focal_loss, eta, gamma=2.0, alpha=-1.0)
    grid = np.linspace(1e-4, 1 - 1e-4, 200_001)
    for e, found in zip(eta, q, strict=True):
        risk = -e * (1 - grid) ** 2 * np.log(grid) - (1 - e) * grid**2 * np.log1p(-grid)
        assert found == pytest.approx(grid[risk.argmin()], abs=1e-4)
    assert q[2] == pytest.approx(0.5, abs=1e-6)  # classification-calibrated
    assert q[0] > eta[0] and q[-1] < eta[-1]  # pulled towards 1/2


def test_best_probability_of_a_squared_error_on_probabilities_is_the_truth():
    def brier(z, t, reduction):
        return mse_loss(1 / (1 + np.exp(-z)), t, reduction=reduction)

    eta = np.array([0.05, 0.5, 0.9])
    np.testing.assert_allclose(best_probability(brier, eta), eta, atol=1e-4)
    assert best_probability(brier, 0.3).shape == ()


@pytest.mark.parametrize(
    "eta, kwargs, match",
    [
        ([0.0, 0.5], {}, "strictly between 0 and 1"),
        ([0.5, 1.0], {}, "strictly between 0 and 1"),
        ([0.5], {"points": 2}, "points"),
        ([0.5], {"logit_range": (3.0, -3.0)}, "logit_range"),
        ([0.5], {"logit_range": (-np.inf, 3.0)}, "logit_range"),
    ],
)
def test_best_probability_rejects_bad_arguments(eta, kwargs, match):
    with pytest.raises(ValueError, match=match):
        best_probability(binary_cross_entropy_with_logits, eta, **kwargs)


@pytest.mark.parametrize("tied", [False, True])
def test_precision_recall_points_are_scikit_learns_curve(tied):
    from sklearn.metrics import precision_recall_curve

    rng = np.random.default_rng(int(tied))
    y = (rng.random(400) < 0.1).astype(int)
    score = rng.normal(size=400) + 1.5 * y
    if tied:  # few distinct scores: each group of ties is one point
        score = np.round(score, 1)
    precision, recall = precision_recall_points(y, score)
    expected_precision, expected_recall, thresholds = precision_recall_curve(y, score)
    # scikit-learn: increasing thresholds, then the point (recall 0, precision 1)
    np.testing.assert_allclose(precision, expected_precision[:-1][::-1], rtol=1e-12)
    np.testing.assert_allclose(recall, expected_recall[:-1][::-1], rtol=1e-12)
    assert precision.size == np.unique(score).size == thresholds.size
    # the average precision is the area under these points as a step function
    from companion.metrics import average_precision

    area = np.sum(np.diff(np.concatenate([[0.0], recall])) * precision)
    assert area == pytest.approx(float(average_precision(y, score)), rel=1e-12)


@pytest.mark.parametrize(
    "y, score, match",
    [
        ([[0, 1]], [[0.5, 0.5]], "1-D"),
        ([0, 1], [0.5], "1-D"),
        ([], [], "1-D"),
        ([0, 0], [0.1, 0.2], "at least one 1"),
        ([0, 2], [0.1, 0.2], "labels 0 and 1"),
        ([0, 1], [0.1, np.nan], "NaN"),
    ],
)
def test_precision_recall_points_reject_bad_input(y, score, match):
    with pytest.raises(ValueError, match=match):
        precision_recall_points(y, score)
