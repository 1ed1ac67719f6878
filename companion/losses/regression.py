r"""Regression losses and their derivatives, for NumPy, PyTorch and any array-API library.

Every loss is written once, against the array API standard
(``xp = array_api_compat.array_namespace(input, target)``), so it runs on NumPy arrays,
PyTorch tensors (autograd flows through it), JAX and dask arrays, array-api-strict arrays and
any other library that implements the standard, version 2022.12 or later (an older one raises
``TypeError``; 2022.12 lacks ``minimum``, ``maximum`` and ``clip``, so the formulas use
``where`` there). Python numbers and lists are accepted too. Names and arguments follow
:mod:`torch.nn.functional`, so one can be swapped for the other.

On PyTorch tensors, :func:`l1_loss`, :func:`mse_loss`, :func:`smooth_l1_loss` and
:func:`huber_loss` call their :mod:`torch.nn.functional` namesakes after the companion's
checks, because PyTorch's fused kernels are several times faster than a chain of array
operations. The formulas themselves stay public as :func:`l1_loss_reference`,
:func:`mse_loss_reference`, :func:`smooth_l1_loss_reference` and
:func:`huber_loss_reference`; they run on every library, and the tests check that both paths
agree (values, dtypes and gradients).

Differences from :mod:`torch.nn.functional`, all deliberate:

- ``input`` and ``target`` must have the same shape: a mismatch raises ``ValueError``
  naming both shapes. PyTorch warns and broadcasts, so (3, 1) against (3,) silently
  averages a 3 x 3 table of differences.
- Integer inputs are promoted to the library's default floating dtype (PyTorch raises
  ``RuntimeError`` or ``NotImplementedError``); Python numbers and lists are accepted
  (PyTorch wants tensors). A Python number or list takes the other argument's floating
  dtype.
- Booleans, complex numbers and strings raise ``TypeError`` (``torch.nn.functional.l1_loss``
  accepts complex tensors); so does mixing two array libraries.
- ``input`` and ``target`` are promoted to their common floating dtype, as every array
  operation does (PyTorch's ``huber_loss`` returns ``input``'s dtype instead).
- A negative or NaN ``beta`` and a non-positive or NaN ``delta`` raise ``ValueError``
  (PyTorch: ``RuntimeError``). An infinite ``beta`` or ``delta`` raises ``ValueError`` too;
  PyTorch accepts it, giving a Smooth L1 loss that is 0 everywhere and, for an infinite
  difference, a NaN loss with a finite gradient. The legacy ``size_average`` and ``reduce``
  arguments do not exist.
- In float16, PyTorch's ``smooth_l1_loss`` kernel computes :math:`d^2/2` before dividing by
  ``beta``, so it overflows to inf for differences above about 362 (where :math:`d^2/2`
  exceeds 65504, float16's largest value) when ``beta`` is larger still. For float16
  tensors the companion evaluates its own formula instead (no fast path), and returns the
  finite value.
- :func:`rmse` and the analytic derivatives (``*_grad``) have no PyTorch counterpart.
  :func:`l1_loss_grad` is NaN where the difference is NaN, as the array API's ``sign`` is;
  PyTorch's autograd gives 0 there because ``torch.sign(nan)`` is 0.

Half precision (float16, bfloat16) is computed element by element in float32 and rounded
once, and ``'mean'`` and ``'sum'`` accumulate in float32, as PyTorch's kernels do (all but
the float16 ``smooth_l1_loss`` above); on the tests' data the formulas' float16 L1 and Huber
losses then equal PyTorch's bit for bit.

**Transformations and lazy arrays.** The functions work under PyTorch's ``torch.func``
(``grad``, ``jacrev``, ``jacfwd``, ``jvp``), ``torch.vmap`` and
``torch.compile(fullgraph=True)`` (also with a Python number or list as one argument); under
JAX's ``jax.grad``, ``jax.jacfwd``, ``jax.vmap`` and ``jax.jit``; and on dask arrays, where
they only build a graph and compute nothing, also for dimensions of unknown size (after
``x[mask]``). Such a dimension cannot be compared before it is computed, so only the known
ones are; the derivatives' ``'mean'`` divides by a lazily counted :math:`N`. Under
``jax.jit`` a ``beta`` or ``delta`` given as a number is traced (optax's
``jax.jit(huber_loss)(x, y, delta=1.0)``), and so are the values ``jax.vmap`` sweeps and
``jax.grad`` differentiates with respect to. A traced or lazy value cannot be checked when the
function is called: one the checks would refuse (negative, NaN, infinite, or a zero
``delta``) makes the result NaN instead of raising. Mark it static
(``jax.jit(huber_loss, static_argnames="delta")``) to have it checked.

**Derivatives at the kinks.** Per element, with :math:`d = x - y`, in PyTorch (autograd,
reverse and forward mode), in JAX (reverse and forward mode) and by the ``*_grad`` functions:

- at :math:`d = 0` every derivative is 0 (JAX differentiates ``abs`` at 0 as +1, so on JAX
  the formulas compute :math:`|d|` with ``where``);
- at :math:`|d| = \beta` (or :math:`\delta`) it is the slope both pieces share, :math:`\pm 1`
  (or :math:`\pm\delta`);
- at :math:`d = \pm\infty` it is the finite slope :math:`\pm 1` of L1 and Smooth L1 and
  :math:`\pm\delta` of Huber, and :math:`\pm\infty` for MSE (in forward mode PyTorch's own
  ``mse_loss`` kernel, which :func:`mse_loss` calls on tensors, gives NaN there);
- at a NaN difference it is NaN, except for L1 and Smooth L1 with :math:`\beta = 0`:
  PyTorch gives 0 (``torch.sign(nan)`` is 0), JAX -1 (its derivative of ``abs`` at NaN),
  the ``*_grad`` functions NaN.

In forward mode an element whose derivative is NaN or infinite makes the other elements'
derivatives of a ``'mean'`` or ``'sum'`` loss NaN too (NaN x 0), as with PyTorch's kernels.
"""

