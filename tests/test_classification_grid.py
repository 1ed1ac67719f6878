"""Tests for companion.classification_grid: Chapter 10's losses, grid, theory and figure."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from sklearn.metrics import average_precision_score  # noqa: E402

from companion import classification_grid as cg  # noqa: E402
from companion.calibration import expected_calibration_error  # noqa: E402
from companion.data import GaussianClasses, flip_labels  # noqa: E402

SMALL = {"seeds": [0, 1, 2], "sizes": (40, 30, 200), "steps": 5}


@pytest.fixture(scope="module")
def small_grid() -> cg.ClassificationGrid:
    return cg.noise_imbalance_grid(noise_levels=[0.0, 0.25], **SMALL)


# ---------------------------------------------------------------------------------------------
# The two losses written for the grid.


def logits_and_labels(classes: int = 3, n: int = 50) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    z = 3 * torch.randn(n, classes, generator=generator, dtype=torch.float64)
    y = torch.randint(0, classes, (n,), generator=generator)
    return z, y


@pytest.mark.parametrize("classes", [2, 3, 5])
def test_brier_score_is_the_summed_squared_error_of_the_softmax(classes):
    z, y = logits_and_labels(classes)
    p = torch.softmax(z, 1)
    expected = ((p - torch.eye(classes, dtype=z.dtype)[y]) ** 2).sum(1)
    torch.testing.assert_close(cg.brier_score(z, y, reduction="none"), expected)
    torch.testing.assert_close(cg.brier_score(z, y), expected.mean())
    torch.testing.assert_close(cg.brier_score(z, y, reduction="sum"), expected.sum())
    assert (expected >= 0).all() and (expected <= 2).all()


def test_brier_score_is_strictly_proper_on_two_classes():
    # The expected score over y ~ Bernoulli(p) is smallest when softmax(z)_1 = p.
    p = 0.7
    d = torch.linspace(-4, 4, 8001, dtype=torch.float64)
    z = torch.stack([torch.zeros_like(d), d], 1)
    risk = p * cg.brier_score(z, torch.ones_like(d, dtype=torch.long), reduction="none") + (
        1 - p
    ) * cg.brier_score(z, torch.zeros_like(d, dtype=torch.long), reduction="none")
    best = torch.sigmoid(d[risk.argmin()])
    assert abs(float(best) - p) < 1e-3


@pytest.mark.parametrize("classes", [2, 3, 5])
def test_probability_mae_is_two_minus_twice_the_true_class_probability(classes):
    z, y = logits_and_labels(classes)
    p_y = torch.softmax(z, 1)[torch.arange(len(y)), y]
    torch.testing.assert_close(cg.probability_mae(z, y, reduction="none"), 2 * (1 - p_y))


@pytest.mark.parametrize("classes", [2, 3, 5])
def test_probability_mae_is_symmetric_and_brier_is_not(classes):
    # Ghosh et al.'s condition: the loss summed over every label is the same for all logits.
    z, _ = logits_and_labels(classes)
    every_label = [torch.full((len(z),), k) for k in range(classes)]
    mae = sum(cg.probability_mae(z, k, reduction="none") for k in every_label)
    torch.testing.assert_close(mae, torch.full_like(mae, 2.0 * (classes - 1)))
    brier = sum(cg.brier_score(z, k, reduction="none") for k in every_label)
    assert brier.std() > 0.01


def test_grid_losses_have_gradients_and_autograd_flows():
    z, y = logits_and_labels(2)
    for loss in (cg.brier_score, cg.probability_mae):
        x = z.clone().requires_grad_(True)
        loss(x, y).backward()
        assert x.grad is not None and torch.isfinite(x.grad).all()


def test_an_unknown_reduction_is_refused():
    z, y = logits_and_labels(2)
    with pytest.raises(ValueError, match="reduction must be"):
        cg.brier_score(z, y, reduction="batchmean")


# ---------------------------------------------------------------------------------------------
# Theory.


def test_noisy_posterior_is_the_posterior_of_flipped_labels():
    p = np.linspace(0, 1, 11)
    for eta in (0.0, 0.1, 0.4):
        noisy = cg.noisy_posterior(p, eta)
        np.testing.assert_allclose(noisy, p * (1 - eta) + (1 - p) * eta)
        assert (np.diff(noisy) > 0).all()  # the same order, the same side of 1/2
        np.testing.assert_array_equal(noisy > 0.5, p > 0.5)
    # a Monte Carlo check with flip_labels: labels with posterior 0.9, 30% flipped
    rng = np.random.default_rng(0)
    y = (rng.random((1, 100_000)) < 0.9).astype(np.int64)
    flipped = flip_labels(y, 0.3, n_classes=2, seeds=[0])
    assert abs(flipped.mean() - float(cg.noisy_posterior(0.9, 0.3))) < 0.005


@pytest.mark.parametrize("posterior, eta", [([1.2], 0.1), ([0.5], -0.1), ([0.5], 1.5)])
def test_noisy_posterior_refuses_what_is_not_a_probability(posterior, eta):
    with pytest.raises(ValueError, match="probabilities"):
        cg.noisy_posterior(posterior, eta)


# ---------------------------------------------------------------------------------------------
# The grid.


def test_grid_shapes_names_and_ranges(small_grid):
    g = small_grid
    assert g.losses == list(cg.GRID_LOSSES) and g.imbalances == list(cg.IMBALANCES)
    assert g.noise_levels == [0.0, 0.25] and g.seeds == SMALL["seeds"]
    for name in cg.METRICS:
        assert g.metrics[name].shape == (6, 2, 2, 3)
    assert g.probabilities.shape == (6, 2, 2, 3, 200)
    assert g.test_labels.shape == (2, 2, 3, 200)
    assert np.isnan(g.metrics["memorised"][:, :, 0]).all()  # nothing flipped
    noisy = g.metrics["memorised"][:, :, 1]
    assert ((noisy >= 0) & (noisy <= 1)).all()
    for name in ("accuracy", "average precision", "ECE"):
        values = g.metrics[name]
        assert ((values >= 0) & (values <= 1)).all()


def test_test_labels_are_the_clean_labels_of_each_seed(small_grid):
    sizes = list(SMALL["sizes"])
    for i, priors in enumerate(cg.IMBALANCES.values()):
        splits = GaussianClasses(separation=2.0, priors=priors).sample_splits(
            sizes, seeds=SMALL["seeds"]
        )
        for e in range(2):  # the same points and labels at every noise level
            np.testing.assert_array_equal(small_grid.test_labels[i, e], splits[2][1])


def test_metrics_agree_with_the_stored_probabilities_and_scikit_learn(small_grid):
    g = small_grid
    p, y = g.probabilities, g.test_labels[None]
    np.testing.assert_allclose(g.metrics["accuracy"], ((p > 0.5) == y).mean(axis=-1))
    ece = expected_calibration_error(np.broadcast_to(y, p.shape), p)
    np.testing.assert_allclose(g.metrics["ECE"], ece)
    k, i, e, s = 2, 1, 1, 0  # the focal loss, the 1:9 problem, noisy labels, seed 0
    expected = average_precision_score(g.test_labels[i, e, s], p[k, i, e, s])
    assert g.metrics["average precision"][k, i, e, s] == pytest.approx(expected)


def test_noisy_validation_accuracy_is_the_clean_one_without_noise(small_grid):
    m = small_grid.metrics
    np.testing.assert_array_equal(m["noisy valid accuracy"][:, :, 0], m["valid accuracy"][:, :, 0])
    assert (m["noisy valid accuracy"][:, :, 1] != m["valid accuracy"][:, :, 1]).any()


def test_bayes_reference_and_its_memorised_share(small_grid):
    g = small_grid
    # the test points, hence the Bayes classifier's scores, are the same at every noise level
    for name in ("accuracy", "average precision", "ECE"):
        np.testing.assert_array_equal(g.bayes[name][:, 0], g.bayes[name][:, 1])
    # recompute the Bayes classifier's agreement with the flipped labels for one run
    problem = GaussianClasses(separation=2.0)
    (x, y), _, _ = problem.sample_splits(list(SMALL["sizes"]), seeds=[1])
    noisy = flip_labels(y, 0.25, n_classes=2, seeds=[1])
    flipped = noisy != y
    bayes = problem.posterior(x)[..., 1] > 0.5
    expected = (bayes == noisy)[flipped].mean()
    assert g.bayes["memorised"][0, 1, 1] == pytest.approx(expected)
    # the noisy-posterior ECE is 2 eta times the mean distance of p from 1/2
    assert (g.bayes["noisy posterior ECE"][:, 0] == 0).all()
    assert (g.bayes["noisy posterior ECE"][:, 1] > 0).all()


def test_a_proper_loss_learns_the_noisy_posterior_with_enough_data():
    # Logistic regression with cross-entropy on 4000 points, 30% of the labels flipped: its
    # calibration error on clean labels is the noisy posterior's, 2 eta E|p - 1/2|.
    g = cg.noise_imbalance_grid(
        {"cross-entropy": cg.GRID_LOSSES["cross-entropy"]},
        noise_levels=[0.3],
        imbalances={"balanced": None},
        seeds=[0, 1],
        sizes=(4000, 10, 4000),
        n_hidden=0,
        steps=300,
    )
    theory = g.bayes["noisy posterior ECE"][0, 0]
    np.testing.assert_allclose(g.metrics["ECE"][0, 0, 0], theory, atol=0.02)
    assert theory.min() > 0.1
    # and it keeps the Bayes classifier's accuracy: symmetric noise leaves the decision alone
    np.testing.assert_allclose(g.metrics["accuracy"][0, 0, 0], g.bayes["accuracy"][0, 0], atol=0.01)


def test_the_grid_is_deterministic():
    kwargs = {"noise_levels": [0.2], "imbalances": {"1:9": (9.0, 1.0)}, **SMALL}
    losses = {"hinge": cg.GRID_LOSSES["hinge"]}
    first = cg.noise_imbalance_grid(losses, **kwargs)
    second = cg.noise_imbalance_grid(losses, **kwargs)
    np.testing.assert_array_equal(first.probabilities, second.probabilities)


def test_the_grid_restores_the_thread_count():
    threads = torch.get_num_threads()
    cg.noise_imbalance_grid({"MAE": cg.GRID_LOSSES["MAE"]}, noise_levels=[0.0], **SMALL)
    assert torch.get_num_threads() == threads


def test_summary_and_paired_difference(small_grid):
    g = small_grid
    rows = g.summary("accuracy", "balanced", digits=3)
    assert len(rows) == 6 and len(rows[0]) == 2 and " ± " in rows[0][0]
    mean = g.metrics["accuracy"][:, 0, 0].mean(axis=-1)
    assert rows[3][0].startswith(f"{mean[3]:.3f}")
    gap, se = g.difference("accuracy", "MAE", "cross-entropy")
    runs = g.metrics["accuracy"][5] - g.metrics["accuracy"][0]
    np.testing.assert_allclose(gap, runs.mean(axis=-1))
    np.testing.assert_allclose(se, runs.std(axis=-1, ddof=1) / np.sqrt(3))
    with pytest.raises(ValueError, match="metric must be one of"):
        g.mean("log loss")


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"noise_levels": [0.5]}, "noise_levels"),
        ({"noise_levels": []}, "noise_levels"),
        ({"seeds": [0]}, "at least two seeds"),
        ({"losses": {}}, "at least one"),
        ({"imbalances": {}}, "at least one"),
        ({"steps": 0}, "steps"),
    ],
)
def test_bad_grids_are_refused(kwargs, match):
    arguments = {**SMALL, **kwargs}
    with pytest.raises(ValueError, match=match):
        cg.noise_imbalance_grid(**arguments)


# ---------------------------------------------------------------------------------------------
# The figure.


def test_plot_noise_grid_draws_every_loss_and_the_references(small_grid):
    fig, axes = plt.subplots(2, 1)
    cg.plot_noise_grid(small_grid, axes, [("accuracy", "balanced"), ("ECE", "1:9")])
    assert len(axes[0].containers) == 6 and len(axes[1].containers) == 6  # error bars
    names = [text.get_text() for text in fig.legends[0].get_texts()]
    assert names == [*small_grid.losses, "true posterior", "noisy posterior"]
    assert axes[1].get_title() == "ECE, 1:9"
    plt.close(fig)


def test_plot_noise_grid_needs_one_axes_per_panel(small_grid):
    fig, axes = plt.subplots(1, 1)
    with pytest.raises(ValueError, match="one axes per panel"):
        cg.plot_noise_grid(small_grid, axes)
    plt.close(fig)
