"""The companion's losses against ``torch.nn.functional``: values, dtypes and gradients.

Every loss (and every beta/delta that matters: 0, small, 1, large, inf) x reduction x dtype x
array library, on data that hits the kinks exactly, on NaN and inf in either argument, on
0-d and on empty inputs. Both the public function (which calls PyTorch's kernel on tensors)
and the ``*_reference`` formula are checked.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import ATOL, BACKEND_DTYPES, BACKENDS, RTOL, asarray, dtype_name, to_numpy

import companion

REDUCTIONS = ("none", "mean", "sum")

# (name, keyword arguments): beta = 0 is L1; 1000 puts small residuals
# deep in the quadratic zone, where a careless formula loses float32 digits in its gradient.
LOSSES = [
    ("l1_loss", {}),
    ("mse_loss", {}),
    ("smooth_l1_loss", {"beta": 1.0}),
    ("smooth_l1_loss", {"beta": 0.0}),
    ("smooth_l1_loss", {"beta": 0.25}),
    ("smooth_l1_loss", {"beta": 1000.0}),
    ("huber_loss", {"delta": 1.0}),
    ("huber_loss", {"delta": 0.25}),
    ("huber_loss", {"delta": 1000.0}),
]
LOSS_IDS = [f"{name}{params or ''}" for name, params in LOSSES]
IMPLEMENTATIONS = ("public", "reference")
# Only on tensors do the public losses and the reference formulas run different code.
BACKEND_DTYPE_IMPLEMENTATIONS = [
    (backend, dtype, implementation)
    for backend, dtype in BACKEND_DTYPES
    for implementation in (IMPLEMENTATIONS if backend == "torch" else ("public",))
]
DATA = ("kinks", "nonfinite", "0-d")


def kink(params: dict) -> float:
    """The loss's kink (beta or delta), or 1 where there is none or it is 0."""
    return next(iter(params.values()), 0.0) or 1.0


def make_data(kind: str, params: dict) -> tuple[np.ndarray, np.ndarray]:
    """Input and target (float64) for a data ``kind``; the caller casts them."""
    if kind == "0-d":
        return np.array(2.5), np.array(0.5)
    if kind == "nonfinite":
        x = [math.nan, 0.0, math.inf, -math.inf, math.inf, 1.0, math.inf, 2.0, 0.5]
        y = [0.0, math.nan, 0.0, 0.0, math.inf, math.inf, -math.inf, -math.inf, 0.0]
        return np.array(x), np.array(y)
    k = kink(params)
    rng = np.random.default_rng(20260101)
    y = rng.normal(size=24) * 2.0
    x = y + rng.normal(size=24) * 3.0
    # differences exactly 0, +-k (the kink), just either side of it, tiny (also relative to
    # k, where two nearly cancelling gradient paths would lose float32 digits), moderate
    x_kinks = np.array(
        [0.0, k, -k, k * (1 - 2**-8), k * (1 + 2**-8), 1e-3, -1e-6, k * 1e-7, -2.5, 4.0, 7.0]
    )
    return np.concatenate([x, x_kinks]), np.concatenate([y, np.zeros_like(x_kinks)])


def companion_fn(name: str, implementation: str):
    return getattr(companion, name if implementation == "public" else f"{name}_reference")


def torch_loss(name, x, y, reduction, params, dtype):
    """PyTorch's loss of the float64 data cast to ``dtype``, and its input/target grads.

    One documented exception: PyTorch's float16 ``smooth_l1_loss`` kernel overflows to inf
    where the loss itself is finite (see ``test_float16_smooth_l1_does_not_overflow``); there
    the expected value is PyTorch's float32 result rounded to float16.
    """
    xt = torch.tensor(x, dtype=getattr(torch, dtype), requires_grad=True)
    yt = torch.tensor(y, dtype=getattr(torch, dtype), requires_grad=True)
    loss = getattr(F, name)(xt, yt, reduction=reduction, **params)
    loss.backward(upstream_grad(loss))
    value = loss.detach()
    if dtype == "float16" and name == "smooth_l1_loss":
        wide = F.smooth_l1_loss(xt.float(), yt.float(), reduction=reduction, **params).half()
        overflowed = torch.isinf(value) & ~torch.isinf(wide)
        value = torch.where(overflowed, wide, value)
    return value, xt.grad, yt.grad