# ruff: noqa: UP007 - ``Union[float, Array]``, not ``float | Array``: Sphinx 7.4 resolves the
# ``Array`` alias (autodoc_type_aliases) inside ``Union`` but not in ``|``, which would leave an
# unresolved reference in the API page.

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Union

import array_api_compat

from companion._typing import Array, ArrayLike
from companion.losses._common import (
    absolute,
    constant,
    import_torch,
    is_2023_12_or_later,
    is_half,
    maximum,
    minimum,
    reduce,
    scale,
    torch_functional,
)
from companion.losses._docs import fill_doc
from companion.losses._validation import (
    check_input_target,
    check_parameter,
    check_reduction,
)

__all__ = [
    "l1_loss",
    "mse_loss",
    "rmse",
    "smooth_l1_loss",
    "huber_loss",
    "l1_loss_reference",
    "mse_loss_reference",
    "smooth_l1_loss_reference",
    "huber_loss_reference",
    "l1_loss_grad",
    "mse_loss_grad",
    "smooth_l1_loss_grad",
    "huber_loss_grad",
    "pinball_loss",
    "pinball_loss_grad",
]

# ---------------------------------------------------------------------------------------
# The formulas. They take validated arrays of one namespace ``xp``; ``beta`` and ``delta``
# are Python floats, or 0-d arrays when traced (``jax.jit``, ``jax.grad``, ``jax.vmap``).


def _sign(xp: Any, diff: Any) -> Any:
    """The array API's ``sign``, NaN for NaN.

    On PyTorch, array-api-compat's ``sign`` gets NaN right by assigning through a boolean
    mask, which ``torch.vmap`` cannot batch; ``where`` does the same without it.
    """
    if array_api_compat.is_torch_namespace(xp):
        return xp.where(xp.isnan(diff), diff, import_torch().sign(diff))
    return xp.sign(diff)


def _parameter(xp: Any, value: Any, like: Any) -> Any:
    """``beta`` or ``delta`` (a number or a traced 0-d array) as a 0-d array like ``like``."""
    if isinstance(value, float):
        return constant(xp, value, like)
    return xp.astype(value, like.dtype)  # traced: already an array (jax.vmap rejects device=)


def _divisor(xp: Any, beta: Any) -> Any:
    """``beta`` to divide ``min(|d|, beta)`` by: a number as it is (> 0 where it is used); a
    traced 0-d array with 1 in place of 0, so that ``beta = 0`` gives 0 / 1, not 0 / 0."""
    if isinstance(beta, float):
        return beta
    return xp.where(beta == 0, xp.ones_like(beta), beta)


def _clip(xp: Any, x: Any, bound: Any) -> Any:
    """``x`` clipped to ``[-bound, bound]``, NaN where ``x`` is NaN.

    ``clip`` (array API 2023.12; one pass on NumPy) for a number; otherwise, and on
    array API 2022.12 or a size unknown until computed (array-api-compat's ``clip``
    broadcasts shapes, which fails there), ``minimum`` and ``maximum``.
    """
    known_size = array_api_compat.size(x) is not None
    if isinstance(bound, float) and known_size and is_2023_12_or_later(xp):
        return xp.clip(x, min=-bound, max=bound)
    b = _parameter(xp, bound, x)
    return minimum(xp, maximum(xp, x, -b), b)


def _if_zero(xp: Any, beta: Any, zero: Callable[[], Any], otherwise: Callable[[], Any]) -> Any:
    """``zero()`` if ``beta == 0``, else ``otherwise()``: a Python branch for a number,
    ``where`` (computing both) for a traced 0-d array, NaN included."""
    if isinstance(beta, float):
        return zero() if beta == 0 else otherwise()
    return xp.where(beta == 0, zero(), otherwise())


def _in_float32_if_half(
    xp: Any, compute: Callable[[Any, Any], Any], input: Any, target: Any
) -> Any:
    """``compute(input, target)``, element by element; float16 and bfloat16 are computed in
    float32 and each result rounded once, as PyTorch's kernels do, instead of rounding after
    every operation."""
    dtype = input.dtype
    if not is_half(xp, dtype):
        return compute(input, target)
    wide = compute(xp.astype(input, xp.float32), xp.astype(target, xp.float32))
    return xp.astype(wide, dtype)


