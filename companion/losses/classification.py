r"""Classification losses and their derivatives, for NumPy, PyTorch and any array-API library.

Written like :mod:`companion.losses.regression`: each loss once, against the array API
standard, so it runs on NumPy arrays, PyTorch tensors (autograd flows through it), JAX and
dask arrays, array-api-strict arrays and any other library that implements the standard,
version 2022.12 or later (see *Transformations and lazy arrays* below). Names, arguments and
defaults are those of :mod:`torch.nn.functional`, and of ``torchvision.ops.sigmoid_focal_loss``
for :func:`sigmoid_focal_loss` (whose default reduction is ``'none'``).

Shapes: the class axis is axis 1. Logits of shape (N, C) take class indices of shape (N,);
logits of shape (N, C, d1, ..., dk) (a class score per pixel or per token) take indices of
shape (N, d1, ..., dk); logits of shape (C,) with a 0-d index are one sample. Probability
targets have the logits' shape. The binary losses work elementwise on arrays of any shape.

No finite logit makes a formula overflow: log-probabilities come from a log-sum-exp
shifted by the largest logit, :math:`\log\sigma(x)` from
:math:`\min(x, 0) - \log(1 + e^{-|x|})`. Logits of :math:`\pm 10^4` give the same finite
losses and gradients as PyTorch, in float16, float32 and float64 (the formulas compute
float16 and bfloat16 in float32 and round once). The companion keeps PyTorch's expressions,
so that the two agree to rounding, and with them one limit:
:func:`binary_cross_entropy_with_logits` computes :math:`(1 - t)\,x - \log\sigma(x)`, whose
two terms cancel for a confident right answer with :math:`t = 0`. In float32 its loss at
:math:`x = -12` is :math:`5.7 \cdot 10^{-6}` instead of :math:`6.1 \cdot 10^{-6}`, and exactly
0 from about :math:`x = -15`; the gradient, :math:`\sigma(x) - t`, keeps its digits.

On PyTorch tensors every loss but the focal loss (which PyTorch lacks) calls its
:mod:`torch.nn.functional` kernel after the companion's checks. The formulas stay public as
the ``*_reference`` functions; they run on every library, and the tests check that both
paths agree (values, dtypes and gradients). A class index out of range is found by PyTorch's
kernel on CPU tensors (it checks the range anyway; a second check, which reads every index
again, takes about as long as :func:`nll_loss`'s kernel on 1000 samples): the companion turns
the kernel's error into its own, which names the index. On other devices (a CUDA kernel
would stop at a device-side assert) and in the formulas, the companion checks first.

**Transformations and lazy arrays.** Every function works

- under JAX's ``jax.jit``, ``jax.vmap`` and ``jax.grad`` (whose derivatives equal PyTorch's
  autograd, at a logit of exactly 0 too);
- under PyTorch's ``torch.vmap``, ``torch.func.grad`` and ``torch.compile(fullgraph=True)``,
  also with a Python number or list as an argument (the argument checks are pure Python).
  PyTorch has no ``vmap`` batching rule for ``kl_div`` and ``multi_margin_loss`` (it loops
  over the batch, and warns); its label-smoothed ``cross_entropy`` of class indices cannot be
  vmapped over the indices at all, so there the formula runs;
- on dask arrays, where it only builds a graph and computes nothing, also for a batch of size
  unknown until computed (after ``x[mask]``): the 'mean' reductions and derivatives count it
  lazily;
- on array API 2022.12, which lacks ``minimum``, ``maximum``, ``take_along_axis`` and
  ``__array_namespace_info__``: the formulas use ``where`` there (and on dask, which lacks
  ``take_along_axis``), and the default dtypes are those of ``zeros`` and ``asarray``. The
  results are bit for bit those on the newest version.

What cannot be checked there: the checks that read values (class indices in
:math:`[0, C)`, probabilities in [0, 1]) run on NumPy, array-api-strict, PyTorch and JAX
arrays whose values are known. Traced values (under ``jax.jit`` and ``jax.vmap``, the
argument ``jax.grad`` differentiates, tensors under ``torch.compile`` and ``torch.func``
transforms) and dask arrays are not read. A class index out of range then makes the
formulas' loss of its target NaN (and the derivative's row); without that, JAX would take a
negative index from the end and dask would select no class. PyTorch's kernels under
``torch.vmap`` and ``torch.compile`` raise their own ``RuntimeError`` on the CPU. A
probability outside [0, 1] is not detected: the loss is then unbounded below, as PyTorch's.

Differences from PyTorch and torchvision, all deliberate:

- Bad input raises an error that names it. A class index outside :math:`[0, C)` that is
  not ``ignore_index`` raises ``ValueError`` naming the first such index and its position
  (PyTorch: ``IndexError`` on the CPU, a device-side assert on a GPU); so does a probability
  outside [0, 1] for :func:`binary_cross_entropy` (PyTorch: ``RuntimeError``). Targets of the wrong
  shape, a ``weight`` of the wrong length, ``label_smoothing`` outside [0, 1], a negative
  ``gamma``, a ``p`` other than 1 or 2, an unknown ``reduction``: ``ValueError`` naming the
  argument and what is allowed (PyTorch raises ``RuntimeError`` for most, and silently
  ignores a negative ``label_smoothing`` with class indices). Floating-point class indices,
  booleans, complex numbers, strings and a mix of array libraries: ``TypeError``.
- :func:`binary_cross_entropy_with_logits` and :func:`sigmoid_focal_loss` refuse targets
  outside [0, 1] as :func:`binary_cross_entropy` does (PyTorch computes a loss that is then
  unbounded below); a NaN target gives NaN, as in PyTorch.
- An input of shape (C,) takes a 0-d class index only; PyTorch also accepts shape (1,).
- Class indices of any integer dtype are accepted (PyTorch: int64 or uint8 only). Integer
  logits are promoted to the library's default float, Python numbers and lists are
  accepted, and ``weight`` and ``pos_weight`` (arrays, numbers or lists) are cast to
  ``input``'s dtype (PyTorch's ``cross_entropy`` and ``nll_loss`` require equal dtypes).
  Probability targets and ``input`` are promoted to their common floating dtype.
- For float16 tensors the formulas run (in float32, rounded once) instead of PyTorch's
  kernels: on the CPU those round every step of a composite loss to float16, so
  ``binary_cross_entropy_with_logits`` at :math:`t = 0` is 16% too large at
  :math:`x = -5` and 0 from :math:`x = -7` (the loss is :math:`9 \cdot 10^{-4}` there),
  and a label-smoothed ``cross_entropy`` of the logits
  :math:`(10^4, -10^4, -10^4, -10^4, -10^4)` is inf where the loss is 1600. The float16
  results equal PyTorch's float32 results rounded to float16.
- :func:`kl_div` does not warn on ``reduction='mean'`` (a warning would break
  ``torch.compile(fullgraph=True)``); its docstring explains why ``'batchmean'`` is the KL
  divergence.
- :func:`multi_margin_loss`: float16 is computed by the formula (PyTorch has no CPU kernel
  for it); an empty batch gives NaN for ``'mean'`` and 0 for ``'sum'`` (PyTorch's CPU kernel
  returns uninitialised memory for both); a negative ``margin`` raises ``ValueError``
  (PyTorch accepts it).
- :func:`sigmoid_focal_loss` keeps the digits of confident predictions, which are what it
  is about: its cross-entropy is :math:`(1 - t)\operatorname{softplus}(x) +
  t\operatorname{softplus}(-x)`, two terms that cannot cancel, and :math:`1 - p_t` is
  :math:`t\,\sigma(-x) + (1 - t)\,\sigma(x)`, not :math:`p_t` subtracted from 1.
  torchvision's loss (PyTorch's cross-entropy times its factor) is exactly 0 in float32
  from about :math:`x = -15` for :math:`t = 0` and :math:`x = 17` for :math:`t = 1`; the
  companion's equals the float64 value to float32 precision. A logit of
  :math:`-\infty` for a positive target costs inf (torchvision: NaN). ``alpha`` above 1,
  a negative ``gamma`` and an unknown ``reduction`` raise ``ValueError``; float16 is
  computed in float32.
- The ``*_reference`` formulas under PyTorch's autograd (the public losses use PyTorch's own
  backward on tensors): the gradient of :func:`binary_cross_entropy_reference` is the exact
  derivative of the clamped formula, 0 where a log is clamped at -100 (an input of exactly
  0 or 1), where PyTorch divides by :math:`\max(x(1 - x), 10^{-12})`; the gradient of
  :func:`kl_div_reference` with respect to a target of exactly 0 is :math:`-x` (the
  derivative of :math:`t \log t` there is left out), where PyTorch's is NaN.
"""

# ruff: noqa: UP045 - ``Optional[ArrayLike]``, not ``ArrayLike | None``: Sphinx 7.4 resolves the
# ``ArrayLike`` alias (autodoc_type_aliases) inside ``Optional`` but not in ``|``, which would
# leave an unresolved reference in the API page (as in regression.py).

from __future__ import annotations

import functools
import math
from typing import Any, Optional

import array_api_compat
import numpy as np

