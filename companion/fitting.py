"""Plain gradient descent with a companion loss: fit a constant or a line.

The fits use the analytic derivatives (``*_loss_grad``) on NumPy arrays, and they are batched:
give ``y`` (and ``x``) a leading batch shape and every batch row is fitted at once, which keeps
experiments over many seeds fast.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import numpy as np

from companion._checks import check_count

LossGrad = Callable[..., Any]


def _check_schedule(lr: float, steps: int) -> None:
    if not lr > 0:
        raise ValueError(f"lr must be > 0, got {lr!r}")
    check_count("steps", steps, minimum=0)


def _mean_grad(loss_grad: LossGrad, pred: np.ndarray, y: np.ndarray, **kwargs: Any) -> np.ndarray:
    """Per-point derivative of the batch-row mean loss: ``loss_grad(pred, y) / n``."""
    return cast(
        np.ndarray, np.asarray(loss_grad(pred, y, reduction="none", **kwargs)) / y.shape[-1]
    )


def fit_constant(
    y: Any,
    loss_grad: LossGrad,
    *,
    init: float = 0.0,
    lr: float = 0.1,
    steps: int = 100,
    **loss_kwargs: Any,
) -> np.ndarray:
    r"""Fit one constant prediction :math:`c` to the labels ``y`` by gradient descent.

    .. math:: c_{t+1} = c_t - \eta \, \frac{1}{N}\sum_{i=1}^N \ell'(c_t - y_i)

    Parameters
    ----------
    y : array_like, shape (..., N)
        Labels; leading axes are a batch of independent problems.
    loss_grad : callable
        A companion derivative such as :func:`~companion.losses.mse_loss_grad`, called with
        ``reduction="none"`` and ``**loss_kwargs`` (for example ``beta``).
    init, lr, steps : float, float, int
        Starting value, step size :math:`\eta` and number of steps.

    Returns
    -------
    numpy.ndarray, shape (steps + 1, ...)
        The whole path of :math:`c`, starting at ``init``. Once a step overflows the path holds
        ``inf`` or ``nan``; no warning is raised, check with :func:`numpy.isfinite`.
    """
    _check_schedule(lr, steps)
    y = np.asarray(y, dtype=np.float64)
    c = np.full(y.shape[:-1], float(init))
    path = [c]
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(steps):
            pred = np.broadcast_to(c[..., None], y.shape)
            c = c - lr * _mean_grad(loss_grad, pred, y, **loss_kwargs).sum(axis=-1)
            path.append(c)
    return np.stack(path)


@dataclass(frozen=True)
class LineFit:
    """The path of a gradient-descent line fit; ``slopes[t]``, ``intercepts[t]`` after step t."""

    slopes: np.ndarray
    intercepts: np.ndarray

    @property
    def slope(self) -> np.ndarray:
        """Final slope."""
        return cast(np.ndarray, self.slopes[-1])

    @property
    def intercept(self) -> np.ndarray:
        """Final intercept."""
        return cast(np.ndarray, self.intercepts[-1])

    @property
    def diverged(self) -> np.ndarray:
        """True where the fit ended with a non-finite parameter."""
        return cast(np.ndarray, ~(np.isfinite(self.slope) & np.isfinite(self.intercept)))


def fit_line(
    x: Any,
    y: Any,
    loss_grad: LossGrad,
    *,
    lr: float = 0.1,
    steps: int = 500,
    init: tuple[float, float] = (0.0, 0.0),
    **loss_kwargs: Any,
) -> LineFit:
    r"""Fit :math:`\hat y = a x + b` by full-batch gradient descent on a mean loss.

    .. math::
        a_{t+1} = a_t - \eta\,\frac{1}{N}\sum_i \ell'(\hat y_i - y_i)\,x_i, \qquad
        b_{t+1} = b_t - \eta\,\frac{1}{N}\sum_i \ell'(\hat y_i - y_i)

    Parameters
    ----------
    x, y : array_like, shape (..., N)
        Inputs and labels; leading axes are a batch of independent fits.
    loss_grad : callable
        A companion derivative such as :func:`~companion.losses.l1_loss_grad`, called with
        ``reduction="none"`` and ``**loss_kwargs``.
    lr, steps, init : float, int, (float, float)
        Step size, number of steps and starting ``(slope, intercept)``.

    Returns
    -------
    LineFit
        Paths of shape ``(steps + 1, ...)``; a diverging fit holds ``inf``/``nan`` silently.

    Examples
    --------
    >>> x = np.array([0.0, 1.0, 2.0])
    >>> fit = fit_line(x, 3 * x + 1, lambda p, t, reduction: 2 * (p - t), lr=0.2, steps=500)
    >>> round(float(fit.slope), 6), round(float(fit.intercept), 6)
    (3.0, 1.0)
    """
    _check_schedule(lr, steps)
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.shape != y.shape:
        raise ValueError(f"x and y must have the same shape, got {x.shape} and {y.shape}")
    a = np.full(y.shape[:-1], float(init[0]))
    b = np.full(y.shape[:-1], float(init[1]))
    slopes, intercepts = [a], [b]
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(steps):
            g = _mean_grad(loss_grad, a[..., None] * x + b[..., None], y, **loss_kwargs)
            a, b = a - lr * (g * x).sum(axis=-1), b - lr * g.sum(axis=-1)
            slopes.append(a)
            intercepts.append(b)
    return LineFit(np.stack(slopes), np.stack(intercepts))


def mse_lr_limit(x: Any) -> np.ndarray:
    r"""Largest stable learning rate of :func:`fit_line` on the mean squared error.

    The mean squared error of a line is a quadratic in :math:`(a, b)` with the constant Hessian
    :math:`H = 2M`, :math:`M = \begin{pmatrix} \overline{x^2} & \bar x \\ \bar x & 1
    \end{pmatrix}`, whatever the targets. Full-batch gradient descent multiplies the distance to
    the minimum along the top eigenvector by :math:`1 - 2\eta\lambda_{\max}(M)` at every step, so
    it converges exactly when

    .. math:: \eta < \frac{1}{\lambda_{\max}(M)}.

    Parameters
    ----------
    x : array_like, shape (..., N)
        Inputs; leading axes are a batch of datasets.

    Returns
    -------
    numpy.ndarray, shape (...)
        :math:`1/\lambda_{\max}(M)` for each dataset.

    Examples
    --------
    >>> print(mse_lr_limit(np.array([-1.0, 1.0])))
    1.0
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 0 or x.shape[-1] == 0:
        raise ValueError(f"x must have at least one point on its last axis, got shape {x.shape}")
    mean_x, mean_x2 = x.mean(axis=-1), (x * x).mean(axis=-1)
    top_row = np.stack([mean_x2, mean_x], axis=-1)
    bottom_row = np.stack([mean_x, np.ones_like(mean_x)], axis=-1)
    m = np.stack([top_row, bottom_row], axis=-2)
    return 1.0 / np.linalg.eigvalsh(m)[..., -1]