def _l1(xp: Any, input: Array, target: Array) -> Any:
    return absolute(xp, input - target)


def _mse(xp: Any, input: Array, target: Array) -> Any:
    # One expression, so NumPy squares its temporary difference in place.
    return (input - target) ** 2


def _smooth_l1(xp: Any, input: Array, target: Array, beta: Any) -> Any:
    abs_diff = absolute(xp, input - target)
    if isinstance(beta, float) and beta == 0.0:
        return abs_diff  # the limit beta -> 0 is L1, in value and in autograd
    kink = _parameter(xp, beta, abs_diff)
    q, p = minimum(xp, abs_diff, kink), maximum(xp, abs_diff, kink)
    # (q / 2)(q / beta) rather than q^2 / (2 beta): q / beta <= 1, so nothing overflows that
    # the loss does not. A traced beta = 0 gives q = 0 and p = |d|, the L1 loss, here too.
    return (0.5 * q) * (q / _divisor(xp, beta)) + (p - kink)


def _huber(xp: Any, input: Array, target: Array, delta: Any) -> Any:
    abs_diff = absolute(xp, input - target)
    kink = _parameter(xp, delta, abs_diff)
    q, p = minimum(xp, abs_diff, kink), maximum(xp, abs_diff, kink)
    # See huber_loss_reference for why: exact derivatives, also at |d| = inf, in every mode.
    return (0.5 * q) * q + kink * (p - kink)


def _pinball(xp: Any, input: Array, target: Array, tau: float) -> Any:
    # PyTorch and JAX split the derivative of maximum in half at a tie, so at d = 0 autograd
    # gives the sub-gradient 1/2 - tau, as pinball_loss_grad does; no cancellation, and the
    # slope stays finite for an infinite difference.
    diff = input - target
    return maximum(xp, -tau * diff, (1.0 - tau) * diff)


def _loss(
    xp: Any,
    formula: Callable[..., Any],
    input: Array,
    target: Array,
    reduction: str,
    *parameter: Any,
) -> Any:
    """The per-element ``formula``, reduced."""
    loss = _in_float32_if_half(xp, lambda a, b: formula(xp, a, b, *parameter), input, target)
    return reduce(loss, reduction, xp)


def _derivative(
    xp: Any, formula: Callable[[Any], Any], input: Array, target: Array, reduction: str
) -> Any:
    """``formula(x - y)``, the per-element derivative, scaled for ``reduction``."""
    return _in_float32_if_half(xp, lambda a, b: scale(formula(a - b), reduction, xp), input, target)


# ---------------------------------------------------------------------------------------
# Reference implementations: the formulas, on every array library.


@fill_doc
def l1_loss_reference(input: ArrayLike, target: ArrayLike, reduction: str = "mean") -> Array:
    r"""L1 loss by its array-API formula on every library; see :func:`l1_loss`.

    .. math::

        \ell_i = |x_i - y_i|

    Parameters
    ----------
    %(input_target)s
    %(reduction)s

    %(returns)s

    Raises
    ------
    %(raises)s

    Examples
    --------
    >>> import torch
    >>> from companion import l1_loss, l1_loss_reference
    >>> x, y = torch.tensor([1.0, -2.0]), torch.tensor([0.0, 0.0])
    >>> bool(l1_loss_reference(x, y) == l1_loss(x, y))
    True
    """
    reduction = check_reduction(reduction)
    xp, input, target = check_input_target(input, target)
    return _loss(xp, _l1, input, target, reduction)


@fill_doc
def mse_loss_reference(input: ArrayLike, target: ArrayLike, reduction: str = "mean") -> Array:
    r"""Mean squared error by its array-API formula on every library; see :func:`mse_loss`.

    .. math::

        \ell_i = (x_i - y_i)^2

    Parameters
    ----------
    %(input_target)s
    %(reduction)s

    %(returns)s

    Raises
    ------
    %(raises)s

    Examples
    --------
    >>> import torch
    >>> from companion import mse_loss_reference
    >>> print(mse_loss_reference(torch.tensor([1.0, -2.0]), torch.tensor([0.0, 0.0])))
    tensor(2.5000)
    """
    reduction = check_reduction(reduction)
    xp, input, target = check_input_target(input, target)
    return _loss(xp, _mse, input, target, reduction)


@fill_doc
def smooth_l1_loss_reference(
    input: ArrayLike, target: ArrayLike, reduction: str = "mean", beta: Union[float, Array] = 1.0
) -> Array:
    r"""Smooth L1 loss by its array-API formula on every library; see :func:`smooth_l1_loss`.

    The branches of the definition are folded into one expression without ``where``:

    .. math::

        \ell_i = \frac{q_i}{2} \cdot \frac{q_i}{\beta} + (p_i - \beta), \qquad
        q_i = \min(|d_i|, \beta), \quad p_i = \max(|d_i|, \beta),

    with :math:`d_i = x_i - y_i`, and :math:`\ell_i = |d_i|` when :math:`\beta = 0`. For
    :math:`|d_i| < \beta` it is :math:`d_i^2 / (2\beta)`, otherwise :math:`|d_i| - \beta/2`.
    It is :func:`huber_loss_reference`'s formula divided by :math:`\beta` (see there why it
    is written this way), with :math:`q_i/\beta \le 1` computed first so that nothing
    overflows that the loss does not.

    Parameters
    ----------
    %(input_target)s
    %(reduction)s
    %(beta)s

    %(returns)s

    Raises
    ------
    %(raises_beta)s

    Examples
    --------
    >>> import numpy as np
    >>> from companion import smooth_l1_loss_reference
    >>> print(smooth_l1_loss_reference(np.array([0.5, 3.0]), np.zeros(2), reduction="none"))
    [0.125 2.5  ]
    """
    reduction = check_reduction(reduction)
    beta = check_parameter("beta", beta, allow_zero=True, allow_traced=True)
    xp, input, target = check_input_target(input, target)
    return _loss(xp, _smooth_l1, input, target, reduction, beta)


