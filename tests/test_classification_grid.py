"""Tests for companion.classification_grid: Chapter 10's losses, grid, theory and figure."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss  # noqa: E402

from companion import classification_grid as cg  # noqa: E402
from companion.calibration import expected_calibration_error  # noqa: E402
from companion.data import GaussianClasses, flip_labels  # noqa: E402

SMALL = {"seeds": [0, 1, 2], "sizes": (40, 30, 200), "steps": 12}


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


def test_class_conditional_noisy_posterior():
    p = np.linspace(0, 1, 11)
    noisy = cg.noisy_posterior(p, 0.1, 0.3)
    np.testing.assert_allclose(noisy, p * (1 - 0.3) + (1 - p) * 0.1)
    assert (np.diff(noisy) > 0).all()  # the order survives when eta_0 + eta_1 < 1
    np.testing.assert_array_equal(cg.noisy_posterior(p, 0.2, 0.2), cg.noisy_posterior(p, 0.2))
    with pytest.raises(ValueError, match="probabilities"):
        cg.noisy_posterior(p, 0.1, 1.2)


# ---------------------------------------------------------------------------------------------
# Correcting for known noise.


def test_forward_correction_is_cross_entropy_without_noise_and_aims_at_the_clean_posterior():
    z, y = logits_and_labels(2)
    torch.testing.assert_close(
        cg.forward_corrected_cross_entropy(z, y, "none", eta=0.0),
        torch.nn.functional.cross_entropy(z, y, reduction="none"),
    )
    # expected loss over noisy labels with posterior eta + (1 - 2 eta) p is smallest at
    # softmax = p, where plain cross-entropy would aim at the noisy posterior
    p, eta = 0.8, 0.3
    noisy = float(cg.noisy_posterior(p, eta))
    d = torch.linspace(-5, 5, 20001, dtype=torch.float64)
    logits = torch.stack([torch.zeros_like(d), d], 1)
    ones, zeros = torch.ones_like(d, dtype=torch.long), torch.zeros_like(d, dtype=torch.long)

    def risk(loss, **kwargs):
        def value(target):
            return loss(logits, target, reduction="none", **kwargs)

        return noisy * value(ones) + (1 - noisy) * value(zeros)

    forward = risk(cg.forward_corrected_cross_entropy, eta=eta)
    plain = risk(torch.nn.functional.cross_entropy)
    assert abs(float(torch.sigmoid(d[forward.argmin()])) - p) < 1e-3
    assert abs(float(torch.sigmoid(d[plain.argmin()])) - noisy) < 1e-3


@pytest.mark.parametrize(
    "kwargs, match", [({"eta": 0.5}, "eta must be"), ({"eta": -0.1}, "eta must be")]
)
def test_forward_correction_refuses_a_bad_flip_rate(kwargs, match):
    z, y = logits_and_labels(2)
    with pytest.raises(ValueError, match=match):
        cg.forward_corrected_cross_entropy(z, y, **kwargs)


def test_forward_correction_needs_two_classes():
    z, y = logits_and_labels(3)
    with pytest.raises(ValueError, match="two logits"):
        cg.forward_corrected_cross_entropy(z, y, eta=0.1)


def test_logistic_fit_to_labels_is_scikit_learns_and_to_probabilities_recovers_the_truth():
    problem = GaussianClasses(separation=2.0, priors=(3.0, 1.0))
    ((x, y),) = problem.sample_splits([500], seeds=[0])
    w, b = cg.fit_logistic_to_probabilities(x[0], y[0])
    reference = LogisticRegression(C=np.inf, tol=1e-10, max_iter=1000).fit(x[0], y[0])
    np.testing.assert_allclose(w, reference.coef_[0], rtol=1e-4)
    assert b == pytest.approx(reference.intercept_[0], rel=1e-4)
    # fitted to the posterior itself, a logistic function of x, it finds the posterior's
    # weights: the first feature with slope = separation, the log prior ratio as bias
    p = problem.posterior(x[0])[:, 1]
    w, b = cg.fit_logistic_to_probabilities(x[0], p)
    np.testing.assert_allclose(w, [2.0, 0.0], atol=1e-8)
    assert b == pytest.approx(-np.log(3.0))


def test_logistic_fit_refuses_bad_targets():
    with pytest.raises(ValueError, match="probabilities"):
        cg.fit_logistic_to_probabilities(np.zeros((3, 2)), [0.0, 1.5, 0.5])


# ---------------------------------------------------------------------------------------------
# The grid.


def test_grid_shapes_names_and_ranges(small_grid):
    g = small_grid
    assert g.losses == list(cg.GRID_LOSSES) and g.imbalances == list(cg.IMBALANCES)
    assert g.noise_levels == [0.0, 0.25] and g.seeds == SMALL["seeds"]
    assert g.noise == "symmetric" and g.checkpoints == [5, 10, 12]
    for name in cg.METRICS:
        assert g.metrics[name].shape == g.last_metrics[name].shape == (6, 2, 2, 3)
    for name in cg.CURVES:
        assert g.curves[name].shape == (6, 2, 2, 3, 3)
    assert g.probabilities.shape == g.last_probabilities.shape == (6, 2, 2, 3, 200)
    assert g.test_labels.shape == (2, 2, 3, 200)
    assert np.isin(g.stopped_at, g.checkpoints).all() and g.stopped_at.shape == (6, 2, 2, 3)
    for name in ("reproduced", "memorisation"):
        assert np.isnan(g.metrics[name][:, :, 0]).all()  # nothing flipped
    noisy = g.metrics["reproduced"][:, :, 1]
    assert ((noisy >= 0) & (noisy <= 1)).all()
    for name in ("accuracy", "average precision", "ECE", "Brier"):
        values = g.metrics[name]
        assert ((values >= 0) & (values <= 1)).all()
    assert (g.metrics["log loss"] > 0).all()


def test_test_labels_are_the_clean_labels_of_each_seed(small_grid):
    sizes = list(SMALL["sizes"])
    for i, priors in enumerate(cg.IMBALANCES.values()):
        splits = GaussianClasses(separation=2.0, priors=priors).sample_splits(
            sizes, seeds=SMALL["seeds"]
        )
        for e in range(2):  # the same points and labels at every noise level
            np.testing.assert_array_equal(small_grid.test_labels[i, e], splits[2][1])


def test_metrics_agree_with_the_stored_probabilities_and_scikit_learn(small_grid):
    for g in (small_grid, small_grid.at_last_step()):
        p, y = g.probabilities, g.test_labels[None]
        np.testing.assert_allclose(g.metrics["accuracy"], ((p > 0.5) == y).mean(axis=-1))
        ece = expected_calibration_error(np.broadcast_to(y, p.shape), p)
        np.testing.assert_allclose(g.metrics["ECE"], ece)
        for k, i, e, s in [(2, 1, 1, 0), (5, 0, 0, 2)]:  # focal, 1:9, noisy; MAE, balanced
            labels, q = g.test_labels[i, e, s], p[k, i, e, s]
            expected = average_precision_score(labels, q)
            assert g.metrics["average precision"][k, i, e, s] == pytest.approx(expected)
            assert g.metrics["log loss"][k, i, e, s] == pytest.approx(log_loss(labels, q))
            assert g.metrics["Brier"][k, i, e, s] == pytest.approx(brier_score_loss(labels, q))


def test_average_precision_ranks_by_the_logit_where_probabilities_saturate():
    # The MAE trained long saturates its probabilities at exactly 0 or 1 in float64; ranked
    # by the logit difference the points keep their order, so no ties are made up.
    g = cg.noise_imbalance_grid(
        {"MAE": cg.GRID_LOSSES["MAE"]}, noise_levels=[0.0], seeds=[0, 1], steps=300
    ).at_last_step()
    p, y = g.probabilities[0, 0, 0], g.test_labels[0, 0]
    assert ((p == 0) | (p == 1)).mean() > 0.05
    from_probabilities = [average_precision_score(y[s], p[s]) for s in range(2)]
    assert (g.metrics["average precision"][0, 0, 0] > from_probabilities).all()


def test_memorisation_is_the_reproduced_share_beyond_the_error_rate(small_grid):
    g = small_grid
    for metrics in (g.metrics, g.last_metrics, g.bayes):
        expected = metrics["reproduced"] - (1 - metrics["accuracy"])
        np.testing.assert_array_equal(metrics["memorisation"], expected)


def test_early_stopping_takes_the_best_noisy_validation_checkpoint(small_grid):
    g = small_grid
    position = np.searchsorted(g.checkpoints, g.stopped_at)
    best = g.curves["noisy valid accuracy"].argmax(axis=-1)  # the first of equal maxima
    np.testing.assert_array_equal(position, best)
    for name in cg.CURVES:
        chosen = np.take_along_axis(g.curves[name], position[..., None], -1)[..., 0]
        np.testing.assert_array_equal(g.metrics[name], chosen)
        np.testing.assert_array_equal(g.last_metrics[name], g.curves[name][..., -1])
    last = g.at_last_step()
    assert (last.stopped_at == 12).all() and last.metrics is g.last_metrics
    assert not np.array_equal(g.probabilities, last.probabilities)


def test_a_checkpoint_is_what_a_shorter_training_run_gives(small_grid):
    # The curves come from snapshots of one run: at step 10 they are the last step of a run
    # trained for 10 steps.
    short = cg.noise_imbalance_grid(noise_levels=[0.0, 0.25], **{**SMALL, "steps": 10})
    for name in cg.CURVES:
        np.testing.assert_array_equal(short.last_metrics[name], small_grid.curves[name][..., 1])


def test_stopping_on_average_precision_for_the_rare_class():
    g = cg.noise_imbalance_grid(
        {"cross-entropy": cg.GRID_LOSSES["cross-entropy"]},
        noise_levels=[0.2],
        stop_on=cg.STOP_ON,
        **SMALL,
    )
    position = np.searchsorted(g.checkpoints, g.stopped_at)
    np.testing.assert_array_equal(
        position[:, 0], g.curves["noisy valid accuracy"][:, 0].argmax(axis=-1)
    )
    np.testing.assert_array_equal(
        position[:, 1], g.curves["noisy valid average precision"][:, 1].argmax(axis=-1)
    )


def test_noisy_validation_accuracy_is_the_clean_one_without_noise(small_grid):
    m = small_grid.metrics
    np.testing.assert_array_equal(m["noisy valid accuracy"][:, :, 0], m["valid accuracy"][:, :, 0])
    assert (m["noisy valid accuracy"][:, :, 1] != m["valid accuracy"][:, :, 1]).any()


def test_bayes_reference_and_its_reproduced_share(small_grid):
    g = small_grid
    # the test points, hence the Bayes classifier's scores, are the same at every noise level
    for name in ("accuracy", "average precision", "ECE", "log loss", "Brier"):
        np.testing.assert_array_equal(g.bayes[name][:, 0], g.bayes[name][:, 1])
    # recompute the Bayes classifier's agreement with the flipped labels for one run
    problem = GaussianClasses(separation=2.0)
    (x, y), _, (x_test, y_test) = problem.sample_splits(list(SMALL["sizes"]), seeds=[1])
    noisy = flip_labels(y, 0.25, n_classes=2, seeds=[1])
    flipped = noisy != y
    bayes = problem.posterior(x)[..., 1] > 0.5
    expected = (bayes == noisy)[flipped].mean()
    assert g.bayes["reproduced"][0, 1, 1] == pytest.approx(expected)
    # the noisy posterior's ECE, estimated on the clean test labels like the networks'
    p = problem.posterior(x_test)[..., 1]
    noisy_ece = expected_calibration_error(y_test, cg.noisy_posterior(p, 0.25))
    assert g.bayes["noisy posterior ECE"][0, 1, 1] == pytest.approx(float(noisy_ece[0]))
    np.testing.assert_array_equal(g.bayes["noisy posterior ECE"][:, 0], g.bayes["ECE"][:, 0])
    # symmetric noise leaves the decision alone
    np.testing.assert_array_equal(g.bayes["noisy posterior accuracy"], g.bayes["accuracy"])


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
    ).at_last_step()
    theory = g.bayes["noisy posterior ECE"][0, 0]
    np.testing.assert_allclose(g.metrics["ECE"][0, 0, 0], theory, atol=0.02)
    assert theory.min() > 0.1
    # and it keeps the Bayes classifier's accuracy: symmetric noise leaves the decision alone
    np.testing.assert_allclose(g.metrics["accuracy"][0, 0, 0], g.bayes["accuracy"][0, 0], atol=0.01)


def test_missed_positives_relabel_only_positives_exactly():
    problem = GaussianClasses(separation=2.0, priors=(3.0, 1.0))
    ((_, y),) = problem.sample_splits([400], seeds=[0, 1])
    noisy = cg.miss_positives(y, [0.25, 0.5], seeds=[0, 1])
    assert ((noisy == 1) <= (y == 1)).all()  # no negative became positive
    assert ((y == 1) & (noisy == 0)).sum(axis=1).tolist() == [25, 50]  # of 100 positives
    assert (y == cg.miss_positives(y, 0.0, seeds=[0, 1])).all()
    # a Monte Carlo check of the noisy posterior (1 - eta_1) p, at posterior 0.8
    rng = np.random.default_rng(1)
    labels = (rng.random((1, 100_000)) < 0.8).astype(np.int64)
    missed = cg.miss_positives(labels, 0.3, seeds=[0])
    assert abs(missed.mean() - float(cg.noisy_posterior(0.8, 0.0, 0.3))) < 0.005


@pytest.mark.parametrize(
    "y, fraction, match",
    [
        (np.array([[0, 2]]), 0.1, r"class indices in \[0, 2\), got 2"),
        (np.array([0, 1]), 0.1, "shape"),
        (np.array([[0, 1]]), 1.5, "fraction"),
    ],
)
def test_missed_positives_refuse_bad_input(y, fraction, match):
    with pytest.raises(ValueError, match=match):
        cg.miss_positives(y, fraction, seeds=[0])


def test_a_grid_with_missed_positives():
    g = cg.noise_imbalance_grid(
        {"cross-entropy": cg.GRID_LOSSES["cross-entropy"]},
        noise_levels=[0.6],
        imbalances={"balanced": None},
        noise="missed positives",
        **SMALL,
    )
    assert g.noise == "missed positives"
    # with 60% of the positives missed the noisy posterior 0.4 p never exceeds 1/2: its
    # decision calls everything negative, right on half of the balanced test points
    np.testing.assert_allclose(g.bayes["noisy posterior accuracy"], 0.5)
    assert (g.bayes["accuracy"] > 0.75).all()
    with pytest.raises(ValueError, match=r"shares in \[0, 1\) for missed positives"):
        cg.noise_imbalance_grid(noise_levels=[1.0], noise="missed positives", **SMALL)


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
        g.mean("cost")


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"noise_levels": [0.5]}, "noise_levels"),
        ({"noise_levels": []}, "noise_levels"),
        ({"seeds": [0]}, "at least two seeds"),
        ({"losses": {}}, "at least one"),
        ({"imbalances": {}}, "at least one"),
        ({"steps": 0}, "steps"),
        ({"noise": "asymmetric"}, "noise must be one of"),
        ({"stop_on": "log loss"}, "stop_on must be one of"),
        ({"stop_on": {"balanced": "accuracy"}}, "map every imbalance"),
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


def test_plot_training_curves_draws_the_mean_curve_of_every_loss(small_grid):
    fig, axes = plt.subplots(2, 1)
    panels = [("accuracy", "balanced", 0.25), ("memorisation", "1:9", 0.25)]
    cg.plot_training_curves(small_grid, axes, panels)
    line = axes[0].get_lines()[0]
    np.testing.assert_array_equal(line.get_xdata(), small_grid.checkpoints)
    np.testing.assert_allclose(
        line.get_ydata(), small_grid.curves["accuracy"][0, 0, 1].mean(axis=0)
    )
    assert len(axes[1].get_lines()) == 7  # and the Bayes classifier's memorisation
    names = [text.get_text() for text in fig.legends[0].get_texts()]
    assert names == [*small_grid.losses, "true posterior"]
    assert axes[0].get_title() == "accuracy, balanced, 25% flipped"
    with pytest.raises(ValueError, match="metric must be one of"):
        cg.plot_training_curves(small_grid, axes, [("ECE", "balanced", 0.25)] * 2)
    plt.close(fig)


def test_plot_noise_grid_needs_one_axes_per_panel(small_grid):
    fig, axes = plt.subplots(1, 1)
    with pytest.raises(ValueError, match="one axes per panel"):
        cg.plot_noise_grid(small_grid, axes)
    plt.close(fig)
