"""The classification losses under JAX: eager (where the value checks run), ``jax.jit`` (where
they cannot: an out-of-range class index gives NaN), ``jax.vmap`` over independent problems,
and ``jax.grad`` against PyTorch's autograd of the same loss."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from classification_cases import CASES, GRAD_CASES

import companion

jax = pytest.importorskip(
    "jax", reason="JAX is a test requirement (requirements.txt); the JAX client is untested"
)
jnp = jax.numpy

RTOL = 1e-5  # float32, and jit may fuse operations differently from eager execution
ALL = CASES + GRAD_CASES
WITH_REDUCTIONS = [(case, reduction) for case in ALL for reduction in case.reductions]


def on_jax(case, r: int = 0):
    """``case``'s problem ``r`` and keyword arguments as float32 (int32 indices) JAX arrays."""
    x, y = case.problem(r)
    kwargs = {
        k: jnp.asarray(v, dtype=jnp.float32) if isinstance(v, np.ndarray) else v
        for k, v in case.kwargs.items()
    }
    target = jnp.asarray(y) if case.index else jnp.asarray(y, dtype=jnp.float32)
    return jnp.asarray(x, dtype=jnp.float32), target, kwargs


def on_numpy(case, r: int = 0):
    """The same values as NumPy float32 arrays."""
    x, y = case.problem(r)
    kwargs = {
        k: v.astype(np.float32) if isinstance(v, np.ndarray) else v for k, v in case.kwargs.items()
    }
    return x.astype(np.float32), y if case.index else y.astype(np.float32), kwargs


def case_id(value) -> str:
    return value if isinstance(value, str) else repr(value)


@pytest.mark.parametrize(("case", "reduction"), WITH_REDUCTIONS, ids=case_id)
def test_eager_and_jit_equal_numpy(case, reduction):
    x, y, kwargs = on_jax(case)
    eager = case.fn(x, y, reduction=reduction, **kwargs)
    traced = jax.jit(lambda a, b: case.fn(a, b, reduction=reduction, **kwargs))(x, y)
    xn, yn, kwargs_n = on_numpy(case)
    expected = case.fn(xn, yn, reduction=reduction, **kwargs_n)
    assert eager.dtype == jnp.float32 and traced.dtype == jnp.float32
    np.testing.assert_allclose(eager, expected, rtol=RTOL, atol=1e-6)
    np.testing.assert_allclose(traced, eager, rtol=RTOL, atol=1e-6)


@pytest.mark.parametrize("case", ALL, ids=case_id)
def test_vmap_over_problems_equals_problem_by_problem(case):
    x = jnp.asarray(case.input, dtype=jnp.float32)
    y = jnp.asarray(case.target) if case.index else jnp.asarray(case.target, dtype=jnp.float32)
    _, _, kwargs = on_jax(case)
    batched = jax.vmap(lambda a, b: case.fn(a, b, **kwargs))(x, y)
    one_by_one = [case.fn(x[r], y[r], **kwargs) for r in range(x.shape[0])]
    np.testing.assert_allclose(batched, np.stack(one_by_one), rtol=RTOL, atol=1e-6)


