"""Derivatives of the loss formulas in reverse AND forward mode, in PyTorch (``torch.func``) and
JAX, against PyTorch's autograd of ``torch.nn.functional``.

The data are those of ``test_losses_torch``: differences exactly 0, at the kink and either side
of it, tiny residuals under a large beta/delta (where two nearly cancelling derivative paths
would lose float32 digits), +-inf and NaN in either argument. Everything is float32 and held to
``RTOL["float32"]`` (1e-6, no absolute tolerance).

Forward mode computes the whole Jacobian (``jacfwd``): for ``'none'`` its diagonal holds the
per-element derivatives. For ``'mean'`` and ``'sum'`` every column involves every element, so a
NaN difference (or, for MSE, whose slope there is infinite, an infinite one) makes the whole
gradient NaN (NaN x 0) in every library; those elements are left out of the reduced
forward-mode checks, and ``test_forward_mode_nan_is_inherent`` shows PyTorch's own kernels do
the same.
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
