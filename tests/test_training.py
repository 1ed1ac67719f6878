"""Tests for companion.training, the supervised loop."""

import numpy as np
import pytest
import torch

from companion import l1_loss, mse_loss
from companion.training import gradient_descent


@pytest.mark.parametrize("loss", [mse_loss, l1_loss])
def test_a_companion_loss_trains_a_linear_model(loss):
    torch.manual_seed(0)
    x = torch.linspace(-1, 1, 50).unsqueeze(1)
    y = 3 * x - 1
    model = torch.nn.Linear(1, 1)
    losses = gradient_descent(model.parameters(), lambda: loss(model(x), y), lr=0.1, steps=300)
    assert losses.shape == (300,)
    assert losses[-1] < 0.05 * losses[0]
    assert abs(model.weight.item() - 3) < 0.2 and abs(model.bias.item() + 1) < 0.2


def test_one_step_is_exactly_theta_minus_lr_grad():
    w = torch.tensor([1.0, -2.0], requires_grad=True)
    gradient_descent([w], lambda: (w**2).sum(), lr=0.1, steps=1)
    torch.testing.assert_close(w.detach(), torch.tensor([0.8, -1.6]))


def test_a_flat_loss_leaves_the_parameters_alone():
    w = torch.tensor([0.3, 0.7], requires_grad=True)
    losses = gradient_descent([w], lambda: torch.round(w).sum(), lr=1.0, steps=5)
    np.testing.assert_array_equal(losses, 1.0)
    torch.testing.assert_close(w.detach(), torch.tensor([0.3, 0.7]))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"lr": 0.0}, "lr must be > 0"),
        ({"steps": -1}, "steps must be an integer >= 0"),
        ({"steps": 2.0}, "steps must be an integer >= 0"),
    ],
)
def test_bad_schedule(kwargs, match):
    w = torch.tensor(1.0, requires_grad=True)
    with pytest.raises(ValueError, match=match):
        gradient_descent([w], lambda: w**2, **kwargs)


def test_bad_parameters_and_loss():
    with pytest.raises(ValueError, match="leaf tensors with requires_grad=True"):
        gradient_descent([torch.tensor(1.0)], lambda: torch.tensor(0.0))
    with pytest.raises(ValueError, match="leaf tensors with requires_grad=True"):
        gradient_descent([], lambda: torch.tensor(0.0))
    w = torch.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match=r"loss_fn must return a scalar, got shape \(2,\)"):
        gradient_descent([w], lambda: w**2, steps=1)
