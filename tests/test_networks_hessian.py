"""Tests for companion.networks.loss_hessian: exact Hessians of a network's loss."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from companion import mse_loss, rmse, smooth_l1_loss
from companion.fitting import mse_lr_limit
from companion.networks import MLP, init_mlp, loss_hessian


def data(n=12, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2, 2, n)
    return x, 2 * x + 1 + 0.3 * rng.normal(size=n)


def flat(net: MLP, run: int) -> torch.Tensor:
    """Run ``run``'s weights in the documented order w1, b1, w2, b2, as float64."""
    return torch.cat([w[run].flatten() for w in (net.w1, net.b1, net.w2, net.b2)]).double()


def outputs(theta: torch.Tensor, x: torch.Tensor, n_hidden: int) -> torch.Tensor:
    """The network with weights ``theta`` (one input, one output), written out by hand."""
    w1, b1 = theta[:n_hidden], theta[n_hidden : 2 * n_hidden]
    w2, b2 = theta[2 * n_hidden : 3 * n_hidden], theta[3 * n_hidden]
    return torch.relu(x[:, None] * w1 + b1) @ w2 + b2


def test_curvature_along_random_directions_matches_second_differences():
    x, y = data()
    xt, yt = torch.tensor(x), torch.tensor(y)
    net = init_mlp([3], n_hidden=5)
    hessian = loss_hessian(net, x, y, mse_loss)[0]
    theta = flat(net, 0)

    def mse(t):
        return ((outputs(t, xt, 5) - yt) ** 2).mean()

    for seed in range(3):
        v = torch.randn(theta.shape, generator=torch.Generator().manual_seed(seed)).double()
        h = 1e-4
        second = (mse(theta + h * v) - 2 * mse(theta) + mse(theta - h * v)) / h**2
        np.testing.assert_allclose(float(v @ hessian @ v), float(second), rtol=1e-5)


def test_with_targets_equal_to_the_predictions_it_is_the_gauss_newton_matrix():
    x, _ = data()
    xt = torch.tensor(x)
    net = init_mlp([1], n_hidden=4)
    predictions = outputs(flat(net, 0), xt, 4).numpy()  # every residual zero
    hessian = loss_hessian(net, x, predictions, mse_loss)[0]
    jacobian = torch.autograd.functional.jacobian(lambda t: outputs(t, xt, 4), flat(net, 0))
    gauss_newton = 2 * jacobian.T @ jacobian / len(x)
    torch.testing.assert_close(hessian, gauss_newton, rtol=1e-6, atol=1e-6)
    assert torch.linalg.eigvalsh(hessian)[0] > -1e-12  # positive semi-definite


def test_a_far_target_adds_curvature_through_its_residual():
    x, y = data(n=20)
    lifted = y.copy()
    lifted[0] += 1000.0
    net = init_mlp([0], n_hidden=8)
    top = [
        float(torch.linalg.eigvalsh(loss_hessian(net, x, t, mse_loss))[0, -1]) for t in (y, lifted)
    ]
    assert top[1] > 5 * top[0]


def test_each_run_gets_its_own_hessian_and_shape():
    x, y = data()
    both = loss_hessian(init_mlp([0, 7], n_hidden=3), x, y, mse_loss)
    alone = loss_hessian(init_mlp([7], n_hidden=3), x, y, mse_loss)
    assert both.shape == (2, 10, 10) and both.dtype == torch.float64
    torch.testing.assert_close(both[1], alone[0])
    torch.testing.assert_close(both, both.mT)


def test_losses_without_reduction_and_with_keyword_arguments_work():
    x, y = data()
    net = init_mlp([2], n_hidden=3)
    h_rmse = loss_hessian(net, x, y, rmse)
    h_mse = loss_hessian(net, x, y, mse_loss)
    assert not torch.allclose(h_rmse, h_mse)
    narrow = loss_hessian(net, x, y, smooth_l1_loss, loss_kwargs={"beta": 1e-3})
    wide = loss_hessian(net, x, y, smooth_l1_loss, loss_kwargs={"beta": 1e3})
    # a band wider than every residual: Smooth L1 is MSE / (2 beta)
    torch.testing.assert_close(wide, h_mse / 2e3)
    assert not torch.allclose(narrow, wide)


def test_it_rejects_data_that_do_not_fit_the_networks():
    net = init_mlp([0], n_hidden=3)
    with pytest.raises(ValueError, match="same number of examples"):
        loss_hessian(net, np.zeros(4), np.zeros(5), mse_loss)
    with pytest.raises(ValueError, match="1 input"):
        loss_hessian(net, np.zeros((4, 2)), np.zeros(4), mse_loss)


def test_for_the_linear_model_it_is_twice_the_matrix_of_mse_lr_limit():
    x, y = data(n=15)
    hessian = loss_hessian(init_mlp([4], n_hidden=0), x, y, mse_loss)[0]
    m = np.array([[np.mean(x * x), np.mean(x)], [np.mean(x), 1.0]])
    np.testing.assert_allclose(hessian.numpy(), 2 * m, rtol=1e-12)
    top = float(torch.linalg.eigvalsh(hessian)[-1])
    assert np.isclose(2 / top, float(mse_lr_limit(x)))