@fill_doc
def huber_loss_reference(
    input: ArrayLike, target: ArrayLike, reduction: str = "mean", delta: Union[float, Array] = 1.0
) -> Array:
    r"""Huber loss by its array-API formula on every library; see :func:`huber_loss`.

    The branches of the definition are folded into one expression without ``where``:

    .. math::

        \ell_i = \tfrac12 q_i^2 + \delta\,(p_i - \delta), \qquad
        q_i = \min(|d_i|, \delta), \quad p_i = \max(|d_i|, \delta),

    with :math:`d_i = x_i - y_i`. For :math:`|d_i| < \delta` it is :math:`d_i^2 / 2`,
    otherwise :math:`\delta(|d_i| - \delta/2)`. Each term changes with :math:`|d_i|` on one
    side of :math:`\delta` only, which keeps its derivative exact under every autodiff:

    - below :math:`\delta` it is :math:`q_i \operatorname{sign}(d_i)`, with nothing that
      cancels, so small residuals keep every float32 digit however large :math:`\delta` is
      (optax's :math:`\tfrac12 q_i^2 + \delta(|d_i| - q_i)` computes
      :math:`\delta + (q_i - \delta)` there);
    - every factor that multiplies a derivative is finite (:math:`q_i \le \delta`), so an
      infinite difference gets the slope :math:`\pm\delta` in reverse and forward mode, in
      PyTorch and JAX (:math:`q_i(|d_i| - q_i/2)` multiplies the zero derivative of
      :math:`q_i` by :math:`|d_i| = \infty`: NaN);
    - at :math:`|d_i| = \delta` PyTorch and JAX give half the derivative to each argument of
      ``minimum`` and ``maximum``, and the two halves add up to :math:`\pm\delta`.

    Parameters
    ----------
    %(input_target)s
    %(reduction)s
    %(delta)s

    %(returns)s

    Raises
    ------
    %(raises_delta)s

    Examples
    --------
    >>> import numpy as np
    >>> from companion import huber_loss_reference
    >>> x = np.array([0.5, 3.0])
    >>> print(huber_loss_reference(x, np.zeros(2), reduction="none", delta=2.0))
    [0.125 4.   ]
    """
    reduction = check_reduction(reduction)
    delta = check_parameter("delta", delta, allow_zero=False, allow_traced=True)
    xp, input, target = check_input_target(input, target)
    return _loss(xp, _huber, input, target, reduction, delta)


# ---------------------------------------------------------------------------------------
# The public losses.


@fill_doc
def l1_loss(input: ArrayLike, target: ArrayLike, reduction: str = "mean") -> Array:
    r"""L1 loss, the mean absolute error (MAE) for ``reduction='mean'``.

    .. math::

        \ell_i = |x_i - y_i|

    The loss grows linearly with the error, and its derivative
    :math:`\operatorname{sign}(x_i - y_i)` has the same size for every error (0 at a
    perfect prediction: the sub-gradient PyTorch's and JAX's autodiff give here). The
    constant minimising the summed L1 loss over a data set is a median.

    Parameters
    ----------
    %(input_target)s
    %(reduction)s

    %(returns)s

    Raises
    ------
    %(raises)s

    See Also
    --------
    l1_loss_grad : the derivative with respect to ``input``.
    l1_loss_reference : the array-API formula, used for every library but PyTorch.
    torch.nn.functional.l1_loss : PyTorch's version.

    Notes
    -----
    %(nan)s

    %(pytorch)s PyTorch's ``l1_loss`` also accepts complex tensors; the companion rejects them.

    Examples
    --------
    Five zeros and three ones, predicted by a constant: 0 costs 3, 0.375 costs 3.75.

    >>> import numpy as np
    >>> from companion import l1_loss
    >>> y = np.array([0.0, 0, 0, 0, 0, 1, 1, 1])
    >>> print(float(l1_loss(np.zeros(8), y, reduction="sum")))
    3.0
    >>> print(float(l1_loss(np.full(8, 0.375), y, reduction="sum")))
    3.75

    Autograd flows through it on PyTorch tensors:

    >>> import torch
    >>> x = torch.tensor([2.0, -1.0, 0.0, 0.5], requires_grad=True)
    >>> l1_loss(x, torch.zeros(4)).backward()
    >>> print(x.grad)
    tensor([ 0.2500, -0.2500,  0.0000,  0.2500])
    """
    reduction = check_reduction(reduction)
    xp, input, target = check_input_target(input, target)
    if array_api_compat.is_torch_namespace(xp):
        return torch_functional().l1_loss(input, target, reduction=reduction)
    return _loss(xp, _l1, input, target, reduction)