def upstream_grad(loss: torch.Tensor) -> torch.Tensor:
    """A fixed, non-uniform upstream gradient for 'none' (so each element is checked), else 1."""
    weights = torch.linspace(0.5, 1.5, max(loss.numel(), 1), dtype=loss.dtype)
    return weights[: loss.numel()].reshape(loss.shape)


def assert_close(actual, expected, dtype: str) -> None:
    np.testing.assert_allclose(
        to_numpy(actual).astype(np.float64),
        to_numpy(expected).astype(np.float64),
        rtol=RTOL[dtype],
        atol=ATOL[dtype],
        equal_nan=True,
    )


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")  # float16 Huber(1000)
@pytest.mark.parametrize("data", DATA)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(("name", "params"), LOSSES, ids=LOSS_IDS)
@pytest.mark.parametrize(("backend", "dtype"), [bd for bd in BACKEND_DTYPES if bd[0] != "torch"])
def test_value_and_dtype_match_torch(backend, dtype, name, params, reduction, data):
    """NumPy and array-api-strict; tensors are checked with their gradients below."""
    xp = BACKENDS[backend]
    x, y = make_data(data, params)
    result = getattr(companion, name)(
        asarray(xp, x, dtype), asarray(xp, y, dtype), reduction, **params
    )
    expected, _, _ = torch_loss(name, x, y, reduction, params, dtype)
    assert dtype_name(result) == dtype
    assert tuple(result.shape) == tuple(expected.shape)
    assert_close(result, expected, dtype)


@pytest.mark.parametrize("data", DATA)
@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(("name", "params"), LOSSES, ids=LOSS_IDS)
@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_tensor_value_and_autograd_match_torch(
    dtype, name, params, reduction, implementation, data
):
    """On tensors the value, its dtype and shape, and the gradients of input AND target equal
    PyTorch's: at the kinks, for tiny residuals under a large beta/delta, for NaN and +-inf in
    either argument, for 0-d input."""
    x, y = make_data(data, params)
    xt = torch.tensor(x, dtype=getattr(torch, dtype), requires_grad=True)
    yt = torch.tensor(y, dtype=getattr(torch, dtype), requires_grad=True)
    loss = companion_fn(name, implementation)(xt, yt, reduction, **params)
    loss.backward(upstream_grad(loss))
    expected, x_grad, y_grad = torch_loss(name, x, y, reduction, params, dtype)
    assert loss.dtype == expected.dtype and loss.shape == expected.shape
    assert_close(loss.detach(), expected, dtype)
    assert xt.grad.dtype == x_grad.dtype and yt.grad.dtype == y_grad.dtype
    assert_close(xt.grad, x_grad, dtype)
    assert_close(yt.grad, y_grad, dtype)


@pytest.mark.parametrize("data", DATA)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(("name", "params"), LOSSES, ids=LOSS_IDS)
@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_fast_path_equals_reference(dtype, name, params, reduction, data):
    """On tensors the public loss runs PyTorch's fused kernel; it must equal the formula."""
    x, y = make_data(data, params)
    results = {}
    for implementation in IMPLEMENTATIONS:
        xt = torch.tensor(x, dtype=getattr(torch, dtype), requires_grad=True)
        yt = torch.tensor(y, dtype=getattr(torch, dtype), requires_grad=True)
        loss = companion_fn(name, implementation)(xt, yt, reduction, **params)
        loss.backward(upstream_grad(loss))
        results[implementation] = (loss.detach(), xt.grad, yt.grad)
    for fast, reference in zip(results["public"], results["reference"], strict=True):
        assert fast.dtype == reference.dtype and fast.shape == reference.shape
        assert_close(fast, reference, dtype)


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
@pytest.mark.parametrize("data", DATA)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(("name", "params"), LOSSES, ids=LOSS_IDS)
@pytest.mark.parametrize(("backend", "dtype"), BACKEND_DTYPES)
def test_analytic_grad_matches_torch_autograd(backend, dtype, name, params, reduction, data):
    xp = BACKENDS[backend]
    x, y = make_data(data, params)
    grad = getattr(companion, f"{name}_grad")(
        asarray(xp, x, dtype), asarray(xp, y, dtype), reduction, **params
    )
    xt = torch.tensor(x, dtype=getattr(torch, dtype), requires_grad=True)
    getattr(F, name)(
        xt, torch.tensor(y, dtype=xt.dtype), reduction=reduction, **params
    ).sum().backward()
    expected = xt.grad.numpy().astype(np.float64)
    if name == "l1_loss" or params == {"beta": 0.0}:
        # Documented difference: sign(nan) is NaN in the array API, 0 in PyTorch.
        nan_diff = np.isnan(np.asarray(x) - np.asarray(y))
        assert np.all(expected[nan_diff] == 0.0)
        expected[nan_diff] = np.nan
    assert dtype_name(grad) == dtype
    assert tuple(grad.shape) == np.shape(x)
    assert_close(grad, expected, dtype)


