"""Tests for companion.fitting.fit_constant_adam (chapter 3): the update of torch.optim.Adam."""

import numpy as np
import pytest

from companion import l1_loss, l1_loss_grad, mse_loss, mse_loss_grad
from companion.fitting import fit_constant_adam

torch = pytest.importorskip("torch")


def torch_adam_path(labels, loss, *, init, lr, steps, betas=(0.9, 0.999), eps=1e-8):
    c = torch.full((1,), init, dtype=torch.float64, requires_grad=True)
    y = torch.as_tensor(labels, dtype=torch.float64)
    optimiser = torch.optim.Adam([c], lr=lr, betas=betas, eps=eps)
    path = [init]
    for _ in range(steps):
        optimiser.zero_grad()
        loss(c.expand_as(y), y).backward()
        optimiser.step()
        path.append(c.item())
    return np.array(path)


@pytest.mark.parametrize(
    ("loss", "loss_grad"), [(l1_loss, l1_loss_grad), (mse_loss, mse_loss_grad)]
)
@pytest.mark.parametrize("betas", [(0.9, 0.999), (0.8, 0.99)])
def test_path_matches_torch_optim_adam(loss, loss_grad, betas):
    labels = np.array([0.0, 0.0, 1.0, 3.0, 0.5])
    ours = fit_constant_adam(labels, loss_grad, init=2.0, lr=0.05, steps=200, betas=betas)
    theirs = torch_adam_path(labels, loss, init=2.0, lr=0.05, steps=200, betas=betas)
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


def test_problems_are_batched_over_leading_axes():
    labels = np.array([[0.0, 1.0, 5.0], [2.0, 2.0, 2.0]])
    batched = fit_constant_adam(labels, l1_loss_grad, lr=0.1, steps=50)
    assert batched.shape == (51, 2)
    for row in range(2):
        alone = fit_constant_adam(labels[row], l1_loss_grad, lr=0.1, steps=50)
        np.testing.assert_allclose(batched[:, row], alone)


def test_l1_keeps_moving_near_the_median_while_the_squared_error_settles():
    l1 = fit_constant_adam([1.0], l1_loss_grad, lr=0.3, steps=300)
    squared = fit_constant_adam([1.0], mse_loss_grad, lr=0.3, steps=300)
    assert np.abs(l1[-50:] - 1).max() > 0.03
    assert np.abs(squared[-50:] - 1).max() < 1e-5


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"lr": 0.0}, r"lr must be > 0, got 0.0"),
        ({"steps": -1}, r"steps must be an integer >= 0, got -1"),
        ({"betas": (1.0, 0.999)}, r"betas must both be in \[0, 1\), got \(1.0, 0.999\)"),
        ({"betas": (0.9, -0.1)}, r"betas must both be in \[0, 1\)"),
        ({"eps": 0.0}, r"eps must be > 0, got 0.0"),
    ],
)
def test_bad_arguments_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        fit_constant_adam([1.0], l1_loss_grad, **kwargs)