@fill_doc
def mse_loss(input: ArrayLike, target: ArrayLike, reduction: str = "mean") -> Array:
    r"""Squared error; the mean squared error (MSE) for ``reduction='mean'``.

    .. math::

        \ell_i = (x_i - y_i)^2

    For ``'mean'`` this is :math:`\lVert x - y \rVert_2^2 / N`, the squared L2 norm divided
    by :math:`N`. Its derivative :math:`2(x_i - y_i)` grows with the error, so outliers pull
    hard; the constant minimising it over a data set is the mean.

    Parameters
    ----------
    %(input_target)s
    %(reduction)s

    %(returns)s

    Raises
    ------
    %(raises)s

    See Also
    --------
    rmse : its square root, in the units of the data.
    mse_loss_grad : the derivative with respect to ``input``.
    mse_loss_reference : the array-API formula, used for every library but PyTorch.
    torch.nn.functional.mse_loss : PyTorch's version.

    Notes
    -----
    %(nan)s

    %(pytorch)s

    Examples
    --------
    >>> import numpy as np
    >>> from companion import mse_loss
    >>> print(float(mse_loss(np.array([1.0, 2.0, 4.0]), np.array([1.0, 0.0, 1.0]))))
    4.333333333333333
    >>> print(mse_loss([1, 2, 4], [1, 0, 1], reduction="none"))
    [0. 4. 9.]
    """
    reduction = check_reduction(reduction)
    xp, input, target = check_input_target(input, target)
    if array_api_compat.is_torch_namespace(xp):
        return torch_functional().mse_loss(input, target, reduction=reduction)
    return _loss(xp, _mse, input, target, reduction)


@fill_doc
def rmse(input: ArrayLike, target: ArrayLike) -> Array:
    r"""Root mean squared error: the square root of :func:`mse_loss` with ``'mean'``.

    .. math::

        \mathrm{RMSE}(x, y) = \sqrt{\frac{1}{N}\sum_{i=1}^{N} (x_i - y_i)^2}

    It has the units of the data, and the same minimiser as the MSE. It is not a mean of
    per-sample losses (there is no ``reduction`` argument): the RMSE of a data set is not the
    mean of the RMSEs of its batches. At a perfect fit its derivative is
    :math:`0/0`, NaN under autograd.

    Parameters
    ----------
    %(input_target)s

    Returns
    -------
    array
        A 0-d array (a NumPy scalar for NumPy inputs) of the inputs' common floating dtype;
        NaN for empty inputs.

    Raises
    ------
    %(raises)s

    See Also
    --------
    mse_loss : the squared error it is the root of.

    Notes
    -----
    PyTorch has no RMSE loss; this equals ``torch.sqrt(torch.nn.functional.mse_loss(x, y))``,
    and scikit-learn's ``root_mean_squared_error`` on 1-d data.

    Examples
    --------
    >>> import numpy as np
    >>> from companion import rmse
    >>> print(float(rmse(np.array([3.0, 0.0]), np.array([0.0, 4.0]))))
    3.5355339059327378
    """
    xp, input, target = check_input_target(input, target)
    if array_api_compat.is_torch_namespace(xp):
        return xp.sqrt(torch_functional().mse_loss(input, target, reduction="mean"))
    return xp.sqrt(_loss(xp, _mse, input, target, "mean"))


