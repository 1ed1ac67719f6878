"""Tests for companion.binary: linear binary classifiers by gradient descent and by Newton, and
their scores on held-out data."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, log_loss

from companion import binary_cross_entropy, binary_cross_entropy_with_logits, mse_loss
from companion.binary import (
    LinearPath,
    LogisticRegressionFit,
    fit_logistic_regression,
    held_out_scores,
    train_linear_classifier,
)
from companion.calibration import calibration_bins
from companion.data import GaussianClasses
from companion.logistic import fit_logistic


def sklearn_fit(x, y, sample_weight=None):
    model = LogisticRegression(C=np.inf, tol=1e-12, max_iter=10_000)
    model.fit(x, y, sample_weight=sample_weight)
    return model.coef_[0], model.intercept_[0]


@pytest.fixture(scope="module")
def runs():
    (x, y), (x_test, _) = GaussianClasses(separation=1.5).sample_splits([80, 50], seeds=range(4))
    return x, y, x_test


# ---------------------------------------------------------------------------------------------
# fit_logistic_regression


@pytest.mark.parametrize("pos_weight", [1.0, 0.25, 9.0])
def test_newton_fit_equals_sklearn_run_by_run(runs, pos_weight):
    x, y, _ = runs
    fit = fit_logistic_regression(x, y, pos_weight=pos_weight)
    assert isinstance(fit, LogisticRegressionFit)
    assert fit.weights.shape == (4, 2) and fit.biases.shape == (4,)
    for r in range(4):
        weights = np.where(y[r] == 1, pos_weight, 1.0)
        coef, intercept = sklearn_fit(x[r], y[r], weights)
        np.testing.assert_allclose(fit.weights[r], coef, rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(fit.biases[r], intercept, rtol=1e-6, atol=1e-8)


def test_newton_fit_zeroes_the_gradient_of_the_companion_loss(runs):
    x, y, _ = runs
    fit = fit_logistic_regression(x, y, pos_weight=3.0)
    w = torch.tensor(fit.weights, requires_grad=True)
    b = torch.tensor(fit.biases, requires_grad=True)
    z = torch.einsum("rnd,rd->rn", torch.tensor(x), w) + b[:, None]
    loss = binary_cross_entropy_with_logits(
        z, torch.tensor(y, dtype=torch.float64), reduction="sum", pos_weight=3.0
    )
    loss.backward()
    assert w.grad.abs().max() < 1e-9 and b.grad.abs().max() < 1e-9


def test_hessian_is_the_fisher_information_and_gives_standard_errors(runs):
    x, y, _ = runs
    fit = fit_logistic_regression(x, y)
    a = np.concatenate([x, np.ones((*x.shape[:2], 1))], axis=2)
    p = 1 / (1 + np.exp(-fit.logits(x)))
    for r in range(4):
        fisher = (a[r].T * (p[r] * (1 - p[r]))) @ a[r]
        np.testing.assert_allclose(fit.hessian[r], fisher, rtol=1e-10)
        np.testing.assert_allclose(
            fit.standard_errors[r], np.sqrt(np.diag(np.linalg.inv(fisher))), rtol=1e-10
        )


def test_one_dimensional_and_shared_inputs(runs):
    x1 = np.array([-2.0, -1.0, -0.5, 0.5, 1.0, 2.0, 3.0])
    y1 = np.array([0, 0, 1, 0, 1, 1, 1])
    fit = fit_logistic_regression(x1, y1)
    coef, intercept = sklearn_fit(x1[:, None], y1)
    np.testing.assert_allclose(fit.weights[0], coef, rtol=1e-6)
    np.testing.assert_allclose(fit.biases[0], intercept, rtol=1e-6, atol=1e-9)
    # one x for several runs of labels
    two = fit_logistic_regression(x1, np.stack([y1, 1 - y1]))
    np.testing.assert_allclose(two.weights[1], -two.weights[0], rtol=1e-8)
    assert fit.logits(x1).shape == (1, 7)


def test_separable_classes_and_bad_arguments_raise():
    with pytest.raises(ValueError, match="did not converge.*separable"):
        fit_logistic_regression([-2.0, -1.0, 1.0, 2.0], [0, 0, 1, 1], max_iter=30)
    with pytest.raises(ValueError, match="singular Hessian.*separable"):
        fit_logistic_regression([-2.0, -1.0, 1.0, 2.0], [0, 0, 1, 1])  # before 100 steps
    with pytest.raises(ValueError, match="collinear"):
        fit_logistic_regression([[0.0, 0.0], [1.0, 2.0], [2.0, 4.0]], [0, 1, 0])
    with pytest.raises(ValueError, match="pos_weight"):
        fit_logistic_regression([0.0, 1.0], [0, 1], pos_weight=0.0)
    with pytest.raises(ValueError, match="labels 0 and 1"):
        fit_logistic_regression([0.0, 1.0, 2.0], [0, 1, 2])
    with pytest.raises(ValueError, match=r"y must have shape"):
        fit_logistic_regression([0.0, 1.0, 2.0], [0, 1])
    with pytest.raises(TypeError, match="labels 0 and 1"):
        fit_logistic_regression([0.0, 1.0], ["a", "b"])
    with pytest.raises(ValueError, match="tol"):
        fit_logistic_regression([0.0, 1.0], [0, 1], tol=0.0)
    with pytest.raises(ValueError, match="x must have shape"):
        fit_logistic_regression(np.zeros((1, 1, 1, 1)), [0])


# ---------------------------------------------------------------------------------------------
# train_linear_classifier


def test_gradient_descent_equals_the_numpy_loop_of_chapter_2():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(30, 2))
    y = (x @ [1.0, -2.0] + rng.normal(size=30) > 0).astype(float)
    path = train_linear_classifier(
        x, y, binary_cross_entropy_with_logits, weights=[0.5, -0.3], biases=0.2,
        lr=0.7, steps=25, dtype=torch.float64,
    )  # fmt: skip
    reference = fit_logistic(x, y, init=(0.5, -0.3, 0.2), lr=0.7, epochs=25)
    assert isinstance(path, LinearPath) and path.weights.shape == (26, 1, 2)
    np.testing.assert_allclose(path.weights[:, 0], reference.weights, rtol=1e-12)
    np.testing.assert_allclose(path.biases[:, 0], reference.biases, rtol=1e-12)
    np.testing.assert_allclose(path.losses[:, 0], reference.loss[:-1], rtol=1e-12)


def test_runs_are_independent_and_start_where_asked(runs):
    x, y, x_test = runs
    start_w = np.array([[3.0, 0.0], [-3.0, 1.0], [0.0, 0.0], [20.0, -20.0]])
    start_b = np.array([0.0, 1.0, -1.0, 5.0])

    def brier(z, t, reduction):
        return mse_loss(torch.sigmoid(z), t, reduction=reduction)

    together = train_linear_classifier(
        x, y, brier, weights=start_w, biases=start_b, lr=1.0, steps=15
    )
    np.testing.assert_array_equal(together.weights[0], start_w)
    np.testing.assert_array_equal(together.biases[0], start_b)
    for r in (1, 3):
        alone = train_linear_classifier(
            x[r], y[r], brier, weights=start_w[r], biases=start_b[r], lr=1.0, steps=15
        )
        np.testing.assert_allclose(alone.weights[:, 0], together.weights[:, r], rtol=1e-6)
        np.testing.assert_allclose(alone.logits(x_test[r]), together.logits(x_test)[[r]])
    assert together.logits(x_test, step=0).shape == (4, 50)


@pytest.mark.parametrize("optimizer", ["gd", "adam"])
def test_one_step_size_per_run_equals_one_call_per_step_size(runs, optimizer):
    x, y, x_test = runs
    step_sizes = np.array([0.1, 1.0, 10.0, 100.0])
    grid = train_linear_classifier(
        x[0], y[0], binary_cross_entropy_with_logits, weights=[2.0, -1.0], biases=0.5,
        lr=step_sizes, steps=12, optimizer=optimizer, dtype=torch.float64,
    )  # fmt: skip
    assert grid.weights.shape == (13, 4, 2)
    for r, eta in enumerate(step_sizes):
        alone = train_linear_classifier(
            x[0], y[0], binary_cross_entropy_with_logits, weights=[2.0, -1.0], biases=0.5,
            lr=eta, steps=12, optimizer=optimizer, dtype=torch.float64,
        )  # fmt: skip
        np.testing.assert_allclose(grid.weights[:, r], alone.weights[:, 0], rtol=1e-13)
        np.testing.assert_allclose(grid.biases[:, r], alone.biases[:, 0], rtol=1e-13)
    assert not np.allclose(grid.weights[-1, 0], grid.weights[-1, 1])


def test_adam_equals_torch_optim_adam(runs):
    x, y, _ = runs
    start = torch.tensor([[1.5, -2.0, 0.3], [-4.0, 0.5, 1.0]], dtype=torch.float64)
    eta, betas, eps = torch.tensor([[0.05], [0.3]], dtype=torch.float64), (0.8, 0.99), 1e-6
    path = train_linear_classifier(
        x[:2], y[:2], binary_cross_entropy_with_logits, weights=start[:, :2].numpy(),
        biases=start[:, 2].numpy(), lr=eta[:, 0].numpy(), steps=30, optimizer="adam",
        betas=betas, eps=eps, dtype=torch.float64,
    )  # fmt: skip
    inputs = torch.cat([torch.as_tensor(x[:2]), torch.ones(2, x.shape[1], 1)], dim=2)
    targets = torch.as_tensor(y[:2], dtype=torch.float64)
    for r in range(2):
        theta = start[r].clone().requires_grad_(True)
        adam = torch.optim.Adam([theta], lr=float(eta[r]), betas=betas, eps=eps)
        for t in range(1, 31):
            adam.zero_grad()
            binary_cross_entropy_with_logits(inputs[r] @ theta, targets[r]).backward()
            adam.step()
            np.testing.assert_allclose(path.weights[t, r], theta[:2].detach(), rtol=1e-12)
            np.testing.assert_allclose(path.biases[t, r], theta[2].item(), rtol=1e-12)


def test_adam_moves_each_weight_by_about_the_step_size_whatever_the_gradient():
    # one weight with a gradient 10,000 times smaller than the other's: Adam moves both alike
    x, y = np.array([[1e-4, 0.0], [0.0, 1.0]]), np.array([1.0, 1.0])

    def linear(z, t, reduction):  # the loss -z: gradient -x, the same at every step
        return -z

    path = train_linear_classifier(
        x, y, linear, weights=[0.0, 0.0], biases=0.0, lr=0.5, steps=3, optimizer="adam",
        dtype=torch.float64,
    )  # fmt: skip
    np.testing.assert_allclose(path.weights[:, 0, 0], [0, 0.5, 1.0, 1.5], rtol=1e-3)
    np.testing.assert_allclose(path.weights[:, 0, 1], [0, 0.5, 1.0, 1.5], rtol=1e-6)


def test_float32_clamp_freezes_a_confidently_wrong_model_on_probabilities():
    # every label is 0 and every logit starts at 30: sigmoid rounds to 1 in float32
    x, y = np.zeros((6, 1)), np.zeros(6)

    def bce_on_probabilities(z, t, reduction):
        return binary_cross_entropy(torch.sigmoid(z), t, reduction=reduction)

    frozen = train_linear_classifier(
        x, y, bce_on_probabilities, weights=[0.0], biases=30.0, lr=1.0, steps=5
    )
    moving = train_linear_classifier(
        x, y, binary_cross_entropy_with_logits, weights=[0.0], biases=30.0, lr=1.0, steps=5
    )
    assert (frozen.biases == 30.0).all() and (frozen.losses == 100.0).all()
    np.testing.assert_allclose(moving.biases[:, 0], 30.0 - np.arange(6), rtol=1e-6)


def test_gradient_descent_bad_arguments_raise(runs):
    x, y, _ = runs
    kwargs = dict(weights=[0.0, 0.0], biases=0.0, steps=2)
    with pytest.raises(ValueError, match="lr must be finite and > 0"):
        train_linear_classifier(x, y, binary_cross_entropy_with_logits, lr=0.0, **kwargs)
    with pytest.raises(ValueError, match="steps must be an integer"):
        train_linear_classifier(
            x, y, binary_cross_entropy_with_logits, weights=[0.0, 0.0], biases=0.0,
            lr=1.0, steps=-1,
        )  # fmt: skip
    with pytest.raises(ValueError, match="lr must be finite and > 0"):
        train_linear_classifier(x, y, binary_cross_entropy_with_logits, lr=[1.0, -1], **kwargs)
    with pytest.raises(ValueError, match="one step size per run"):
        train_linear_classifier(
            x, y, binary_cross_entropy_with_logits, lr=[1.0, 2.0], **kwargs
        )  # four runs, two step sizes
    with pytest.raises(ValueError, match="optimizer must be 'gd' or 'adam'"):
        train_linear_classifier(
            x, y, binary_cross_entropy_with_logits, lr=1.0, optimizer="sgd", **kwargs
        )
    with pytest.raises(ValueError, match="betas"):
        train_linear_classifier(
            x, y, binary_cross_entropy_with_logits, lr=1.0, optimizer="adam",
            betas=(0.9, 1.0), **kwargs,
        )  # fmt: skip
    with pytest.raises(ValueError, match="one value per example"):
        train_linear_classifier(
            x, y, lambda z, t, reduction: z.sum(), lr=1.0, **kwargs
        )  # a loss that ignores reduction="none"
    path = train_linear_classifier(x, y, binary_cross_entropy_with_logits, lr=1.0, **kwargs)
    with pytest.raises(ValueError, match="features"):
        path.logits(np.zeros((5, 3)))


def test_training_restores_the_thread_count(runs):
    x, y, _ = runs
    before = torch.get_num_threads()
    train_linear_classifier(
        x, y, binary_cross_entropy_with_logits, weights=[0.0, 0.0], biases=0.0, lr=1.0, steps=2
    )
    assert torch.get_num_threads() == before


def test_without_torch_the_newton_fit_works_and_training_names_the_extra():
    code = (
        "import sys\nsys.modules['torch'] = None\n"
        "from companion.binary import fit_logistic_regression, train_linear_classifier\n"
        "print(fit_logistic_regression([0.0, 1.0, 2.0, 3.0], [0, 1, 0, 1]).iterations)\n"
        "train_linear_classifier([0.0], [0], None, weights=[0.0], biases=0.0, lr=1.0, steps=1)"
    )
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root)}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert int(result.stdout) > 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("ImportError: companion.binary.train_linear_classifier needs torch")
    assert last_line.endswith('pip install "loss-functions-companion[torch]"')


# ---------------------------------------------------------------------------------------------
# held_out_scores


def test_held_out_scores_equal_scikit_learn_run_by_run():
    rng = np.random.default_rng(3)
    z = rng.normal(scale=3.0, size=(5, 200))
    y = (rng.random((5, 200)) < 1 / (1 + np.exp(-0.7 * z))).astype(int)
    truth = 1 / (1 + np.exp(-0.7 * z))
    scores = held_out_scores(z, y, truth)
    assert set(scores) == {"accuracy", "log loss", "ECE", "mean |p - p*|"}
    p = 1 / (1 + np.exp(-z))
    for r in range(5):
        assert scores["accuracy"][r] == accuracy_score(y[r], z[r] > 0)
        assert np.isclose(scores["log loss"][r], log_loss(y[r], p[r]), rtol=1e-12)
        assert np.isclose(scores["ECE"][r], calibration_bins(y[r], p[r]).ece, rtol=1e-12)
        assert np.isclose(scores["mean |p - p*|"][r], np.abs(p[r] - truth[r]).mean())


def test_held_out_log_loss_stays_finite_for_confident_logits():
    scores = held_out_scores([[800.0, -800.0]], [[0, 1]])  # sigmoid is exactly 1 and 0
    np.testing.assert_allclose(scores["log loss"], [800.0])
    assert scores["accuracy"].tolist() == [0.0]


def test_held_out_scores_bad_arguments_raise():
    with pytest.raises(ValueError, match="same shape"):
        held_out_scores([[0.0, 1.0]], [[0, 1, 1]])
    with pytest.raises(ValueError, match="labels must be 0 and 1"):
        held_out_scores([0.0, 1.0], [0, 2])
    with pytest.raises(ValueError, match="posterior"):
        held_out_scores([0.0, 1.0], [0, 1], [0.5])
