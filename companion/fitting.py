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

from companion._checks import check_count, check_schedule

LossGrad = Callable[..., Any]


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
        A companion derivative such as :func:`~companion.losses.regression.mse_loss_grad`,
        called with ``reduction="none"`` and ``**loss_kwargs`` (for example ``beta``).
    init, lr, steps : float, float, int
        Starting value, step size :math:`\eta` and number of steps.

    Returns
    -------
    numpy.ndarray, shape (steps + 1, ...)
        The whole path of :math:`c`, starting at ``init``. Once a step overflows the path holds
        ``inf`` or ``nan``; no warning is raised, check with :func:`numpy.isfinite`.
    """
    check_schedule(lr, steps)
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
        A companion derivative such as :func:`~companion.losses.regression.l1_loss_grad`,
        called with ``reduction="none"`` and ``**loss_kwargs``.
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
    check_schedule(lr, steps)
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


def fit_constant_adam(
    y: Any,
    loss_grad: LossGrad,
    *,
    init: float = 0.0,
    lr: float = 0.1,
    steps: int = 100,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
    **loss_kwargs: Any,
) -> np.ndarray:
    r"""Fit one constant prediction :math:`c` to the labels ``y`` with the Adam optimiser.

    Adam keeps running averages of the gradient :math:`g_t` of the mean loss (the *momentum*)
    and of its square,

    .. math::
        m_t = \beta_1 m_{t-1} + (1 - \beta_1)\, g_t, \qquad
        v_t = \beta_2 v_{t-1} + (1 - \beta_2)\, g_t^2,

    and steps by their bias-corrected ratio,

    .. math::
        c_t = c_{t-1}
              - \eta\, \frac{m_t / (1 - \beta_1^t)}{\sqrt{v_t / (1 - \beta_2^t)} + \epsilon},

    the update of ``torch.optim.Adam`` with its defaults (no weight decay, no AMSGrad), without
    importing PyTorch.

    Parameters
    ----------
    y : array_like, shape (..., N)
        Labels; leading axes are a batch of independent problems.
    loss_grad : callable
        A companion derivative such as
        :func:`~companion.losses.regression.l1_loss_grad`, called with ``reduction="none"``
        and ``**loss_kwargs``.
    init, lr, steps : float, float, int
        Starting value, learning rate :math:`\eta` and number of steps.
    betas, eps : (float, float), float
        :math:`(\beta_1, \beta_2)`, each in [0, 1), and :math:`\epsilon > 0`.

    Returns
    -------
    numpy.ndarray, shape (steps + 1, ...)
        The whole path of :math:`c`, starting at ``init``.

    Raises
    ------
    ValueError
        For a non-positive ``lr`` or ``eps``, a negative ``steps``, or a beta outside [0, 1).

    Examples
    --------
    >>> from companion import mse_loss_grad
    >>> path = fit_constant_adam([1.0, 3.0], mse_loss_grad, lr=0.1, steps=500)
    >>> round(float(path[-1]), 4)  # the mean
    2.0
    """
    check_schedule(lr, steps)
    beta1, beta2 = betas
    if not (0.0 <= beta1 < 1.0 and 0.0 <= beta2 < 1.0):
        raise ValueError(f"betas must both be in [0, 1), got {betas!r}")
    if not eps > 0:
        raise ValueError(f"eps must be > 0, got {eps!r}")
    y = np.asarray(y, dtype=np.float64)
    c = np.full(y.shape[:-1], float(init))
    m, v = np.zeros_like(c), np.zeros_like(c)
    path = [c]
    for t in range(1, steps + 1):
        pred = np.broadcast_to(c[..., None], y.shape)
        g = _mean_grad(loss_grad, pred, y, **loss_kwargs).sum(axis=-1)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        denom = np.sqrt(v) / np.sqrt(1 - beta2**t) + eps
        c = c - lr / (1 - beta1**t) * m / denom
        path.append(c)
    return np.stack(path)


def _weighted_least_squares(
    x: np.ndarray, y: np.ndarray, w: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Slope and intercept minimising :math:`\\sum_i w_i (a x_i + b - y_i)^2` for each row."""
    total = w.sum(axis=-1, keepdims=True)
    x_bar = (w * x).sum(axis=-1, keepdims=True) / total
    y_bar = (w * y).sum(axis=-1, keepdims=True) / total
    dx = x - x_bar
    slope = (w * dx * (y - y_bar)).sum(axis=-1) / (w * dx * dx).sum(axis=-1)
    return slope, y_bar[..., 0] - slope * x_bar[..., 0]


