"""Tests for companion.networks: the batched MLP, its training loop and its line error."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from companion import huber_loss, mse_loss, rmse, smooth_l1_loss
from companion.experiments import line_error as closed_form_line_error
from companion.networks import MLP, TrainResult, _draw_weights, init_mlp, line_error, train_mlp


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
        ({"n_hidden": True}, "n_hidden must be an integer >= 1"),
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
