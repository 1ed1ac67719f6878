"""Tests for companion.networks: batched networks, their training loop, line error, predictions."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from companion import (
    binary_cross_entropy_with_logits,
    cross_entropy,
    huber_loss,
    kl_div,
    mse_loss,
    multi_margin_loss,
    nll_loss,
    rmse,
    sigmoid_focal_loss,
    smooth_l1_loss,
)
from companion.data import GaussianClasses
from companion.experiments import line_error as closed_form_line_error
from companion.networks import (
    MLP,
    TrainResult,
    _draw_weights,
    init_mlp,
    line_error,
    one_torch_thread,
    predict,
    predict_proba,
    train_classifier,
    train_mlp,
)


def line_data(n=30, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2, 2, n)
    return x, 2 * x + 1 + 0.3 * rng.normal(size=n)


def as_module(net: MLP, run: int) -> torch.nn.Sequential:
    """Run ``run`` of ``net`` as a torch.nn.Sequential(Linear, ReLU, Linear)."""
    n_in, n_hidden = net.w1.shape[1:]
    module = torch.nn.Sequential(
        torch.nn.Linear(n_in, n_hidden),
        torch.nn.ReLU(),
        torch.nn.Linear(n_hidden, net.w2.shape[2]),
    ).to(net.w1.dtype)
    with torch.no_grad():
        module[0].weight.copy_(net.w1[run].T)
        module[0].bias.copy_(net.b1[run, 0])
        module[2].weight.copy_(net.w2[run].T)
        module[2].bias.copy_(net.b2[run, 0])
    return module


def reference_training(x, y, seed, optimizer_class, lr, epochs, batch_size, n_hidden, loss):
    """Train one network with torch.nn and torch.optim on the batches train_mlp uses."""
    generator = torch.Generator().manual_seed(seed)
    theta = _draw_weights([generator], 1, n_hidden, 1, torch.float64)
    net = init_mlp([seed], n_hidden=n_hidden, dtype=torch.float64)
    np.testing.assert_array_equal(
        theta[0].numpy(),
        torch.cat([w[0].flatten() for w in (net.w1, net.b1, net.w2, net.b2)]).numpy(),
    )
    module = as_module(net, 0)
    optimizer = optimizer_class(module.parameters(), lr=lr)
    inputs = torch.as_tensor(x, dtype=torch.float64)[:, None]
    targets = torch.as_tensor(y, dtype=torch.float64)[:, None]
    for _ in range(epochs):
        order = torch.randperm(len(x), generator=generator)
        for start in range(0, len(x), batch_size):
            batch = order[start : start + batch_size]
            optimizer.zero_grad()
            loss(module(inputs[batch]), targets[batch]).backward()
            optimizer.step()
    return module


# ---------------------------------------------------------------------------------------------
# init_mlp and the forward pass


def test_init_mlp_draws_pytorch_default_ranges_per_seed():
    net = init_mlp([0, 1, 2], n_in=3, n_hidden=16, n_out=2)
    assert tuple(net.w1.shape) == (3, 3, 16) and tuple(net.b1.shape) == (3, 1, 16)
    assert tuple(net.w2.shape) == (3, 16, 2) and tuple(net.b2.shape) == (3, 1, 2)
    assert net.n_runs == 3 and net.w1.dtype == torch.float32
    assert net.w1.abs().max() <= 1 / math.sqrt(3) and net.b1.abs().max() <= 1 / math.sqrt(3)
    assert net.w2.abs().max() <= 1 / math.sqrt(16) and net.b2.abs().max() <= 1 / math.sqrt(16)
    # the draws fill their range (uniform), and different seeds give different weights
    assert net.w1.abs().max() > 0.9 / math.sqrt(3)
    assert not torch.equal(net.w1[0], net.w1[1])


def test_init_mlp_run_depends_only_on_its_own_seed():
    alone = init_mlp([7], n_hidden=8)
    together = init_mlp([3, 7, 11], n_hidden=8)
    for a, b in zip(
        (alone.w1, alone.b1, alone.w2, alone.b2),
        (together.w1, together.b1, together.w2, together.b2),
        strict=True,
    ):
        assert torch.equal(a[0], b[1])


def test_mlp_forward_matches_torch_nn_for_every_run():
    net = init_mlp([0, 1], n_in=2, n_hidden=5, n_out=3, dtype=torch.float64)
    x = torch.randn(7, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    out = net(x)
    assert tuple(out.shape) == (2, 7, 3)
    for run in range(2):
        torch.testing.assert_close(out[run], as_module(net, run)(x), rtol=1e-12, atol=1e-12)
    # one input set per run gives the same as the shared input
    torch.testing.assert_close(net(x.expand(2, 7, 2)), out)


# ---------------------------------------------------------------------------------------------
# train_mlp


@pytest.mark.parametrize(
    "optimizer, optimizer_class, lr",
    [("sgd", torch.optim.SGD, 0.05), ("adam", torch.optim.Adam, 0.01)],
)
@pytest.mark.parametrize("loss", [mse_loss, smooth_l1_loss])
def test_train_mlp_matches_torch_optim_run_by_run(optimizer, optimizer_class, lr, loss):
    x, y = line_data(23)  # the last batch of each epoch is smaller
    result = train_mlp(
        x,
        y,
        loss,
        seeds=[4, 9],
        lr=lr,
        optimizer=optimizer,
        batch_size=5,
        epochs=6,
        n_hidden=8,
        dtype=torch.float64,
    )
    assert result.losses.shape == result.grad_norms.shape == (6 * 5, 2)
    grid = torch.linspace(-2, 2, 11, dtype=torch.float64)[:, None]
    for run, seed in enumerate([4, 9]):
        module = reference_training(x, y, seed, optimizer_class, lr, 6, 5, 8, loss)
        with torch.no_grad():
            expected = module(grid)
        torch.testing.assert_close(result.model(grid)[run], expected, rtol=1e-10, atol=1e-10)


def test_train_mlp_records_the_batch_loss_and_gradient_norm():
    x, y = line_data(20)
    result = train_mlp(x, y, mse_loss, seeds=[0], lr=0.01, batch_size=20, epochs=1, n_hidden=4)
    net = init_mlp([0], n_hidden=4)
    inputs = torch.as_tensor(x, dtype=torch.float32)[:, None]
    targets = torch.as_tensor(y, dtype=torch.float32)[:, None]
    weights = [w.clone().requires_grad_(True) for w in (net.w1, net.b1, net.w2, net.b2)]
    value = mse_loss(MLP(*weights)(inputs)[0], targets)
    value.backward()
    value = value.detach()
    norm = math.sqrt(sum(float(w.grad.square().sum()) for w in weights))
    assert result.losses[0, 0] == pytest.approx(value.item(), rel=1e-6)
    assert result.grad_norms[0, 0] == pytest.approx(norm, rel=1e-5)


def test_runs_are_independent_of_each_other_and_of_a_diverging_neighbour():
    x, y = line_data(40)
    alone = train_mlp(x, y, mse_loss, seeds=[5], lr=0.05, epochs=5)
    together = train_mlp(x, y, mse_loss, seeds=[1, 5, 5], lr=[0.05, 0.05, 1e6], epochs=5)
    assert together.diverged.tolist() == [False, False, True]
    assert not alone.diverged.any()
    grid = torch.linspace(-2, 2, 21)[:, None]
    torch.testing.assert_close(together.model(grid)[1], alone.model(grid)[0])
    np.testing.assert_array_equal(together.losses[:, 1], alone.losses[:, 0])


def test_one_data_set_per_run():
    x, y = line_data(30)
    ys = np.stack([y, y + 100.0])[..., None]
    both = train_mlp(x, ys, smooth_l1_loss, seeds=[0, 0], lr=0.05, epochs=3)
    first = train_mlp(x, y, smooth_l1_loss, seeds=[0], lr=0.05, epochs=3)
    np.testing.assert_array_equal(both.grad_norms[:, 0], first.grad_norms[:, 0])
    assert not np.array_equal(both.grad_norms[:, 1], first.grad_norms[:, 0])


def test_a_loss_without_reduction_argument_is_applied_per_run():
    x, y = line_data(20)
    via_rmse = train_mlp(x, y, rmse, seeds=[0, 1], lr=0.01, epochs=3, batch_size=5)

    def root_of_mean_squares(prediction, target):  # no reduction argument either
        return torch.sqrt(((prediction - target) ** 2).mean())

    manual = train_mlp(x, y, root_of_mean_squares, seeds=[0, 1], lr=0.01, epochs=3, batch_size=5)
    np.testing.assert_allclose(via_rmse.losses, manual.losses, rtol=1e-6)


def test_loss_kwargs_reach_the_loss():
    x, y = line_data(20)
    small = train_mlp(x, y, huber_loss, seeds=[0], lr=0.01, epochs=2, loss_kwargs={"delta": 0.1})
    large = train_mlp(x, y, huber_loss, seeds=[0], lr=0.01, epochs=2, loss_kwargs={"delta": 10})
    assert small.losses[0, 0] < large.losses[0, 0]


def test_training_is_deterministic_and_leaves_the_thread_count_alone():
    x, y = line_data(30)
    before = torch.get_num_threads()
    results = []
    for threads in (1, 2):
        torch.set_num_threads(threads)
        results.append(train_mlp(x, y, mse_loss, seeds=[0, 1], lr=0.01, optimizer="adam"))
        assert torch.get_num_threads() == threads
    torch.set_num_threads(before)
    np.testing.assert_array_equal(results[0].losses, results[1].losses)
    grid = torch.linspace(-2, 2, 5)[:, None]
    assert torch.equal(results[0].model(grid), results[1].model(grid))


def test_mse_with_two_far_outliers_diverges_where_smooth_l1_trains():
    """The book's chapter 5 experiment, on three seeds: SGD on MSE overflows, Smooth L1 not."""
    rng = np.random.default_rng(0)
    x = rng.uniform(-2, 2, 100)
    y = 2 * x + 1 + 0.5 * rng.normal(size=100)
    y[[10, 60]] += 2000.0
    mse_run = train_mlp(x, y, mse_loss, seeds=[0, 1, 2], lr=0.05)
    smooth_run = train_mlp(x, y, smooth_l1_loss, seeds=[0, 1, 2], lr=0.05)
    assert mse_run.diverged.all()
    assert not smooth_run.diverged.any()
    assert (line_error(smooth_run.model, 2.0, 1.0) < 0.3).all()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"optimizer": "rmsprop"}, "optimizer must be one of"),
        ({"lr": 0.0}, "lr must be finite and > 0"),
        ({"lr": float("nan")}, "lr must be finite and > 0"),
        ({"lr": [0.1, 0.2, 0.3]}, r"one per run \(2\)"),
        ({"seeds": []}, "seeds must name at least one seed"),
        ({"seeds": [-1]}, "every seed must be an integer >= 0"),
        ({"batch_size": 0}, "batch_size must be an integer >= 1"),
        ({"epochs": 2.5}, "epochs must be an integer >= 1"),
        ({"n_hidden": True}, "n_hidden must be an integer >= 0"),
        ({"betas": (0.9, 1.0)}, r"betas must lie in \[0, 1\)"),
        ({"eps": 0.0}, "eps be > 0"),
    ],
)
def test_train_mlp_rejects_bad_arguments(kwargs, message):
    x, y = line_data(10)
    arguments = {"seeds": [0, 1], "lr": 0.1} | kwargs
    with pytest.raises(ValueError, match=message):
        train_mlp(x, y, mse_loss, **arguments)