@fill_doc
def smooth_l1_loss(
    input: ArrayLike, target: ArrayLike, reduction: str = "mean", beta: Union[float, Array] = 1.0
) -> Array:
    r"""Smooth L1 loss: quadratic for differences below ``beta``, linear with slope 1 above.

    .. math::

        \ell_i = \begin{cases}
            \dfrac{(x_i - y_i)^2}{2\beta} & \text{if } |x_i - y_i| < \beta, \\[1ex]
            |x_i - y_i| - \dfrac{\beta}{2} & \text{otherwise,}
        \end{cases}

    and :math:`\ell_i = |x_i - y_i|` for :math:`\beta = 0`. The two pieces meet with equal
    value and slope at :math:`|x_i - y_i| = \beta`; the slope never exceeds 1 in size, so a
    single outlier cannot dominate the gradient. Introduced for bounding-box regression in
    Fast R-CNN (Girshick 2015).

    Parameters
    ----------
    %(input_target)s
    %(reduction)s
    %(beta)s

    %(returns)s

    Raises
    ------
    %(raises_beta)s

    See Also
    --------
    huber_loss : the same shape scaled by :math:`\beta`.
    smooth_l1_loss_grad : the derivative with respect to ``input``.
    smooth_l1_loss_reference : the array-API formula, used for every library but PyTorch.
    torch.nn.functional.smooth_l1_loss : PyTorch's version.

    Notes
    -----
    Relation to Huber: :math:`\mathrm{SmoothL1}_\beta(d) = \mathrm{Huber}_\beta(d) / \beta`
    for :math:`\beta > 0`, so the two coincide only for :math:`\beta = \delta = 1`.

    Limits: as :math:`\beta \to 0` the quadratic zone shrinks to nothing and the loss tends
    to the L1 loss :math:`|d|` (at :math:`\beta = 0` it is exactly L1, value and gradient).
    As :math:`\beta \to \infty` every difference falls in the quadratic zone and
    :math:`d^2/(2\beta) \to 0`: the loss flattens to zero, while
    :math:`\beta\,\mathrm{SmoothL1}_\beta(d) \to d^2/2`, half the squared error.

    %(nan)s

    %(pytorch)s A negative, NaN or infinite ``beta`` raises ``ValueError`` (PyTorch:
    ``RuntimeError`` for negative and NaN, and it accepts inf). For float16 tensors the
    formula is evaluated instead of PyTorch's kernel, which overflows there (see
    :mod:`companion.losses.regression`).

    References
    ----------
    %(girshick2015)s

    %(huber1964)s

    Examples
    --------
    >>> import numpy as np
    >>> from companion import smooth_l1_loss
    >>> x, y = np.array([0.5, 1.0, 3.0]), np.zeros(3)
    >>> print(smooth_l1_loss(x, y, reduction="none"))
    [0.125 0.5   2.5  ]
    >>> print(smooth_l1_loss(x, y, reduction="none", beta=0.0))
    [0.5 1.  3. ]

    On PyTorch tensors the gradient is bounded by 1 (divided by N for 'mean'):

    >>> import torch
    >>> x = torch.tensor([0.5, 1.0, 3.0, -40.0], requires_grad=True)
    >>> smooth_l1_loss(x, torch.zeros(4), reduction="sum").backward()
    >>> print(x.grad)
    tensor([ 0.5000,  1.0000,  1.0000, -1.0000])
    """
    reduction = check_reduction(reduction)
    beta = check_parameter("beta", beta, allow_zero=True, allow_traced=True)
    xp, input, target = check_input_target(input, target)
    if array_api_compat.is_torch_namespace(xp) and input.dtype != xp.float16:
        return torch_functional().smooth_l1_loss(input, target, reduction=reduction, beta=beta)
    return _loss(xp, _smooth_l1, input, target, reduction, beta)


@fill_doc
def huber_loss(
    input: ArrayLike, target: ArrayLike, reduction: str = "mean", delta: Union[float, Array] = 1.0
) -> Array:
    r"""Huber loss: quadratic for differences below ``delta``, linear with slope ``delta`` above.

    .. math::

        \ell_i = \begin{cases}
            \tfrac12 (x_i - y_i)^2 & \text{if } |x_i - y_i| < \delta, \\[1ex]
            \delta\,\bigl(|x_i - y_i| - \tfrac12\delta\bigr) & \text{otherwise.}
        \end{cases}

    Huber (1964) introduced it for estimating a location robustly: squared error for
    small residuals, absolute error (scaled by :math:`\delta`) for large ones, so outliers
    pull with a bounded force :math:`\delta`.

    Parameters
    ----------
    %(input_target)s
    %(reduction)s
    %(delta)s

    %(returns)s

    Raises
    ------
    %(raises_delta)s

    See Also
    --------
    smooth_l1_loss : the same shape divided by :math:`\delta`.
    huber_loss_grad : the derivative with respect to ``input``.
    huber_loss_reference : the array-API formula, used for every library but PyTorch.
    torch.nn.functional.huber_loss : PyTorch's version.

    Notes
    -----
    :math:`\mathrm{Huber}_\delta(d) = \delta\,\mathrm{SmoothL1}_{\beta=\delta}(d)`. As
    :math:`\delta \to \infty` it becomes :math:`d^2/2`; as :math:`\delta \to 0` it vanishes,
    while :math:`\mathrm{Huber}_\delta / \delta` tends to :math:`|d|`.

    %(nan)s

    %(pytorch)s A zero, negative, NaN or infinite ``delta`` raises ``ValueError`` (PyTorch:
    ``RuntimeError``, and it accepts inf). With ``input`` and ``target`` of different floating
    dtypes the result has their common dtype; PyTorch's ``huber_loss`` returns ``input``'s.

    References
    ----------
    %(huber1964)s

    Examples
    --------
    >>> import numpy as np
    >>> from companion import huber_loss, smooth_l1_loss
    >>> x, y = np.array([0.5, 3.0]), np.zeros(2)
    >>> print(huber_loss(x, y, reduction="none", delta=2.0))
    [0.125 4.   ]
    >>> print(2.0 * smooth_l1_loss(x, y, reduction="none", beta=2.0))
    [0.125 4.   ]
    """
    reduction = check_reduction(reduction)
    delta = check_parameter("delta", delta, allow_zero=False, allow_traced=True)
    xp, input, target = check_input_target(input, target)
    if array_api_compat.is_torch_namespace(xp):
        return torch_functional().huber_loss(input, target, reduction=reduction, delta=delta)
    return _loss(xp, _huber, input, target, reduction, delta)


# ---------------------------------------------------------------------------------------
# Analytic derivatives with respect to ``input``.


