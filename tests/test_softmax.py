"""companion.softmax: thresholds of floating-point formulas, logit margins, temperature scaling."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax, softmax
from sklearn.metrics import log_loss

from companion import cross_entropy, cross_entropy_grad
from companion.softmax import (
    fit_temperature,
    logit_margin,
    negative_log_likelihood,
    smallest_float_where,
    smoothed_margin,
)

ALL_FLOAT16 = np.arange(2**16, dtype=np.uint16).view(np.float16)
FINITE_FLOAT16 = np.sort(ALL_FLOAT16[np.isfinite(ALL_FLOAT16)])


def overflows(x: np.generic) -> bool:
    return bool(np.isinf(np.exp(x)))


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_exp_overflow_threshold_is_the_first_number_whose_exp_is_infinite(dtype):
    threshold = smallest_float_where(overflows, 0.0, 1000.0, dtype)
    x = dtype(threshold)
    below = np.nextafter(x, dtype(0))
    with np.errstate(over="ignore"):
        assert np.isinf(np.exp(x)) and np.isfinite(np.exp(below))
    # just above log(largest finite number), within the spacing of the numbers there
    assert 0 <= threshold - math.log(float(np.finfo(dtype).max)) <= 2 * float(np.spacing(x))


@pytest.mark.parametrize(
    ("low", "high", "cut"),
    [(0.0, 100.0, 3.3), (-100.0, 100.0, -2.7), (-100.0, 0.0, -0.001), (-1.0, 1.0, 0.0)],
)
def test_threshold_equals_brute_force_over_every_float16(low, high, cut):
    def predicate(x):
        return bool(x >= cut)

    inside = FINITE_FLOAT16[(FINITE_FLOAT16 >= low) & (FINITE_FLOAT16 <= high)]
    expected = float(inside[inside >= cut].min())
    assert smallest_float_where(predicate, low, high, np.float16) == expected


def test_threshold_search_calls_the_predicate_at_most_64_times():
    calls = []

    def predicate(x):
        calls.append(x)
        return bool(x >= 1e-300)

    found = smallest_float_where(predicate, -1e308, 1e308, np.float64)
    assert found >= 1e-300 and np.nextafter(found, 0.0) < 1e-300
    assert len(calls) <= 66  # two ends and the bisection of 2**64 bit patterns
    assert all(isinstance(x, np.float64) for x in calls)


def test_threshold_search_rejects_what_it_cannot_search():
    with pytest.raises(ValueError, match="dtype must be float16, float32 or float64"):
        smallest_float_where(overflows, 0.0, 1.0, np.int32)
    with pytest.raises(ValueError, match="finite"):
        smallest_float_where(overflows, 0.0, math.inf, np.float32)
    with pytest.raises(ValueError, match="low <= high"):
        smallest_float_where(overflows, 5.0, 1.0, np.float32)
    with pytest.raises(ValueError, match="false at low"):
        smallest_float_where(overflows, 0.0, 10.0, np.float32)  # never true
    with pytest.raises(ValueError, match="false at low"):
        smallest_float_where(overflows, 100.0, 200.0, np.float32)  # already true


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


def test_negative_log_likelihood_equals_log_loss_and_cross_entropy():
    rng = np.random.default_rng(5)
    z = rng.normal(scale=3.0, size=(3, 40, 5))
    y = rng.integers(0, 5, size=(3, 40))
    nll = negative_log_likelihood(z, y)
    for run in range(3):
        expected = log_loss(y[run], softmax(z[run], axis=1), labels=range(5))
        assert nll[run] == pytest.approx(expected, rel=1e-10)
        assert nll[run] == pytest.approx(float(cross_entropy(z[run], y[run])), rel=1e-12)
    # one set of labels for every run broadcasts
    np.testing.assert_allclose(
        negative_log_likelihood(z, y[0]),
        [negative_log_likelihood(z[run], y[0]) for run in range(3)],
    )
    # exact for logits that would overflow a naive softmax
    assert float(negative_log_likelihood([[1e4, 0.0]], [1])) == 1e4
    with pytest.raises(ValueError, match="class indices"):
        negative_log_likelihood(z, y.astype(float))
    with pytest.raises(ValueError, match="do not match"):
        negative_log_likelihood(z, y[:, :10])
