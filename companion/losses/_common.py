"""Private helpers for the loss formulas, shared by the regression and classification losses.

They take validated arrays of one namespace ``xp`` (see ``companion.losses._validation``) and
run on every array library, array API 2022.12 included.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import array_api_compat


def is_2023_12_or_later(xp: Any) -> bool:
    """Whether ``xp`` has ``minimum``, ``maximum`` and ``clip`` (array API 2023.12 on)."""
    return bool(getattr(xp, "__array_api_version__", "2023.12") >= "2023.12")


def minimum(xp: Any, a: Any, b: Any) -> Any:
    """``min(a, b)``, NaN where ``a`` is NaN (``where`` on array API 2022.12)."""
    return xp.minimum(a, b) if is_2023_12_or_later(xp) else xp.where(b < a, b, a)


def maximum(xp: Any, a: Any, b: Any) -> Any:
    """``max(a, b)``, NaN where ``a`` is NaN (``where`` on array API 2022.12)."""
    return xp.maximum(a, b) if is_2023_12_or_later(xp) else xp.where(b > a, b, a)


def absolute(xp: Any, x: Any) -> Any:
    """``|x|``, whose derivative at ``x = 0`` is 0 in PyTorch's and JAX's autodiff.

    PyTorch differentiates ``abs`` at 0 as 0; JAX as +1 (``jax.grad(jnp.abs)(0.0) == 1``),
    so on JAX the zero is selected by ``where`` instead, whose derivative there is 0.
    """
    if array_api_compat.is_jax_namespace(xp):
        return xp.where(x == 0, xp.zeros_like(x), xp.abs(x))
    return xp.abs(x)


def constant(xp: Any, value: float, like: Any) -> Any:
    """A 0-d array holding ``value`` in ``like``'s dtype and device."""
    return xp.asarray(value, dtype=like.dtype, device=array_api_compat.device(like))


@functools.cache
def is_half(xp: Any, dtype: Any) -> bool:
    """Whether a floating ``dtype`` is narrower than float32 (float16, bfloat16)."""
    return bool(xp.finfo(dtype).bits < 32)


def reduce(loss: Any, reduction: str, xp: Any) -> Any:
    """Apply ``reduction`` to per-element losses; the mean of nothing is NaN, silently.

    Half precision is accumulated in float32 and rounded once, as PyTorch does.
    """
    if reduction == "none":
        return loss
    if is_half(xp, loss.dtype):
        return xp.astype(reduce(xp.astype(loss, xp.float32), reduction, xp), loss.dtype)
    if reduction == "sum":
        return xp.sum(loss)
    if array_api_compat.size(loss) == 0:
        # sum() keeps the autograd graph; 0 * nan is NaN without NumPy's 0/0 warning.
        return xp.sum(loss) * math.nan
    return xp.mean(loss)


def count(xp: Any, x: Any, group: int = 1) -> Any:
    """The number of elements of ``x`` divided by ``group``: an int, or where the size is
    unknown until computed (dask after boolean indexing) a lazily counted 0-d array of ``x``'s
    dtype."""
    n = array_api_compat.size(x)
    if n is not None:
        return n // group
    counted = xp.astype(xp.sum(xp.ones_like(x, dtype=xp.int64)), x.dtype)
    return counted if group == 1 else counted / group


def scale(grad: Any, reduction: str, xp: Any, group: int = 1) -> Any:
    """Divide derivatives by the number of terms, :func:`count`, for 'mean' ('sum' and 'none'
    keep them); ``group`` is the number of derivatives per term (the classes of a sample)."""
    if reduction != "mean":
        return grad
    n = count(xp, grad, group)
    return grad / (max(n, 1) if isinstance(n, int) else n)


@functools.cache
def torch_functional() -> Any:
    """:mod:`torch.nn.functional`, imported when a tensor needs it (PyTorch is optional)."""
    import torch.nn.functional

    return torch.nn.functional


@functools.cache
def import_torch() -> Any:
    """:mod:`torch`, imported when a tensor needs it (PyTorch is optional)."""
    import torch

    return torch