from companion._typing import Array, ArrayLike
from companion.losses._common import (
    absolute,
    constant,
    count,
    import_torch,
    is_half,
    maximum,
    minimum,
    reduce,
    scale,
    torch_functional,
)
from companion.losses._docs import fill_doc
from companion.losses._validation import (
    check_bool,
    check_broadcast_weight,
    check_class_indices,
    check_class_weight,
    check_input_target,
    check_integer,
    check_logits_target,
    check_option,
    check_parameter,
    check_probabilities,
    check_real,
    check_reduction,
    default_index_dtype,
    values_are_concrete,
)

__all__ = [
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "nll_loss",
    "kl_div",
    "sigmoid_focal_loss",
    "multi_margin_loss",
    "binary_cross_entropy_reference",
    "binary_cross_entropy_with_logits_reference",
    "cross_entropy_reference",
    "nll_loss_reference",
    "kl_div_reference",
    "multi_margin_loss_reference",
    "binary_cross_entropy_with_logits_grad",
    "cross_entropy_grad",
]

KL_REDUCTIONS = ("none", "batchmean", "sum", "mean")

# ---------------------------------------------------------------------------------------
# Helpers for the formulas. They take validated arrays of one namespace ``xp``.


def _widen(xp: Any, *arrays: Any) -> tuple[Any, ...]:
    """Half-precision arrays (float16, bfloat16) as float32, as PyTorch computes them."""
    return tuple(
        xp.astype(a, xp.float32) if a is not None and is_half(xp, a.dtype) else a for a in arrays
    )


def _narrow(xp: Any, result: Any, dtype: Any) -> Any:
    """``result`` back in the inputs' dtype (after :func:`_widen`)."""
    return result if result.dtype == dtype else xp.astype(result, dtype)


def _divide(xp: Any, numerator: Any, denominator: Any) -> Any:
    """``numerator / denominator``, NaN without NumPy's warning when both are 0 (PyTorch never
    warns, and ``torch.compile`` would not trace NumPy's error state)."""
    if array_api_compat.is_torch_namespace(xp):
        return numerator / denominator
    with np.errstate(divide="ignore", invalid="ignore"):
        return numerator / denominator


def _log_sigmoid(xp: Any, x: Any) -> Any:
    r""":math:`\log\sigma(x) = \min(x, 0) - \log(1 + e^{-|x|})`, PyTorch's stable form (with a
    :math:`|x|` whose slope at 0 is 0, so that JAX's derivative at 0 is 1/2, as PyTorch's)."""
    return minimum(xp, x, constant(xp, 0.0, x)) - xp.log1p(xp.exp(-absolute(xp, x)))


def _sigmoid(xp: Any, x: Any) -> Any:
    r""":math:`\sigma(x)`, as :math:`1/(1 + e^{-x})` for :math:`x \ge 0` and
    :math:`e^{x}/(1 + e^{x})` below, so that no exponential overflows."""
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _log_softmax(xp: Any, x: Any) -> Any:
    """Log-probabilities along axis 1 by the shifted log-sum-exp (no overflow)."""
    shifted = x - xp.max(x, axis=1, keepdims=True)
    return shifted - xp.log(xp.sum(xp.exp(shifted), axis=1, keepdims=True))


def _clamped_log(xp: Any, x: Any, *, of_one_minus: bool) -> Any:
    r""":math:`\max(\log x, -100)` (or of :math:`\log(1 - x)` via ``log1p``), as PyTorch clamps.

    Where the log is :math:`-\infty` the result is -100 with a zero gradient: the log is
    taken of a safe stand-in there, because autograd would otherwise multiply a zero
    gradient by :math:`1/0`.
    """
    edge = 1.0 if of_one_minus else 0.0
    inside = x != edge  # NaN and values outside [0, 1] keep their NaN log
    safe = xp.where(inside, x, constant(xp, 0.5, x))
    log = xp.log1p(-safe) if of_one_minus else xp.log(safe)
    floor = constant(xp, -100.0, x)
    return xp.where(inside, maximum(xp, log, floor), floor)


def _class_axis(xp: Any, weight: Any, ndim: int) -> Any:
    """A (C,) weight reshaped to broadcast along axis 1 of an ``ndim``-d array."""
    return xp.reshape(weight, (1, weight.shape[0]) + (1,) * (ndim - 2))


def _per_class(a: Any) -> Any:
    """An (N, ...) array of one value per target with a class axis of size 1 inserted at 1.

    Indexing with ``None`` rather than ``expand_dims``, which dask implements by a reshape
    that a size unknown until computed refuses."""
    return a[:, None, ...]


def _weight_of(xp: Any, weight: Any, index: Any) -> Any:
    """The class weight of each target: ``weight[index]``, in ``index``'s shape."""
    if index.ndim == 1:
        return xp.take(weight, index, axis=0)
    if array_api_compat.size(index) is None:  # no reshape (see _per_class)
        return _select(xp, _class_axis(xp, weight, index.ndim + 1), index)
    return xp.reshape(xp.take(weight, xp.reshape(index, (-1,)), axis=0), index.shape)


def _as_index(xp: Any, target: Any) -> Any:
    """Class indices in the library's default integer dtype (no copy if they are already)."""
    dtype = default_index_dtype(xp)
    return target if target.dtype == dtype else xp.astype(target, dtype)


def _pick(xp: Any, x: Any, index: Any) -> Any:
    r"""``x[n, index[n, ...], ...]``: the entry of each target's class along axis 1.

    ``take_along_axis`` (array API 2024.12); where it is missing (array API 2022.12 and
    2023.12, dask) the class is selected with ``where`` and the other classes' exact zeros are
    summed away, so that -inf or NaN in another class does not leak in (a product with a
    one-hot mask would turn :math:`0 \cdot (-\infty)` into NaN).
    """
    if getattr(xp, "__array_api_version__", "2024.12") >= "2024.12" and hasattr(
        xp, "take_along_axis"
    ):
        return xp.squeeze(xp.take_along_axis(x, _per_class(index), axis=1), axis=1)
    return _select(xp, x, index)


def _select(xp: Any, x: Any, index: Any) -> Any:
    """:func:`_pick` by ``where``; ``x`` may have size 1 on axes other than the class axis."""
    classes = xp.arange(x.shape[1], dtype=index.dtype, device=array_api_compat.device(index))
    chosen = _class_axis(xp, classes, index.ndim + 1) == _per_class(index)
    return xp.sum(xp.where(chosen, x, constant(xp, 0.0, x)), axis=1)


def _one_sample_as_batch(xp: Any, input: Any, target: Any) -> tuple[Any, Any, bool]:
    """(C,) logits and their 0-d target (or (C,) probabilities) as a batch of one."""
    if input.ndim != 1:
        return input, target, False
    return xp.expand_dims(input, axis=0), xp.expand_dims(target, axis=0), True


def _nll_terms(
    xp: Any, logp: Any, target: Any, weight: Any, ignore_index: int
) -> tuple[Any, Any, Any]:
    r"""Per target: :math:`-w_{y} \log p_{y}` and :math:`w_y` (both 0 where dropped), and
    the mask of dropped targets. ``logp`` is (N, C, ...); ``target`` is (N, ...)."""
    dropped = target == ignore_index
    safe = xp.where(dropped, xp.zeros_like(target), target)
    picked = _pick(xp, logp, safe)
    zero = constant(xp, 0.0, logp)
    if weight is None:
        w = xp.where(dropped, zero, constant(xp, 1.0, logp))
        loss = xp.where(dropped, zero, -picked)
    else:
        w = xp.where(dropped, zero, _weight_of(xp, weight, safe))
        loss = xp.where(dropped, zero, -(picked * w))
    return _nan_if_unchecked(xp, loss, target, logp.shape[1], ignore_index), w, dropped


def _nan_if_unchecked(
    xp: Any, values: Any, target: Any, num_classes: int, ignore_index: int | None
) -> Any:
    """``values`` (one per target, or per target and class) with NaN for every target whose
    class index is out of range and not ``ignore_index``, where the indices could not be
    checked: traced (``jax.jit``, ``torch.compile``, ``vmap``) or lazy (dask). NaN, as for a
    traced ``beta`` in the regression losses, rather than the wrong class (a negative index
    counts from the end) or none. Checked indices (:func:`check_class_indices`) pass as
    they are."""
    if values_are_concrete(xp, target):
        return values
    bad = (target < 0) | (target >= num_classes)
    if ignore_index is not None:
        bad = bad & (target != ignore_index)
    if values.ndim > target.ndim:
        bad = _per_class(bad)
    return xp.where(bad, constant(xp, math.nan, values), values)


# ---------------------------------------------------------------------------------------
# The formulas.


def _binary_cross_entropy(xp: Any, input: Any, target: Any, weight: Any, reduction: str) -> Any:
    x, t, w = _widen(xp, input, target, weight)
    log_x = _clamped_log(xp, x, of_one_minus=False)
    log_1mx = _clamped_log(xp, x, of_one_minus=True)
    loss = (t - 1.0) * log_1mx - t * log_x  # PyTorch's expression
    if w is not None:
        loss = loss * w
    return _narrow(xp, reduce(loss, reduction, xp), input.dtype)


def _bce_with_logits(
    xp: Any, input: Any, target: Any, weight: Any, reduction: str, pos_weight: Any
) -> Any:
    x, t, w, pw = _widen(xp, input, target, weight, pos_weight)
    log_sigmoid = _log_sigmoid(xp, x)
    if pw is not None:
        log_sigmoid = log_sigmoid * ((pw - 1.0) * t + 1.0)
    loss = (1.0 - t) * x - log_sigmoid  # PyTorch's expression
    if w is not None:
        loss = loss * w
    return _narrow(xp, reduce(loss, reduction, xp), input.dtype)


