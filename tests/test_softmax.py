"""companion.softmax: logit margins, temperature scaling and held-out metrics."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax, softmax
from sklearn.metrics import accuracy_score, log_loss

from companion import cross_entropy, cross_entropy_grad
from companion.calibration import expected_calibration_error
from companion.softmax import (
    fit_temperature,
    held_out_metrics,
    logit_margin,
    smoothed_margin,
)


def test_logit_margin_is_top_minus_mean_of_the_rest():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(4, 50, 6))
    expected = np.array(
        [[row.max() - np.delete(row, row.argmax()).mean() for row in run] for run in z]
    )
    np.testing.assert_allclose(logit_margin(z), expected, rtol=1e-12)
    np.testing.assert_allclose(logit_margin(z + 7.5), logit_margin(z), rtol=1e-12)
    np.testing.assert_allclose(logit_margin(3 * z), 3 * logit_margin(z), rtol=1e-12)
    assert (logit_margin(z) >= 0).all()
    with pytest.raises(ValueError, match="K >= 2"):
        logit_margin([1.0])


@pytest.mark.parametrize("eps", [0.01, 0.1, 0.3, 0.9])
@pytest.mark.parametrize("classes", [2, 5, 10])
def test_smoothed_margin_is_where_smoothed_cross_entropy_is_flat(classes, eps):
    margin = smoothed_margin(classes, eps)
    z = np.zeros((1, classes))
    z[0, 0] = margin
    assert logit_margin(z)[0] == pytest.approx(margin, rel=1e-12)
    grad = cross_entropy_grad(z, np.array([0]), label_smoothing=eps)
    np.testing.assert_allclose(grad, 0.0, atol=1e-12)
    # and the loss is larger on either side of it
    loss = [
        float(cross_entropy(z + np.eye(classes)[0] * step, np.array([0]), label_smoothing=eps))
        for step in (-0.01, 0.0, 0.01)
    ]
    assert loss[1] < loss[0] and loss[1] < loss[2]


def test_smoothed_margin_limits_and_errors():
    assert smoothed_margin(4, 0.0) == math.inf
    assert smoothed_margin(4, 1.0) == 0.0
    assert smoothed_margin(10, 0.1) == pytest.approx(math.log(91))
    for bad in (1, 2.0, True):
        with pytest.raises(ValueError, match="n_classes"):
            smoothed_margin(bad, 0.1)
    for eps in (-0.1, 1.5, math.nan):
        with pytest.raises(ValueError, match="label_smoothing"):
            smoothed_margin(3, eps)


def sample_labels(z: np.ndarray, seed: int) -> np.ndarray:
    p = softmax(z, axis=-1)
    u = np.random.default_rng(seed).random(z.shape[:-1])
    return (u[..., None] > p.cumsum(axis=-1)).sum(axis=-1)


def test_fit_temperature_equals_a_scalar_minimiser_run_by_run():
    rng = np.random.default_rng(1)
    z = rng.normal(scale=2.0, size=(5, 300, 4))
    y = sample_labels(z / rng.uniform(0.3, 3.0, size=(5, 1, 1)), seed=2)
    fitted = fit_temperature(z, y)
    assert fitted.shape == (5,)
    for run in range(5):

        def nll(log_t, run=run):
            return -log_softmax(z[run] / math.exp(log_t), axis=-1)[np.arange(300), y[run]].mean()

        best = minimize_scalar(nll, bounds=(-4, 4), method="bounded", options={"xatol": 1e-10})
        assert math.log(fitted[run]) == pytest.approx(best.x, abs=1e-5)


def test_fit_temperature_scales_with_the_logits_and_respects_bounds():
    rng = np.random.default_rng(3)
    z = rng.normal(size=(2000, 3))
    y = sample_labels(z, seed=4)
    t = float(fit_temperature(z, y))
    assert float(fit_temperature(5 * z, y)) == pytest.approx(5 * t, rel=1e-9)
    assert 0.9 < t < 1.1  # the labels were drawn from softmax(z)
    # separable labels: sharper is always better, so the lower bound is returned
    separable = z.argmax(axis=1)
    assert float(fit_temperature(z, separable, bounds=(0.5, 10.0))) == pytest.approx(0.5)


def test_fit_temperature_rejects_bad_input():
    z, y = np.zeros((4, 3)), np.array([0, 1, 2, 0])
    with pytest.raises(TypeError, match="class indices"):
        fit_temperature(z, y.astype(float))
    with pytest.raises(ValueError, match="do not match"):
        fit_temperature(z, y[:3])
    with pytest.raises(ValueError, match="finite"):
        fit_temperature(np.full((4, 3), np.nan), y)
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        fit_temperature(z, np.array([0, 1, 3, 0]))
    with pytest.raises(ValueError, match="bounds"):
        fit_temperature(z, y, bounds=(2.0, 1.0))


def test_held_out_metrics_equal_scikit_learn_and_the_companion_run_by_run():
    rng = np.random.default_rng(5)
    z = rng.normal(scale=3.0, size=(3, 40, 5))
    y = rng.integers(0, 5, size=(3, 40))
    metrics = held_out_metrics(z, y)
    assert list(metrics) == ["accuracy", "NLL", "ECE", "confidence gap", "median margin"]
    for run in range(3):
        p = softmax(z[run], axis=1)
        assert metrics["accuracy"][run] == accuracy_score(y[run], p.argmax(axis=1))
        expected = log_loss(y[run], p, labels=range(5))
        assert metrics["NLL"][run] == pytest.approx(expected, rel=1e-10)
        assert metrics["NLL"][run] == pytest.approx(float(cross_entropy(z[run], y[run])), rel=1e-12)
        ece = float(expected_calibration_error(y[run], p))
        assert metrics["ECE"][run] == pytest.approx(ece, rel=1e-12)
        confidence = p.max(axis=1).mean()
        assert metrics["confidence gap"][run] == pytest.approx(
            confidence - metrics["accuracy"][run], rel=1e-12
        )
        assert metrics["median margin"][run] == np.median(logit_margin(z[run]))
    # one set of labels for every run broadcasts
    shared = held_out_metrics(z, y[0])
    for name, values in shared.items():
        np.testing.assert_allclose(values, [held_out_metrics(z[r], y[0])[name] for r in range(3)])


def test_held_out_metrics_are_exact_where_a_naive_softmax_overflows():
    metrics = held_out_metrics([[1e4, 0.0], [0.0, 1e4]], [1, 1])
    assert float(metrics["NLL"]) == 5e3 and float(metrics["accuracy"]) == 0.5
    assert float(metrics["confidence gap"]) == 0.5  # certain of both, right once


def test_held_out_metrics_reject_bad_input():
    z, y = np.zeros((3, 4, 3)), np.zeros((3, 4), dtype=int)
    with pytest.raises(TypeError, match="class indices"):
        held_out_metrics(z, y.astype(float))
    with pytest.raises(ValueError, match="do not match"):
        held_out_metrics(z, y[:, :2])
    with pytest.raises(ValueError, match="K >= 2"):
        held_out_metrics(z[..., :1], y)
    with pytest.raises(ValueError, match="finite"):
        held_out_metrics(np.full_like(z, np.nan), y)
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        held_out_metrics(z, y + 3)
