"""Regression losses and their derivatives for any array-API library.

Every function accepts NumPy arrays, PyTorch tensors (autograd flows through), any other
array-API library, and Python scalars or lists. The names and arguments follow
:mod:`torch.nn.functional`.
"""

from __future__ import annotations

import math
from typing import Any

import array_api_compat

from companion._validation import check_input_target, check_positive_parameter, check_reduction

__all__ = [
    "l1_loss",
    "mse_loss",
    "rmse",
    "smooth_l1_loss",
    "huber_loss",
    "smooth_l1_loss_reference",
    "huber_loss_reference",
    "l1_loss_grad",
    "mse_loss_grad",
    "smooth_l1_loss_grad",
    "huber_loss_grad",
]


def _reduce(loss: Any, reduction: str, xp: Any) -> Any:
    """Apply ``reduction`` to the per-element losses; the mean of nothing is NaN, silently."""
    if reduction == "none":
        return loss
    if reduction == "sum":
        return xp.sum(loss)
    if math.prod(loss.shape) == 0:
        # sum() keeps the autograd graph; 0 * nan is NaN without NumPy's 0/0 warning.
        return xp.sum(loss) * math.nan
    return xp.mean(loss)


def _scale(grad: Any, reduction: str) -> Any:
    """Scale per-element derivatives by 1/N for 'mean' (no change for 'sum' and 'none')."""
    if reduction == "mean":
        return grad / max(math.prod(grad.shape), 1)
    return grad


def _huber_elementwise(abs_diff: Any, delta: float, xp: Any) -> Any:
    """``q * (|d| - q / 2)`` with ``q = min(|d|, delta)``: Huber without a branch.

    Below ``delta`` the two gradient paths through ``q`` cancel exactly (not just nearly),
    so small residuals keep every digit; above it ``minimum`` sends no gradient to ``q``,
    so an infinite residual still gets the finite slope ``delta``.
    """
    q = xp.minimum(abs_diff, xp.asarray(delta, dtype=abs_diff.dtype, device=_device(abs_diff)))
    return q * (abs_diff - 0.5 * q)


def _device(x: Any) -> Any:
    return array_api_compat.device(x)


def _is_torch(xp: Any) -> bool:
    return array_api_compat.is_torch_namespace(xp)


def l1_loss(input: Any, target: Any, reduction: str = "mean") -> Any:
    r"""L1 loss (mean absolute error): the absolute difference between input and target.

    .. math::

        \ell_i = |x_i - y_i|

    Parameters
    ----------
    input, target : array_like
        Predictions :math:`x` and targets :math:`y`, of the same shape.
    reduction : {'mean', 'sum', 'none'}, default 'mean'
        'mean' returns :math:`\frac{1}{N}\sum_i \ell_i`, 'sum' returns :math:`\sum_i \ell_i`,
        'none' returns the per-element losses with the shape of ``input``.

    Returns
    -------
    array
        A 0-d array for 'mean' and 'sum', otherwise an array shaped like ``input``.

    Examples
    --------
    >>> import numpy as np
    >>> from companion import l1_loss
    >>> print(float(l1_loss(np.array([1.0, 2.0, 4.0]), np.array([1.0, 0.0, 1.0]))))
    1.6666666666666667
    """
    reduction = check_reduction(reduction)
    xp, input, target = check_input_target(input, target)
    return _reduce(xp.abs(input - target), reduction, xp)


def mse_loss(input: Any, target: Any, reduction: str = "mean") -> Any:
    r"""Mean squared error: the squared difference between input and target.

    .. math::

        \ell_i = (x_i - y_i)^2

    Examples
    --------
    >>> import numpy as np
    >>> from companion import mse_loss
    >>> print(float(mse_loss(np.array([1.0, 2.0, 4.0]), np.array([1.0, 0.0, 1.0]))))
    4.333333333333333
    """
    reduction = check_reduction(reduction)
    xp, input, target = check_input_target(input, target)
    diff = input - target
    return _reduce(diff * diff, reduction, xp)


def rmse(input: Any, target: Any) -> Any:
    r"""Root mean squared error: the square root of :func:`mse_loss` with reduction 'mean'.

    .. math::

        \mathrm{RMSE} = \sqrt{\frac{1}{N}\sum_i (x_i - y_i)^2}

    Examples
    --------
    >>> import numpy as np
    >>> from companion import rmse
    >>> print(float(rmse(np.array([3.0, 0.0]), np.array([0.0, 4.0]))))
    3.5355339059327378
    """
    xp, input, target = check_input_target(input, target)
    return xp.sqrt(mse_loss(input, target, reduction="mean"))


def smooth_l1_loss_reference(
    input: Any, target: Any, reduction: str = "mean", beta: float = 1.0
) -> Any:
    r"""Smooth L1 loss computed by the readable array-API formula (no fused kernel).

    .. math::

        \ell_i = \frac{q_i\,(|d_i| - q_i/2)}{\beta}, \quad q_i = \min(|d_i|, \beta),
        \quad d_i = x_i - y_i

    This is the formula :func:`smooth_l1_loss` is defined by; that function may dispatch to a
    library's own fused kernel (PyTorch's) for speed, and the tests check the two agree.
    """
    reduction = check_reduction(reduction)
    beta = check_positive_parameter("beta", beta, allow_zero=True)
    xp, input, target = check_input_target(input, target)
    abs_diff = xp.abs(input - target)
    if beta == 0.0:
        return _reduce(abs_diff, reduction, xp)
    return _reduce(_huber_elementwise(abs_diff, beta, xp) / beta, reduction, xp)