def _reduce_per_target(xp: Any, loss: Any, w_y: Any, reduction: str, one_sample: bool) -> Any:
    """Reduce per-target losses; ``'mean'`` divides by the summed weights of the targets."""
    if reduction == "mean":
        return _divide(xp, xp.sum(loss), xp.sum(w_y))
    if reduction == "sum":
        return xp.sum(loss)
    return xp.reshape(loss, ()) if one_sample else loss


def _nll(xp: Any, input: Any, target: Any, weight: Any, ignore_index: int, reduction: str) -> Any:
    logp, w = _widen(xp, input, weight)
    logp, target, one_sample = _one_sample_as_batch(xp, logp, target)
    loss, w_y, _ = _nll_terms(xp, logp, target, w, ignore_index)
    return _narrow(xp, _reduce_per_target(xp, loss, w_y, reduction, one_sample), input.dtype)


def _cross_entropy(
    xp: Any,
    input: Any,
    target: Any,
    is_index: bool,
    weight: Any,
    ignore_index: int,
    reduction: str,
    label_smoothing: float,
) -> Any:
    x, w = _widen(xp, input, weight)
    t = target if is_index else _widen(xp, target)[0]
    x, t, one_sample = _one_sample_as_batch(xp, x, t)
    num_classes = x.shape[1]
    logp = _log_softmax(xp, x)
    w_class = None if w is None else _class_axis(xp, w, x.ndim)
    eps = label_smoothing
    if is_index:
        loss, w_y, dropped = _nll_terms(xp, logp, t, w, ignore_index)
        if eps > 0:
            smooth = -xp.sum(logp if w_class is None else logp * w_class, axis=1)
            smooth = xp.where(dropped, constant(xp, 0.0, smooth), smooth)
            loss = (1.0 - eps) * loss + (eps / num_classes) * smooth
        result = _reduce_per_target(xp, loss, w_y, reduction, one_sample)
    else:
        # PyTorch's 'mean' divides by the number of samples here, not by summed weights.
        q = t if eps == 0 else t * (1.0 - eps) + eps / num_classes
        terms = logp * q if w_class is None else logp * q * w_class
        loss = -xp.sum(terms, axis=1)
        result = reduce(xp.reshape(loss, ()) if one_sample else loss, reduction, xp)
    return _narrow(xp, result, input.dtype)


def _kl_div(xp: Any, input: Any, target: Any, reduction: str, log_target: bool) -> Any:
    x, t = _widen(xp, input, target)
    if log_target:
        loss = xp.exp(t) * (t - x)
    else:
        # xlogy(t, t) - t x, with 0 log 0 = 0 (and a finite gradient there)
        nonzero = t != 0
        safe = xp.where(nonzero, t, constant(xp, 1.0, t))
        loss = xp.where(nonzero, t * xp.log(safe), constant(xp, 0.0, t)) - t * x
    if reduction == "batchmean":
        total = xp.sum(loss)
        n = 1 if loss.ndim == 0 else count(xp, loss, group=math.prod(loss.shape[1:]))
        result = total * math.nan if isinstance(n, int) and n == 0 else total / n
    else:
        result = reduce(loss, reduction, xp)
    return _narrow(xp, result, input.dtype)


def _log_sigmoids(xp: Any, x: Any, neg_x: Any) -> tuple[Any, Any]:
    r""":math:`\log\sigma(x)` and :math:`\log\sigma(-x)`, each exact (no cancellation);
    ``neg_x`` is :math:`-x`."""
    if _is_torch(xp):
        logsigmoid = torch_functional().logsigmoid  # one fused kernel, the same formula
        return logsigmoid(x), logsigmoid(neg_x)
    zero = constant(xp, 0.0, x)
    log1p_e = xp.log1p(xp.exp(-absolute(xp, x)))
    return minimum(xp, x, zero) - log1p_e, minimum(xp, neg_x, zero) - log1p_e


def _sigmoids(xp: Any, x: Any, neg_x: Any) -> tuple[Any, Any]:
    r""":math:`\sigma(x)` and :math:`\sigma(-x)`, each to a few ulps (no cancellation);
    ``neg_x`` is :math:`-x`."""
    if _is_torch(xp):
        torch = import_torch()
        return torch.sigmoid(x), torch.sigmoid(neg_x)
    e = xp.exp(-xp.abs(x))
    sigmoid_abs = 1.0 / (1.0 + e)  # sigma(|x|)
    sigmoid_minus_abs = e * sigmoid_abs  # sigma(-|x|)
    positive = x >= 0
    return (
        xp.where(positive, sigmoid_abs, sigmoid_minus_abs),
        xp.where(positive, sigmoid_minus_abs, sigmoid_abs),
    )


def _sum_of_products(xp: Any, a: Any, b: Any, c: Any, d: Any) -> Any:
    """``a * b + c * d``; on PyTorch the second product and the sum are one kernel
    (``addcmul``), which saves a pass over the data."""
    if _is_torch(xp):
        return import_torch().addcmul(a * b, c, d)
    return a * b + c * d


def _focal(xp: Any, input: Any, target: Any, alpha: float, gamma: float, reduction: str) -> Any:
    x, t = _widen(xp, input, target)
    neg_x, one_minus_t = -x, 1.0 - t
    log_p, log_1mp = _log_sigmoids(xp, x, neg_x)
    # -(1 - t) log(1 - p) - t log p: two terms >= 0, no cancellation
    loss = -_sum_of_products(xp, one_minus_t, log_1mp, t, log_p)
    if gamma != 0:
        p, one_minus_p = _sigmoids(xp, x, neg_x)
        one_minus_p_t = _sum_of_products(xp, t, one_minus_p, one_minus_t, p)
        loss = loss * one_minus_p_t**gamma
    if alpha >= 0:
        loss = ((2.0 * alpha - 1.0) * t + (1.0 - alpha)) * loss  # alpha t + (1-alpha)(1-t)
    return _narrow(xp, reduce(loss, reduction, xp), input.dtype)


def _multi_margin(
    xp: Any, input: Any, target: Any, p: int, margin: float, weight: Any, reduction: str
) -> Any:
    x, w = _widen(xp, input, weight)
    x, target, one_sample = _one_sample_as_batch(xp, x, target)
    num_classes = x.shape[1]
    x_y = _per_class(_pick(xp, x, target))
    z = (margin - x_y) + x
    classes = xp.arange(num_classes, dtype=target.dtype, device=array_api_compat.device(target))
    # Only other classes with a positive z count. where() rather than maximum(): no gradient
    # at z = 0 and none through the target's own class, as in PyTorch's kernel.
    hinge = xp.where(
        (z > 0) & (xp.expand_dims(classes, axis=0) != _per_class(target)),
        z,
        constant(xp, 0.0, z),
    )
    if p == 2:
        hinge = hinge * hinge
    if w is not None:
        hinge = hinge * _per_class(xp.take(w, target, axis=0))
    loss = _nan_if_unchecked(xp, xp.sum(hinge, axis=1) / num_classes, target, num_classes, None)
    if one_sample and reduction == "none":
        loss = xp.reshape(loss, ())
    return _narrow(xp, reduce(loss, reduction, xp), input.dtype)


def _use_torch_kernel(xp: Any, input: Any) -> bool:
    """Whether to call PyTorch's kernel: on tensors, except float16 ones (see the module)."""
    return _is_torch(xp) and input.dtype != xp.float16


@functools.cache
def _is_torch(xp: Any) -> bool:
    return array_api_compat.is_torch_namespace(xp)


def _name_bad_index(xp: Any, input: Any, target: Any, ignore_index: int | None) -> None:
    """After PyTorch's kernel failed on ``target``: ``ValueError`` naming the first class
    index out of range, if there is one (:func:`check_class_indices`). Valid calls pay for
    the kernel's own check only; this one, which reads every index again (about the time of
    ``nll_loss``'s kernel on 1000 samples), runs on that error path alone."""
    check_class_indices(xp, target, input.shape[input.ndim > 1], ignore_index)


# ---------------------------------------------------------------------------------------
# Argument checks, shared by each loss, its reference formula and its derivative.


def _bce_args(
    input: ArrayLike, target: ArrayLike, weight: Optional[ArrayLike], reduction: str
) -> tuple[Any, Any, Any, Any, str]:
    reduction = check_reduction(reduction)
    xp, input, target = check_input_target(input, target)
    check_probabilities(xp, "input", input, allow_nan=False)
    check_probabilities(xp, "target", target, allow_nan=False)
    return xp, input, target, check_broadcast_weight("weight", weight, xp, input), reduction


def _bce_with_logits_args(
    input: ArrayLike,
    target: ArrayLike,
    weight: Optional[ArrayLike],
    reduction: str,
    pos_weight: Optional[ArrayLike],
) -> tuple[Any, Any, Any, Any, str, Any]:
    reduction = check_reduction(reduction)
    xp, input, target = check_input_target(input, target)
    check_probabilities(xp, "target", target, allow_nan=True)
    weight = check_broadcast_weight("weight", weight, xp, input)
    pos_weight = check_broadcast_weight("pos_weight", pos_weight, xp, input)
    return xp, input, target, weight, reduction, pos_weight


