"""Tests for Part II's data: GaussianClasses (samples, splits, posterior) and flip_labels."""

import math

import numpy as np
import pytest
from scipy.stats import multivariate_normal, norm

from companion.data import GaussianClasses, flip_labels


@pytest.mark.parametrize("classes, features", [(2, 1), (2, 3), (3, 2), (5, 4)])
def test_neighbouring_means_are_the_separation_apart_at_one_radius(classes, features):
    means = GaussianClasses(classes, features, separation=2.5).means
    assert means.shape == (classes, features)
    np.testing.assert_allclose(np.linalg.norm(means, axis=1), np.linalg.norm(means[0]))
    gaps = np.linalg.norm(means - np.roll(means, 1, axis=0), axis=1)
    np.testing.assert_allclose(gaps, 2.5)
    assert np.all(means[:, 2:] == 0)  # the further features are noise
    if classes == 2:
        assert means[:, 0].tolist() == [-1.25, 1.25]


def test_samples_have_exact_class_counts_means_and_unit_covariance():
    problem = GaussianClasses(3, 4, separation=2.0, priors=(1, 2, 5))
    x, y = problem.sample(40_000, seeds=[0, 1])
    assert x.shape == (2, 40_000, 4) and x.dtype == np.float64
    assert y.shape == (2, 40_000) and y.dtype == np.int64
    for run in range(2):
        assert np.bincount(y[run]).tolist() == [5000, 10_000, 25_000]
        for k in range(3):
            points = x[run, y[run] == k]
            np.testing.assert_allclose(points.mean(0), problem.means[k], atol=0.05)
            np.testing.assert_allclose(np.cov(points.T), np.eye(4), atol=0.06)
    # the labels come in random order, not sorted by class
    assert np.abs(np.diff(y[0])).sum() > 10_000


def test_class_counts_round_to_the_total_by_largest_remainder():
    assert GaussianClasses(priors=(100, 1)).class_counts(1000).tolist() == [990, 10]
    assert GaussianClasses(3).class_counts(10).tolist() == [4, 3, 3]
    assert GaussianClasses(3, priors=(1, 1, 2)).class_counts(7).tolist() == [2, 2, 3]
    with pytest.raises(ValueError, match=r"n = 50 gives class 1 no point .* take a larger n"):
        GaussianClasses(priors=(100, 1)).class_counts(50)
    with pytest.raises(ValueError, match="n must be an integer >= 3"):
        GaussianClasses(3).class_counts(2)


def test_runs_depend_on_their_own_seed_and_splits_continue_the_sample():
    problem = GaussianClasses(priors=(4, 1))
    x, y = problem.sample(50, seeds=[3, 8])
    alone = problem.sample(50, seeds=[8])
    np.testing.assert_array_equal(alone[0][0], x[1])
    np.testing.assert_array_equal(alone[1][0], y[1])
    (x_train, y_train), (x_val, y_val), (x_test, y_test) = problem.sample_splits(
        [50, 20, 100], seeds=[3, 8]
    )
    np.testing.assert_array_equal(x_train, x)
    np.testing.assert_array_equal(y_train, y)
    assert x_val.shape == (2, 20, 2) and x_test.shape == (2, 100, 2)
    assert [np.bincount(row).tolist() for row in y_test] == [[80, 20], [80, 20]]
    assert not np.array_equal(x_val[0], x_train[0, :20])
    assert not np.array_equal(x[0], x[1])


def test_posterior_is_bayes_rule_with_the_gaussian_densities():
    problem = GaussianClasses(3, 3, separation=1.5, priors=(1, 3, 6))
    x = np.random.default_rng(0).normal(0, 2, size=(4, 5, 3))
    densities = np.stack(
        [
            prior * multivariate_normal(mean, np.eye(3)).pdf(x)
            for prior, mean in zip(problem.class_priors, problem.means, strict=True)
        ],
        axis=-1,
    )
    expected = densities / densities.sum(-1, keepdims=True)
    np.testing.assert_allclose(problem.posterior(x), expected, rtol=1e-12)
    # no overflow far from the means
    far = problem.posterior(np.full((1, 3), 1e6))
    assert np.isfinite(far).all() and far.sum() == pytest.approx(1.0)