def test_train_mlp_rejects_inconsistent_data():
    x, y = line_data(10)
    with pytest.raises(ValueError, match="same number of examples, got 10 and 9"):
        train_mlp(x, y[:9], mse_loss, seeds=[0], lr=0.1)
    with pytest.raises(ValueError, match=r"y must have shape .* runs = 2"):
        train_mlp(x, np.ones((3, 10, 1)), mse_loss, seeds=[0, 1], lr=0.1)
    with pytest.raises(ValueError, match="N > 0"):
        train_mlp(x[:0], y[:0], mse_loss, seeds=[0], lr=0.1)


# ---------------------------------------------------------------------------------------------
# line_error and TrainResult


def line_network(slope: float, intercept: float) -> MLP:
    """A ReLU network computing exactly slope * x + intercept: a relu(x) - a relu(-x) + b."""
    return MLP(
        torch.tensor([[[1.0, -1.0]]], dtype=torch.float64),
        torch.zeros(1, 1, 2, dtype=torch.float64),
        torch.tensor([[[slope], [-slope]]], dtype=torch.float64),
        torch.tensor([[[intercept]]], dtype=torch.float64),
    )


def test_line_error_of_a_network_that_is_a_line_matches_the_closed_form():
    net = line_network(2.5, 0.2)
    expected = float(closed_form_line_error(2.5, 0.2, 2.0, 1.0))
    assert line_error(net, 2.0, 1.0, points=4001)[0] == pytest.approx(expected, rel=1e-3)
    assert line_error(line_network(2.0, 1.0), 2.0, 1.0)[0] == 0.0