@fill_doc
def l1_loss_grad(input: ArrayLike, target: ArrayLike, reduction: str = "mean") -> Array:
    r"""Derivative of :func:`l1_loss` with respect to ``input``.

    .. math::

        \frac{\partial \ell_i}{\partial x_i} = \operatorname{sign}(x_i - y_i)

    with the sub-gradient 0 at :math:`x_i = y_i`, the one PyTorch's and JAX's autodiff give.

    Parameters
    ----------
    %(input_target)s
    %(reduction)s

    %(grad_returns)s

    Raises
    ------
    %(raises)s

    Notes
    -----
    Where the difference is NaN the derivative is NaN (the array API's ``sign``);
    PyTorch's autograd gives 0 there, because ``torch.sign(nan)`` is 0.

    Examples
    --------
    >>> import numpy as np
    >>> from companion import l1_loss_grad
    >>> print(l1_loss_grad(np.array([2.0, -1.0, 0.0, 0.5]), np.zeros(4)))
    [ 0.25 -0.25  0.    0.25]
    """
    reduction = check_reduction(reduction)
    xp, input, target = check_input_target(input, target)
    return _derivative(xp, lambda d: _sign(xp, d), input, target, reduction)


@fill_doc
def mse_loss_grad(input: ArrayLike, target: ArrayLike, reduction: str = "mean") -> Array:
    r"""Derivative of :func:`mse_loss` with respect to ``input``.

    .. math::

        \frac{\partial \ell_i}{\partial x_i} = 2\,(x_i - y_i)

    Parameters
    ----------
    %(input_target)s
    %(reduction)s

    %(grad_returns)s

    Raises
    ------
    %(raises)s

    Examples
    --------
    >>> import numpy as np
    >>> from companion import mse_loss_grad
    >>> print(mse_loss_grad(np.array([2.0, -1.0, 0.0, 0.5]), np.zeros(4), reduction="sum"))
    [ 4. -2.  0.  1.]
    """
    reduction = check_reduction(reduction)
    xp, input, target = check_input_target(input, target)
    return _derivative(xp, lambda d: 2.0 * d, input, target, reduction)


@fill_doc
def smooth_l1_loss_grad(
    input: ArrayLike, target: ArrayLike, reduction: str = "mean", beta: Union[float, Array] = 1.0
) -> Array:
    r"""Derivative of :func:`smooth_l1_loss` with respect to ``input``.

    .. math::

        \frac{\partial \ell_i}{\partial x_i} =
        \operatorname{clip}\!\left(\frac{x_i - y_i}{\beta}, -1, 1\right)

    and :math:`\operatorname{sign}(x_i - y_i)` for :math:`\beta = 0`, as for L1.

    Parameters
    ----------
    %(input_target)s
    %(reduction)s
    %(beta)s

    %(grad_returns)s

    Raises
    ------
    %(raises_beta)s

    Examples
    --------
    >>> import numpy as np
    >>> from companion import smooth_l1_loss_grad
    >>> x = np.array([0.5, 1.0, 3.0, -40.0])
    >>> print(smooth_l1_loss_grad(x, np.zeros(4), reduction="sum"))
    [ 0.5  1.   1.  -1. ]
    """
    reduction = check_reduction(reduction)
    beta = check_parameter("beta", beta, allow_zero=True, allow_traced=True)
    xp, input, target = check_input_target(input, target)

    def slope(d: Any) -> Any:
        return _if_zero(
            xp, beta, lambda: _sign(xp, d), lambda: _clip(xp, d / _divisor(xp, beta), 1.0)
        )

    return _derivative(xp, slope, input, target, reduction)


@fill_doc
def huber_loss_grad(
    input: ArrayLike, target: ArrayLike, reduction: str = "mean", delta: Union[float, Array] = 1.0
) -> Array:
    r"""Derivative of :func:`huber_loss` with respect to ``input``.

    .. math::

        \frac{\partial \ell_i}{\partial x_i} = \operatorname{clip}(x_i - y_i, -\delta, \delta)

    Parameters
    ----------
    %(input_target)s
    %(reduction)s
    %(delta)s

    %(grad_returns)s

    Raises
    ------
    %(raises_delta)s

    Examples
    --------
    >>> import numpy as np
    >>> from companion import huber_loss_grad
    >>> x = np.array([0.5, 1.0, 3.0, -40.0])
    >>> print(huber_loss_grad(x, np.zeros(4), reduction="sum", delta=2.0))
    [ 0.5  1.   2.  -2. ]
    """
    reduction = check_reduction(reduction)
    delta = check_parameter("delta", delta, allow_zero=False, allow_traced=True)
    xp, input, target = check_input_target(input, target)
    return _derivative(xp, lambda d: _clip(xp, d, delta), input, target, reduction)


# ---------------------------------------------------------------------------------------
# The pinball (quantile) loss, which has no torch.nn.functional counterpart.

_TAU_ALLOWED = "a real number strictly between 0 and 1 (the quantile level)"


