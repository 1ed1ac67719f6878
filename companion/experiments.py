r"""Experiments behind chapters 5 and 6: robust line fits, choosing beta, the noise x loss grid.

Every experiment fits the line :math:`\hat y = a x + b` to seeded data from
:func:`companion.data.make_line_data` (or :func:`lognormal_line_data`), many seeds at once, and
scores each fit by :func:`line_error`, its distance from the true line. Chapter 5's fits run
gradient descent (:func:`companion.fitting.fit_line`). Chapter 6 compares what the losses
*estimate*, so it computes each loss's minimiser exactly (:func:`minimise_line`): least absolute
deviations by :func:`lad_line`, Smooth L1 and Huber by :func:`huber_line`, and the redescending
Tukey and Student-t losses by reweighting from the L1 line (:func:`redescending_line`).
Plotting functions need matplotlib; :func:`robust_fit_widget` needs ipywidgets.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np

from companion import (
    huber_loss_grad,
    l1_loss,
    l1_loss_grad,
    mse_loss,
    mse_loss_grad,
    smooth_l1_loss_grad,
)
from companion._checks import check_count, check_seeds
from companion._extras import missing_extra
from companion.data import make_line_data
from companion.fitting import LineFit, LossGrad, _weighted_least_squares, fit_line

#: Slope of the true line in every experiment.
TRUE_SLOPE = 2.0
#: Intercept of the true line in every experiment.
TRUE_INTERCEPT = 1.0
#: Scale of the noise. It is the standard deviation of Gaussian noise, the scale ``b`` of
#: Laplace noise (standard deviation :math:`\sqrt2\,b`), the factor in front of Student's t.
NOISE_SCALE = 0.5
#: How far up the outliers are moved.
OUTLIER_SHIFT = 20.0

# make_line_data's arguments for the experiments' true line, noise scale and outliers.
_TRUE_LINE_DATA: dict[str, float] = {
    "slope": TRUE_SLOPE,
    "intercept": TRUE_INTERCEPT,
    "scale": NOISE_SCALE,
    "outlier_shift": OUTLIER_SHIFT,
}

#: Noise settings of chapter 6's grid, each a name and keyword arguments of ``make_line_data``.
NOISE_SETTINGS: dict[str, dict[str, Any]] = {
    "Gaussian": {"noise": "gaussian"},
    "Laplace": {"noise": "laplace"},
    "Student t, 2 dof": {"noise": "student_t"},
    "10% outliers": {"noise": "gaussian", "outlier_fraction": 0.1},
}

# A loss for the fits: (derivative from companion, its keyword arguments).
LossSpec = tuple[LossGrad, dict[str, Any]]

#: The losses of chapter 6's grid.
#:
#: :meta hide-value:
GRID_LOSSES: dict[str, LossSpec] = {
    "L1": (l1_loss_grad, {}),
    "MSE": (mse_loss_grad, {}),
    "Smooth L1": (smooth_l1_loss_grad, {"beta": 1.0}),
}

_TINY_RESIDUAL = 1e-300  # stands in for a zero residual in loss'(r) / r


def line_error(slope: Any, intercept: Any, true_slope: float, true_intercept: float) -> np.ndarray:
    r"""RMS vertical gap between a fitted and the true line over :math:`x\sim\mathcal U(-2,2)`.

    .. math::
        \sqrt{\mathbb E_x\big[((a-a^\star)x + (b-b^\star))^2\big]}
        = \sqrt{\tfrac43 (a-a^\star)^2 + (b-b^\star)^2}

    It is in the units of ``y``, and it is the typical error of the fitted line's predictions
    over the range of :func:`companion.data.make_line_data`'s inputs. A diverged fit gets a
    huge or infinite error (``nan`` for ``nan`` parameters), without a warning.

    Examples
    --------
    >>> float(line_error(2.0, 1.5, true_slope=2.0, true_intercept=1.0))
    0.5
    """
    da = np.asarray(slope, dtype=np.float64) - true_slope
    db = np.asarray(intercept, dtype=np.float64) - true_intercept
    # hypot: no overflow before the inputs do
    return cast(np.ndarray, np.hypot(np.sqrt(4.0 / 3.0) * da, db))


def seeded_line_data(
    seeds: Sequence[int], n: int = 100, **data_kwargs: Any
) -> tuple[np.ndarray, np.ndarray]:
    """Stack :func:`~companion.data.make_line_data` over ``seeds`` into ``(len(seeds), n)`` arrays.

    ``data_kwargs`` go to ``make_line_data`` (the true line, noise kind and scale, outliers).
    """
    pairs = [make_line_data(n, seed=s, **data_kwargs) for s in check_seeds(seeds)]
    return np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs])


def _line_data(x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    """``x`` and ``y`` as float64 arrays of one shape whose rows have two distinct inputs."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.shape != y.shape or x.ndim == 0:
        raise ValueError(f"x and y must have the same shape (..., N), got {x.shape} and {y.shape}")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise ValueError("x and y must be finite")
    if x.shape[-1] < 2 or not (np.ptp(x, axis=-1) > 0).all():
        raise ValueError("every data set needs at least two distinct inputs x to fit a line")
    return x, y


def _rows(x: Any, y: Any) -> tuple[np.ndarray, np.ndarray, tuple[int, ...]]:
    """Checked data (:func:`_line_data`) as ``(rows, N)`` arrays, and the batch shape."""
    x, y = _line_data(x, y)
    batch, n = x.shape[:-1], x.shape[-1]
    return x.reshape(-1, n), y.reshape(-1, n), batch


def _row_path(
    slopes: list[np.ndarray], intercepts: list[np.ndarray], batch: tuple[int, ...]
) -> LineFit:
    """The iterates of a fit over rows (:func:`_rows`), with the batch shape back."""
    shape = (len(slopes), *batch)
    return LineFit(np.stack(slopes).reshape(shape), np.stack(intercepts).reshape(shape))


def _move_rows(
    fit: tuple[np.ndarray, np.ndarray, list[np.ndarray], list[np.ndarray]],
    active: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    tol: float,
) -> np.ndarray:
    """Move the ``active`` rows' lines to ``(a, b)`` and record the step in ``fit``, the
    lines and their paths; return the rows that moved by more than ``tol * (1 + |a| + |b|)``."""
    slope, intercept, slopes, intercepts = fit
    step = np.maximum(np.abs(a - slope[active]), np.abs(b - intercept[active]))
    slope[active], intercept[active] = a, b
    slopes.append(slope.copy())
    intercepts.append(intercept.copy())
    moving: np.ndarray = active[step > tol * (1.0 + np.abs(a) + np.abs(b))]
    return moving


