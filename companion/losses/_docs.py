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


# Docstring sections shared by the classification losses (companion.losses.classification).
DOCS.update(
    {
        "logits_classes": r"""input : array_like, shape (C,), (N, C) or (N, C, d1, ..., dk)
        Unnormalised scores (logits) :math:`x`, one per class along axis 1 (axis 0 for one
        sample of shape (C,)): an array of any array-API library or a (nested) list.
    target : array_like
        Class indices :math:`y`, integers in :math:`[0, C)`, of ``input``'s shape without
        the class axis: () for (C,), (N,) for (N, C), (N, d1, ..., dk) for
        (N, C, d1, ..., dk). Or class probabilities :math:`q`, floats of ``input``'s shape.""",
        "class_weight": r"""weight : array_like of shape (C,), optional
        A weight :math:`w_c` for each class (default: all 1), cast to ``input``'s dtype.""",
        "ignore_index": r"""ignore_index : int, default -100
        A class index whose targets are dropped: their loss is 0 and they do not count in
        ``'mean'``. Only for class-index targets (with probabilities it must be negative).""",
        "class_index_reduction": r"""reduction : {'mean', 'sum', 'none'}, default 'mean'
        ``'none'``: the losses :math:`\ell_n`, one per target (0 for dropped ones);
        ``'sum'``: :math:`\sum_n \ell_n`; ``'mean'``: the weighted mean
        :math:`\sum_n \ell_n / \sum_n w_{y_n}` over the targets that are not dropped (NaN
        if there are none).""",
        "class_returns": r"""Returns
    -------
    array
        An array of the inputs' library and ``input``'s floating dtype (the common one of
        ``input`` and ``target`` for probability targets): 0-d for ``'mean'`` and ``'sum'``
        (NumPy returns a NumPy scalar), of ``input``'s shape without the class axis for
        ``'none'``.""",
        "class_raises": r"""TypeError
        If the arguments come from different array libraries, hold strings, booleans or
        complex numbers, or if class indices are not integers.
    ValueError
        If ``input`` has no class axis or no class, ``target`` has another shape (the
        message names both batch sizes when they differ), a class index is outside
        :math:`[0, C)` and not ``ignore_index``, ``weight`` does not hold one entry per
        class, or ``reduction`` is not ``'mean'``, ``'sum'`` or ``'none'``.""",
        "binary_input_target": r"""input : array_like
        Logits :math:`x` (any real number; :math:`p = \sigma(x)` is the predicted
        probability of the positive class): an array of any array-API library, a Python
        number or a (nested) list.
    target : array_like
        Targets :math:`t \in [0, 1]`: 1 for the positive class, 0 for the negative one, or
        a probability in between; ``input``'s shape, the same array library.""",
        "binary_raises": r"""TypeError
        If ``input`` and ``target`` come from different array libraries, or hold strings,
        booleans or complex numbers.
    ValueError
        If their shapes differ, a target is outside [0, 1], or ``reduction`` is not
        ``'mean'``, ``'sum'`` or ``'none'``.""",
        "kl_raises": r"""TypeError
        If ``input`` and ``target`` come from different array libraries or hold strings,
        booleans or complex numbers, or ``log_target`` is not a boolean.
    ValueError
        If their shapes differ, or ``reduction`` is not ``'mean'``, ``'batchmean'``,
        ``'sum'`` or ``'none'``.""",
        "value_checks": """The checks that read values (class indices in range, probabilities in
    [0, 1]) run on NumPy, array-api-strict, PyTorch and JAX arrays whose values are known.
    They are skipped on dask arrays and on traced values (``jax.jit``, ``jax.vmap``,
    ``torch.compile``, ``torch.func`` transforms), where reading a value would compute the
    graph or break it; there the formulas give NaN for a class index out of range (see
    :mod:`companion.losses.classification`).""",
        "classification_pytorch": """On PyTorch tensors the result is computed by
    :mod:`torch.nn.functional`'s kernel after the companion's checks; the formula above is the
    reference it is tested against. For the deliberate differences from PyTorch see
    :mod:`companion.losses.classification`.""",
        "lin2017": """T.-Y. Lin, P. Goyal, R. Girshick, K. He and P. Dollár, "Focal Loss for Dense
    Object Detection", *Proceedings of the IEEE International Conference on Computer Vision
    (ICCV)*, 2980-2988, 2017.""",
        "szegedy2016": """C. Szegedy, V. Vanhoucke, S. Ioffe, J. Shlens and Z. Wojna, "Rethinking
    the Inception Architecture for Computer Vision", *Proceedings of the IEEE Conference on
    Computer Vision and Pattern Recognition (CVPR)*, 2818-2826, 2016 (label smoothing).""",
        "hinton2015": """G. Hinton, O. Vinyals and J. Dean, "Distilling the Knowledge in a Neural
    Network", NIPS 2014 Deep Learning and Representation Learning Workshop;
    arXiv:1503.02531, 2015.""",
    }
)