def test_line_error_is_inf_or_nan_for_diverged_runs_and_checks_its_arguments():
    net = line_network(2.0, 1.0)
    broken = MLP(net.w1, net.b1, net.w2 * float("nan"), net.b2)
    assert np.isnan(line_error(broken, 2.0, 1.0)[0])
    result = TrainResult(broken, np.zeros((1, 1)), np.zeros((1, 1)))
    assert result.diverged.tolist() == [True]
    with pytest.raises(ValueError, match="points must be an integer >= 2"):
        line_error(net, 2.0, 1.0, points=1)
    with pytest.raises(ValueError, match="one input and one output"):
        line_error(init_mlp([0], n_in=2), 2.0, 1.0)


# ---------------------------------------------------------------------------------------------
# Classifiers: train_classifier, the linear model, predict and predict_proba


def class_data(n=23, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, n)
    x = rng.normal(size=(n, 2)) + np.stack([np.cos(2.0 * y), np.sin(2.0 * y)], axis=1)
    return x, y


def classifier_module(net: MLP, run: int) -> torch.nn.Module:
    """Run ``run`` of ``net`` as torch.nn layers (a Linear alone for the linear model)."""
    if net.w2 is None:
        module = torch.nn.Linear(net.n_in, net.n_out).to(net.w1.dtype)
        with torch.no_grad():
            module.weight.copy_(net.w1[run].T)
            module.bias.copy_(net.b1[run, 0])
        return module
    return as_module(net, run)


