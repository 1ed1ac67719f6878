"""Docstring sections shared by several losses, and the decorator that fills them in."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

# Docstring sections shared by several functions, filled in by ``_doc``.
DOCS = {
    "input_target": r"""input : array_like
        Predictions :math:`x`: an array of any array-API library (NumPy, PyTorch, JAX,
        dask, array-api-strict, ...), a Python number or a (nested) list of numbers.
    target : array_like
        Targets :math:`y`: the same shape as ``input`` (a dimension of unknown size, as in
        dask after boolean indexing, is not compared) and the same array library.""",
    "reduction": r"""reduction : {'mean', 'sum', 'none'}, default 'mean'
        ``'mean'``: :math:`\frac{1}{N}\sum_i \ell_i` over all :math:`N` elements
        (NaN, without a warning, when :math:`N = 0`); ``'sum'``: :math:`\sum_i \ell_i`
        (0 when :math:`N = 0`); ``'none'``: the :math:`\ell_i` themselves.""",
    "returns": r"""Returns
    -------
    array
        An array of the inputs' library whose dtype is the common floating dtype of ``input``
        and ``target`` (integers count as the library's default float). It is 0-d for
        ``'mean'`` and ``'sum'`` (NumPy returns a NumPy scalar) and shaped like ``input``
        for ``'none'``.""",
    "raises": r"""TypeError
        If ``input`` and ``target`` come from different array libraries, or hold strings,
        booleans or complex numbers.
    ValueError
        If their shapes differ, or ``reduction`` is not ``'mean'``, ``'sum'`` or ``'none'``.""",
    "beta": """beta : float or 0-d array, default 1.0
        Where the loss turns from quadratic to linear; finite and ``>= 0``. A value traced
        by JAX (``jax.jit``, ``jax.vmap``, ``jax.grad``) or a dask array is not checked: a
        refused one makes the result NaN.""",
    "delta": """delta : float or 0-d array, default 1.0
        Where the loss turns from quadratic to linear; finite and ``> 0``. A value traced
        by JAX (``jax.jit``, ``jax.vmap``, ``jax.grad``) or a dask array is not checked: a
        refused one makes the result NaN.""",
    "grad_returns": r"""Returns
    -------
    array
        :math:`\partial L / \partial x_i`, shaped like ``input``, in the inputs' common
        floating dtype. For ``'none'`` it is the per-element derivative
        :math:`\partial \ell_i / \partial x_i` (the same as for ``'sum'``); for ``'mean'`` it
        is divided by :math:`N`. The derivative with respect to ``target`` is its negative.""",
    "pytorch": """On PyTorch tensors the result is computed by :mod:`torch.nn.functional`'s kernel
    after the companion's checks; the formula above is the reference it is tested against.
    Deliberate differences from PyTorch (see :mod:`companion.losses.regression`): unequal
    shapes raise ``ValueError`` instead of broadcasting; integers are promoted to the default
    float; Python numbers and lists are accepted; booleans and complex numbers raise
    ``TypeError``.""",
    "nan": """NaN in either argument gives NaN for that element (and for 'mean' and 'sum');
    an infinite difference gives an infinite loss.""",
    "huber1964": """P. J. Huber, "Robust Estimation of a Location Parameter",
    *The Annals of Mathematical Statistics* 35(1), 73-101, 1964.""",
    "girshick2015": """R. Girshick, "Fast R-CNN", *Proceedings of the IEEE International
    Conference on Computer Vision (ICCV)*, 1440-1448, 2015.""",
}

DOCS["raises_beta"] = DOCS["raises"] + "\n        Also if ``beta`` is negative, NaN or infinite."
DOCS["raises_delta"] = (
    DOCS["raises"] + "\n        Also if ``delta`` is zero, negative, NaN or infinite."
)


def fill_doc(func: F) -> F:
    """Fill the ``%(name)s`` placeholders of ``func``'s docstring from ``DOCS``.

    The function itself is returned unchanged, so type checkers see its real signature.
    """
    if func.__doc__:  # None under ``python -OO``
        func.__doc__ = func.__doc__ % DOCS
    return func