@pytest.mark.parametrize(("backend", "dtype"), BACKEND_DTYPES)
@pytest.mark.parametrize("data", ["kinks", "0-d"])
def test_rmse_is_sqrt_of_torch_mse(backend, dtype, data):
    xp = BACKENDS[backend]
    x, y = make_data(data, {})
    result = companion.rmse(asarray(xp, x, dtype), asarray(xp, y, dtype))
    xt = torch.tensor(x, dtype=getattr(torch, dtype))
    expected = torch.sqrt(F.mse_loss(xt, torch.tensor(y, dtype=xt.dtype)))
    assert dtype_name(result) == dtype
    assert_close(result, expected, dtype)


def test_rmse_autograd_matches_torch_and_is_nan_at_a_perfect_fit():
    x, y = make_data("kinks", {})
    grads = []
    for rmse in (companion.rmse, lambda a, b: torch.sqrt(F.mse_loss(a, b))):
        xt = torch.tensor(x, requires_grad=True)
        rmse(xt, torch.tensor(y)).backward()
        grads.append(xt.grad)
    assert_close(grads[0], grads[1], "float64")
    perfect = torch.tensor([1.0, 2.0], requires_grad=True)
    companion.rmse(perfect, torch.tensor([1.0, 2.0])).backward()
    assert torch.isnan(perfect.grad).all()


