"""Tests for companion.imbalance: a threshold's decisions, and the probability a loss aims at."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score

from companion import binary_cross_entropy_with_logits, mse_loss, sigmoid_focal_loss
from companion.data import GaussianClasses
from companion.imbalance import (
    HeavyTailedNegatives,
    best_probability,
    decisions,
    fit_linear_exact,
    precision_recall_points,
)


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


def _numeric_minimum(loss, x, y, **kwargs):
    """The minimiser by SciPy's BFGS on the mean loss (finite-difference free)."""
    import torch
    from scipy.optimize import minimize

    a = np.c_[x, np.ones(len(x))]
    t = torch.tensor(np.asarray(y, dtype=np.float64))

    def value_grad(theta):
        th = torch.tensor(theta, requires_grad=True)
        z = torch.tensor(a) @ th
        v = loss(z, t, reduction="none", **kwargs).mean()
        v.backward()
        return v.item(), th.grad.numpy()

    start = np.r_[np.zeros(x.shape[1]), np.log(np.mean(y) / (1 - np.mean(y)))]
    return minimize(value_grad, start, jac=True, method="BFGS", options={"gtol": 1e-11}).x


@pytest.mark.parametrize(
    ("loss", "kwargs"),
    [
        (binary_cross_entropy_with_logits, {}),
        (binary_cross_entropy_with_logits, {"pos_weight": 9.0}),
        (sigmoid_focal_loss, {"gamma": 2.0, "alpha": -1.0}),
        (sigmoid_focal_loss, {"gamma": 5.0, "alpha": 0.25}),
    ],
)
def test_fit_linear_exact_finds_the_minimum_of_each_run(loss, kwargs):
    problem = GaussianClasses(2, 2, 2.0, (20, 1))
    ((x, y),) = problem.sample_splits([400], seeds=[0, 1, 2])
    fit = fit_linear_exact(loss, x, y, **kwargs)
    assert fit.weights.shape == (3, 2) and fit.biases.shape == (3,)
    assert (fit.gradient_norm <= 1e-10).all()
    for r in range(3):
        reference = _numeric_minimum(loss, x[r], y[r], **kwargs)
        np.testing.assert_allclose(np.r_[fit.weights[r], fit.biases[r]], reference, atol=1e-5)
    np.testing.assert_allclose(
        fit.logits(x), np.einsum("rnd,rd->rn", x, fit.weights) + fit.biases[:, None]
    )


def test_fit_linear_exact_cross_entropy_puts_the_mean_probability_on_the_share():
    ((x, y),) = GaussianClasses(2, 3, 1.0, (9, 1)).sample_splits([300], seeds=[4])
    fit = fit_linear_exact(binary_cross_entropy_with_logits, x[0], y[0])
    q = 1 / (1 + np.exp(-fit.logits(x[0])))
    assert abs(q.sum() - y[0].sum()) < 1e-8


def test_fit_linear_exact_rejects_bad_input_and_separable_data():
    bce = binary_cross_entropy_with_logits
    with pytest.raises(ValueError, match="separable"):
        fit_linear_exact(bce, [[-1.0], [1.0]], [0, 1], max_iter=20)
    with pytest.raises(ValueError, match="targets in"):
        fit_linear_exact(bce, [[-1.0], [1.0]], [0, 2])
    with pytest.raises(ValueError, match="same runs"):
        fit_linear_exact(bce, [[-1.0], [1.0]], [0, 1, 1])
    with pytest.raises(ValueError, match="tol"):
        fit_linear_exact(bce, [[-1.0], [1.0]], [0, 1], tol=0.0)
    with pytest.raises(ValueError, match="finite"):
        fit_linear_exact(bce, [[np.nan], [1.0]], [0, 1])
    with pytest.raises(ValueError, match="one value per example"):
        fit_linear_exact(lambda z, t, reduction: z.sum(), [[-1.0], [0.5], [1.0]], [0, 1, 0])


def test_heavy_tailed_negatives_samples_and_posterior():
    problem = HeavyTailedNegatives(df=2.0, separation=3.0, priors=(9, 1))
    (x, y), (x2, _) = problem.sample_splits([200, 50], seeds=[0, 1, 2])
    assert x.shape == (3, 200, 2) and x2.shape == (3, 50, 2)
    assert (y.sum(1) == 20).all()
    again = problem.sample_splits([200, 50], seeds=[0, 1, 2])
    np.testing.assert_array_equal(again[0][0], x)
    # positives are N(mu_1, I): their mean is near (1.5, 0)
    ((big, labels),) = problem.sample_splits([20000], seeds=[5])
    np.testing.assert_allclose(big[0][labels[0] == 1].mean(0), [1.5, 0.0], atol=0.1)
    post = problem.posterior(big[0])
    np.testing.assert_allclose(post.sum(-1), 1.0)
    # a calibrated posterior: mean P(positive) matches the share of positives
    assert abs(post[:, 1].mean() - labels[0].mean()) < 0.01
    # the positive region is bounded: far out along the positives' mean, negative
    assert problem.posterior([[1.5, 0.0], [30.0, 0.0], [1.5, 30.0]])[:, 1].argmax() == 0
    with pytest.raises(ValueError, match="df"):
        HeavyTailedNegatives(df=0.0)
    with pytest.raises(ValueError, match="features"):
        problem.posterior([[1.0, 2.0, 3.0]])