def reference_classifier(
    x, target, loss, seed, n_hidden, n_out, optimizer_class, lr, epochs, batch
):
    """One run trained by torch.nn, torch.optim and the batches train_classifier takes."""
    generator = torch.Generator().manual_seed(seed)
    theta = _draw_weights([generator], x.shape[1], n_hidden, n_out, torch.float64)
    net = init_mlp([seed], n_in=x.shape[1], n_hidden=n_hidden, n_out=n_out, dtype=torch.float64)
    np.testing.assert_array_equal(
        theta[0].numpy(), torch.cat([w[0].flatten() for w in net.weights])
    )
    module = classifier_module(net, 0)
    optimizer = optimizer_class(module.parameters(), lr=lr)
    inputs = torch.as_tensor(x, dtype=torch.float64)
    for _ in range(epochs):
        order = torch.randperm(len(x), generator=generator) if batch < len(x) else None
        for start in range(0, len(x), batch):
            rows = order[start : start + batch] if order is not None else slice(None)
            optimizer.zero_grad()
            loss(module(inputs[rows]), target[rows]).backward()
            optimizer.step()
    return module


def _kl_from_logits(z, t, reduction="none"):
    return kl_div(torch.log_softmax(z, 1), t, reduction=reduction)


def _brier(z, t, reduction="none"):
    return mse_loss(torch.softmax(z, 1), t, reduction=reduction)


def _focal_reference(z, t, alpha=0.25, gamma=2.0):
    p = torch.sigmoid(z)
    p_t = p * t + (1 - p) * (1 - t)
    ce = F.binary_cross_entropy_with_logits(z, t, reduction="none")
    return ((alpha * t + (1 - alpha) * (1 - t)) * (1 - p_t) ** gamma * ce).mean()