def _class_args(
    input: ArrayLike,
    target: ArrayLike,
    weight: Optional[ArrayLike],
    ignore_index: int,
    reduction: str,
    *,
    probabilities: bool,
    kernel: bool,
) -> tuple[Any, Any, Any, bool, Any, int, str, bool]:
    """The checked arguments of a loss on class indices, and whether to call PyTorch's kernel
    (on tensors, if the loss has one: ``kernel``).

    On CPU tensors the kernel checks the range of the class indices itself, raising
    ``IndexError`` (``RuntimeError`` for ``multi_margin_loss``): the companion's check is then
    left to :func:`_name_bad_index`, on that error path. A CUDA kernel would hit a
    device-side assert instead, and the formulas have no check: there it runs here.
    """
    reduction = check_reduction(reduction)
    ignore_index = check_integer("ignore_index", ignore_index)
    xp, input, target, is_index = check_logits_target(input, target, probabilities=probabilities)
    weight = check_class_weight(weight, xp, input)
    use_kernel = kernel and _use_torch_kernel(xp, input)
    if is_index:
        target = _as_index(xp, target)
        if not (use_kernel and input.is_cpu):
            check_class_indices(xp, target, input.shape[input.ndim > 1], ignore_index)
    elif ignore_index >= 0:
        raise ValueError(
            "ignore_index applies to class indices only; with class probabilities it must "
            f"be negative (the default is -100); got ignore_index={ignore_index!r}"
        )
    return xp, input, target, is_index, weight, ignore_index, reduction, use_kernel


def _cross_entropy_args(
    input: ArrayLike,
    target: ArrayLike,
    weight: Optional[ArrayLike],
    ignore_index: int,
    reduction: str,
    label_smoothing: float,
    *,
    kernel: bool = False,
) -> tuple[Any, Any, Any, bool, Any, int, str, bool, float]:
    label_smoothing = check_real(
        "label_smoothing", label_smoothing, 0.0, 1.0, allowed="a real number in [0, 1]"
    )
    args = _class_args(
        input, target, weight, ignore_index, reduction, probabilities=True, kernel=kernel
    )
    return (*args, label_smoothing)


def _kl_div_args(
    input: ArrayLike, target: ArrayLike, reduction: str, log_target: bool
) -> tuple[Any, Any, Any, str, bool]:
    reduction = check_option("reduction", reduction, KL_REDUCTIONS)
    log_target = check_bool("log_target", log_target)
    xp, input, target = check_input_target(input, target)
    return xp, input, target, reduction, log_target


def _focal_args(
    input: ArrayLike, target: ArrayLike, alpha: float, gamma: float, reduction: str
) -> tuple[Any, Any, Any, float, float, str]:
    reduction = check_reduction(reduction)
    alpha = check_real(
        "alpha",
        alpha,
        -math.inf,
        1.0,
        allowed="a real number in [0, 1], or negative for no class weighting",
    )
    gamma = check_parameter("gamma", gamma, allow_zero=True)
    xp, input, target = check_input_target(input, target)
    check_probabilities(xp, "target", target, allow_nan=True)
    return xp, input, target, alpha, gamma, reduction


def _multi_margin_args(
    input: ArrayLike,
    target: ArrayLike,
    p: int,
    margin: float,
    weight: Optional[ArrayLike],
    reduction: str,
    *,
    kernel: bool = False,
) -> tuple[Any, Any, Any, int, float, Any, str]:
    reduction = check_reduction(reduction)
    p = check_option("p", p, (1, 2))
    margin = check_parameter("margin", margin, allow_zero=True)
    xp, input, target, _ = check_logits_target(input, target, probabilities=False)
    if input.ndim > 2:
        raise ValueError(
            "multi_margin_loss takes input of shape (C,) or (N, C); got "
            f"input.shape={tuple(input.shape)!r}"
        )
    weight = check_class_weight(weight, xp, input)
    target = _as_index(xp, target)
    if not (kernel and _use_torch_kernel(xp, input) and input.is_cpu):  # see _class_args
        check_class_indices(xp, target, input.shape[input.ndim > 1])
    return xp, input, target, p, margin, weight, reduction


# ---------------------------------------------------------------------------------------
# Binary cross-entropy on probabilities.


@fill_doc
def binary_cross_entropy_reference(
    input: ArrayLike, target: ArrayLike, weight: Optional[ArrayLike] = None, reduction: str = "mean"
) -> Array:
    r"""Binary cross-entropy by its array-API formula; see :func:`binary_cross_entropy`.

    .. math::

        \ell_i = w_i\bigl[(t_i - 1)\max(\log(1 - p_i), -100) - t_i \max(\log p_i, -100)\bigr]

    PyTorch's expression, with :math:`\log(1 - p)` computed by ``log1p``. Where a log is
    clamped its gradient is 0 (PyTorch's backward divides by :math:`\max(p(1-p), 10^{-12})`
    instead, see :mod:`companion.losses.classification`).

    Parameters
    ----------
    input : array_like
        Predicted probabilities :math:`p \in [0, 1]`.
    target : array_like
        Targets :math:`t \in [0, 1]`, of ``input``'s shape and array library.
    weight : array_like, optional
        Weights :math:`w_i` that broadcast to ``input``'s shape (default: all 1).
    %(reduction)s

    %(returns)s

    Raises
    ------
    %(binary_raises)s
        Also if ``input`` is outside [0, 1] or NaN, or ``weight`` does not broadcast.

    Examples
    --------
    >>> import numpy as np
    >>> from companion import binary_cross_entropy_reference
    >>> p, t = np.array([0.0, 0.5, 1.0]), np.array([1.0, 1.0, 1.0])
    >>> print(binary_cross_entropy_reference(p, t, reduction="none"))
    [100.           0.69314718  -0.        ]
    """
    xp, input, target, weight, reduction = _bce_args(input, target, weight, reduction)
    return _binary_cross_entropy(xp, input, target, weight, reduction)


@fill_doc
def binary_cross_entropy(
    input: ArrayLike, target: ArrayLike, weight: Optional[ArrayLike] = None, reduction: str = "mean"
) -> Array:
    r"""Binary cross-entropy between predicted probabilities and targets.

    .. math::

        \ell_i = -w_i\bigl[t_i \log p_i + (1 - t_i)\log(1 - p_i)\bigr]

    with each log clamped at -100, as in PyTorch, so that a probability of exactly 0 or 1
    on the wrong side costs 100 rather than infinity. It is the negative log-likelihood of
    :math:`t_i` under a Bernoulli distribution with :math:`P(1) = p_i`; for
    :math:`t_i \in \{0, 1\}` and ``'mean'`` it is scikit-learn's ``log_loss`` (which clips
    :math:`p` to :math:`[\epsilon, 1 - \epsilon]` instead). For a model's output prefer
    :func:`binary_cross_entropy_with_logits`, which takes the logit and stays exact where
    :math:`\sigma(x)` rounds to 0 or 1.

    Parameters
    ----------
    input : array_like
        Predicted probabilities :math:`p \in [0, 1]`: an array of any array-API library, a
        Python number or a (nested) list.
    target : array_like
        Targets :math:`t \in [0, 1]`: 1 for the positive class, 0 for the negative one, or
        a probability in between; ``input``'s shape, the same array library.
    weight : array_like, optional
        Weights :math:`w_i` that broadcast to ``input``'s shape (default: all 1), cast to
        ``input``'s dtype. ``'mean'`` divides by the number of elements, not by the
        summed weights.
    %(reduction)s

    %(returns)s

    Raises
    ------
    %(binary_raises)s
        Also if ``input`` is outside [0, 1] or NaN (PyTorch raises ``RuntimeError`` for
        both), or ``weight`` does not broadcast to ``input``'s shape.

    See Also
    --------
    binary_cross_entropy_with_logits : the same loss on logits, computed stably.
    binary_cross_entropy_reference : the array-API formula, used for every library but PyTorch.
    torch.nn.functional.binary_cross_entropy : PyTorch's version.

    Notes
    -----
    %(value_checks)s

    %(classification_pytorch)s

    Examples
    --------
    A confident wrong prediction costs much more than a hesitant one:

    >>> import numpy as np
    >>> from companion import binary_cross_entropy
    >>> p, t = np.array([0.9, 0.6, 0.1]), np.array([1.0, 1.0, 1.0])
    >>> print(binary_cross_entropy(p, t, reduction="none").round(4))
    [0.1054 0.5108 2.3026]

    Equal to scikit-learn's log loss:

    >>> from sklearn.metrics import log_loss
    >>> y, p = np.array([0, 1, 1, 0]), np.array([0.2, 0.7, 0.9, 0.4])
    >>> bool(np.isclose(binary_cross_entropy(p, y), log_loss(y, p), rtol=1e-15))
    True
    """
    xp, input, target, weight, reduction = _bce_args(input, target, weight, reduction)
    if _use_torch_kernel(xp, input):
        return torch_functional().binary_cross_entropy(
            input, target, weight=weight, reduction=reduction
        )
    return _binary_cross_entropy(xp, input, target, weight, reduction)


# ---------------------------------------------------------------------------------------
# Binary cross-entropy on logits.