def smooth_l1_loss(input: Any, target: Any, reduction: str = "mean", beta: float = 1.0) -> Any:
    r"""Smooth L1 loss: quadratic for small differences, linear (slope 1) for large ones.

    .. math::

        \ell_i = \begin{cases}
            \dfrac{(x_i - y_i)^2}{2\beta} & \text{if } |x_i - y_i| < \beta \\[1ex]
            |x_i - y_i| - \dfrac{\beta}{2} & \text{otherwise}
        \end{cases}

    Examples
    --------
    >>> import numpy as np
    >>> from companion import smooth_l1_loss
    >>> x, y = np.array([0.5, 3.0]), np.zeros(2)
    >>> print(smooth_l1_loss(x, y, reduction="none"))
    [0.125 2.5  ]
    """
    reduction = check_reduction(reduction)
    beta = check_positive_parameter("beta", beta, allow_zero=True)
    xp, input, target = check_input_target(input, target)
    if _is_torch(xp):
        import torch.nn.functional as F

        return F.smooth_l1_loss(input, target, reduction=reduction, beta=beta)
    return smooth_l1_loss_reference(input, target, reduction, beta)


def huber_loss_reference(
    input: Any, target: Any, reduction: str = "mean", delta: float = 1.0
) -> Any:
    r"""Huber loss computed by the readable array-API formula (no fused kernel).

    .. math::

        \ell_i = q_i\,(|d_i| - q_i/2), \quad q_i = \min(|d_i|, \delta), \quad d_i = x_i - y_i
    """
    reduction = check_reduction(reduction)
    delta = check_positive_parameter("delta", delta, allow_zero=False)
    xp, input, target = check_input_target(input, target)
    return _reduce(_huber_elementwise(xp.abs(input - target), delta, xp), reduction, xp)


def huber_loss(input: Any, target: Any, reduction: str = "mean", delta: float = 1.0) -> Any:
    r"""Huber loss: quadratic for small differences, linear (slope delta) for large ones.

    .. math::

        \ell_i = \begin{cases}
            \tfrac12 (x_i - y_i)^2 & \text{if } |x_i - y_i| < \delta \\[1ex]
            \delta\,\bigl(|x_i - y_i| - \tfrac12\delta\bigr) & \text{otherwise}
        \end{cases}

    Examples
    --------
    >>> import numpy as np
    >>> from companion import huber_loss
    >>> x, y = np.array([0.5, 3.0]), np.zeros(2)
    >>> print(huber_loss(x, y, reduction="none", delta=2.0))
    [0.125 4.   ]
    """
    reduction = check_reduction(reduction)
    delta = check_positive_parameter("delta", delta, allow_zero=False)
    xp, input, target = check_input_target(input, target)
    if _is_torch(xp):
        import torch.nn.functional as F

        return F.huber_loss(input, target, reduction=reduction, delta=delta)
    return huber_loss_reference(input, target, reduction, delta)


def l1_loss_grad(input: Any, target: Any, reduction: str = "mean") -> Any:
    r"""Derivative of :func:`l1_loss` w.r.t. ``input``: :math:`\operatorname{sign}(d_i)`."""
    reduction = check_reduction(reduction)
    xp, input, target = check_input_target(input, target)
    return _scale(xp.sign(input - target), reduction)


def mse_loss_grad(input: Any, target: Any, reduction: str = "mean") -> Any:
    r"""Derivative of :func:`mse_loss` with respect to ``input``: :math:`2 d_i`."""
    reduction = check_reduction(reduction)
    xp, input, target = check_input_target(input, target)
    return _scale(2.0 * (input - target), reduction)


def smooth_l1_loss_grad(input: Any, target: Any, reduction: str = "mean", beta: float = 1.0) -> Any:
    r"""Derivative of :func:`smooth_l1_loss` w.r.t. ``input``.

    :math:`\mathrm{clip}(d_i/\beta, -1, 1)`.
    """
    reduction = check_reduction(reduction)
    beta = check_positive_parameter("beta", beta, allow_zero=True)
    xp, input, target = check_input_target(input, target)
    diff = input - target
    if beta == 0.0:
        return _scale(xp.sign(diff), reduction)
    return _scale(xp.clip(diff / beta, min=-1.0, max=1.0), reduction)


def huber_loss_grad(input: Any, target: Any, reduction: str = "mean", delta: float = 1.0) -> Any:
    r"""Derivative of :func:`huber_loss` w.r.t. ``input``.

    :math:`\mathrm{clip}(d_i, -\delta, \delta)`.
    """
    reduction = check_reduction(reduction)
    delta = check_positive_parameter("delta", delta, allow_zero=False)
    xp, input, target = check_input_target(input, target)
    return _scale(xp.clip(input - target, min=-delta, max=delta), reduction)