def huber_weights(residual: Any, delta: float) -> np.ndarray:
    r"""The weights with which Huber's loss counts each residual in least squares.

    .. math:: w(r) = \frac{\psi(r)}{r} = \min\!\left(1, \frac{\delta}{|r|}\right),
              \qquad \psi(r) = \mathrm{clip}(r, -\delta, \delta),

    with :math:`w(0) = 1`. A residual inside the band keeps its full weight; one outside it
    is down-weighted in proportion to its size, never to zero.

    Examples
    --------
    >>> huber_weights(np.array([0.0, 0.5, -2.0, 10.0]), delta=1.0).tolist()
    [1.0, 1.0, 0.5, 0.1]
    """
    if not delta > 0 or not np.isfinite(delta):
        raise ValueError(f"delta must be a finite number > 0, got {delta!r}")
    size = np.abs(np.asarray(residual, dtype=np.float64))
    with np.errstate(divide="ignore"):
        return np.minimum(1.0, delta / size)


def fit_line_irls(x: Any, y: Any, delta: float, *, steps: int = 50) -> LineFit:
    r"""Fit :math:`\hat y = a x + b` with Huber's loss by iteratively reweighted least squares.

    Huber's estimate solves :math:`\sum_i \psi(r_i)\,(x_i, 1) = 0` with
    :math:`r_i = a x_i + b - y_i`. Writing :math:`\psi(r) = w(r)\, r`
    (:func:`huber_weights`) turns this into the normal equations of weighted least squares
    with weights that depend on the fit. IRLS starts from ordinary least squares and
    alternates: compute the weights of the current residuals, solve the weighted least
    squares problem

    .. math:: (a, b) \leftarrow \arg\min_{a, b} \sum_i w_i\, (a x_i + b - y_i)^2 .

    Each step lowers the Huber loss, whose minimiser it converges to (the loss is convex).

    Parameters
    ----------
    x, y : array_like, shape (..., N)
        Inputs and labels; leading axes are a batch of independent fits.
    delta : float
        Huber's threshold :math:`\delta`.
    steps : int
        Reweighting steps after the least-squares start.

    Returns
    -------
    LineFit
        The path, of shape ``(steps + 1, ...)``; ``slopes[0]`` is the least-squares fit.

    Examples
    --------
    >>> x = np.linspace(-1.0, 1.0, 11)
    >>> y = 3 * x + 1
    >>> y[0] += 100.0  # one gross outlier
    >>> fit = fit_line_irls(x, y, delta=0.5)
    >>> round(float(fit.slopes[0]), 2), round(float(fit.slope), 2)  # least squares, Huber
    (-19.73, 2.83)
    """
    check_count("steps", steps, minimum=0)
    huber_weights(np.zeros(1), delta)  # checks delta
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.shape != y.shape or x.ndim == 0 or x.shape[-1] < 2:
        raise ValueError(
            f"x and y must have the same shape with at least two points, got {x.shape} and "
            f"{y.shape}"
        )
    weights = np.ones_like(y)
    slopes, intercepts = [], []
    for _ in range(steps + 1):
        a, b = _weighted_least_squares(x, y, weights)
        slopes.append(a)
        intercepts.append(b)
        weights = huber_weights(a[..., None] * x + b[..., None] - y, delta)
    return LineFit(np.stack(slopes), np.stack(intercepts))


def fit_constant_sgd(
    y: Any,
    loss_grad: LossGrad,
    *,
    init: float = 0.0,
    lr: float = 0.1,
    steps: int = 100,
    batch_size: int = 10,
    seed: int = 0,
    **loss_kwargs: Any,
) -> np.ndarray:
    r"""Fit one constant prediction :math:`c` to the labels ``y`` by mini-batch SGD.

    .. math:: c_{t+1} = c_t - \eta\, \frac{1}{|B_t|}\sum_{i \in B_t} \ell'(c_t - y_i)

    Each epoch shuffles the :math:`N` labels and takes one step per batch :math:`B_t` of
    ``batch_size`` consecutive labels of the shuffle (an epoch's last batch may be smaller),
    as a training loop with a shuffling data loader does. With ``batch_size >= N`` every step
    uses all labels, which is :func:`fit_constant`.

    Parameters
    ----------
    y : array_like, shape (..., N)
        Labels; leading axes are a batch of independent problems, each shuffled on its own.
    loss_grad : callable
        A companion derivative such as :func:`~companion.losses.regression.l1_loss_grad`,
        called with ``reduction="none"`` and ``**loss_kwargs``.
    init, lr, steps : float, float, int
        Starting value, step size :math:`\eta` and number of steps.
    batch_size, seed : int, int
        Labels per step, and the seed of the shuffles (``numpy.random.default_rng``).

    Returns
    -------
    numpy.ndarray, shape (steps + 1, ...)
        The whole path of :math:`c`, starting at ``init``.

    Raises
    ------
    ValueError
        For a non-positive ``lr``, a negative ``steps``, a ``batch_size`` below 1, or
        labels with no entry on the last axis.

    Examples
    --------
    >>> from companion import mse_loss_grad
    >>> path = fit_constant_sgd([1.0, 2.0, 3.0, 6.0], mse_loss_grad, lr=0.1, steps=400,
    ...                         batch_size=2)
    >>> bool(abs(path[-100:].mean() - 3.0) < 0.3)  # wanders around the mean, 3
    True
    """
    check_schedule(lr, steps)
    check_count("batch_size", batch_size)
    y = np.asarray(y, dtype=np.float64)
    if y.ndim == 0 or y.shape[-1] == 0:
        raise ValueError(f"y must have at least one label on its last axis, got shape {y.shape}")
    n = y.shape[-1]
    rng = np.random.default_rng(seed)
    order = np.broadcast_to(np.arange(n), y.shape)
    c = np.full(y.shape[:-1], float(init))
    path = [c]
    with np.errstate(over="ignore", invalid="ignore"):
        while len(path) <= steps:
            shuffled = rng.permuted(order, axis=-1)
            for start in range(0, n, batch_size):
                if len(path) > steps:
                    break
                batch = np.take_along_axis(y, shuffled[..., start : start + batch_size], axis=-1)
                pred = np.broadcast_to(c[..., None], batch.shape)
                c = c - lr * _mean_grad(loss_grad, pred, batch, **loss_kwargs).sum(axis=-1)
                path.append(c)
    return np.stack(path)