def _check_tau(tau: Any) -> float:
    """Return ``tau`` as a float if it lies strictly between 0 and 1; else raise."""
    try:
        value = check_parameter("tau", tau, allow_zero=False)
    except ValueError:  # zero, negative, NaN or infinite
        value = math.nan
    except TypeError:  # booleans, strings, complex numbers, arrays
        raise TypeError(f"tau must be {_TAU_ALLOWED}; got {tau!r}") from None
    if not value < 1.0:
        raise ValueError(f"tau must be {_TAU_ALLOWED}; got {tau!r}")
    return value


@fill_doc
def pinball_loss(
    input: ArrayLike, target: ArrayLike, reduction: str = "mean", tau: float = 0.5
) -> Array:
    r"""Pinball (quantile) loss: the L1 loss tilted so that it estimates the ``tau``-quantile.

    .. math::

        \ell_i = \max\bigl(\tau\,(y_i - x_i),\; (1 - \tau)\,(x_i - y_i)\bigr)

    Each unit by which the prediction :math:`x_i` falls short of the target costs
    :math:`\tau`, each unit by which it overshoots costs :math:`1 - \tau`. The constant that
    minimises the summed loss over a data set is a :math:`\tau`-quantile of the targets, and a
    model trained with it estimates the conditional :math:`\tau`-quantile (Koenker and
    Bassett, 1978). At :math:`\tau = 1/2` it is half the L1 loss.

    Parameters
    ----------
    %(input_target)s
    %(reduction)s
    tau : float, default 0.5
        The quantile level :math:`\tau`, strictly between 0 and 1.

    %(returns)s

    Raises
    ------
    %(raises)s
        Also if ``tau`` is not strictly between 0 and 1 (or is NaN); a ``tau`` that is not a
        real number (a boolean, a string, an array) raises ``TypeError``.

    See Also
    --------
    pinball_loss_grad : the derivative with respect to ``input``.
    l1_loss : twice the pinball loss at :math:`\tau = 1/2`.
    sklearn.metrics.mean_pinball_loss : scikit-learn's ``'mean'`` version, with the
        arguments in the order ``(y_true, y_pred)`` and ``alpha`` for :math:`\tau`.

    Notes
    -----
    %(nan)s

    PyTorch has no pinball loss; on PyTorch tensors the formula above runs, and autograd
    flows through it (at :math:`x_i = y_i` it gives the sub-gradient :math:`1/2 - \tau`, as
    :func:`pinball_loss_grad` does).

    References
    ----------
    Roger Koenker and Gilbert Bassett, "Regression Quantiles", *Econometrica* 46(1), 33-50,
    1978.

    Examples
    --------
    Predicting 2 for the targets 1, 2 and 3: overshooting by 1 costs 0.1 at
    :math:`\tau = 0.9`, falling short by 1 costs 0.9.

    >>> import numpy as np
    >>> from companion import l1_loss, pinball_loss
    >>> x, y = np.full(3, 2.0), np.array([1.0, 2.0, 3.0])
    >>> print(pinball_loss(x, y, tau=0.9, reduction="none"))
    [0.1 0.  0.9]
    >>> print(float(pinball_loss(x, y)), float(l1_loss(x, y)) / 2)
    0.3333333333333333 0.3333333333333333
    """
    tau = _check_tau(tau)
    reduction = check_reduction(reduction)
    xp, input, target = check_input_target(input, target)
    return _loss(xp, _pinball, input, target, reduction, tau)


@fill_doc
def pinball_loss_grad(
    input: ArrayLike, target: ArrayLike, reduction: str = "mean", tau: float = 0.5
) -> Array:
    r"""Derivative of :func:`pinball_loss` with respect to ``input``.

    .. math::

        \frac{\partial \ell_i}{\partial x_i}
        = \tfrac12 \operatorname{sign}(x_i - y_i) + \tfrac12 - \tau
        = \begin{cases}
            1 - \tau & \text{if } x_i > y_i, \\
            -\tau & \text{if } x_i < y_i, \\
            \tfrac12 - \tau & \text{if } x_i = y_i,
        \end{cases}

    the last being the sub-gradient autograd gives for the formula of :func:`pinball_loss`
    (0 at :math:`\tau = 1/2`, half of :func:`l1_loss_grad`). Where the difference is NaN
    the derivative is NaN.

    Parameters
    ----------
    %(input_target)s
    %(reduction)s
    tau : float, default 0.5
        The quantile level :math:`\tau`, strictly between 0 and 1.

    %(grad_returns)s

    Raises
    ------
    %(raises)s
        Also if ``tau`` is not strictly between 0 and 1 (or is NaN); a ``tau`` that is not a
        real number raises ``TypeError``.

    Examples
    --------
    >>> import numpy as np
    >>> from companion import pinball_loss_grad
    >>> x, y = np.array([3.0, 2.0, 1.0]), np.full(3, 2.0)
    >>> print(pinball_loss_grad(x, y, tau=0.9, reduction="sum"))
    [ 0.1 -0.4 -0.9]
    """
    tau = _check_tau(tau)
    reduction = check_reduction(reduction)
    xp, input, target = check_input_target(input, target)
    return _derivative(xp, lambda d: 0.5 * _sign(xp, d) + (0.5 - tau), input, target, reduction)