def _weighted_median(values: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the lowest weighted median of ``values`` and its index."""
    order = np.argsort(values, axis=-1)
    cumulative = np.cumsum(np.take_along_axis(weights, order, axis=-1), axis=-1)
    position = (cumulative < 0.5 * cumulative[..., -1:]).sum(axis=-1, keepdims=True)
    index = np.take_along_axis(order, position, axis=-1)
    return np.take_along_axis(values, index, axis=-1)[..., 0], index[..., 0]


def lad_line(x: Any, y: Any, *, max_iter: int = 100) -> LineFit:
    r"""The least-absolute-deviations line: the exact minimiser of the mean L1 loss.

    Wesolowsky's direct descent (1981). The best line through a data point
    :math:`(x_k, y_k)` has the slope that minimises
    :math:`\sum_j |x_j - x_k|\,\big|\tfrac{y_j - y_k}{x_j - x_k} - a\big|`, a weighted median
    of the slopes to the other points, and it passes through a second point :math:`j`. The
    next step pivots on :math:`j`; the loss never rises, and when the pivot returns to the
    previous one the line is optimal along every line through either of its two points, hence
    (the loss being convex and linear between those lines) optimal. Starts from the point with
    the smallest least-squares residual; every batch row is fitted at once.

    Parameters
    ----------
    x, y : array_like, shape (..., N)
        Inputs and targets; leading axes are a batch of independent fits.
    max_iter : int
        Most pivot steps; a few are typical.

    Returns
    -------
    LineFit
        The lines visited, the first being least squares; ``slope`` and ``intercept`` are the
        minimiser (where the minimisers form a segment, one end of it).

    Raises
    ------
    ValueError
        If ``x`` and ``y`` differ in shape, are not finite, or a row has fewer than two
        distinct inputs.
    RuntimeError
        If the pivots have not settled after ``max_iter`` steps.

    Examples
    --------
    >>> x = np.array([0.0, 1.0, 2.0, 3.0, 4.0])
    >>> fit = lad_line(x, np.array([1.0, 3.0, 5.0, 7.0, 30.0]))  # 2x + 1, one outlier
    >>> round(float(fit.slope), 9), round(float(fit.intercept), 9)
    (2.0, 1.0)
    """
    x, y, batch = _rows(x, y)
    slope, intercept = _weighted_least_squares(x, y, np.ones_like(y))
    slopes, intercepts = [slope.copy()], [intercept.copy()]
    pivot = np.abs(slope[:, None] * x + intercept[:, None] - y).argmin(axis=-1)
    previous = np.full_like(pivot, -1)
    active = np.arange(len(slope))  # rows whose pivot still moves
    for _ in range(max_iter):
        xa, ya = x[active], y[active]
        x_k = np.take_along_axis(xa, pivot[:, None], axis=-1)
        y_k = np.take_along_axis(ya, pivot[:, None], axis=-1)
        dx = xa - x_k
        weight = np.abs(dx)
        ratio = np.divide(ya - y_k, dx, out=np.zeros_like(dx), where=weight > 0)
        slope[active], through = _weighted_median(ratio, weight)
        intercept[active] = y_k[:, 0] - slope[active] * x_k[:, 0]
        slopes.append(slope.copy())
        intercepts.append(intercept.copy())
        moving = through != previous  # back at the previous pivot: the same line again
        active, previous, pivot = active[moving], pivot[moving], through[moving]
        if active.size == 0:
            return _row_path(slopes, intercepts, batch)
    raise RuntimeError(f"lad_line did not settle within max_iter={max_iter} pivot steps")


def irls_line(
    x: Any,
    y: Any,
    loss_grad: LossGrad,
    *,
    tol: float = 1e-10,
    max_iter: int = 10_000,
    **loss_kwargs: Any,
) -> LineFit:
    r"""Minimise the mean loss of a line by iteratively reweighted least squares.

    Each step solves a weighted least-squares problem with the weights of the current
    residuals :math:`r_i = a x_i + b - y_i`,

    .. math:: w_i = \frac{\ell'(r_i)}{r_i},

    taken from the companion derivative ``loss_grad``: 2 for MSE, :math:`\min(1/\beta,
    1/|r_i|)` for Smooth L1, :math:`\min(1, \delta/|r_i|)` for Huber. When
    :math:`\ell'(r)/r` does not grow with :math:`|r|` (true for these three), the weighted
    squares lie above the loss and touch it at the current line, so every step lowers the
    loss (a majorise-minimise step) and the iterates converge to the minimiser (Holland and
    Welsch, 1977). L1's weights :math:`1/|r_i|` are unbounded: use :func:`lad_line`.

    Parameters
    ----------
    x, y : array_like, shape (..., N)
        Inputs and targets; leading axes are a batch of independent fits.
    loss_grad : callable
        A companion derivative such as
        :func:`~companion.losses.regression.smooth_l1_loss_grad`, called
        with ``reduction="none"`` and ``**loss_kwargs``.
    tol : float
        Stop once no slope or intercept moves by more than ``tol * (1 + |a| + |b|)``.
    max_iter : int
        Most steps.

    Returns
    -------
    LineFit
        The path of the iterates, starting at least squares.

    Raises
    ------
    ValueError
        If ``x`` and ``y`` differ in shape, are not finite, or a row has fewer than two
        distinct inputs.
    RuntimeError
        If the iterates have not settled after ``max_iter`` steps.

    Examples
    --------
    >>> x = np.array([0.0, 1.0, 2.0, 3.0, 4.0])
    >>> fit = irls_line(x, np.array([1.0, 3.0, 5.0, 7.0, 30.0]), huber_loss_grad, delta=1.0)
    >>> round(float(fit.slope), 3), round(float(fit.intercept), 3)
    (2.5, 0.5)
    """
    x, y = _line_data(x, y)
    slope, intercept = _weighted_least_squares(x, y, np.ones_like(y))
    slopes, intercepts = [slope], [intercept]
    for _ in range(max_iter):
        residual = slope[..., None] * x + intercept[..., None] - y
        residual = np.where(residual == 0.0, _TINY_RESIDUAL, residual)
        psi = np.asarray(
            loss_grad(residual, np.zeros_like(residual), reduction="none", **loss_kwargs)
        )
        new_slope, new_intercept = _weighted_least_squares(x, y, psi / residual)
        step = np.maximum(np.abs(new_slope - slope), np.abs(new_intercept - intercept))
        slope, intercept = new_slope, new_intercept
        slopes.append(slope)
        intercepts.append(intercept)
        if (step <= tol * (1.0 + np.abs(slope) + np.abs(intercept))).all():
            return LineFit(np.stack(slopes), np.stack(intercepts))
    raise RuntimeError(f"irls_line did not converge within max_iter={max_iter} steps")


def _huber_total(x: np.ndarray, y: np.ndarray, a: np.ndarray, b: np.ndarray, delta: float) -> Any:
    r"""Summed Huber loss of the lines ``(a, b)`` on rows of ``(rows, N)`` data.

    The formula of :func:`~companion.losses.regression.huber_loss`, :math:`q(|r| - q/2)` with
    :math:`q = \min(|r|, \delta)`, written with ``clip``, which NumPy runs several times
    faster than ``minimum`` on large arrays (the tests check that the two agree).
    """
    size = np.abs(a[:, None] * x + b[:, None] - y)
    inner = np.clip(size, 0.0, delta)
    return (inner * (size - 0.5 * inner)).sum(axis=-1)


def _huber_step(
    x: np.ndarray,
    y: np.ndarray,
    slope: np.ndarray,
    intercept: np.ndarray,
    loss: np.ndarray,
    delta: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One step of :func:`huber_line` on rows of ``(rows, N)`` data: the new lines and loss.

    The Newton step where it is defined and does not raise the loss, else the IRLS step.
    """
    residual = slope[:, None] * x + intercept[:, None] - y
    psi = np.clip(residual, -delta, delta)  # Huber's derivative
    inside = (psi == residual).astype(np.float64)
    # Newton: sum_inside (a x + b - y) (x, 1) + sum_outside psi (x, 1) = 0.
    target = inside * y - (1.0 - inside) * psi
    s0, s1, s2 = inside.sum(-1), (inside * x).sum(-1), (inside * x * x).sum(-1)
    t0, t1 = target.sum(-1), (target * x).sum(-1)
    det = s0 * s2 - s1 * s1
    solvable = det > 1e-9 * np.maximum(s0 * s2, np.finfo(np.float64).tiny)
    safe = np.where(solvable, det, 1.0)
    a = np.where(solvable, (s0 * t1 - s1 * t0) / safe, slope)
    b = np.where(solvable, (s2 * t0 - s1 * t1) / safe, intercept)
    new_loss = _huber_total(x, y, a, b, delta)
    reject = ~(solvable & (new_loss <= loss))
    if reject.any():  # IRLS step: weights min(1, delta / |r|); it never raises the loss
        size = np.clip(np.abs(residual[reject]), _TINY_RESIDUAL, None)
        weight = np.clip(delta / size, None, 1.0)
        a[reject], b[reject] = _weighted_least_squares(x[reject], y[reject], weight)
        new_loss[reject] = _huber_total(x[reject], y[reject], a[reject], b[reject], delta)
    return a, b, new_loss


def huber_line(x: Any, y: Any, delta: float = 1.0, *, max_iter: int = 1000) -> LineFit:
    r"""The line that minimises the mean Huber loss, and so Smooth L1 with ``beta = delta``.

    The loss is quadratic for residuals :math:`r_i = a x_i + b - y_i` inside
    :math:`(-\delta, \delta)` and linear outside, so once it is known which points are inside,
    the minimiser is a least-squares fit to the inside points in which every outside point
    pulls with the constant force :math:`\delta\,\mathrm{sign}(r_i)` (a Newton step). Each
    iteration takes the Newton step where it does not raise the loss, and otherwise the
    reweighted least-squares step of :func:`irls_line`, which always lowers it. Once
    the inside points no longer change, the Newton step lands on the minimiser, exactly up to
    rounding; this takes a few steps where :func:`irls_line` may need hundreds.

    Parameters
    ----------
    x, y : array_like, shape (..., N)
        Inputs and targets; leading axes are a batch of independent fits.
    delta : float
        Huber's :math:`\delta` (Smooth L1's :math:`\beta`), > 0.
    max_iter : int
        Most steps.

    Returns
    -------
    LineFit
        The path of the iterates, starting at least squares.

    Raises
    ------
    ValueError
        If ``delta`` is not positive, ``x`` and ``y`` differ in shape, are not finite, or a
        row has fewer than two distinct inputs.
    RuntimeError
        If the iterates have not settled after ``max_iter`` steps.

    Examples
    --------
    >>> x = np.array([0.0, 1.0, 2.0, 3.0, 4.0])
    >>> fit = huber_line(x, np.array([1.0, 3.0, 5.0, 7.0, 30.0]), delta=1.0)
    >>> round(float(fit.slope), 9), round(float(fit.intercept), 9)
    (2.5, 0.5)
    """
    if not delta > 0:
        raise ValueError(f"delta must be > 0, got {delta!r}")
    x, y, batch = _rows(x, y)
    slope, intercept = _weighted_least_squares(x, y, np.ones_like(y))
    loss = _huber_total(x, y, slope, intercept, delta)
    fit = slope, intercept, [slope.copy()], [intercept.copy()]
    active = np.arange(len(slope))  # rows still moving; settled rows are left alone
    for _ in range(max_iter):
        a, b, loss[active] = _huber_step(
            x[active], y[active], slope[active], intercept[active], loss[active], delta
        )
        active = _move_rows(fit, active, a, b, tol=1e-12)
        if active.size == 0:
            return _row_path(fit[2], fit[3], batch)
    raise RuntimeError(f"huber_line did not converge within max_iter={max_iter} steps")


def minimise_line(x: Any, y: Any, loss_grad: LossGrad, **loss_kwargs: Any) -> LineFit:
    """The line that minimises the mean loss exactly, each loss by the fastest exact method.

    :func:`lad_line` for L1 (and Smooth L1 with ``beta=0``), :func:`huber_line` for Smooth L1
    and Huber, :func:`irls_line` for any other loss (MSE needs a single step).

    Examples
    --------
    >>> x = np.array([0.0, 1.0, 2.0, 3.0, 4.0])
    >>> fit = minimise_line(x, 3 * x - 1, mse_loss_grad)
    >>> round(float(fit.slope), 9), round(float(fit.intercept), 9)
    (3.0, -1.0)
    """
    if loss_grad is l1_loss_grad:
        return lad_line(x, y)
    if loss_grad is smooth_l1_loss_grad:
        beta = loss_kwargs.get("beta", 1.0)
        return lad_line(x, y) if beta == 0.0 else huber_line(x, y, delta=beta)
    if loss_grad is huber_loss_grad:
        return huber_line(x, y, delta=loss_kwargs.get("delta", 1.0))
    return irls_line(x, y, loss_grad, **loss_kwargs)


def fit_losses(
    x: Any,
    y: Any,
    losses: Mapping[str, LossSpec],
    *,
    lr: float = 0.1,
    steps: int = 1000,
    exact: bool = False,
) -> dict[str, LineFit]:
    """Fit one line per loss to the same data.

    Parameters
    ----------
    x, y : array_like, shape (..., N)
        The data; leading axes are a batch of independent data sets (for example seeds).
    losses : mapping
        Name -> ``(loss_grad, loss_kwargs)``, such as :data:`GRID_LOSSES`.
    lr, steps : float, int
        Step size and number of steps of :func:`~companion.fitting.fit_line`'s gradient
        descent, the same for every loss.
    exact : bool
        Compute each loss's minimiser with :func:`minimise_line` instead (``lr`` and
        ``steps`` are then unused).

    Returns
    -------
    dict
        Name -> :class:`~companion.fitting.LineFit`, in the order of ``losses``.
    """
    if exact:
        return {name: minimise_line(x, y, grad, **kw) for name, (grad, kw) in losses.items()}
    return {
        name: fit_line(x, y, grad, lr=lr, steps=steps, **kwargs)
        for name, (grad, kwargs) in losses.items()
    }


def standard_error(values: Any, axis: int = -1) -> np.ndarray:
    r"""Standard error of the mean along ``axis``: :math:`s / \sqrt{S}`, ``s`` with ``ddof=1``.

    Examples
    --------
    >>> float(standard_error([1.0, 2.0, 3.0, 4.0]))
    0.6454972243679028
    """
    values = np.asarray(values, dtype=np.float64)
    count = values.shape[axis]
    if count < 2:
        raise ValueError(f"a standard error needs at least two values, got {count}")
    return np.asarray(np.std(values, axis=axis, ddof=1) / math.sqrt(count))


def mean_ratio(a: Any, b: Any, axis: int = -1) -> tuple[np.ndarray, np.ndarray]:
    r"""Ratio of two means of paired samples and its standard error (delta method).

    With :math:`R = \bar a / \bar b` over :math:`S` pairs :math:`(a_s, b_s)` (for example two
    losses' errors on the same seeds), the error of :math:`R` is to first order that of
    :math:`\overline{(a - R b)} / \bar b`, whose standard error is

    .. math:: \mathrm{se}(R) = \frac{\operatorname{sd}(a_s - R\,b_s)}{\bar b\,\sqrt{S}}.

    Pairing matters: errors that rise and fall together on a seed make the ratio much surer
    than either mean.

    Examples
    --------
    >>> r, se = mean_ratio([2.0, 4.0, 6.0], [1.0, 2.0, 3.0])
    >>> float(r), float(se)
    (2.0, 0.0)
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"a and b must be paired (same shape), got {a.shape} and {b.shape}")
    b_bar = b.mean(axis=axis)
    ratio = a.mean(axis=axis) / b_bar
    linearised = a - np.expand_dims(ratio, axis) * b
    return ratio, standard_error(linearised, axis=axis) / np.abs(b_bar)


def huber_location(y: Any, delta: float = 1.0, axis: int = -1) -> np.ndarray:
    r"""Huber's M-estimate of location: the constant that minimises Huber (or Smooth L1).

    The constant :math:`T` minimising :math:`\sum_i \mathrm{Huber}_\delta(T - y_i)`, and so
    :math:`\sum_i \mathrm{SmoothL1}_{\beta=\delta}(T - y_i)`, solves

    .. math:: \sum_i \operatorname{clip}(y_i - T, -\delta, \delta) = 0,

    a "clipped mean": the mean when every :math:`|y_i - T| \le \delta`, the median as
    :math:`\delta \to 0`, and in general neither, nor always between them. The sum falls as
    :math:`T` rises, so :math:`T` is found by bisection between the smallest and largest
    :math:`y_i`, to :math:`10^{-15}` of their range (where the minimisers form an interval,
    a point of it).

    Parameters
    ----------
    y : array_like
        Values; the estimate is taken along ``axis``, other axes are a batch.
    delta : float
        The threshold :math:`\delta` (Smooth L1's :math:`\beta`), > 0.

    Examples
    --------
    >>> round(float(huber_location([1.0, 2.0, 3.5], delta=10.0)), 12)  # all inside: the mean
    2.166666666667
    >>> round(float(huber_location([-15.74, -0.15, 0.5, 2.07, 2.67], delta=1.0)), 6)
    0.675
    """
    if not delta > 0:
        raise ValueError(f"delta must be > 0, got {delta!r}")
    y = np.moveaxis(np.asarray(y, dtype=np.float64), axis, -1)
    if y.ndim == 0 or y.shape[-1] == 0 or not np.isfinite(y).all():
        raise ValueError("y must hold at least one finite value along axis, and no nan or inf")
    low, high = y.min(axis=-1), y.max(axis=-1)
    tolerance = 1e-15 * np.maximum(high - low, np.finfo(np.float64).tiny)
    for _ in range(200):  # each step halves the bracket; about 50 reach the tolerance
        if (high - low <= tolerance).all():
            break
        middle = 0.5 * (low + high)
        pull = -huber_loss_grad(
            np.broadcast_to(middle[..., None], y.shape), y, reduction="none", delta=delta
        ).sum(axis=-1)  # sum of clip(y_i - T, -delta, delta) at T = middle
        low = np.where(pull > 0, middle, low)
        high = np.where(pull > 0, high, middle)
    return np.asarray(0.5 * (low + high))


@dataclass(frozen=True)
class GridResult:
    """Chapter 6's grid: ``errors[i, j, s]`` is the :func:`line_error` of loss ``j`` on noise
    ``i`` and seed ``s``; ``slopes`` and ``intercepts`` are the fitted lines, same shape."""

    noises: tuple[str, ...]
    losses: tuple[str, ...]
    errors: np.ndarray
    slopes: np.ndarray
    intercepts: np.ndarray

    def mean(self) -> np.ndarray:
        """Mean error over seeds, shape ``(len(noises), len(losses))``."""
        return cast(np.ndarray, self.errors.mean(axis=-1))

    def standard_error(self) -> np.ndarray:
        """Standard error of :meth:`mean` over seeds, same shape."""
        return standard_error(self.errors)

    def summary(self, digits: int = 3) -> list[list[str]]:
        """``"mean ± standard error"`` for every noise (rows) and loss (columns)."""
        return [
            [f"{m:.{digits}f} ± {s:.{digits}f}" for m, s in zip(row_m, row_s, strict=True)]
            for row_m, row_s in zip(self.mean(), self.standard_error(), strict=True)
        ]


def noise_grid_data(
    seeds: Sequence[int],
    *,
    n: int = 100,
    noises: Mapping[str, Mapping[str, Any]] = NOISE_SETTINGS,
) -> tuple[np.ndarray, np.ndarray]:
    """The data of :func:`noise_loss_grid`: ``x``, ``y`` of shape ``(len(noises), len(seeds), n)``.

    :func:`~companion.data.make_line_data` with slope :data:`TRUE_SLOPE`, intercept
    :data:`TRUE_INTERCEPT`, noise scale :data:`NOISE_SCALE` and outliers shifted by
    :data:`OUTLIER_SHIFT`, plus each setting's keyword arguments; the same seed gives the same
    inputs in every setting.
    """
    data = [seeded_line_data(seeds, n, **{**_TRUE_LINE_DATA, **kw}) for kw in noises.values()]
    return np.stack([d[0] for d in data]), np.stack([d[1] for d in data])


def noise_loss_grid(
    seeds: Sequence[int] = tuple(range(400)),
    *,
    n: int = 100,
    noises: Mapping[str, Mapping[str, Any]] = NOISE_SETTINGS,
    losses: Mapping[str, LossSpec] = GRID_LOSSES,
) -> GridResult:
    r"""Fit every loss to every noise over ``seeds``; score each fit by :func:`line_error`.

    The data are :func:`noise_grid_data`'s. Each fit is the loss's exact minimiser
    (:func:`minimise_line`), all noise settings and seeds in one batch per loss.
    """
    x, y = noise_grid_data(seeds, n=n, noises=noises)
    fits = fit_losses(x, y, losses, exact=True)
    slopes = np.stack([f.slope for f in fits.values()], axis=1)
    intercepts = np.stack([f.intercept for f in fits.values()], axis=1)
    errors = line_error(slopes, intercepts, TRUE_SLOPE, TRUE_INTERCEPT)
    return GridResult(tuple(noises), tuple(losses), errors, slopes, intercepts)


def plot_grid(
    result: GridResult,
    axes: Sequence[Any],
    theory: Mapping[tuple[str, str], float] | None = None,
    *,
    log_scale: Sequence[str] = (),
) -> Sequence[Any]:
    """One panel per noise: each loss's mean error with a 95% interval (±1.96 standard errors).

    ``axes`` holds one axes per noise, stacked; every panel has its own error axis, starting
    at 0, or on a log scale for the noises named in ``log_scale`` (for errors that differ by
    orders of magnitude). ``theory`` maps ``(noise, loss)`` to a predicted mean error, drawn as
    an open diamond; the figure then gets one legend, above the panels.
    """
    try:
        from matplotlib.ticker import MaxNLocator
    except ModuleNotFoundError as error:
        raise missing_extra(error, "plot", f"{__name__}.plot_grid") from error
    from companion.plotting import label, plain_log_axis

    unknown = set(log_scale) - set(result.noises)
    if unknown:
        raise ValueError(f"log_scale names noises not in the grid: {sorted(unknown)}")

    if len(axes) != len(result.noises):
        raise ValueError(f"need one axes per noise ({len(result.noises)}), got {len(axes)}")
    theory = theory or {}
    mean, half_width = result.mean(), 1.96 * result.standard_error()
    rows = np.arange(len(result.losses))
    for i, (ax, noise) in enumerate(zip(axes, result.noises, strict=True)):
        ax.errorbar(
            mean[i], rows, xerr=half_width[i], fmt="o", color="C0", capsize=4, label="measured"
        )
        shown = [
            (j, theory[noise, loss])
            for j, loss in enumerate(result.losses)
            if (noise, loss) in theory
        ]
        if shown:
            ax.plot(
                [value for _, value in shown],
                [j for j, _ in shown],
                "D",
                mfc="none",
                mec="C3",
                ms=10,
                mew=1.5,
                label="theory (large N)",
            )
        right = max([float((mean[i] + half_width[i]).max())] + [v for _, v in shown])
        ax.set_yticks(rows, result.losses)
        ax.set_ylim(len(rows) - 0.5, -0.5)
        if noise in log_scale:
            left = min([float((mean[i] - half_width[i]).min())] + [v for _, v in shown])
            plain_log_axis(ax, "x", _log_ticks(0.7 * left, 1.4 * right))
            ax.set_xlim(0.7 * left, 1.4 * right)
        else:
            ax.set_xlim(0, 1.1 * right)
            ax.xaxis.set_major_locator(MaxNLocator(5))
        label(ax, noise, "mean line error" if i == len(axes) - 1 else "", "")
    if theory:
        handles, labels = axes[0].get_legend_handles_labels()
        axes[0].figure.legend(handles, labels, loc="outside upper center", ncols=len(labels))
    return axes


def _log_ticks(low: float, high: float) -> list[float]:
    """The values 1, 2 and 5 times a power of ten between ``low`` and ``high`` (both > 0)."""
    decades = range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1)
    candidates = (m * 10.0**d for d in decades for m in (1, 2, 5))
    return [round(t, 12) for t in candidates if low <= t <= high]


def plot_outlier_sweep(result: GridResult, shares: Sequence[float], ax: Any) -> Any:
    """Mean line error against the share of outliers, one line per loss, with 95% bands.

    ``result`` is a :func:`noise_loss_grid` whose noise settings are ``shares`` in order.
    A dashed line marks :data:`OUTLIER_SHIFT` times the share, how far the outliers move the
    mean of the noise.
    """
    try:
        from matplotlib.ticker import FixedLocator, NullLocator
    except ModuleNotFoundError as error:
        raise missing_extra(error, "plot", f"{__name__}.plot_outlier_sweep") from error
    from companion.plotting import label

    if len(shares) != len(result.noises):
        raise ValueError(f"need one share per noise setting ({len(result.noises)})")
    share = np.asarray(shares, dtype=np.float64)
    mean, half_width = result.mean(), 1.96 * result.standard_error()
    for j, loss in enumerate(result.losses):
        (line,) = ax.plot(100 * share, mean[:, j], "o-", label=loss)
        ax.fill_between(
            100 * share,
            mean[:, j] - half_width[:, j],
            mean[:, j] + half_width[:, j],
            color=line.get_color(),
            alpha=0.25,
        )
    moved = share > 0
    ax.plot(
        100 * share[moved],
        OUTLIER_SHIFT * share[moved],
        "k--",
        lw=1.2,
        label="shift of the mean",
    )
    ax.set_yscale("log")
    ax.set_ylim(0.01, 15.0)  # room for the legend below the lines
    ax.yaxis.set_major_locator(FixedLocator([0.01, 0.03, 0.1, 0.3, 1, 3, 10]))
    ax.yaxis.set_major_formatter("{x:g}")
    ax.yaxis.set_minor_locator(NullLocator())
    label(
        ax,
        "Line error against the share of outliers",
        "outliers (% of points, moved up by 20)",
        "mean line error",
    )
    ax.legend(loc="lower right", ncols=2, frameon=True, facecolor="white")
    return ax


def prediction_errors(slope: Any, intercept: Any, x: Any, y: Any) -> dict[str, np.ndarray]:
    """Mean absolute error and root-mean-square error of lines on data, per batch row.

    ``slope`` and ``intercept`` have the batch shape of ``x`` and ``y`` without their last
    axis. Computed with the companion's :func:`~companion.losses.regression.l1_loss` and
    :func:`~companion.losses.regression.mse_loss`, element-wise, averaged over the last
    axis.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    prediction = np.asarray(slope)[..., None] * x + np.asarray(intercept)[..., None]
    return {
        "MAE": np.asarray(l1_loss(prediction, y, reduction="none")).mean(axis=-1),
        "RMSE": np.sqrt(np.asarray(mse_loss(prediction, y, reduction="none")).mean(axis=-1)),
    }


@dataclass(frozen=True)
class BetaSelection:
    """Candidate fits scored on held-out data, per seed (see :func:`select_beta`).

    ``valid[m]`` and ``test[m]`` (``m`` in ``"MAE"``, ``"RMSE"``) and ``line_errors`` have
    shape ``(len(betas), len(seeds))``; they score the fits to the training data.
    ``refit_test`` and ``refit_line_errors``, same shapes, score the fits to the training and
    validation data together, the refit that usually follows a choice.
    """

    betas: tuple[float, ...]
    valid: dict[str, np.ndarray]
    test: dict[str, np.ndarray]
    line_errors: np.ndarray
    refit_test: dict[str, np.ndarray]
    refit_line_errors: np.ndarray

    def chosen(self, metric: str) -> np.ndarray:
        """Per seed, the index into ``betas`` of the candidate with the lowest validation
        ``metric``."""
        return np.asarray(self.valid[metric].argmin(axis=0))

    def take(self, values: np.ndarray, index: Any) -> np.ndarray:
        """Per seed, the entry of ``values`` (shape ``(len(betas), seeds)``) at ``index``.

        ``index`` holds one candidate per seed, such as :meth:`chosen`'s, or one candidate
        for every seed.
        """
        index = np.broadcast_to(np.asarray(index), values.shape[1:])
        return np.asarray(np.take_along_axis(values, index[None], axis=0)[0])


def select_beta(
    betas: Sequence[float],
    seeds: Sequence[int],
    *,
    n_train: int = 100,
    n_valid: int = 100,
    n_test: int = 1000,
    **data_kwargs: Any,
) -> BetaSelection:
    r"""Fit Smooth L1 for each candidate :math:`\beta` on training data; score on held-out data.

    Each seed draws ``n_train + n_valid + n_test`` points of
    :func:`~companion.data.make_line_data` (the true line, :data:`NOISE_SCALE`,
    :data:`OUTLIER_SHIFT`, and ``data_kwargs`` such as ``outlier_fraction``), and splits them
    in that order into training, validation and test sets (the points are independent and the
    outliers are placed at random, so this is a random split, and a training set holds about,
    not exactly, the data's share of outliers). ``beta = 0`` stands for L1 and ``beta = inf``
    for MSE; every fit is the exact minimiser (:func:`minimise_line`). Each candidate is also
    refitted on the training and validation points together and scored on the test points.
    """
    if not betas or any(not b >= 0 for b in betas):
        raise ValueError(f"betas must be a non-empty list of values >= 0 (inf allowed): {betas!r}")
    n_all = n_train + n_valid + n_test
    x, y = seeded_line_data(seeds, n_all, **{**_TRUE_LINE_DATA, **data_kwargs})
    parts = {
        "train": slice(0, n_train),
        "valid": slice(n_train, n_train + n_valid),
        "test": slice(n_train + n_valid, None),
    }

    def fit_all(rows: slice) -> list[LineFit]:
        return [
            minimise_line(x[:, rows], y[:, rows], mse_loss_grad)
            if math.isinf(beta)
            else minimise_line(x[:, rows], y[:, rows], smooth_l1_loss_grad, beta=float(beta))
            for beta in betas
        ]

    def score(fits: list[LineFit], rows: slice) -> dict[str, np.ndarray]:
        per_fit = [prediction_errors(f.slope, f.intercept, x[:, rows], y[:, rows]) for f in fits]
        return {m: np.stack([p[m] for p in per_fit]) for m in ("MAE", "RMSE")}

    def errors(fits: list[LineFit]) -> np.ndarray:
        return np.stack(
            [line_error(f.slope, f.intercept, TRUE_SLOPE, TRUE_INTERCEPT) for f in fits]
        )

    fits = fit_all(parts["train"])
    refits = fit_all(slice(0, n_train + n_valid))
    return BetaSelection(
        betas=tuple(float(b) for b in betas),
        valid=score(fits, parts["valid"]),
        test=score(fits, parts["test"]),
        line_errors=errors(fits),
        refit_test=score(refits, parts["test"]),
        refit_line_errors=errors(refits),
    )


def huber_gaussian_efficiency(k: float) -> float:
    r"""Asymptotic efficiency, relative to the mean, of Huber's location estimate on Gaussian noise.

    With the cut-off :math:`\delta = k\sigma`, :math:`\psi(u) = \mathrm{clip}(u, -k, k)` and
    :math:`u \sim \mathcal N(0, 1)` (Huber, 1964), the estimate's variance is
    :math:`\mathbb E[\psi^2] / \mathbb E[\psi']^2` times that of the mean, so

    .. math::
        \mathrm{eff}(k) = \frac{(2\Phi(k)-1)^2}{2\Phi(k) - 1 - 2k\varphi(k) + 2k^2(1-\Phi(k))}

    Examples
    --------
    >>> round(huber_gaussian_efficiency(1.345), 3)
    0.95
    """
    if not k > 0:
        raise ValueError(f"k must be > 0, got {k!r}")
    inside = math.erf(k / math.sqrt(2.0))  # 2 Phi(k) - 1
    density = math.exp(-(k**2) / 2.0) / math.sqrt(2.0 * math.pi)
    second_moment = inside - 2.0 * k * density + k**2 * (1.0 - inside)
    return inside**2 / second_moment


def beta_sweep(
    beta_over_sigma: Sequence[float],
    seeds: Sequence[int] = tuple(range(50)),
    *,
    n: int = 100,
    sigma: float = NOISE_SCALE,
    outlier_fractions: Sequence[float] = (0.0,),
    lr: float = 0.5,
    steps: int = 400,
) -> np.ndarray:
    r"""Line errors of Smooth L1 fits with :math:`\beta = r\sigma` for each ratio ``r``.

    The data are Gaussian noise of scale ``sigma`` around the true line, with a share of the
    points (each of ``outlier_fractions`` in turn) shifted up by :data:`OUTLIER_SHIFT`; the same
    seed gives the same inputs and noise for every share. The fits minimise Huber with
    :math:`\delta=\beta`: since :math:`\mathrm{Huber}_\delta = \delta\,
    \mathrm{SmoothL1}_{\beta=\delta}`, it has the same minimiser as Smooth L1, and gradient
    descent on it with step ``lr`` is gradient descent on Smooth L1 with step
    :math:`\mathrm{lr}\cdot\beta`, a step that suits every :math:`\beta`.

    Returns
    -------
    numpy.ndarray, shape (len(outlier_fractions), len(beta_over_sigma), len(seeds))
    """
    data = [
        seeded_line_data(
            seeds,
            n,
            slope=TRUE_SLOPE,
            intercept=TRUE_INTERCEPT,
            scale=sigma,
            outlier_fraction=fraction,
            outlier_shift=OUTLIER_SHIFT,
        )
        for fraction in outlier_fractions
    ]
    x = np.stack([d[0] for d in data])
    y = np.stack([d[1] for d in data])
    errors = []
    for ratio in beta_over_sigma:
        fit = fit_line(x, y, huber_loss_grad, lr=lr, steps=steps, delta=float(ratio) * sigma)
        errors.append(line_error(fit.slope, fit.intercept, TRUE_SLOPE, TRUE_INTERCEPT))
    return np.stack(errors, axis=1)


def robust_fit_losses(beta: float) -> dict[str, LossSpec]:
    """L1, MSE and Smooth L1 with the given ``beta``: the losses of the interactive view."""
    return {
        "L1": (l1_loss_grad, {}),
        "MSE": (mse_loss_grad, {}),
        f"Smooth L1 (beta={beta:g})": (smooth_l1_loss_grad, {"beta": float(beta)}),
    }


def draw_robust_fits(
    outlier_fraction: float = 0.1, beta: float = 1.0, *, seed: int = 0, n: int = 100, ax: Any = None
) -> Any:
    """Fit L1, MSE and Smooth L1 (``beta``) to one seeded data set and draw the data and lines.

    The data are those of :func:`noise_loss_grid`'s Gaussian setting with ``outlier_fraction``
    of the points shifted up by :data:`OUTLIER_SHIFT`; each line is the loss's exact minimiser.
    Returns the axes (a new figure's when ``ax`` is None).
    """
    from companion.plotting import label, new_figure

    if not beta > 0:
        raise ValueError(f"beta must be > 0 for this view, got {beta!r}")
    if ax is None:
        _, ax = new_figure(width=6.0, height=4.0)
    x, y = make_line_data(
        n,
        slope=TRUE_SLOPE,
        intercept=TRUE_INTERCEPT,
        scale=NOISE_SCALE,
        outlier_fraction=outlier_fraction,
        outlier_shift=OUTLIER_SHIFT,
        seed=seed,
    )
    grid = np.linspace(-2.0, 2.0, 2)
    ax.scatter(x, y, s=10, color="0.5", label="data")
    ax.plot(grid, TRUE_SLOPE * grid + TRUE_INTERCEPT, "k--", label="true line")
    fits = fit_losses(x, y, robust_fit_losses(beta), exact=True)
    for name, fit in fits.items():
        error = float(line_error(fit.slope, fit.intercept, TRUE_SLOPE, TRUE_INTERCEPT))
        ax.plot(grid, fit.slope * grid + fit.intercept, label=f"{name}: error {error:.2f}")
    label(ax, f"Line fits with {outlier_fraction:.0%} outliers", "x", "y", legend=True)
    return ax


def robust_fit_widget() -> Any:
    """Sliders for the outlier fraction and beta that re-fit and redraw :func:`draw_robust_fits`.

    Returns an :class:`ipywidgets.interactive`; it needs a live Jupyter kernel (for example in
    Binder) to respond, and ipywidgets installed (``pip install
    "loss-functions-companion[widgets]"``).
    """
    try:
        import ipywidgets as widgets
        import matplotlib.pyplot as plt
    except ModuleNotFoundError as error:
        raise missing_extra(error, "widgets", f"{__name__}.robust_fit_widget") from error

    def redraw(outlier_fraction: float, beta: float) -> None:
        draw_robust_fits(outlier_fraction, beta)
        plt.show()

    return widgets.interactive(
        redraw,
        outlier_fraction=widgets.FloatSlider(
            value=0.1, min=0.0, max=0.4, step=0.05, description="outliers"
        ),
        beta=widgets.FloatLogSlider(
            value=1.0, base=10, min=-1, max=1, step=0.1, description="beta"
        ),
    )


#: :math:`1/\Phi^{-1}(3/4)`: times the median absolute deviation, it estimates a Gaussian's
#: :math:`\sigma`.
MAD_TO_SIGMA = 1.482602218505602


def robust_scale(residual: Any, axis: int = -1) -> np.ndarray:
    r"""The normalised median absolute deviation: a scale estimate that outliers barely move.

    .. math:: \hat\sigma = 1.4826\,\operatorname{median}_i \big|r_i - \operatorname{median}(r)\big|

    The factor :math:`1/\Phi^{-1}(3/4)` makes :math:`\hat\sigma` estimate :math:`\sigma` for
    Gaussian residuals; almost half of the residuals can be moved arbitrarily far without
    carrying it away. The same as ``scipy.stats.median_abs_deviation(residual,
    scale="normal")``.

    Examples
    --------
    >>> round(float(robust_scale([1.0, 2.0, 3.0, 4.0, 100.0])), 4)
    1.4826
    """
    r = np.moveaxis(np.asarray(residual, dtype=np.float64), axis, -1)
    if r.ndim == 0 or r.shape[-1] == 0 or not np.isfinite(r).all():
        raise ValueError("residual must hold at least one finite value along axis, no nan or inf")
    centre = np.median(r, axis=-1, keepdims=True)
    return np.asarray(MAD_TO_SIGMA * np.median(np.abs(r - centre), axis=-1))


def tukey_weights(residual: Any, c: Any) -> np.ndarray:
    r"""Reweighting weights :math:`\psi(r)/r` of Tukey's biweight loss with cut-off ``c``.

    .. math::
        \rho(r) = \frac{c^2}{6}\Big(1 - \big(1 - (r/c)^2\big)^3\Big), \qquad
        \psi(r) = r\,\big(1 - (r/c)^2\big)^2

    for :math:`|r| < c`, and :math:`\rho = c^2/6`, :math:`\psi = 0` beyond (Beaton and Tukey,
    1974). The loss is bounded and :math:`\psi` *redescends*: a residual beyond :math:`c` has
    no pull at all. ``c`` broadcasts against ``residual`` and must be > 0.

    Examples
    --------
    >>> tukey_weights(np.array([0.0, 0.5, 2.0]), 1.0).tolist()
    [1.0, 0.5625, 0.0]
    """
    r = np.asarray(residual, dtype=np.float64)
    c = np.asarray(c, dtype=np.float64)
    if not (c > 0).all():
        raise ValueError("the cut-off c must be > 0")
    u = r / c
    return np.asarray(np.where(np.abs(u) < 1.0, (1.0 - u * u) ** 2, 0.0))


def student_t_weights(residual: Any, scale: Any, dof: float) -> np.ndarray:
    r"""Reweighting weights of the Student-t negative log-likelihood (scale s, dof :math:`\nu`).

    .. math::
        \rho(r) = \frac{\nu + 1}{2}\log\Big(1 + \frac{r^2}{\nu s^2}\Big), \qquad
        \psi(r) = \frac{(\nu + 1)\, r}{\nu s^2 + r^2}

    :math:`\psi` rises to its peak at :math:`|r| = s\sqrt\nu` and then falls like :math:`1/r`:
    far residuals keep only a vanishing pull. The weights are :math:`s^2\psi(r)/r =
    (\nu + 1)/(\nu + (r/s)^2)` (a constant factor does not change a weighted fit); ``dof = 1``
    is the Cauchy loss.

    Examples
    --------
    >>> student_t_weights(np.array([0.0, 1.0, 3.0]), 1.0, dof=2.0).tolist()
    [1.5, 1.0, 0.2727272727272727]
    """
    r = np.asarray(residual, dtype=np.float64)
    s = np.asarray(scale, dtype=np.float64)
    if not (s > 0).all() or not dof > 0:
        raise ValueError(f"scale and dof must be > 0, got dof={dof!r}")
    return np.asarray((dof + 1.0) / (dof + (r / s) ** 2))


def redescending_line(
    x: Any,
    y: Any,
    loss: str = "tukey",
    *,
    c: float = 4.685,
    dof: float = 2.0,
    tol: float = 1e-6,
    max_iter: int = 500,
) -> LineFit:
    r"""A line fitted with a redescending loss by reweighted least squares, started from L1.

    Tukey's biweight (:func:`tukey_weights`, cut-off :math:`c\hat\sigma`) or the Student-t
    negative log-likelihood (:func:`student_t_weights`, scale :math:`\hat\sigma`, ``dof``
    degrees of freedom). These losses are not convex, so the fit depends on where it starts:
    it starts at the least-absolute-deviations line (:func:`lad_line`), whose residuals give
    the scale :math:`\hat\sigma` (:func:`robust_scale`), held fixed. Each step then solves a
    weighted least-squares problem with the weights of the current residuals; since the
    weights do not grow with :math:`|r|`, no step raises the loss (a majorise-minimise step),
    and the iterates settle in a local minimum near the start. ``c = 4.685`` gives Tukey's
    loss 95% efficiency on Gaussian noise. A data set whose L1 line passes through more than
    half of its points has :math:`\hat\sigma = 0` and keeps that line.

    Parameters
    ----------
    x, y : array_like, shape (..., N)
        Inputs and targets; leading axes are a batch of independent fits.
    loss : {"tukey", "student_t"}
        The redescending loss.
    c, dof : float
        Tukey's cut-off in units of :math:`\hat\sigma`; the Student-t degrees of freedom.
    tol : float
        Stop once no slope or intercept moves by more than ``tol * (1 + |a| + |b|)``.
    max_iter : int
        Most steps.

    Returns
    -------
    LineFit
        The path of the iterates, starting at the L1 line.

    Raises
    ------
    ValueError
        For an unknown ``loss``, a non-positive ``c`` or ``dof``, or data that
        :func:`lad_line` refuses.
    RuntimeError
        If the iterates have not settled after ``max_iter`` steps.

    Examples
    --------
    >>> x = np.linspace(-2.0, 2.0, 9)
    >>> y = 2 * x + 1 + np.array([0.1, -0.1, 0.2, 0.0, -0.2, 0.1, -0.1, 0.0, 30.0])
    >>> fit = redescending_line(x, y)  # the point 30 up gets weight 0
    >>> round(float(fit.slope), 3), round(float(fit.intercept), 3)
    (1.972, 0.994)
    """
    if loss not in ("tukey", "student_t"):
        raise ValueError(f"loss must be 'tukey' or 'student_t', got {loss!r}")
    if not (c > 0 and dof > 0):
        raise ValueError(f"c and dof must be > 0, got c={c!r}, dof={dof!r}")
    x, y, batch = _rows(x, y)
    start = lad_line(x, y)
    slope, intercept = start.slope.copy(), start.intercept.copy()
    scale = robust_scale(slope[:, None] * x + intercept[:, None] - y)[:, None]
    fit = slope, intercept, [slope.copy()], [intercept.copy()]
    active = np.flatnonzero(scale[:, 0] > 0)  # rows still moving
    for _ in range(max_iter):
        if active.size == 0:
            return _row_path(fit[2], fit[3], batch)
        xa, ya = x[active], y[active]
        residual = slope[active, None] * xa + intercept[active, None] - ya
        weight = (
            tukey_weights(residual, c * scale[active])
            if loss == "tukey"
            else student_t_weights(residual, scale[active], dof)
        )
        a, b = _weighted_least_squares(xa, ya, weight)
        active = _move_rows(fit, active, a, b, tol)
    raise RuntimeError(f"redescending_line did not settle within max_iter={max_iter} steps")


def lognormal_line_data(
    seeds: Sequence[int], n: int = 100, *, sigma: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    r"""Line data with right-skewed, heavy-tailed noise of mean zero, one row per seed.

    .. math::
        y_i = 2 x_i + 1 + \big(e^{\sigma Z_i} - e^{\sigma^2/2}\big), \qquad
        x_i \sim \mathcal U(-2, 2),\; Z_i \sim \mathcal N(0, 1),

    lognormal noise shifted to mean zero, like claim sizes around their expected value: most
    fall a little below it, a few far above. The conditional mean of :math:`y` given :math:`x`
    is the line :math:`2x + 1`; the conditional median lies :math:`e^{\sigma^2/2} - 1` below it.
    Seed ``s`` draws its ``x`` and then its noise from ``numpy.random.default_rng(s)``.

    Returns
    -------
    x, y : numpy.ndarray
        Two ``float64`` arrays of shape ``(len(seeds), n)``.

    Examples
    --------
    >>> x, y = lognormal_line_data([0, 1], 5)
    >>> x.shape, bool((y - (2 * x + 1) > -np.exp(0.5)).all())
    ((2, 5), True)
    """
    seed_list = check_seeds(seeds)
    if not (n >= 1 and sigma > 0):
        raise ValueError(f"n must be >= 1 and sigma > 0, got n={n!r}, sigma={sigma!r}")
    rows = []
    for seed in seed_list:
        rng = np.random.default_rng(seed)
        x = rng.uniform(-2.0, 2.0, n)
        noise = np.exp(sigma * rng.standard_normal(n)) - math.exp(sigma**2 / 2.0)
        rows.append((x, TRUE_SLOPE * x + TRUE_INTERCEPT + noise))
    return np.stack([r[0] for r in rows]), np.stack([r[1] for r in rows])


def scaled_huber_line(x: Any, y: Any, k: float) -> LineFit:
    r"""Huber's line with :math:`\delta = k\hat\sigma`, :math:`\hat\sigma` estimated per data set.

    :math:`\hat\sigma` is the :func:`robust_scale` of the least-squares residuals, the recipe
    "fit MSE, look at the residuals, set the threshold in units of their scale". Since
    :math:`\mathrm{Huber}_{k\hat\sigma}(\hat\sigma r) = \hat\sigma^2\,\mathrm{Huber}_k(r)`, the
    line for :math:`y` is :math:`\hat\sigma` times the line for :math:`y/\hat\sigma` with
    :math:`\delta = k`, so every data set is fitted in one batch by :func:`huber_line`.

    Returns
    -------
    LineFit
        The path, in the units of ``y``, starting at least squares.

    Raises
    ------
    ValueError
        If ``k`` is not positive, the data are refused by :func:`huber_line`, or a data set's
        least-squares residuals have a robust scale of zero.
    """
    x, y = _line_data(x, y)
    slope, intercept = _weighted_least_squares(x, y, np.ones_like(y))
    scale = robust_scale(y - (slope[..., None] * x + intercept[..., None]))
    if not (scale > 0).all():
        raise ValueError("a data set's least-squares residuals have a robust scale of zero")
    fit = huber_line(x, y / scale[..., None], delta=k)
    return LineFit(fit.slopes * scale, fit.intercepts * scale)


def _clipped_gaussian_moments(
    mean: float, sigma: float, delta: float
) -> tuple[float, float, float]:
    r"""For :math:`e \sim \mathcal N(\mu, \sigma^2)` and :math:`\psi = \mathrm{clip}(\cdot, -\delta,
    \delta)`: :math:`\mathbb E\,\psi(e)`, :math:`\mathbb E\,\psi(e)^2` and
    :math:`P(|e| < \delta) = \mathbb E\,\psi'(e)`."""

    def cdf(z: float) -> float:
        return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))

    def pdf(z: float) -> float:
        return math.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)

    low, high = (-delta - mean) / sigma, (delta - mean) / sigma
    inside = cdf(high) - cdf(low)
    below, above = cdf(low), 1.0 - cdf(high)
    first = mean * inside + sigma * (pdf(low) - pdf(high)) + delta * (above - below)
    second = (
        mean**2 * inside
        + 2.0 * mean * sigma * (pdf(low) - pdf(high))
        + sigma**2 * (inside + low * pdf(low) - high * pdf(high))
        + delta**2 * (above + below)
    )
    return first, second, inside


def huber_line_theory(
    delta: float,
    *,
    sigma: float = NOISE_SCALE,
    outlier_fraction: float = 0.0,
    outlier_shift: float = OUTLIER_SHIFT,
    n: int = 100,
) -> tuple[float, float]:
    r"""Large-sample bias and RMS :func:`line_error` of Huber's line on :func:`seeded_line_data`.

    The residuals from the true line are :math:`e = \sigma u`, :math:`u \sim \mathcal N(0, 1)`,
    except for a share :math:`\varepsilon` of them lifted by :math:`s`. Huber's line (threshold
    :math:`\delta`, :math:`\psi = \mathrm{clip}(\cdot, -\delta, \delta)`) keeps the true slope
    and is lifted by the :math:`T` at which the pushes balance,

    .. math::
        (1 - \varepsilon)\,\mathbb E\,\psi(\sigma u - T)
        + \varepsilon\,\mathbb E\,\psi(s + \sigma u - T) = 0 .

    Around it the fit scatters with the M-estimator's variance
    :math:`\mathbb E\,\psi^2 / (\mathbb E\,\psi')^2` per point (Huber, 1964). With
    :math:`x \sim \mathcal U(-2, 2)` the slope's share of the squared line error is
    :math:`\mathbb E\,\psi^2 / (n\, (\mathbb E\,\psi')^2)`; the intercept's is the same with
    :math:`\mathbb E\,\psi^2` replaced by the variance *within* the clean and the lifted points,
    since :func:`~companion.data.make_line_data` lifts exactly :math:`\varepsilon n` of them.
    So the expected squared line error is

    .. math::
        T^2 + \frac{\mathbb E\,\psi^2 + \mathbb E\,\psi^2 - (1-\varepsilon)\,m_0^2
        - \varepsilon\, m_1^2}{n\,(\mathbb E\,\psi')^2},

    with :math:`m_0, m_1` the mean of :math:`\psi` over the clean and over the lifted points.
    Every expectation has a closed form for Gaussian noise.

    Returns
    -------
    bias, rms_error : float
        :math:`T`, and the square root of the expected squared line error.

    Examples
    --------
    >>> bias, error = huber_line_theory(1e6)  # least squares on clean data: 2 sigma^2 / n
    >>> abs(bias) < 1e-12, round(error, 6) == round(math.sqrt(2 * 0.5**2 / 100), 6)
    (True, True)
    """
    if not (delta > 0 and sigma > 0 and math.isfinite(delta) and math.isfinite(sigma)):
        raise ValueError(f"delta and sigma must be finite and > 0, got {delta!r} and {sigma!r}")
    if not 0.0 <= outlier_fraction < 1.0:
        raise ValueError(f"outlier_fraction must be in [0, 1), got {outlier_fraction!r}")
    check_count("n", n)
    shares = ((1.0 - outlier_fraction, 0.0), (outlier_fraction, float(outlier_shift)))

    def push(t: float) -> float:
        return sum(w * _clipped_gaussian_moments(s - t, sigma, delta)[0] for w, s in shares)

    low, high = min(0.0, outlier_shift) - delta, max(0.0, outlier_shift) + delta
    for _ in range(200):  # push falls as t rises: bisect to machine precision
        middle = 0.5 * (low + high)
        if middle in (low, high):
            break
        low, high = (middle, high) if push(middle) > 0 else (low, middle)
    bias = 0.5 * (low + high)
    moments = [(w, _clipped_gaussian_moments(s - bias, sigma, delta)) for w, s in shares]
    second = sum(w * m[1] for w, m in moments)
    slope_of_psi = sum(w * m[2] for w, m in moments)
    within = second - sum(w * m[0] ** 2 for w, m in moments)
    return bias, math.sqrt(bias**2 + (second + within) / (n * slope_of_psi**2))
