"""Tests for companion.networks.train_settings: many loss settings trained in one loop."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from companion import (
    binary_cross_entropy_with_logits,
    cross_entropy,
    kl_div,
    multi_margin_loss,
    sigmoid_focal_loss,
)
from companion.data import GaussianClasses
from companion.networks import grouped_loss, predict, train_classifier, train_settings

BINARY = {
    "CE": (binary_cross_entropy_with_logits, {}),
    "weighted": (binary_cross_entropy_with_logits, {"pos_weight": torch.tensor(5.0)}),
    "focal": (sigmoid_focal_loss, {"gamma": 2.0, "alpha": 0.25}),
}


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_each_setting_is_the_run_train_classifier_gives_it(optimizer):
    problem = GaussianClasses(separation=2.0, priors=(10, 1))
    (x, y), (x_test, _) = problem.sample_splits([110, 50], seeds=[3, 4, 5])
    seeds = [3, 4, 5]
    common = {"lr": 0.2, "n_out": 1, "n_hidden": 4, "optimizer": optimizer, "batch_size": 22}
    runs = train_settings(x, y, BINARY, seeds=seeds, epochs=4, **common)
    logits = runs.logits(x_test)
    assert runs.names == ("CE", "weighted", "focal") and logits.shape == (3, 3, 50, 1)
    for g, (loss, kwargs) in enumerate(BINARY.values()):
        alone = train_classifier(x, y, loss, seeds=seeds, epochs=4, loss_kwargs=kwargs, **common)
        np.testing.assert_allclose(
            runs.result.losses[:, 3 * g : 3 * g + 3], alone.losses, rtol=1e-5
        )
        np.testing.assert_allclose(logits[g], predict(alone.model, x_test), rtol=1e-4, atol=1e-5)
        for s in range(3):
            np.testing.assert_allclose(
                predict(runs.select(list(BINARY)[g], s), x_test[s])[0],
                logits[g, s],
                rtol=1e-12,
            )


def test_shared_data_class_targets_and_one_rate_per_seed():
    x = np.array([[-2.0, 0.0], [2.0, 0.0], [0.0, 2.0]]).repeat(4, axis=0)
    y = np.arange(3).repeat(4)
    settings = {"CE": (cross_entropy, {}), "hinge": (multi_margin_loss, {"margin": 2.0})}
    runs = train_settings(
        x, y, settings, seeds=[0, 1], lr=[0.1, 0.5], n_out=3, n_hidden=0, epochs=3
    )
    assert runs.result.model.n_runs == 4 and runs.logits(x).shape == (2, 2, 12, 3)
    hinge_alone = train_classifier(
        x, y, multi_margin_loss, seeds=[0, 1], lr=[0.1, 0.5], n_out=3, n_hidden=0,
        epochs=3, loss_kwargs={"margin": 2.0},
    )  # fmt: skip
    np.testing.assert_allclose(runs.result.losses[:, 2:], hinge_alone.losses, rtol=1e-5)


def test_soft_targets_per_seed_and_a_loss_per_logit():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 8, 3))
    soft = rng.dirichlet(np.ones(4), size=(2, 8))

    def kl(z, t, reduction):
        return kl_div(torch.log_softmax(z, 1), t, reduction=reduction)

    runs = train_settings(
        x, soft, {"CE": (cross_entropy, {}), "KL": (kl, {})}, seeds=[0, 1], lr=0.1,
        n_hidden=0, epochs=2, batch_size=8,
    )  # fmt: skip
    # cross-entropy = KL + the entropy of the targets, so the losses differ by a constant
    entropy = -(soft * np.log(soft)).sum(-1).mean(-1)
    first = runs.result.losses[0]
    np.testing.assert_allclose(first[:2] - first[2:], entropy, rtol=1e-5)


def test_grouped_loss_scores_each_block_with_its_own_setting():
    loss = grouped_loss(list(BINARY.values()))
    z = torch.linspace(-2, 2, 6)[:, None]
    t = torch.tensor([[0.0], [1.0]] * 3)
    values = loss(z, t)
    for g, (function, kwargs) in enumerate(BINARY.values()):
        block = slice(2 * g, 2 * g + 2)
        expected = function(z[block], t[block], reduction="none", **kwargs)[:, 0]
        torch.testing.assert_close(values[block], expected)
    torch.testing.assert_close(loss(z, t, reduction="sum"), values.sum())
    torch.testing.assert_close(loss(z, t, reduction="mean"), values.mean())
    with pytest.raises(ValueError, match="do not split into 3 equal blocks|does not split"):
        loss(z[:5], t[:5])
    with pytest.raises(ValueError, match="reduction"):
        loss(z, t, reduction="batchmean")
    with pytest.raises(ValueError, match="at least one"):
        grouped_loss([])
    one = grouped_loss([BINARY["CE"]])(z[:1], t[:1])  # z = -2, t = 0
    assert math.isclose(float(one), math.log(1 + math.exp(-2)), rel_tol=1e-6)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"settings": {}}, ValueError, "at least one"),
        ({"loss_kwargs": {"gamma": 1.0}}, TypeError, "not loss_kwargs"),
        ({"lr": [0.1, 0.2, 0.3]}, ValueError, "one per seed"),
        ({"x": np.zeros((3, 5, 2))}, ValueError, "first axis"),
    ],
)
def test_train_settings_rejects_bad_arguments(kwargs, error, match):
    arguments = {
        "x": np.zeros((2, 5, 2)),
        "y": np.zeros((2, 5), dtype=np.int64),
        "settings": {"CE": BINARY["CE"]},
        "seeds": [0, 1],
        "lr": 0.1,
        "n_out": 1,
    }
    arguments.update(kwargs)
    x, y, settings = arguments.pop("x"), arguments.pop("y"), arguments.pop("settings")
    with pytest.raises(error, match=match):
        train_settings(x, y, settings, **arguments)


def test_select_checks_its_arguments():
    runs = train_settings(
        np.array([[-1.0], [1.0]]), np.array([0, 1]), {"CE": BINARY["CE"]}, seeds=[0],
        lr=0.1, n_out=1, n_hidden=0, epochs=1,
    )  # fmt: skip
    with pytest.raises(ValueError, match="one of the settings"):
        runs.select("focal", 0)
    with pytest.raises(ValueError, match="seed_index"):
        runs.select("CE", 1)