WEIGHT = [1.0, 3.0, 0.5]
# (loss, loss_kwargs, target kind, n_out, the same loss per run in torch.nn.functional)
CLASSIFIER_CASES = {
    "cross_entropy": (cross_entropy, {}, "index", 3, F.cross_entropy),
    "label_smoothing": (
        cross_entropy,
        {"label_smoothing": 0.2},
        "index",
        3,
        lambda z, t: F.cross_entropy(z, t, label_smoothing=0.2),
    ),
    # the plain mean of the weighted example losses, not PyTorch's weighted 'mean'
    "class_weight": (
        cross_entropy,
        {"weight": torch.tensor(WEIGHT, dtype=torch.float64)},
        "index",
        3,
        lambda z, t: F.cross_entropy(
            z, t, weight=torch.tensor(WEIGHT, dtype=torch.float64), reduction="none"
        ).mean(),
    ),
    "nll_of_log_softmax": (
        lambda z, t, reduction: nll_loss(torch.log_softmax(z, 1), t, reduction=reduction),
        {},
        "index",
        3,
        F.cross_entropy,
    ),
    "multi_margin": (
        multi_margin_loss,
        {"margin": 0.5},
        "index",
        3,
        lambda z, t: F.multi_margin_loss(z, t, margin=0.5),
    ),
    "soft_cross_entropy": (cross_entropy, {}, "soft", 3, F.cross_entropy),
    # an elementwise loss is summed over the classes: kl_div's 'batchmean'
    "kl_div": (
        _kl_from_logits,
        {},
        "soft",
        3,
        lambda z, t: F.kl_div(torch.log_softmax(z, 1), t, reduction="batchmean"),
    ),
    "brier": (
        _brier,
        {},
        "onehot",
        3,
        lambda z, t: (torch.softmax(z, 1) - t).square().sum(1).mean(),
    ),
    "bce_pos_weight": (
        binary_cross_entropy_with_logits,
        {"pos_weight": torch.tensor([3.0], dtype=torch.float64)},
        "binary",
        1,
        lambda z, t: F.binary_cross_entropy_with_logits(
            z, t, pos_weight=torch.tensor([3.0], dtype=torch.float64)
        ),
    ),
    "focal": (sigmoid_focal_loss, {"gamma": 2.0, "alpha": 0.25}, "binary", 1, _focal_reference),
}


def classifier_targets(kind, y, classes=3):
    """The targets train_classifier takes and those the torch reference takes."""
    if kind == "index":
        return y, torch.as_tensor(y)
    if kind == "binary":
        labels = (y == 1).astype(np.int64)
        return labels, torch.as_tensor(labels, dtype=torch.float64)[:, None]
    onehot = np.eye(classes)[y]
    soft = 0.8 * onehot + 0.2 / classes if kind == "soft" else onehot
    return soft, torch.as_tensor(soft)