@pytest.mark.parametrize(("case", "reduction"), [(c, "sum") for c in CASES], ids=case_id)
def test_grad_equals_pytorch_autograd(case, reduction):
    """``jax.grad`` of the formulas equals PyTorch's autograd of its own kernels (on float32:
    JAX computes in float32 unless 64-bit types are enabled)."""
    x, y, kwargs = on_jax(case)
    grad = jax.grad(lambda a: case.fn(a, y, reduction=reduction, **kwargs))(x)
    xn, yn, kwargs_n = on_numpy(case)
    xt = torch.from_numpy(xn).requires_grad_(True)
    kwargs_t = {
        k: torch.from_numpy(v) if isinstance(v, np.ndarray) else v for k, v in kwargs_n.items()
    }
    case.fn(xt, torch.from_numpy(yn), reduction=reduction, **kwargs_t).backward()
    np.testing.assert_allclose(grad, xt.grad.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("case", [c for c in CASES if c.grad is not None], ids=case_id)
def test_grad_equals_the_analytic_derivative(case, reduction):
    x, y, kwargs = on_jax(case)
    autodiff = jax.grad(lambda a: case.fn(a, y, reduction=reduction, **kwargs))(x)
    analytic = case.grad(x, y, reduction=reduction, **kwargs)
    np.testing.assert_allclose(autodiff, analytic, rtol=RTOL, atol=1e-7)


INDEX_FUNCTIONS = [
    companion.cross_entropy,
    companion.cross_entropy_reference,
    companion.cross_entropy_grad,
    companion.nll_loss,
    companion.nll_loss_reference,
    companion.multi_margin_loss,
    companion.multi_margin_loss_reference,
]


@pytest.mark.parametrize("fn", INDEX_FUNCTIONS, ids=lambda fn: fn.__name__)
def test_class_index_out_of_range_raises_eagerly_and_is_nan_under_jit(fn):
    """Eager JAX arrays are concrete: the range is checked. Under ``jax.jit`` the indices are
    traced and cannot be read: the loss of such a target is NaN (JAX itself would take -1 as
    the last class, and fill an index of C with NaN, or 0 for the hinge)."""
    x = jnp.asarray([[2.0, -1.0, 0.5], [0.0, 3.0, -2.0], [1.0, 1.0, 1.0]])
    for bad in (3, -1):
        y = jnp.asarray([0, bad, 2])
        message = f"target holds class index {bad} at position (1,)"
        with pytest.raises(ValueError, match=re.escape(message)):
            fn(x, y)
        per_target = np.asarray(jax.jit(lambda a, b: fn(a, b, reduction="none"))(x, y))
        assert np.isnan(per_target[1]).all() and np.isfinite(per_target[[0, 2]]).all()
        if fn is not companion.cross_entropy_grad:  # a derivative is per target: above
            assert np.isnan(jax.jit(fn)(x, y))


def test_a_dropped_target_is_not_nan_under_jit():
    x = jnp.asarray([[2.0, -1.0, 0.5], [0.0, 3.0, -2.0]])
    y = jnp.asarray([0, -100])
    for fn in (companion.cross_entropy, companion.nll_loss, companion.cross_entropy_reference):
        traced = jax.jit(lambda a, b, fn=fn: fn(a, b, reduction="none"))(x, y)
        np.testing.assert_allclose(traced, fn(x, y, reduction="none"), rtol=RTOL)
        assert float(traced[1]) == 0.0


def test_a_traced_class_index_under_grad_is_still_checked():
    """``jax.grad`` with respect to the logits traces them, not the class indices."""
    x = jnp.asarray([[2.0, -1.0, 0.5], [0.0, 3.0, -2.0]])
    with pytest.raises(ValueError, match="target holds class index 3"):
        jax.grad(lambda a: companion.cross_entropy(a, jnp.asarray([0, 3])))(x)


def test_probability_checks_run_eagerly_only():
    """A target outside [0, 1] raises on concrete arrays; under ``jax.jit`` it is not checked
    (the loss is then unbounded below, as in PyTorch)."""
    x, t = jnp.zeros((1, 3)), jnp.asarray([[0.5, 1.5, 0.0]])
    with pytest.raises(ValueError, match="target must hold probabilities in"):
        companion.binary_cross_entropy_with_logits(x, t)
    traced = jax.jit(companion.binary_cross_entropy_with_logits)(x, t)
    assert np.isfinite(traced)


def test_python_lists_take_the_jax_arrays_library():
    x = jnp.asarray([[2.0, -1.0, 0.5]], dtype=jnp.float16)
    result = companion.cross_entropy(x, [0])
    assert isinstance(result, jax.Array) and result.dtype == jnp.float16
    assert companion.cross_entropy([[2, -1, 0]], jnp.asarray([0])).dtype == jnp.float32
