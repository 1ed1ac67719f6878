"""The companion under JAX's transformations: ``jax.jit`` (with traced beta/delta, optax's call
pattern), ``jax.vmap`` (over the data and over beta/delta) and ``jax.grad`` with respect to
beta/delta. Derivatives with respect to the data are in ``test_losses_autodiff``."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

import companion
from companion.losses._validation import check_parameter

jax = pytest.importorskip(
    "jax", reason="JAX is a test requirement (requirements.txt); the JAX client is untested"
)
jnp = jax.numpy

NAMES = ("l1_loss", "mse_loss", "smooth_l1_loss", "huber_loss")
WITH_REDUCTION = [getattr(companion, f"{n}{s}") for n in NAMES for s in ("", "_reference", "_grad")]
WITH_REDUCTION += [companion.pinball_loss, companion.pinball_loss_grad]
# Every function with a beta or delta, and the parameter's name.
WITH_PARAMETER = [
    (getattr(companion, f"{name}{suffix}"), parameter)
    for name, parameter in (("smooth_l1_loss", "beta"), ("huber_loss", "delta"))
    for suffix in ("", "_reference", "_grad")
]
GOOD = {"beta": [0.0, 0.25, 1.0, 1000.0], "delta": [0.25, 1.0, 1000.0]}
BAD = {"beta": [-1.0, math.nan, math.inf], "delta": [-1.0, math.nan, math.inf, 0.0]}
RTOL = 1e-6  # float32; jit may fuse operations differently from eager execution


def fn_id(fn) -> str:
    return fn.__name__


def data():
    rng = np.random.default_rng(7)
    x = rng.normal(size=(4, 6)) * 3
    x[0, :3] = [0.0, 1.0, -0.25]  # exactly 0, at the kink for 1 and for 0.25
    return jnp.asarray(x, dtype=jnp.float32), jnp.zeros((4, 6), dtype=jnp.float32)


def cases(values: dict) -> list:
    return [(fn, parameter, v) for fn, parameter in WITH_PARAMETER for v in values[parameter]]


def case_id(case) -> str:
    return getattr(case, "__name__", repr(case))


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize(("fn", "parameter", "value"), cases(GOOD), ids=case_id)
def test_jit_traces_beta_and_delta(fn, parameter, value, reduction):
    """``jax.jit(huber_loss)(x, y, delta=1.0)`` traces delta; the result equals the eager one
    (where delta is a checked Python float). beta = 0 traced is the L1 loss."""
    x, y = data()
    traced = jax.jit(fn, static_argnames="reduction")(x, y, reduction, **{parameter: value})
    eager = fn(x, y, reduction, **{parameter: value})
    np.testing.assert_allclose(traced, eager, rtol=RTOL, atol=0)


@pytest.mark.parametrize(("fn", "parameter", "value"), cases(BAD), ids=case_id)
def test_bad_traced_parameter_gives_nan(fn, parameter, value):
    """A traced value cannot raise; the one the checks would refuse gives NaN everywhere."""
    x, y = data()
    with pytest.raises(ValueError, match=f"{parameter} must be a finite real number"):
        fn(x, y, **{parameter: value})  # eager: the Python float is checked
    assert np.isnan(np.asarray(jax.jit(fn)(x, y, **{parameter: value}))).all()


def test_static_parameter_is_checked_and_concrete_arrays_too():
    x, y = data()
    static = jax.jit(companion.huber_loss, static_argnames="delta")
    np.testing.assert_allclose(static(x, y, delta=2.0), companion.huber_loss(x, y, delta=2.0))
    with pytest.raises(ValueError, match=re.escape("delta must be a finite real number > 0")):
        static(x, y, delta=-1.0)
    with pytest.raises(ValueError, match="beta must be a finite real number >= 0"):
        companion.smooth_l1_loss(x, y, beta=jnp.asarray(-1.0))  # concrete: read and checked
    with pytest.raises(TypeError, match="beta must be a finite real number >= 0"):
        companion.smooth_l1_loss(x, y, beta=jnp.ones(2))


def test_untraceable_parameter_asks_for_static_argnames():
    """``check_parameter``'s default refuses a traced value, naming the fix."""
    message = "mark it static: jax.jit(f, static_argnames='gamma')"
    with pytest.raises(TypeError, match=re.escape(message)):
        jax.jit(lambda g: check_parameter("gamma", g, allow_zero=True))(2.0)


@pytest.mark.parametrize(("fn", "parameter"), WITH_PARAMETER, ids=case_id)
def test_vmap_over_beta_and_delta(fn, parameter):
    x, y = data()
    values = jnp.asarray([0.25, 1.0, 3.0, 1000.0])
    swept = jax.vmap(lambda v: fn(x, y, "sum", **{parameter: v}))(values)
    one_by_one = [fn(x, y, "sum", **{parameter: float(v)}) for v in values]
    np.testing.assert_allclose(swept, np.stack(one_by_one), rtol=RTOL, atol=0)


def test_grad_with_respect_to_beta_and_delta():
    """d/d delta of sum Huber = sum over |d| > delta of (|d| - delta); d/d beta of sum Smooth
    L1 = sum of -d^2 / (2 beta^2) below beta and -1/2 above."""
    x, y = data()
    a = np.abs(np.asarray(x, dtype=np.float64))
    for delta in (0.5, 2.0):
        grad = jax.grad(lambda d: companion.huber_loss(x, y, "sum", delta=d))(delta)
        np.testing.assert_allclose(grad, np.sum(np.where(a > delta, a - delta, 0.0)), rtol=1e-5)
    for beta in (0.5, 2.0):
        grad = jax.grad(lambda b: companion.smooth_l1_loss(x, y, "sum", beta=b))(beta)
        expected = np.sum(np.where(a < beta, -(a**2) / (2 * beta**2), -0.5))
        np.testing.assert_allclose(grad, expected, rtol=1e-5)


@pytest.mark.parametrize("fn", [*WITH_REDUCTION, companion.rmse], ids=fn_id)
def test_vmap_over_rows_equals_row_by_row(fn):
    x, y = data()
    batched = jax.vmap(fn)(x, y)
    rows = [fn(x[i], y[i]) for i in range(x.shape[0])]
    np.testing.assert_allclose(batched, np.stack(rows), rtol=RTOL, atol=0)


@pytest.mark.parametrize("fn", [*WITH_REDUCTION, companion.rmse], ids=fn_id)
def test_jit_equals_eager(fn):
    x, y = data()
    np.testing.assert_allclose(jax.jit(fn)(x, y), fn(x, y), rtol=RTOL, atol=0)


def test_python_list_takes_the_jax_arrays_dtype():
    result = companion.huber_loss(jnp.asarray([0.5, 3.0], dtype=jnp.float16), [0, 1])
    assert result.dtype == jnp.float16 and float(result) == pytest.approx(0.8125)
    assert companion.l1_loss(jnp.asarray([1, 2]), jnp.asarray([0, 0])).dtype == jnp.float32