@pytest.mark.parametrize("case", CLASSIFIER_CASES)
@pytest.mark.parametrize(
    "n_hidden, optimizer, optimizer_class, lr, batch",
    [
        (0, "sgd", torch.optim.SGD, 0.3, 5),  # the linear model, mini-batches
        (8, "adam", torch.optim.Adam, 0.02, 5),
        (8, "sgd", torch.optim.SGD, 0.3, 23),  # full batch: no shuffling
    ],
)
def test_train_classifier_matches_torch_optim_run_by_run(
    case, n_hidden, optimizer, optimizer_class, lr, batch
):
    loss, kwargs, kind, n_out, reference_loss = CLASSIFIER_CASES[case]
    x, y = class_data(23)  # the last mini-batch of each epoch is smaller
    target, reference_target = classifier_targets(kind, y)
    result = train_classifier(
        x,
        target,
        loss,
        seeds=[4, 9],
        lr=lr,
        n_out=n_out if kind in ("index", "binary") else None,
        optimizer=optimizer,
        batch_size=batch,
        epochs=4,
        n_hidden=n_hidden,
        loss_kwargs=kwargs,
        dtype=torch.float64,
    )
    steps = 4 * -(-23 // batch)
    assert result.losses.shape == result.grad_norms.shape == (steps, 2)
    assert result.model.n_out == n_out and (result.model.w2 is None) == (n_hidden == 0)
    grid = torch.as_tensor(np.random.default_rng(1).normal(size=(11, 2)))
    for run, seed in enumerate([4, 9]):
        module = reference_classifier(
            x,
            reference_target,
            reference_loss,
            seed,
            n_hidden,
            n_out,
            optimizer_class,
            lr,
            4,
            batch,
        )
        with torch.no_grad():
            expected = module(grid)
        torch.testing.assert_close(result.model(grid)[run], expected, rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(predict(result.model, grid.numpy())[run], expected.numpy())
    # the first recorded loss is the reference loss of the first batch at the initial weights
    module = classifier_module(init_mlp([4], 2, n_hidden, n_out, dtype=torch.float64), 0)
    generator = torch.Generator().manual_seed(4)
    _draw_weights([generator], 2, n_hidden, n_out, torch.float64)  # the weights come first
    first = torch.randperm(23, generator=generator)[:batch] if batch < 23 else slice(None)
    with torch.no_grad():
        value = reference_loss(module(torch.as_tensor(x)[first]), reference_target[first])
    assert result.losses[0, 0] == pytest.approx(value.item(), rel=1e-12)


def test_class_indices_per_run_train_each_run_on_its_own_labels():
    x, y = class_data(30)
    labels = np.stack([y, (y + 1) % 3])
    both = train_classifier(x, labels, cross_entropy, seeds=[0, 0], lr=0.1, n_out=3, epochs=3)
    first = train_classifier(x, y, cross_entropy, seeds=[0], lr=0.1, n_out=3, epochs=3)
    second = train_classifier(x, labels[1], cross_entropy, seeds=[0], lr=0.1, n_out=3, epochs=3)
    np.testing.assert_array_equal(both.losses[:, 0], first.losses[:, 0])
    np.testing.assert_array_equal(both.losses[:, 1], second.losses[:, 0])


def distillation(z, q, reduction, temperature):
    """T^2 KL(q || softmax(z / T)) per logit, with T a number or one per row."""
    return temperature**2 * kl_div(F.log_softmax(z / temperature, 1), q, reduction=reduction)


def test_run_loss_kwargs_equal_one_training_per_run_with_its_own_argument():
    x, y = class_data(23)
    rng = np.random.default_rng(3)
    soft = np.stack([np.exp(rng.normal(size=(23, 3))) for _ in range(3)])
    soft /= soft.sum(-1, keepdims=True)  # one set of soft targets per run
    temperatures = [1.0, 2.5, 6.0]
    options = dict(lr=0.05, optimizer="adam", batch_size=7, epochs=3, dtype=torch.float64)
    joint = train_classifier(
        x, soft, distillation, seeds=[4, 9, 4], n_hidden=5,
        run_loss_kwargs={"temperature": np.array(temperatures)[:, None]}, **options,
    )  # fmt: skip
    for run, (seed, t) in enumerate(zip([4, 9, 4], temperatures, strict=True)):
        alone = train_classifier(
            x, soft[run], distillation, seeds=[seed], n_hidden=5,
            loss_kwargs={"temperature": torch.tensor(t, dtype=torch.float64)}, **options,
        )  # fmt: skip
        np.testing.assert_allclose(joint.losses[:, run], alone.losses[:, 0], rtol=1e-12)
        for w_joint, w_alone in zip(joint.model.weights, alone.model.weights, strict=True):
            torch.testing.assert_close(w_joint[run], w_alone[0], rtol=1e-12, atol=1e-12)


def test_run_loss_kwargs_reach_the_rows_of_their_own_run():
    x, y = class_data(23)  # shuffled mini-batches of 7, 7, 7 and 2 rows

    def run_index(z, t, reduction, run):
        return 0 * z.sum(1) + run  # each row's loss is the index of the run it came from

    result = train_classifier(
        x, y, run_index, seeds=[0, 1, 2, 3], lr=0.1, n_out=3, batch_size=7, epochs=2,
        run_loss_kwargs={"run": np.arange(4)},
    )  # fmt: skip
    assert result.losses.shape == (8, 4)
    np.testing.assert_array_equal(result.losses, np.broadcast_to(np.arange(4.0), (8, 4)))


@pytest.mark.parametrize(
    ("run_kwargs", "shared", "message"),
    [
        ({"temperature": np.ones(3)}, {}, r"shape \(2, \.\.\.\), got \(3,\)"),
        ({"temperature": 2.0}, {}, r"one entry per run .* got \(\)"),
        ({"temperature": np.ones((2, 1))}, {"temperature": 1.0}, "in both loss_kwargs and"),
    ],
)
def test_run_loss_kwargs_are_checked(run_kwargs, shared, message):
    x, y = class_data(8)
    targets = np.eye(3)[y]
    with pytest.raises(ValueError, match=message):
        train_classifier(
            x, targets, distillation, seeds=[0, 1], lr=0.1,
            loss_kwargs=shared, run_loss_kwargs=run_kwargs,
        )  # fmt: skip


def test_softmax_regression_reaches_the_bayes_accuracy_on_held_out_data():
    problem = GaussianClasses(n_classes=3, separation=3.0)
    (x, y), (x_test, y_test) = problem.sample_splits([600, 4000], seeds=range(5))
    result = train_classifier(
        x, y, cross_entropy, seeds=range(5), lr=0.05, n_out=3, n_hidden=0,
        optimizer="adam", batch_size=600, epochs=300,
    )  # fmt: skip
    proba = predict_proba(result.model, x_test)
    accuracy = (proba.argmax(-1) == y_test).mean(-1)
    bayes = (problem.posterior(x_test).argmax(-1) == y_test).mean(-1)
    assert np.all(bayes - accuracy < 0.01), (accuracy, bayes)
    # the model's probabilities are close to the true posterior, point by point
    gap = np.abs(proba - problem.posterior(x_test)).max(-1).mean(-1)
    assert np.all(gap < 0.05), gap


def test_init_and_forward_of_the_linear_model():
    net = init_mlp([0, 1], n_in=3, n_hidden=0, n_out=4, dtype=torch.float64)
    assert tuple(net.w1.shape) == (2, 3, 4) and tuple(net.b1.shape) == (2, 1, 4)
    assert net.w2 is None and net.b2 is None and len(net.weights) == 2
    assert (net.n_runs, net.n_in, net.n_out) == (2, 3, 4)
    bound = 1 / math.sqrt(3)
    assert net.w1.abs().max() <= bound and net.b1.abs().max() <= bound
    assert net.w1.abs().max() > 0.8 * bound
    x = torch.randn(5, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    for run in range(2):
        torch.testing.assert_close(net(x)[run], classifier_module(net, run)(x))
    broken = MLP(net.w1 * float("inf"), net.b1)
    assert TrainResult(broken, np.zeros((1, 2)), np.zeros((1, 2))).diverged.tolist() == [
        True,
        True,
    ]


def test_predict_proba_is_the_softmax_or_the_sigmoid_pair():
    x = np.random.default_rng(0).normal(size=(7, 2))
    net = init_mlp([0, 1], n_in=2, n_hidden=4, n_out=3, dtype=torch.float64)
    logits = predict(net, x)
    assert logits.shape == (2, 7, 3) and logits.dtype == np.float64
    np.testing.assert_allclose(predict_proba(net, x), torch.softmax(torch.tensor(logits), 2))
    binary = init_mlp([3], n_in=2, n_hidden=0, n_out=1)
    z = predict(binary, x)[..., 0]
    proba = predict_proba(binary, x)
    assert proba.shape == (1, 7, 2)
    np.testing.assert_allclose(proba[..., 1], 1 / (1 + np.exp(-z)), rtol=1e-12)
    np.testing.assert_allclose(proba.sum(-1), 1.0, rtol=1e-15)
    np.testing.assert_array_equal(proba.argmax(-1), (z > 0).astype(int))
    # one input set per run
    per_run = np.stack([x, 2 * x])
    np.testing.assert_allclose(predict(net, per_run)[1], predict(net, 2 * x)[1])


@pytest.mark.parametrize(
    "y, kwargs, error, message",
    [
        (np.array([0, 1, 2, 0]), {}, ValueError, r"n_out \(the number of classes\) is required"),
        (np.array([0, 1, 3, 0]), {"n_out": 3}, ValueError, r"class index 3, outside \[0, 3\)"),
        (np.array([0, -1, 2, 0]), {"n_out": 3}, ValueError, r"class index -1, outside \[0, 3\)"),
        (
            np.array([0, 1, 2, 0]),
            {"n_out": 1},
            ValueError,
            r"class index 2, outside \[0, 2\) \(n_out = 1, a binary classifier\)",
        ),
        (np.array([0, 1, 2, 0]), {"n_out": 0}, ValueError, "n_out must be an integer >= 1"),
        (np.eye(3)[[0, 1, 2, 0]], {"n_out": 2}, ValueError, "n_out must equal the 3 columns"),
        (np.array([True, False] * 2), {"n_out": 2}, TypeError, "y must hold class indices"),
        (np.array(["a", "b"] * 2), {"n_out": 2}, TypeError, "y must hold class indices"),
        (np.zeros((3, 4), dtype=int), {"n_out": 2}, ValueError, r"\(N,\) or \(runs, N\)"),
        (np.zeros((2, 4, 1), dtype=int), {"n_out": 2}, ValueError, r"\(N,\) or \(runs, N\)"),
        (np.zeros(0, dtype=int), {"n_out": 2}, ValueError, "N > 0"),
        (np.array([0, 1, 1]), {"n_out": 2}, ValueError, "same number of examples, got 4 and 3"),
        (np.array([0, 1, 1, 0]), {"n_out": 2, "n_hidden": -1}, ValueError, "n_hidden must be"),
    ],
)
def test_train_classifier_rejects_bad_targets(y, kwargs, error, message):
    x = np.zeros((4, 2))
    with pytest.raises(error, match=message):
        train_classifier(x, y, cross_entropy, seeds=[0, 1], lr=0.1, **kwargs)


def test_train_classifier_rejects_losses_it_cannot_average():
    x, y = class_data(8)

    def no_reduction(z, t):
        return F.cross_entropy(z, t)

    with pytest.raises(TypeError, match="needs a loss with a reduction argument"):
        train_classifier(x, y, no_reduction, seeds=[0], lr=0.1, n_out=3)

    def one_number(z, t, reduction="none"):
        return F.cross_entropy(z, t)  # ignores reduction

    with pytest.raises(ValueError, match=r"one value per example or per logit .* got \(\)"):
        train_classifier(x, y, one_number, seeds=[0], lr=0.1, n_out=3)


def test_mlp_and_predict_reject_inconsistent_weights_and_inputs():
    net = init_mlp([0], n_in=2, n_hidden=3)
    with pytest.raises(ValueError, match="w2 and b2 must both be tensors"):
        MLP(net.w1, net.b1, net.w2, None)
    with pytest.raises(ValueError, match="x must have 2 features per example, as the model"):
        predict(net, np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"x must have shape .* runs = 1"):
        predict_proba(net, np.zeros((2, 4, 2)))


def test_seeds_must_be_a_sequence():
    x, y = class_data(8)
    with pytest.raises(TypeError, match="seeds must be a sequence of integers, one per run"):
        train_classifier(x, y, cross_entropy, seeds=3, lr=0.1, n_out=3)
    with pytest.raises(TypeError, match="seeds must be a sequence of integers, one per run"):
        train_mlp(x[:, 0], x[:, 1], mse_loss, seeds="01", lr=0.1)


# ---------------------------------------------------------------------------------------------
# Snapshots: the weights after chosen steps, from the same training run


def test_a_snapshot_is_the_network_a_shorter_training_run_returns():
    # Full batch: step t of a long run is the last step of a run of t epochs.
    problem = GaussianClasses(separation=2.0)
    (x, y), _ = problem.sample_splits([40, 10], seeds=[0, 1])
    kwargs = {"seeds": [0, 1], "lr": 0.05, "n_out": 2, "optimizer": "adam", "batch_size": 40}
    long = train_classifier(x, y, cross_entropy, epochs=12, snapshots=[3, 7, 12], **kwargs)
    assert list(long.snapshots) == [3, 7, 12]
    for steps in (3, 7):
        short = train_classifier(x, y, cross_entropy, epochs=steps, **kwargs)
        for kept, expected in zip(long.snapshots[steps].weights, short.model.weights, strict=True):
            assert torch.equal(kept, expected)
    for kept, final in zip(long.snapshots[12].weights, long.model.weights, strict=True):
        assert torch.equal(kept, final)
    # a copy, not a view of weights that training went on to change
    assert not torch.equal(long.snapshots[3].w1, long.model.w1)


def test_snapshots_with_shuffled_mini_batches_match_fewer_epochs():
    x, y = line_data(20)
    kwargs = {"seeds": [3, 4], "lr": 0.05, "batch_size": 6, "n_hidden": 5}  # 4 steps per epoch
    long = train_mlp(x, y, mse_loss, epochs=5, snapshots=(8, 20), **kwargs)
    two_epochs = train_mlp(x, y, mse_loss, epochs=2, **kwargs)
    grid = torch.linspace(-2, 2, 7)[:, None]
    assert torch.equal(long.snapshots[8](grid), two_epochs.model(grid))
    assert torch.equal(long.snapshots[20](grid), long.model(grid))


def test_no_snapshots_by_default():
    x, y = line_data(10)
    assert train_mlp(x, y, mse_loss, seeds=[0], lr=0.1, epochs=2).snapshots == {}


@pytest.mark.parametrize("snapshots", [[0], [5], [2.0], [True], [-1]])
def test_snapshots_outside_the_training_run_are_refused(snapshots):
    x, y = line_data(10)
    with pytest.raises(ValueError, match=r"snapshots must be steps in \[1, 4\]"):
        train_mlp(x, y, mse_loss, seeds=[0], lr=0.1, batch_size=5, epochs=2, snapshots=snapshots)


def test_one_torch_thread_restores_the_thread_count_after_an_error():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        with pytest.raises(RuntimeError, match="inside"):
            with one_torch_thread():
                assert torch.get_num_threads() == 1
                raise RuntimeError("inside")
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