@fill_doc
def binary_cross_entropy_with_logits_reference(
    input: ArrayLike,
    target: ArrayLike,
    weight: Optional[ArrayLike] = None,
    reduction: str = "mean",
    pos_weight: Optional[ArrayLike] = None,
) -> Array:
    r"""Binary cross-entropy on logits by its array-API formula; see
    :func:`binary_cross_entropy_with_logits`.

    .. math::

        \ell_i &= w_i\bigl[(1 - t_i)\,x_i - (1 + (\rho_i - 1)\,t_i)\log\sigma(x_i)\bigr], \\
        \log\sigma(x) &= \min(x, 0) - \log\bigl(1 + e^{-|x|}\bigr),

    PyTorch's expression, which no finite logit can overflow.

    Parameters
    ----------
    %(binary_input_target)s
    weight : array_like, optional
        Weights :math:`w_i` that broadcast to ``input``'s shape (default: all 1).
    %(reduction)s
    pos_weight : array_like, optional
        Weights :math:`\rho_i` of the positive term that broadcast to ``input``'s shape.

    %(returns)s

    Raises
    ------
    %(binary_raises)s
        Also if ``weight`` or ``pos_weight`` does not broadcast to ``input``'s shape.

    Examples
    --------
    >>> import numpy as np
    >>> from companion import binary_cross_entropy_with_logits_reference
    >>> x, t = np.array([-1e4, 0.0, 1e4]), np.ones(3)
    >>> print(binary_cross_entropy_with_logits_reference(x, t, reduction="none"))
    [1.00000000e+04 6.93147181e-01 0.00000000e+00]
    """
    xp, input, target, weight, reduction, pos_weight = _bce_with_logits_args(
        input, target, weight, reduction, pos_weight
    )
    return _bce_with_logits(xp, input, target, weight, reduction, pos_weight)


@fill_doc
def binary_cross_entropy_with_logits(
    input: ArrayLike,
    target: ArrayLike,
    weight: Optional[ArrayLike] = None,
    reduction: str = "mean",
    pos_weight: Optional[ArrayLike] = None,
) -> Array:
    r"""Binary cross-entropy of :math:`p = \sigma(x)` and targets, computed from the logit.

    .. math::

        \ell_i = -w_i\bigl[\rho_i\, t_i \log\sigma(x_i) + (1 - t_i)\log\sigma(-x_i)\bigr],
        \qquad \sigma(x) = \frac{1}{1 + e^{-x}},

    with :math:`\rho_i` the ``pos_weight`` (1 by default). It equals
    :func:`binary_cross_entropy` of :math:`\sigma(x)` but never forms :math:`\sigma(x)`:
    :math:`\log\sigma(x) = \min(x, 0) - \log(1 + e^{-|x|})` is exact for every finite
    logit. In float32 :math:`\sigma(x)` rounds to exactly 1 from :math:`x \approx 17`, so
    the probability version can only clamp :math:`\log 0` to -100; here a logit of
    :math:`10^4` on the wrong side costs exactly :math:`10^4`. Its derivative is simply
    :math:`\sigma(x_i) - t_i` (without weights; see
    :func:`binary_cross_entropy_with_logits_grad`).

    Parameters
    ----------
    %(binary_input_target)s
    weight : array_like, optional
        Weights :math:`w_i` that broadcast to ``input``'s shape (default: all 1), cast to
        ``input``'s dtype. ``'mean'`` divides by the number of elements, not by the
        summed weights.
    %(reduction)s
    pos_weight : array_like, optional
        Weights :math:`\rho_i` of the positive term that broadcast to ``input``'s shape:
        for multi-label input of shape (N, C), one per class along the last axis, for
        example (number of negatives / number of positives) of each class.

    %(returns)s

    Raises
    ------
    %(binary_raises)s
        Also if ``weight`` or ``pos_weight`` does not broadcast to ``input``'s shape.
        (PyTorch computes a loss for targets outside [0, 1], unbounded below.)

    See Also
    --------
    binary_cross_entropy : the same loss on probabilities.
    binary_cross_entropy_with_logits_grad : the derivative with respect to ``input``.
    binary_cross_entropy_with_logits_reference : the array-API formula.
    sigmoid_focal_loss : this loss, down-weighted where the prediction is already good.
    torch.nn.functional.binary_cross_entropy_with_logits : PyTorch's version.

    Notes
    -----
    For an infinite logit the formula multiplies 0 by infinity where :math:`t_i` makes a
    term vanish, so the loss is NaN (or inf) exactly where PyTorch's is.

    %(value_checks)s

    %(classification_pytorch)s

    Examples
    --------
    >>> import numpy as np
    >>> from companion import binary_cross_entropy, binary_cross_entropy_with_logits
    >>> x, t = np.array([-2.0, 0.0, 3.0]), np.array([0.0, 1.0, 1.0])
    >>> print(round(float(binary_cross_entropy_with_logits(x, t)), 6))
    0.289554
    >>> print(round(float(binary_cross_entropy(1 / (1 + np.exp(-x)), t)), 6))
    0.289554

    In float32, :math:`\sigma(20)` and :math:`\sigma(40)` both round to 1; only the logit
    form tells the two wrong answers apart:

    >>> x, t = np.array([20.0, 40.0], dtype=np.float32), np.zeros(2, dtype=np.float32)
    >>> print(binary_cross_entropy_with_logits(x, t, reduction="none"))
    [20. 40.]
    >>> print(binary_cross_entropy(1 / (1 + np.exp(-x)), t, reduction="none"))
    [100. 100.]
    """
    xp, input, target, weight, reduction, pos_weight = _bce_with_logits_args(
        input, target, weight, reduction, pos_weight
    )
    if _use_torch_kernel(xp, input):
        return torch_functional().binary_cross_entropy_with_logits(
            input, target, weight=weight, reduction=reduction, pos_weight=pos_weight
        )
    return _bce_with_logits(xp, input, target, weight, reduction, pos_weight)


@fill_doc
def sigmoid_focal_loss(
    input: ArrayLike,
    target: ArrayLike,
    alpha: float = 0.25,
    gamma: float = 2.0,
    reduction: str = "none",
) -> Array:
    r"""Focal loss on logits (Lin et al. 2017), with ``torchvision.ops.sigmoid_focal_loss``'s
    semantics.

    .. math::

        \ell_i &= \alpha_{t,i}\,(1 - p_{t,i})^{\gamma}\;\mathrm{BCE}(x_i, t_i), \\
        p_{t,i} &= p_i t_i + (1 - p_i)(1 - t_i), \qquad p_i = \sigma(x_i),

    with :math:`\alpha_{t,i} = \alpha t_i + (1 - \alpha)(1 - t_i)` and BCE the binary
    cross-entropy with logits. :math:`p_t` is the probability given to the right answer,
    so the factor :math:`(1 - p_t)^\gamma` shrinks the loss of examples that are already
    classified well: in dense detection the many easy background anchors no longer swamp
    the few hard ones. With :math:`\gamma = 0` and no :math:`\alpha` it is
    :func:`binary_cross_entropy_with_logits`.

    Parameters
    ----------
    %(binary_input_target)s
    alpha : float, default 0.25
        Weight :math:`\alpha` of the positive class (:math:`1 - \alpha` for the negative
        one), in [0, 1]; any negative value turns the weighting off (torchvision's -1).
    gamma : float, default 2.0
        The focusing exponent :math:`\gamma`, finite and ``>= 0``.
    reduction : {'none', 'mean', 'sum'}, default 'none'
        ``'none'`` (torchvision's default): the :math:`\ell_i`, shaped like ``input``;
        ``'mean'``: :math:`\frac{1}{N}\sum_i \ell_i` over all :math:`N` elements (NaN for
        none); ``'sum'``: :math:`\sum_i \ell_i`. (RetinaNet divides the sum by the number
        of positive anchors instead.)

    %(returns)s

    Raises
    ------
    %(binary_raises)s
        Also if ``alpha`` is above 1 or NaN, or ``gamma`` is negative, NaN or infinite
        (torchvision accepts all three).

    See Also
    --------
    binary_cross_entropy_with_logits : the loss it modulates.

    Notes
    -----
    Computed so that confident predictions, the ones the factor is about, keep their
    digits: the cross-entropy as :math:`(1 - t)\operatorname{softplus}(x) +
    t\operatorname{softplus}(-x)` (two terms that cannot cancel, where PyTorch's
    :math:`(1 - t)\,x - \log\sigma(x)` loses the loss of an easy negative), and
    :math:`1 - p_t` as :math:`t\,\sigma(-x) + (1 - t)\,\sigma(x)`, each :math:`\sigma`
    from :math:`e^{-|x|} \le 1`, rather than by subtracting :math:`p_t` from 1. In float32
    torchvision's loss is exactly 0 from about :math:`x = -15` for :math:`t = 0` and
    :math:`x = 17` for :math:`t = 1`; this one equals the float64 value to float32
    precision, and differs from
    :func:`binary_cross_entropy_with_logits` (for :math:`\gamma = 0` and no
    :math:`\alpha`) only by that function's rounding. Float16 is computed in float32.
    PyTorch has no focal loss, so this formula runs on every library, tensors included
    (autograd flows through it).

    %(value_checks)s

    References
    ----------
    %(lin2017)s

    Examples
    --------
    The easy example (:math:`x = 3`, :math:`t = 1`) loses almost all its weight, the hard one
    (:math:`x = -1`, :math:`t = 1`) about half:

    >>> import numpy as np
    >>> from companion import binary_cross_entropy_with_logits, sigmoid_focal_loss
    >>> x, t = np.array([3.0, -1.0]), np.array([1.0, 1.0])
    >>> bce = binary_cross_entropy_with_logits(x, t, reduction="none")
    >>> print((sigmoid_focal_loss(x, t, alpha=-1) / bce).round(4))
    [0.0022 0.5344]
    """
    xp, input, target, alpha, gamma, reduction = _focal_args(input, target, alpha, gamma, reduction)
    return _focal(xp, input, target, alpha, gamma, reduction)