def test_posterior_averages_to_the_priors_and_bayes_accuracy_is_phi():
    balanced = GaussianClasses(separation=2.0)
    (x,), (y,) = balanced.sample(100_000, seeds=[5])
    accuracy = (balanced.posterior(x).argmax(-1) == y).mean()
    assert abs(accuracy - norm.cdf(1.0)) < 4 * math.sqrt(0.84 * 0.16 / 100_000)
    skewed = GaussianClasses(3, separation=1.0, priors=(1, 2, 7))
    x, _ = skewed.sample(100_000, seeds=[6])
    np.testing.assert_allclose(skewed.posterior(x[0]).mean(0), [0.1, 0.2, 0.7], atol=0.005)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_classes": 1}, "n_classes must be an integer >= 2"),
        ({"n_classes": 3, "features": 1}, "features must be an integer >= 2"),
        ({"features": 0}, "features must be an integer >= 1"),
        ({"separation": -1.0}, "separation must be finite and >= 0"),
        ({"separation": float("nan")}, "separation must be finite and >= 0"),
        ({"priors": (1, 2, 3)}, r"priors must be 2 finite numbers > 0 \(one per class\)"),
        ({"priors": (1, 0)}, "priors must be 2 finite numbers > 0"),
        ({"priors": (1, float("inf"))}, "priors must be 2 finite numbers > 0"),
    ],
)
def test_gaussian_classes_rejects_bad_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        GaussianClasses(**kwargs)


def test_sample_and_posterior_reject_bad_arguments():
    problem = GaussianClasses()
    with pytest.raises(ValueError, match="seeds must name at least one seed"):
        problem.sample(10, seeds=[])
    with pytest.raises(ValueError, match="every seed must be an integer >= 0"):
        problem.sample(10, seeds=[-1])
    with pytest.raises(TypeError, match="seeds must be a sequence of integers, one per run"):
        problem.sample(10, seeds=5)
    with pytest.raises(ValueError, match=r"x must have shape \(\.\.\., 2\)"):
        problem.posterior(np.zeros((4, 3)))


# ---------------------------------------------------------------------------------------------
# flip_labels


def test_flip_labels_flips_the_fraction_to_other_classes_uniformly():
    y = np.random.default_rng(0).integers(0, 4, size=(3, 20_000))
    before = y.copy()
    noisy = flip_labels(y, [0.0, 0.1, 0.4], n_classes=4, seeds=[0, 1, 2])
    np.testing.assert_array_equal(y, before)  # the clean labels are kept
    assert noisy.dtype == np.int64 and noisy.shape == y.shape
    assert (noisy != y).sum(axis=1).tolist() == [0, 2000, 8000]
    shift = (noisy[2] - y[2])[noisy[2] != y[2]] % 4
    counts = np.bincount(shift, minlength=4)
    assert counts[0] == 0
    np.testing.assert_allclose(counts[1:] / 8000, 1 / 3, atol=4 * math.sqrt(2 / 9 / 8000))


def test_flip_labels_is_seeded_per_run_and_independent_of_the_data_stream():
    y = np.zeros((2, 100), dtype=np.int64)
    a = flip_labels(y, 0.3, n_classes=2, seeds=[7, 8])
    np.testing.assert_array_equal(a[1], flip_labels(y[:1], 0.3, n_classes=2, seeds=[8])[0])
    assert not np.array_equal(a[0], a[1])
    flipped = np.flatnonzero(a[0])
    expected = np.random.default_rng((7, 1)).choice(100, size=30, replace=False)
    np.testing.assert_array_equal(flipped, np.sort(expected))


@pytest.mark.parametrize(
    "y, fraction, seeds, error, match",
    [
        (np.zeros((2, 5), int), 1.5, [0, 1], ValueError, r"fraction must lie in \[0, 1\]"),
        (np.zeros((2, 5), int), [0.1] * 3, [0, 1], ValueError, r"one per run \(2\)"),
        (np.zeros((2, 5), int), 0.1, [0], ValueError, r"y must have shape \(R, N\) with R = 1"),
        (np.zeros(5, int), 0.1, [0], ValueError, r"y must have shape \(R, N\)"),
        (np.full((1, 5), 3), 0.1, [0], ValueError, r"class indices in \[0, 3\), got 3"),
        (np.full((1, 5), -2), 0.1, [0], ValueError, r"class indices in \[0, 3\), got -2"),
        (np.zeros((1, 5)), 0.1, [0], TypeError, "y must hold class indices"),
        (np.zeros((1, 5), int), 0.1, [], ValueError, "seeds must name at least one seed"),
    ],
)
def test_flip_labels_rejects_bad_arguments(y, fraction, seeds, error, match):
    with pytest.raises(error, match=match):
        flip_labels(y, fraction, n_classes=3, seeds=seeds)
    with pytest.raises(ValueError, match="n_classes must be an integer >= 2"):
        flip_labels(np.zeros((1, 5), int), 0.1, n_classes=1, seeds=[0])