@pytest.mark.parametrize("shape", [(0,), (3, 0)])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(("name", "params"), LOSSES, ids=LOSS_IDS)
@pytest.mark.parametrize(("backend", "dtype", "implementation"), BACKEND_DTYPE_IMPLEMENTATIONS)
def test_empty_input(backend, dtype, implementation, name, params, reduction, shape):
    """'mean' of nothing is NaN and 'sum' is 0, like PyTorch, with no warning from any library."""
    xp = BACKENDS[backend]
    empty = xp.zeros(shape, dtype=getattr(xp, dtype))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = companion_fn(name, implementation)(empty, empty, reduction, **params)
        grad = getattr(companion, f"{name}_grad")(empty, empty, reduction, **params)
    expected = getattr(F, name)(
        torch.zeros(shape, dtype=getattr(torch, dtype)),
        torch.zeros(shape, dtype=getattr(torch, dtype)),
        reduction=reduction,
        **params,
    )
    assert dtype_name(result) == dtype
    assert tuple(result.shape) == tuple(expected.shape)
    assert_close(result, expected, dtype)
    if reduction == "mean":
        assert np.isnan(to_numpy(result))
    if reduction == "sum":
        assert to_numpy(result) == 0.0
    assert tuple(grad.shape) == shape and dtype_name(grad) == dtype


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(("name", "params"), LOSSES, ids=LOSS_IDS)
def test_empty_input_backward(name, params, reduction, implementation):
    x = torch.zeros(0, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = companion_fn(name, implementation)(x, torch.zeros(0), reduction, **params)
        loss.backward(upstream_grad(loss))
    assert x.grad.shape == (0,)


def test_empty_rmse_is_nan_without_warning(xp):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = companion.rmse(xp.zeros((0,)), xp.zeros((0,)))
    assert np.isnan(to_numpy(result))


def test_float16_smooth_l1_does_not_overflow_where_torch_does():
    """Documented difference: PyTorch's half kernel squares before dividing by beta."""
    x = torch.tensor([400.0, 996.0], dtype=torch.float16)
    zeros = torch.zeros(2, dtype=torch.float16)
    ours = companion.smooth_l1_loss(x, zeros, reduction="none", beta=1000.0)
    theirs = F.smooth_l1_loss(x, zeros, reduction="none", beta=1000.0)
    assert torch.isinf(theirs).all()
    exact = torch.tensor([80.0, 496.008]).half()  # d^2 / (2 beta)
    assert torch.allclose(ours.float(), exact.float(), rtol=1e-3)


@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")
def test_the_tests_would_catch_the_naive_formulations():
    """Why the reference formula is written as it is, shown on the data the tests use.

    With ``where`` an infinite difference gets a NaN gradient (0 * inf in the unused branch);
    with optax's ``0.5 q^2 + delta (|d| - q)`` two gradient paths nearly cancel for small
    residuals under a large delta, and float32 loses digits; the companion's earlier
    ``q (|d| - q / 2)`` multiplies the zero derivative of ``q`` by ``|d| = inf`` in forward
    mode (and in JAX's reverse mode), giving NaN. The formula ``0.5 q^2 + delta (p - delta)``,
    ``p = max(|d|, delta)``, has none of these problems, so the agreement tests (rtol 1e-6)
    can tell them apart.
    """
    delta = 1000.0
    d = torch.tensor([math.inf, 1e-3, 0.5])

    def with_where(d):
        a = d.abs()
        return torch.where(a < delta, 0.5 * a * a, delta * (a - 0.5 * delta)).sum()

    def with_cancelling_paths(d):
        a = d.abs()
        q = torch.minimum(a, torch.tensor(delta))
        return (0.5 * q * q + delta * (a - q)).sum()

    def with_a_product(d):
        a = d.abs()
        q = torch.minimum(a, torch.tensor(delta))
        return (q * (a - 0.5 * q)).sum()

    def ours(d):
        return companion.huber_loss_reference(d, torch.zeros(3), "sum", delta=delta)

    expected = torch.func.grad(
        lambda d: F.huber_loss(d, torch.zeros(3), reduction="sum", delta=delta)
    )(d)
    assert torch.isnan(torch.func.grad(with_where)(d)[0])
    naive = torch.func.grad(with_cancelling_paths)(d)
    assert abs(naive[1] / expected[1] - 1) > 1e-3
    torch.testing.assert_close(torch.func.grad(with_a_product)(d), expected, rtol=1e-6, atol=0)
    assert torch.isnan(torch.func.jacfwd(with_a_product)(d)).all()
    for derivative in (torch.func.grad, torch.func.jacfwd):
        torch.testing.assert_close(derivative(ours)(d), expected, rtol=1e-6, atol=0)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", ["l1_loss", "huber_loss"])
@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_float16_formulas_round_like_torch(backend, name, reduction):
    """In half precision each element is computed in float32 and rounded once, and reductions
    accumulate in float32, as PyTorch's kernels do: L1 and Huber then equal PyTorch's float16
    results bit for bit (a chain of float16 operations was up to 2 ulp off)."""
    rng = np.random.default_rng(3)
    # differences of up to about 40: every sum stays below float16's largest value, 65504
    x, y = (rng.normal(size=500) * 10).astype(np.float16), rng.normal(size=500).astype(np.float16)
    xp = BACKENDS[backend]
    for params in ({}, {"delta": 0.25}, {"delta": 1000.0}) if name == "huber_loss" else ({},):
        ours = getattr(companion, f"{name}_reference")(
            xp.asarray(x), xp.asarray(y), reduction, **params
        )
        theirs = getattr(F, name)(
            torch.from_numpy(x), torch.from_numpy(y), reduction=reduction, **params
        )
        assert dtype_name(ours) == "float16"
        np.testing.assert_array_equal(to_numpy(ours), theirs.numpy())
