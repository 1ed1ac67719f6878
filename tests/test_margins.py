"""Tests for companion.margins: the multi-class hinge's gradient and the loss recorder."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from companion import cross_entropy, multi_margin_loss
from companion.margins import LossRecorder, multi_margin_loss_grad
from companion.networks import train_classifier


@pytest.mark.parametrize("p", [1, 2])
@pytest.mark.parametrize("margin", [0.0, 0.5, 1.0, 2.0])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_gradient_equals_pytorch_autograd(p, margin, reduction):
    rng = np.random.default_rng(p * 10 + int(4 * margin))
    scores = rng.normal(0, 1.5, (40, 5))
    target = rng.integers(0, 5, 40)
    x = torch.tensor(scores, requires_grad=True)
    value = F.multi_margin_loss(
        x, torch.from_numpy(target), p=p, margin=margin, reduction=reduction
    )
    (value.sum() if reduction == "none" else value).backward()
    grad = multi_margin_loss_grad(scores, target, p=p, margin=margin, reduction=reduction)
    np.testing.assert_allclose(grad, x.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_gradient_at_the_kink_is_zero_as_in_pytorch():
    scores = np.array([[1.0, 0.0, -3.0]])  # leads class 1 by exactly the margin 1
    x = torch.tensor(scores, requires_grad=True)
    F.multi_margin_loss(x, torch.tensor([0]), reduction="sum").backward()
    grad = multi_margin_loss_grad(scores, [0], reduction="sum")
    assert (grad == 0).all() and (x.grad.numpy() == 0).all()


def test_gradient_is_zero_exactly_where_the_loss_is():
    rng = np.random.default_rng(3)
    scores = rng.normal(0, 3, (500, 4))
    target = rng.integers(0, 4, 500)
    loss = multi_margin_loss(scores, target, reduction="none")
    grad = multi_margin_loss_grad(scores, target, reduction="sum")
    assert ((loss == 0) == (grad == 0).all(axis=1)).all()
    np.testing.assert_allclose(grad.sum(axis=1), 0, atol=1e-15)  # shifts change nothing


@pytest.mark.parametrize(
    "scores, target, kwargs, match",
    [
        ([0.0, 1.0], [0], {}, "shape"),
        ([[0.0, 1.0]], [0, 1], {}, "shape"),
        ([[0.0, 1.0]], [2], {}, "class indices"),
        ([[0.0, 1.0]], [0.5], {}, "class indices"),
        ([[0.0, 1.0]], [0], {"p": 3}, "p must be 1 or 2"),
        ([[0.0, 1.0]], [0], {"margin": -1.0}, "margin"),
        ([[0.0, 1.0]], [0], {"margin": np.nan}, "margin"),
        ([[0.0, 1.0]], [0], {"reduction": "batchmean"}, "reduction"),
    ],
)
def test_gradient_rejects_bad_input(scores, target, kwargs, match):
    with pytest.raises(ValueError, match=match):
        multi_margin_loss_grad(np.array(scores), np.array(target), **kwargs)


def test_recorder_returns_the_loss_and_keeps_every_call():
    recorder = LossRecorder(multi_margin_loss, margin=2.0)
    x = torch.tensor([[3.0, 0.0], [1.0, 0.0], [0.0, 5.0], [0.0, 1.5]])
    target = torch.tensor([0, 0, 1, 1])
    for reduction in ("none", "mean", "sum"):
        expected = multi_margin_loss(x, target, margin=2.0, reduction=reduction)
        torch.testing.assert_close(recorder(x, target, reduction=reduction), expected)
    assert len(recorder.values) == 3
    np.testing.assert_allclose(recorder.values[0], [0.0, 0.5, 0.0, 0.25])
    np.testing.assert_allclose(recorder.zero_share(n_runs=2), [[0.5, 0.5]] * 3)
    np.testing.assert_allclose(recorder.zero_share(n_runs=1), [[0.5]] * 3)
    with pytest.raises(ValueError, match="does not split into 3 runs"):
        recorder.zero_share(n_runs=3)
    with pytest.raises(ValueError, match="n_runs"):
        recorder.zero_share(n_runs=0)


def test_recorder_sums_a_loss_per_logit_and_takes_numpy():
    recorder = LossRecorder(lambda x, t, reduction: (x - t) ** 2)
    recorder(np.array([[1.0, 2.0], [0.0, 0.0]]), np.zeros((2, 2)), reduction="none")
    np.testing.assert_allclose(recorder.values[0], [5.0, 0.0])


def test_recorder_inside_train_classifier_sees_every_step_of_every_run():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 2)) + np.repeat(np.eye(3, 2) * 4, 20, axis=0)
    y = np.repeat(np.arange(3), 20)
    hinge = LossRecorder(multi_margin_loss)
    result = train_classifier(
        x, y, hinge, seeds=[0, 1], lr=0.5, n_out=3, n_hidden=0, batch_size=20, epochs=5
    )
    assert len(hinge.values) == 15 and hinge.values[0].shape == (40,)
    shares = hinge.zero_share(n_runs=2)
    assert shares.shape == (15, 2)
    # a run's batch loss is the mean of its recorded example losses
    recorded = np.array([v.reshape(2, 20).mean(axis=1) for v in hinge.values])
    np.testing.assert_allclose(recorded, result.losses, rtol=1e-6)
    assert shares[-1].mean() > shares[0].mean()  # examples stop counting as training goes on
    ce = LossRecorder(cross_entropy)
    train_classifier(x, y, ce, seeds=[0, 1], lr=0.5, n_out=3, n_hidden=0, batch_size=20)
    assert (ce.zero_share(n_runs=2) == 0).all()