def fit_line_sgd(
    x: Any,
    y: Any,
    loss_grad: LossGrad,
    *,
    lr: float = 0.1,
    batch_size: int = 10,
    epochs: int = 30,
    seed: int = 0,
    init: tuple[float, float] = (0.0, 0.0),
    **loss_kwargs: Any,
) -> LineFit:
    r"""Fit :math:`\hat y = a x + b` by mini-batch stochastic gradient descent on a mean loss.

    Every epoch shuffles the ``N`` points (one permutation from
    ``numpy.random.default_rng(seed)``, shared by all batch rows, so fits of different data
    see the same batches) and takes one step per mini-batch :math:`B` of ``batch_size`` points
    (an epoch's last batch may be smaller):

    .. math::
        a \leftarrow a - \eta\,\frac{1}{|B|}\sum_{i\in B} \ell'(\hat y_i - y_i)\,x_i, \qquad
        b \leftarrow b - \eta\,\frac{1}{|B|}\sum_{i\in B} \ell'(\hat y_i - y_i).

    For the squared error, :math:`\ell'(d) = 2d`, a step is
    :math:`\theta \leftarrow (I - 2\eta M_B)\,\theta + 2\eta\,\overline{(x_i, 1)\, y_i}^{\,B}`
    with :math:`M_B` the matrix of :func:`mse_lr_limit` over the batch: the targets enter only
    the added term, so whether the iterates blow up is decided by the inputs alone.

    Parameters
    ----------
    x, y : array_like, shape (..., N)
        Inputs and labels; leading axes are a batch of independent fits.
    loss_grad : callable
        A companion derivative, called with ``reduction="none"`` and ``**loss_kwargs``.
    lr, batch_size, epochs, seed, init
        Step size, points per step, passes over the data, seed of the shuffles and starting
        ``(slope, intercept)``.

    Returns
    -------
    LineFit
        Paths of shape ``(steps + 1, ...)`` with ``epochs * ceil(N / batch_size)`` steps; a
        diverging fit holds ``inf``/``nan`` silently.

    Examples
    --------
    >>> x = np.linspace(-1.0, 1.0, 20)
    >>> fit = fit_line_sgd(x, 3 * x + 1, lambda p, t, reduction: 2 * (p - t), lr=0.3)
    >>> fit.slopes.shape, round(float(fit.slope), 4), round(float(fit.intercept), 4)
    ((61,), 3.0, 1.0)
    """
    check_schedule(lr, epochs, "epochs")
    check_count("batch_size", batch_size)
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.shape != y.shape or x.ndim == 0 or x.shape[-1] == 0:
        raise ValueError(
            f"x and y must have the same shape with at least one point, got {x.shape} and {y.shape}"
        )
    rng = np.random.default_rng(seed)
    a = np.full(y.shape[:-1], float(init[0]))
    b = np.full(y.shape[:-1], float(init[1]))
    slopes, intercepts = [a], [b]
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(epochs):
            order = rng.permutation(y.shape[-1])
            for start in range(0, y.shape[-1], batch_size):
                batch = order[start : start + batch_size]
                xb, yb = x[..., batch], y[..., batch]
                g = _mean_grad(loss_grad, a[..., None] * xb + b[..., None], yb, **loss_kwargs)
                a, b = a - lr * (g * xb).sum(axis=-1), b - lr * g.sum(axis=-1)
                slopes.append(a)
                intercepts.append(b)
    return LineFit(np.stack(slopes), np.stack(intercepts))
