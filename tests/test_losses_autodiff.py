"""Derivatives of the loss formulas in reverse AND forward mode, in PyTorch (``torch.func``) and
JAX, against PyTorch's autograd of ``torch.nn.functional``.

The data are those of ``test_losses_torch``: differences exactly 0, at the kink and either side
of it, tiny residuals under a large beta/delta (where two nearly cancelling derivative paths
would lose float32 digits), +-inf and NaN in either argument. Everything is float32 and held to
``RTOL["float32"]`` (1e-6, no absolute tolerance).

Forward mode computes the whole Jacobian (``jacfwd``): for ``'none'`` its diagonal holds the
per-element derivatives. For ``'mean'`` and ``'sum'`` every column involves every element, so
an element whose own derivative is NaN (a NaN difference) or infinite (an infinite one under
MSE) makes the whole gradient NaN (NaN x 0, inf x 0) in every library; those elements are left
out of the reduced forward-mode checks, and ``test_forward_mode_nan_is_inherent`` shows
PyTorch's own kernels do the same.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import RTOL, to_numpy
from test_losses_torch import (
    DATA,
    LOSS_IDS,
    LOSSES,
    REDUCTIONS,
    make_data,
    torch_loss,
    upstream_grad,
)

import companion

# PyTorch builds its forward-mode decompositions with torch.jit.script, deprecated in 2.13.
pytestmark = pytest.mark.filterwarnings(
    "ignore:`torch.jit.script` is deprecated:DeprecationWarning"
)

LIBRARIES = ("torch.func", "jax")
MODES = ("reverse", "forward")


def jax_or_skip():
    return pytest.importorskip(
        "jax", reason="JAX is a test requirement (requirements.txt); the JAX client is untested"
    )


def derivatives(library: str, mode: str, fn, x, y, cotangent):
    """``(value, dL/dx, dL/dy)`` of ``fn`` at float32 ``x, y``, each derivative multiplied by
    ``cotangent`` (PyTorch's upstream gradient): by a vector-Jacobian product (reverse) or
    from the forward-mode Jacobian."""
    if library == "jax":
        jax = jax_or_skip()
        xs, ys = jax.numpy.asarray(x, dtype="float32"), jax.numpy.asarray(y, dtype="float32")
        vjp, jacfwd = jax.vjp, jax.jacfwd
    else:
        xs, ys = torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.float32)
        vjp, jacfwd = torch.func.vjp, torch.func.jacfwd
    value, pullback = vjp(fn, xs, ys)
    w = to_numpy(cotangent).astype(np.float32)
    if mode == "reverse":
        grads = pullback(cotangent if library == "torch.func" else w)
        return value, *(to_numpy(g) for g in grads)
    jacobians = [to_numpy(j) for j in jacfwd(fn, argnums=(0, 1))(xs, ys)]
    if value.ndim == x.ndim and x.size > 0 and w.shape == x.shape:  # 'none': diagonal
        jacobians = [np.diagonal(j.reshape(x.size, x.size)).reshape(x.shape) for j in jacobians]
    return value, *(j * w for j in jacobians)


def element_weights(upstream: torch.Tensor, reduction: str, n: int) -> np.ndarray:
    """What multiplies each element's derivative in ``dL/dx``: the upstream gradient, over N
    for 'mean'."""
    u = upstream.numpy().astype(np.float64)
    return {"none": u, "sum": np.full(n, u), "mean": np.full(n, u / max(n, 1))}[reduction]


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
@pytest.mark.parametrize("data", DATA)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(("name", "params"), LOSSES, ids=LOSS_IDS)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("library", LIBRARIES)
def test_derivatives_match_torch_autograd(library, mode, name, params, reduction, data):
    x, y = make_data(data, params)
    if mode == "forward" and reduction != "none":
        diff = x - y
        keep = ~np.isnan(diff) & (np.isfinite(diff) | (name != "mse_loss"))
        x, y = x[keep], y[keep]
    expected, x_grad, y_grad = torch_loss(name, x, y, reduction, params, "float32")
    upstream = upstream_grad(expected)
    x_grad, y_grad = x_grad.numpy().astype(np.float64), y_grad.numpy().astype(np.float64)
    if library == "jax" and (name == "l1_loss" or params == {"beta": 0.0}):
        # Documented difference: JAX differentiates |d| at d = NaN as -1, PyTorch as 0.
        nan = np.isnan(x - y).reshape(x_grad.shape)
        weights = element_weights(upstream, reduction, x.size).reshape(x_grad.shape)
        x_grad = np.where(nan, -weights, x_grad)
        y_grad = np.where(nan, weights, y_grad)

    def loss(a, b):
        return getattr(companion, f"{name}_reference")(a, b, reduction, **params)

    value, dx, dy = derivatives(library, mode, loss, x, y, upstream)
    tolerance = {"rtol": RTOL["float32"], "atol": 0.0, "equal_nan": True}
    np.testing.assert_allclose(to_numpy(value).astype(np.float64), expected.numpy(), **tolerance)
    np.testing.assert_allclose(dx, x_grad, **tolerance)
    np.testing.assert_allclose(dy, y_grad, **tolerance)


def test_the_issue_examples_give_the_finite_slope():
    """Huber at [inf, -inf, 3] with delta = 2 has the slopes [2, -2, 2] (optax's answer), in
    JAX's reverse and forward mode and in torch.func's forward mode, also for float16 Smooth L1
    (whose public function runs the formula)."""
    jax = jax_or_skip()
    jnp = jax.numpy

    def huber(a):
        return companion.huber_loss(a, jnp.zeros(3), reduction="sum", delta=2.0)

    point = jnp.asarray([math.inf, -math.inf, 3.0])
    for derivative in (jax.grad, jax.jacfwd):
        np.testing.assert_array_equal(derivative(huber)(point), [2.0, -2.0, 2.0])
    half = torch.tensor([math.inf, -math.inf, 3.0, 0.5], dtype=torch.float16)
    slope = torch.func.jacfwd(
        lambda a: companion.smooth_l1_loss(a, torch.zeros_like(a), reduction="sum", beta=2.0)
    )(half)
    assert slope.dtype == torch.float16 and slope.tolist() == [1.0, -1.0, 1.0, 0.25]


def test_forward_mode_nan_is_inherent():
    """PyTorch's own kernels: in forward mode an element whose derivative is NaN (a NaN
    difference under Huber) or infinite (an infinite one under MSE) makes the whole gradient of
    the other elements' derivatives of a reduced loss NaN (NaN x 0 or inf x 0), as the
    formulas do."""

    def summed_gradient(loss, x):
        return torch.func.jacfwd(lambda a: loss(a, torch.zeros(3), reduction="sum"))(x)

    x = torch.tensor([math.nan, 1.0, 2.0])
    for loss in (F.huber_loss, F.smooth_l1_loss, companion.huber_loss_reference):
        assert torch.isnan(summed_gradient(loss, x)[1:]).all()
    x = torch.tensor([math.inf, 1.0, 2.0])
    for loss in (F.mse_loss, companion.mse_loss_reference):
        assert torch.isnan(summed_gradient(loss, x)[1:]).all()
    # ... while per element ('none') only the infinite difference's own derivative is affected:
    # PyTorch's mse_loss kernel gives NaN there in forward mode, the formula its slope, inf.
    ones = (torch.ones(3),)
    _, kernel = torch.func.jvp(
        lambda a: F.mse_loss(a, torch.zeros(3), reduction="none"), (x,), ones
    )
    _, formula = torch.func.jvp(
        lambda a: companion.mse_loss_reference(a, torch.zeros(3), reduction="none"), (x,), ones
    )
    assert torch.isnan(kernel[0]) and kernel[1:].tolist() == [2.0, 4.0]
    assert formula.tolist() == [math.inf, 2.0, 4.0]