# ---------------------------------------------------------------------------------------
# Cross-entropy and negative log-likelihood over classes.


@fill_doc
def cross_entropy_reference(
    input: ArrayLike,
    target: ArrayLike,
    weight: Optional[ArrayLike] = None,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Array:
    r"""Cross-entropy by its array-API formula on every library; see :func:`cross_entropy`.

    .. math::

        \log p_{n,c} = (x_{n,c} - m_n) - \log\sum_{c'} e^{x_{n,c'} - m_n},
        \qquad m_n = \max_{c} x_{n,c},

    so no exponential overflows; then the weighted negative log-likelihood of the
    (smoothed) target, as in :func:`cross_entropy`.

    Parameters
    ----------
    %(logits_classes)s
    %(class_weight)s
    %(ignore_index)s
    %(class_index_reduction)s
    label_smoothing : float, default 0.0
        :math:`\varepsilon \in [0, 1]`, as for :func:`cross_entropy`.

    %(class_returns)s

    Raises
    ------
    %(class_raises)s

    Examples
    --------
    >>> import numpy as np
    >>> from companion import cross_entropy_reference
    >>> x = np.array([[1e4, 0.0, -1e4], [0.0, 0.0, 0.0]])
    >>> print(cross_entropy_reference(x, np.array([1, 2]), reduction="none").tolist())
    [10000.0, 1.0986122886681098]
    """
    xp, input, target, is_index, weight, ignore_index, reduction, _, label_smoothing = (
        _cross_entropy_args(input, target, weight, ignore_index, reduction, label_smoothing)
    )
    return _cross_entropy(
        xp, input, target, is_index, weight, ignore_index, reduction, label_smoothing
    )


@fill_doc
def cross_entropy(
    input: ArrayLike,
    target: ArrayLike,
    weight: Optional[ArrayLike] = None,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Array:
    r"""Cross-entropy between the softmax of logits and class targets.

    With class indices :math:`y_n` (n runs over samples, and over positions
    :math:`d_1, \dots, d_k` for inputs with more axes):

    .. math::

        \ell_n = -w_{y_n} \log p_{n, y_n}
               = w_{y_n}\Bigl(\log\sum_{c=0}^{C-1} e^{x_{n,c}} - x_{n,y_n}\Bigr),
        \qquad p_{n,c} = \frac{e^{x_{n,c}}}{\sum_{c'} e^{x_{n,c'}}}.

    With class probabilities :math:`q_{n,c}` (for example soft labels):
    :math:`\ell_n = -\sum_c w_c\, q_{n,c} \log p_{n,c}`. Label smoothing
    (Szegedy et al. 2016) mixes the target with the uniform distribution,
    :math:`q \leftarrow (1 - \varepsilon)\, q + \varepsilon / C`; for class indices this is
    :math:`(1 - \varepsilon)\,\ell_n + \frac{\varepsilon}{C}\sum_c w_c(-\log p_{n,c})`.

    The cross-entropy is :func:`nll_loss` of the log-softmax, and its derivative with
    respect to the logits is :math:`w\,(p - q)` (see :func:`cross_entropy_grad`).
    Computed from the log-sum-exp shifted by the largest logit, it is exact for logits of
    any size: a logit of :math:`10^4` on the wrong class costs :math:`10^4`.

    Parameters
    ----------
    %(logits_classes)s
    %(class_weight)s
    %(ignore_index)s
    %(class_index_reduction)s
        For probability targets ``'mean'`` divides by the number of samples
        (:math:`N d_1 \cdots d_k`), whatever the weights, as in PyTorch.
    label_smoothing : float, default 0.0
        :math:`\varepsilon \in [0, 1]`: 0 keeps the target, 1 replaces it by the uniform
        distribution.

    %(class_returns)s

    Raises
    ------
    %(class_raises)s
        Also if ``label_smoothing`` is outside [0, 1] or NaN, or ``ignore_index`` is
        ``>= 0`` with probability targets.

    See Also
    --------
    nll_loss : the same loss on log-probabilities.
    cross_entropy_grad : the derivative with respect to ``input``.
    cross_entropy_reference : the array-API formula, used for every library but PyTorch.
    torch.nn.functional.cross_entropy : PyTorch's version.

    Notes
    -----
    Probability targets are not checked to sum to 1 (nor are they in PyTorch).

    %(value_checks)s

    %(classification_pytorch)s

    References
    ----------
    %(szegedy2016)s

    Examples
    --------
    >>> import numpy as np
    >>> from companion import cross_entropy
    >>> x = np.array([[2.0, 0.0, -1.0], [0.5, 0.5, 3.0]])
    >>> print(cross_entropy(x, np.array([0, 1]), reduction="none").round(4))
    [0.1698 2.652 ]

    Dropped targets and class weights; the weighted mean divides by the summed weights:

    >>> w = np.array([1.0, 3.0, 1.0])
    >>> print(round(float(cross_entropy(x, np.array([0, 1]), weight=w)), 4))
    2.0315
    >>> print(round(float(cross_entropy(x, np.array([0, -100]))), 4))
    0.1698

    Label smoothing equals the smoothed one-hot target:

    >>> soft = np.array([[0.9, 0.05, 0.05], [0.05, 0.9, 0.05]])
    >>> a = cross_entropy(x, np.array([0, 1]), label_smoothing=0.15)
    >>> bool(np.isclose(a, cross_entropy(x, soft)))
    True
    """
    xp, input, target, is_index, weight, ignore_index, reduction, use_kernel, label_smoothing = (
        _cross_entropy_args(
            input, target, weight, ignore_index, reduction, label_smoothing, kernel=True
        )
    )
    if use_kernel and is_index and label_smoothing > 0 and not values_are_concrete(xp, target):
        use_kernel = False  # PyTorch smooths with masked_select, which torch.vmap cannot batch
    if use_kernel:
        try:
            return torch_functional().cross_entropy(
                input,
                target,
                weight=weight,
                ignore_index=ignore_index,
                reduction=reduction,
                label_smoothing=label_smoothing,
            )
        except (IndexError, RuntimeError):
            if is_index:
                _name_bad_index(xp, input, target, ignore_index)
            raise
    return _cross_entropy(
        xp, input, target, is_index, weight, ignore_index, reduction, label_smoothing
    )


@fill_doc
def nll_loss_reference(
    input: ArrayLike,
    target: ArrayLike,
    weight: Optional[ArrayLike] = None,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> Array:
    r"""Negative log-likelihood by its array-API formula on every library; see :func:`nll_loss`.

    .. math::

        \ell_n = -w_{y_n}\, x_{n, y_n}

    picked with ``take_along_axis`` (never by multiplying with a one-hot mask, which would
    turn :math:`0 \cdot (-\infty)` into NaN).

    Parameters
    ----------
    input : array_like, shape (C,), (N, C) or (N, C, d1, ..., dk)
        Log-probabilities :math:`x`, one per class along axis 1.
    target : array_like
        Class indices :math:`y`, integers, of ``input``'s shape without the class axis.
    %(class_weight)s
    %(ignore_index)s
    %(class_index_reduction)s

    %(class_returns)s

    Raises
    ------
    %(class_raises)s

    Examples
    --------
    >>> import numpy as np
    >>> from companion import nll_loss_reference
    >>> logp = np.log(np.array([[0.5, 0.25, 0.25], [0.1, 0.1, 0.8]]))
    >>> print(nll_loss_reference(logp, np.array([0, 2]), reduction="none").round(4))
    [0.6931 0.2231]
    """
    xp, input, target, _, weight, ignore_index, reduction, _ = _class_args(
        input, target, weight, ignore_index, reduction, probabilities=False, kernel=False
    )
    return _nll(xp, input, target, weight, ignore_index, reduction)


@fill_doc
def nll_loss(
    input: ArrayLike,
    target: ArrayLike,
    weight: Optional[ArrayLike] = None,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> Array:
    r"""Negative log-likelihood of class indices, given log-probabilities.

    .. math::

        \ell_n = -w_{y_n}\, x_{n, y_n}

    where :math:`x_{n,c} = \log p_{n,c}` are log-probabilities, typically a log-softmax:
    ``nll_loss(log_softmax(x), y)`` is ``cross_entropy(x, y)``. Like PyTorch, it picks the
    entries as they are and does not check that they are log-probabilities.

    Parameters
    ----------
    input : array_like, shape (C,), (N, C) or (N, C, d1, ..., dk)
        Log-probabilities :math:`x`, one per class along axis 1 (axis 0 for one sample of
        shape (C,)): an array of any array-API library or a (nested) list.
    target : array_like
        Class indices :math:`y`, integers in :math:`[0, C)`, of ``input``'s shape without
        the class axis: () for (C,), (N,) for (N, C), (N, d1, ..., dk) for
        (N, C, d1, ..., dk).
    %(class_weight)s
    %(ignore_index)s
    %(class_index_reduction)s

    %(class_returns)s

    Raises
    ------
    %(class_raises)s

    See Also
    --------
    cross_entropy : the same loss on logits.
    nll_loss_reference : the array-API formula, used for every library but PyTorch.
    torch.nn.functional.nll_loss : PyTorch's version.

    Notes
    -----
    %(value_checks)s

    %(classification_pytorch)s

    Examples
    --------
    >>> import numpy as np
    >>> from companion import cross_entropy, nll_loss
    >>> x, y = np.array([[2.0, 0.0, -1.0], [0.5, 0.5, 3.0]]), np.array([0, 1])
    >>> log_softmax = x - np.log(np.exp(x).sum(axis=1, keepdims=True))
    >>> bool(np.isclose(nll_loss(log_softmax, y), cross_entropy(x, y)))
    True
    """
    xp, input, target, _, weight, ignore_index, reduction, use_kernel = _class_args(
        input, target, weight, ignore_index, reduction, probabilities=False, kernel=True
    )
    if use_kernel:
        try:
            return torch_functional().nll_loss(
                input, target, weight=weight, ignore_index=ignore_index, reduction=reduction
            )
        except (IndexError, RuntimeError):
            _name_bad_index(xp, input, target, ignore_index)
            raise
    return _nll(xp, input, target, weight, ignore_index, reduction)


# ---------------------------------------------------------------------------------------
# Kullback-Leibler divergence.


@fill_doc
def kl_div_reference(
    input: ArrayLike, target: ArrayLike, reduction: str = "mean", log_target: bool = False
) -> Array:
    r"""Kullback-Leibler divergence by its array-API formula; see :func:`kl_div`.

    .. math::

        \ell_i = \operatorname{xlogy}(t_i, t_i) - t_i x_i
        \quad\text{or}\quad \ell_i = e^{t_i}(t_i - x_i) \text{ if ``log_target``},

    PyTorch's expressions, with :math:`\operatorname{xlogy}(0, 0) = 0` written with two
    ``where`` so that autograd stays finite at :math:`t_i = 0`.

    Parameters
    ----------
    %(input_target)s
    reduction : {'mean', 'batchmean', 'sum', 'none'}, default 'mean'
        As for :func:`kl_div`.
    log_target : bool, default False
        Whether ``target`` holds log-probabilities.

    %(returns)s

    Raises
    ------
    %(kl_raises)s

    Examples
    --------
    >>> import numpy as np
    >>> from companion import kl_div_reference
    >>> t = np.array([0.0, 0.5, 0.5])
    >>> print(kl_div_reference(np.log(np.full(3, 1 / 3)), t, reduction="none").round(4))
    [0.     0.2027 0.2027]
    """
    xp, input, target, reduction, log_target = _kl_div_args(input, target, reduction, log_target)
    return _kl_div(xp, input, target, reduction, log_target)


@fill_doc
def kl_div(
    input: ArrayLike, target: ArrayLike, reduction: str = "mean", log_target: bool = False
) -> Array:
    r"""Kullback-Leibler divergence of the predicted distribution from the target one.

    ``input`` holds log-probabilities :math:`x_i = \log p_i` (a log-softmax, as for
    :func:`nll_loss`); ``target`` holds probabilities :math:`t_i`, or their logs if
    ``log_target``. Per element,

    .. math::

        \ell_i = t_i\,(\log t_i - x_i) \qquad (0 \log 0 = 0),

    and summed over the classes of one sample this is
    :math:`\mathrm{KL}(t \,\|\, p) = \sum_c t_c \log(t_c / p_c) \ge 0`, which is 0 only
    when :math:`p = t`. It differs from the cross-entropy :math:`-\sum_c t_c \log p_c` by
    the entropy of :math:`t`, which does not depend on the model: the two have the same
    gradient. Hinton et al. (2015) distil a teacher into a student with it, at a
    temperature :math:`T`: ``kl_div(log_softmax(z_student / T), softmax(z_teacher / T),
    'batchmean') * T**2``.

    Parameters
    ----------
    %(input_target)s
    reduction : {'mean', 'batchmean', 'sum', 'none'}, default 'mean'
        ``'batchmean'``: :math:`\sum_i \ell_i / N` with :math:`N` = ``input.shape[0]``, the
        mean KL divergence per sample: this is the one that is the KL divergence.
        ``'mean'`` (PyTorch's default, kept for compatibility):
        :math:`\sum_i \ell_i` divided by the number of elements, which also divides by the
        number of classes. ``'sum'``: :math:`\sum_i \ell_i`; ``'none'``: the
        :math:`\ell_i`. The mean of nothing is NaN.
    log_target : bool, default False
        Whether ``target`` holds log-probabilities :math:`\log t_i` (then
        :math:`\ell_i = e^{\log t_i}(\log t_i - x_i)`, exact for tiny :math:`t_i`).

    %(returns)s

    Raises
    ------
    %(kl_raises)s

    See Also
    --------
    kl_div_reference : the array-API formula, used for every library but PyTorch.
    torch.nn.functional.kl_div : PyTorch's version.

    Notes
    -----
    PyTorch warns on every call with ``reduction='mean'`` that it is not the KL divergence
    and will change; the companion keeps PyTorch's present meaning, without the warning
    (a Python warning would stop ``torch.compile(fullgraph=True)`` from tracing the
    function: Dynamo cannot trace ``warnings.warn``), and this docstring says which
    reduction to use. A negative target gives NaN, as in
    PyTorch (it is not checked).

    %(classification_pytorch)s

    References
    ----------
    %(hinton2015)s

    Examples
    --------
    >>> import numpy as np
    >>> from companion import kl_div
    >>> p = np.array([[0.5, 0.25, 0.25], [0.8, 0.1, 0.1]])
    >>> t = np.array([[0.25, 0.5, 0.25], [0.8, 0.1, 0.1]])
    >>> kl = (t * np.log(t / p)).sum(axis=1)
    >>> print(kl.round(4))
    [0.1733 0.    ]
    >>> print(round(float(kl_div(np.log(p), t, reduction="batchmean")), 4))
    0.0866
    >>> print(round(float(kl_div(np.log(p), t, reduction="mean")), 4))  # also / 3 classes
    0.0289
    """
    xp, input, target, reduction, log_target = _kl_div_args(input, target, reduction, log_target)
    if not _use_torch_kernel(xp, input):
        return _kl_div(xp, input, target, reduction, log_target)
    torch = import_torch()
    # torch.kl_div itself: F.kl_div would warn on 'mean'. 0, 1, 2: none, mean, sum.
    enum = {"none": 0, "mean": 1, "sum": 2, "batchmean": 2}[reduction]
    result = torch.kl_div(input, target, enum, log_target=log_target)
    if reduction == "batchmean" and input.ndim > 0:
        result = result / input.shape[0]
    return result


# ---------------------------------------------------------------------------------------
# Multi-class hinge loss.


@fill_doc
def multi_margin_loss_reference(
    input: ArrayLike,
    target: ArrayLike,
    p: int = 1,
    margin: float = 1.0,
    weight: Optional[ArrayLike] = None,
    reduction: str = "mean",
) -> Array:
    r"""Multi-class hinge loss by its array-API formula; see :func:`multi_margin_loss`.

    .. math::

        \ell_n = \frac{1}{C}\sum_{j \ne y_n} w_{y_n}\, h_{n,j}^{\,p}, \qquad
        h_{n,j} = \begin{cases} z_{n,j} & \text{if } z_{n,j} > 0 \\ 0 & \text{otherwise}
        \end{cases}, \qquad z_{n,j} = m - x_{n,y_n} + x_{n,j},

    written with ``where`` on :math:`z > 0`, as PyTorch's kernel tests it: no gradient at
    :math:`z = 0`, and a NaN score of another class counts as 0.

    Parameters
    ----------
    input : array_like, shape (C,) or (N, C)
        Class scores :math:`x`.
    target : array_like
        Class indices :math:`y`, integers in :math:`[0, C)`, shape () or (N,).
    p : {1, 2}, default 1
        The power of each hinge.
    margin : float, default 1.0
        The margin :math:`m`, finite and ``>= 0``.
    %(class_weight)s
    reduction : {'mean', 'sum', 'none'}, default 'mean'
        As for :func:`multi_margin_loss`.

    %(class_returns)s

    Raises
    ------
    %(class_raises)s
        Also if ``input`` has more than 2 axes, ``p`` is not 1 or 2, or ``margin`` is
        negative, NaN or infinite.

    Examples
    --------
    >>> import numpy as np
    >>> from companion import multi_margin_loss_reference
    >>> x = np.array([[0.1, 0.2, 0.4, 0.8]])
    >>> print(round(float(multi_margin_loss_reference(x, np.array([3]))), 6))
    0.325
    """
    xp, input, target, p, margin, weight, reduction = _multi_margin_args(
        input, target, p, margin, weight, reduction
    )
    return _multi_margin(xp, input, target, p, margin, weight, reduction)


@fill_doc
def multi_margin_loss(
    input: ArrayLike,
    target: ArrayLike,
    p: int = 1,
    margin: float = 1.0,
    weight: Optional[ArrayLike] = None,
    reduction: str = "mean",
) -> Array:
    r"""Multi-class hinge loss: every other class should score at least ``margin`` below the
    target class.

    .. math::

        \ell_n = \frac{1}{C}\sum_{j \ne y_n} w_{y_n}
        \max\bigl(0,\; m - x_{n,y_n} + x_{n,j}\bigr)^{p}

    A sample costs nothing once its class leads every other by the margin :math:`m`: unlike
    the cross-entropy, the hinge stops pushing correct, confident predictions. This is the
    sum over the other classes (Weston and Watkins 1999), not the maximum of Crammer and
    Singer. The weight multiplies the hinge after the power, as in PyTorch's kernel (its
    documentation puts it inside).

    Parameters
    ----------
    input : array_like, shape (C,) or (N, C)
        Class scores :math:`x` (logits): an array of any array-API library or a (nested)
        list.
    target : array_like
        Class indices :math:`y`, integers in :math:`[0, C)`: shape () for (C,), (N,) for
        (N, C).
    p : {1, 2}, default 1
        The power of each hinge: 1 for the hinge, 2 for its square.
    margin : float, default 1.0
        The margin :math:`m`, finite and ``>= 0``.
    %(class_weight)s
    reduction : {'mean', 'sum', 'none'}, default 'mean'
        ``'none'``: the :math:`\ell_n`; ``'sum'``: their sum; ``'mean'``: their mean over
        the :math:`N` samples (not divided by summed weights; NaN for none).

    %(class_returns)s

    Raises
    ------
    %(class_raises)s
        Also if ``input`` has more than 2 axes, ``p`` is not 1 or 2, or ``margin`` is
        negative, NaN or infinite (PyTorch accepts a negative one).

    See Also
    --------
    multi_margin_loss_reference : the array-API formula, used for every library but PyTorch.
    torch.nn.functional.multi_margin_loss : PyTorch's version.

    Notes
    -----
    %(value_checks)s

    %(classification_pytorch)s Float16 and empty batches use the formula (PyTorch has no
    float16 CPU kernel, and its CPU kernel returns uninitialised memory for an empty batch's
    'mean' and 'sum').

    References
    ----------
    J. Weston and C. Watkins, "Support Vector Machines for Multi-Class Pattern
    Recognition", *Proceedings of the European Symposium on Artificial Neural Networks
    (ESANN)*, 219-224, 1999.

    Examples
    --------
    Class 3 leads by 0.4 and more, short of the margin 1 for every other class:

    >>> import numpy as np
    >>> from companion import multi_margin_loss
    >>> x = np.array([[0.1, 0.2, 0.4, 0.8], [0.0, 5.0, 0.0, 0.0]])
    >>> print(multi_margin_loss(x, np.array([3, 1]), reduction="none").round(6))
    [0.325 0.   ]
    """
    xp, input, target, p, margin, weight, reduction = _multi_margin_args(
        input, target, p, margin, weight, reduction, kernel=True
    )
    if not _use_torch_kernel(xp, input) or math.prod(input.shape) == 0:
        return _multi_margin(xp, input, target, p, margin, weight, reduction)
    try:
        return torch_functional().multi_margin_loss(
            input, target, p=p, margin=margin, weight=weight, reduction=reduction
        )
    except (IndexError, RuntimeError):
        _name_bad_index(xp, input, target, None)
        raise


# ---------------------------------------------------------------------------------------
# Analytic derivatives with respect to the logits.


@fill_doc
def binary_cross_entropy_with_logits_grad(
    input: ArrayLike,
    target: ArrayLike,
    weight: Optional[ArrayLike] = None,
    reduction: str = "mean",
    pos_weight: Optional[ArrayLike] = None,
) -> Array:
    r"""Derivative of :func:`binary_cross_entropy_with_logits` with respect to ``input``.

    .. math::

        \frac{\partial \ell_i}{\partial x_i}
        = w_i\bigl[(1 + (\rho_i - 1)\,t_i)\,\sigma(x_i) - \rho_i t_i\bigr]
        = w_i\,(\sigma(x_i) - t_i) \quad\text{without } \rho,

    with :math:`\sigma(x)` computed as :math:`e^{x}/(1 + e^{x})` for negative :math:`x`, so
    that no exponential overflows.

    Parameters
    ----------
    %(binary_input_target)s
    weight : array_like, optional
        As for :func:`binary_cross_entropy_with_logits`.
    %(reduction)s
    pos_weight : array_like, optional
        As for :func:`binary_cross_entropy_with_logits`.

    %(grad_returns)s

    Raises
    ------
    %(binary_raises)s
        Also if ``weight`` or ``pos_weight`` does not broadcast to ``input``'s shape.

    Examples
    --------
    >>> import numpy as np
    >>> from companion import binary_cross_entropy_with_logits_grad
    >>> x, t = np.array([-1e4, 0.0, 1e4]), np.array([1.0, 1.0, 1.0])
    >>> print(binary_cross_entropy_with_logits_grad(x, t, reduction="sum"))
    [-1.  -0.5  0. ]
    """
    xp, input, target, weight, reduction, pos_weight = _bce_with_logits_args(
        input, target, weight, reduction, pos_weight
    )
    x, t, w, pw = _widen(xp, input, target, weight, pos_weight)
    sigmoid = _sigmoid(xp, x)
    if pw is None:
        grad = sigmoid - t
    else:
        positive = pw * t
        grad = (positive + 1.0 - t) * sigmoid - positive  # PyTorch's backward
    if w is not None:
        grad = grad * w
    return _narrow(xp, scale(grad, reduction, xp), input.dtype)


@fill_doc
def cross_entropy_grad(
    input: ArrayLike,
    target: ArrayLike,
    weight: Optional[ArrayLike] = None,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Array:
    r"""Derivative of :func:`cross_entropy` with respect to the logits ``input``.

    With a target distribution :math:`q_n` (the smoothed one-hot vector of a class index,
    or the smoothed probabilities) and :math:`p_n` the softmax of :math:`x_n`:

    .. math::

        \frac{\partial \ell_n}{\partial x_{n,c}}
        = p_{n,c} \sum_{c'} w_{c'} q_{n,c'} - w_c\, q_{n,c}
        = p_{n,c} - q_{n,c} \quad\text{without weights.}

    For class indices PyTorch weighs the unsmoothed part by :math:`w_{y_n}` (see
    :func:`cross_entropy`), so there it is

    .. math::

        \frac{\partial \ell_n}{\partial x_{n,c}}
        = (1 - \varepsilon)\, w_{y_n}(p_{n,c} - [c = y_n])
        + \frac{\varepsilon}{C}\Bigl(p_{n,c}\sum_{c'} w_{c'} - w_c\Bigr),

    and 0 for a dropped target.

    Parameters
    ----------
    %(logits_classes)s
    %(class_weight)s
    %(ignore_index)s
    %(class_index_reduction)s
    label_smoothing : float, default 0.0
        :math:`\varepsilon \in [0, 1]`, as for :func:`cross_entropy`.

    Returns
    -------
    array
        :math:`\partial L / \partial x`, shaped like ``input``, in its floating dtype. For
        ``'none'`` and ``'sum'`` it is :math:`\partial \ell_n / \partial x_n` for each
        sample; for ``'mean'`` it is divided by what the loss is divided by (the summed
        weights of the targets that count, or the number of samples for probabilities).

    Raises
    ------
    %(class_raises)s
        Also if ``label_smoothing`` is outside [0, 1] or NaN.

    Examples
    --------
    >>> import numpy as np
    >>> from companion import cross_entropy_grad
    >>> x = np.array([[0.0, 0.0], [1e4, -1e4]])
    >>> print(cross_entropy_grad(x, np.array([0, 1]), reduction="sum"))
    [[-0.5  0.5]
     [ 1.  -1. ]]
    """
    xp, input, target, is_index, weight, ignore_index, reduction, _, eps = _cross_entropy_args(
        input, target, weight, ignore_index, reduction, label_smoothing
    )
    x, w = _widen(xp, input, weight)
    t = target if is_index else _widen(xp, target)[0]
    x, t, one_sample = _one_sample_as_batch(xp, x, t)
    num_classes = x.shape[1]
    p = xp.exp(_log_softmax(xp, x))
    w_class = None if w is None else _class_axis(xp, w, x.ndim)
    if is_index:
        dropped = t == ignore_index
        safe = xp.where(dropped, xp.zeros_like(t), t)
        classes = xp.arange(num_classes, dtype=t.dtype, device=array_api_compat.device(t))
        one_hot = xp.astype(_class_axis(xp, classes, x.ndim) == _per_class(safe), x.dtype)
        kept = xp.astype(~dropped, x.dtype)
        w_y = kept if w is None else kept * _weight_of(xp, w, safe)
        grad = _per_class(w_y) * (p - one_hot)
        if eps > 0:
            if w_class is None:
                smooth = p * num_classes - 1.0
            else:
                smooth = p * xp.sum(w) - w_class
            grad = (1.0 - eps) * grad + (eps / num_classes) * _per_class(kept) * smooth
        grad = _nan_if_unchecked(xp, grad, t, num_classes, ignore_index)
        if reduction == "mean":
            grad = _divide(xp, grad, xp.sum(w_y))
    else:
        q = t if eps == 0 else t * (1.0 - eps) + eps / num_classes
        wq = q if w_class is None else q * w_class
        grad = p * xp.sum(wq, axis=1, keepdims=True) - wq
        grad = scale(grad, reduction, xp, group=num_classes)  # 'mean': / the samples
    if one_sample:
        grad = xp.reshape(grad, grad.shape[1:])
    return _narrow(xp, grad, input.dtype)
