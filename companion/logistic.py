r"""A logistic classifier, its metric (accuracy) and its loss (binary cross-entropy).

The model scores a point :math:`x` with the logit :math:`z = w x + b` and predicts class 1 when
:math:`z > 0`, with probability :math:`\sigma(z) = 1 / (1 + e^{-z})`. For one feature,
:func:`logits` and :func:`logistic_loss_grad` take the two weights as arrays of any shape (a
grid, a batch) and return one value per weight pair, which is how the book draws accuracy and
loss against a weight. :func:`fit_logistic` and :func:`random_search` also take ``d`` features
per point (:math:`z = w^\top x + b`). NumPy only; the loss is the companion's
:func:`~companion.losses.classification.binary_cross_entropy_with_logits`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from companion._checks import as_seeds, check_count, check_schedule
from companion.losses.classification import binary_cross_entropy_with_logits


def _same_shape(input: np.ndarray, target: np.ndarray) -> None:
    if input.shape != target.shape:
        raise ValueError(
            f"input and target must have the same shape, got {input.shape} and {target.shape}"
        )


def _check_labels(y: np.ndarray) -> None:
    if not np.isin(y, (0.0, 1.0)).all():
        raise ValueError(f"labels must be 0 or 1, got values {np.unique(y)[:5]!r}")


def logits(w: Any, b: Any, x: Any) -> np.ndarray:
    r"""The logits :math:`z_i = w x_i + b` for every weight pair, shape ``(*shape(w, b), N)``.

    ``w`` and ``b`` broadcast against each other; ``x`` is a 1-D array of ``N`` features.

    Examples
    --------
    >>> logits([1.0, 2.0], 0.5, [0.0, 1.0]).tolist()
    [[0.5, 1.5], [0.5, 2.5]]
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"x must be 1-D, got shape {x.shape}")
    w, b = np.broadcast_arrays(np.asarray(w, dtype=np.float64), np.asarray(b, dtype=np.float64))
    z: np.ndarray = w[..., None] * x + b[..., None]
    return z


def sigmoid(z: Any) -> np.ndarray:
    r""":math:`\sigma(z) = 1/(1+e^{-z})`, computed without overflow for large :math:`|z|`.

    Examples
    --------
    >>> sigmoid([-800.0, 0.0, 800.0]).tolist()
    [0.0, 0.5, 1.0]
    """
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(-np.abs(z))
    s: np.ndarray = np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    return s


def accuracy(input: Any, target: Any) -> np.ndarray:
    r"""Share of correct hard predictions along the last axis: the metric.

    .. math:: \operatorname{acc}(z, y) = \frac{1}{N}\sum_{i=1}^N
              \mathbf 1\big[\,\mathbf 1[z_i > 0] = y_i\,\big]

    Parameters
    ----------
    input : array_like, shape (..., N)
        Logits; a point is predicted as class 1 when its logit is positive.
    target : array_like, shape (..., N)
        Labels, 0 or 1.

    Returns
    -------
    numpy.ndarray, shape (...)

    Examples
    --------
    >>> float(accuracy([-2.0, 0.5, 3.0, -0.1], [0.0, 1.0, 0.0, 0.0]))
    0.75
    """
    input = np.asarray(input, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    _same_shape(input, target)
    _check_labels(target)
    correct: np.ndarray = ((input > 0) == (target == 1)).mean(axis=-1)
    return correct


def logistic_loss_grad(w: Any, b: Any, x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    r"""Gradient of the mean binary cross-entropy with respect to the two weights.

    .. math::
        \frac{\partial \bar\ell}{\partial w} = \frac1N\sum_i (\sigma(z_i) - y_i)\,x_i, \qquad
        \frac{\partial \bar\ell}{\partial b} = \frac1N\sum_i (\sigma(z_i) - y_i)

    Returns
    -------
    dw, db : numpy.ndarray
        One value per weight pair, shape of ``w`` and ``b`` broadcast together.
    """
    z = logits(w, b, x)
    y = np.asarray(y, dtype=np.float64)
    _same_shape(np.asarray(x), y)
    residual = sigmoid(z) - y
    return (residual * np.asarray(x, dtype=np.float64)).mean(axis=-1), residual.mean(axis=-1)


def central_difference(f: Callable[[np.ndarray], Any], w: Any, h: float) -> np.ndarray:
    r"""The central finite difference :math:`\big(f(w+h) - f(w-h)\big) / 2h`, elementwise in ``w``.

    Examples
    --------
    >>> central_difference(lambda w: w**2, np.array([1.0, 3.0]), 1e-3).round(6).tolist()
    [2.0, 6.0]
    """
    if not h > 0:
        raise ValueError(f"h must be > 0, got {h!r}")
    w = np.asarray(w, dtype=np.float64)
    slope: np.ndarray = (np.asarray(f(w + h)) - np.asarray(f(w - h))) / (2 * h)
    return slope


def _features(x: Any) -> np.ndarray:
    """``x`` as a float64 design of shape ``(N, d)``: one feature per column."""
    design: np.ndarray = np.asarray(x, dtype=np.float64)
    if design.ndim == 1:
        return design[:, None]
    if design.ndim != 2:
        raise ValueError(f"x must have shape (N,) or (N, d), got {design.shape}")
    return design


def _start(init: Sequence[float] | None, features: int) -> np.ndarray:
    """The starting ``(w_1, ..., w_d, b)``: ``init``, or zeros."""
    if init is None:
        return np.zeros(features + 1)
    start = np.asarray(init, dtype=np.float64)
    if start.shape != (features + 1,):
        raise ValueError(
            f"init must hold {features + 1} numbers (w_1, ..., w_{features}, b), "
            f"got shape {start.shape}"
        )
    return start


def _problem(
    x: Any, y: Any, init: Sequence[float] | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The checked design ``(N, d)``, labels ``(N,)`` and starting parameters of a fit."""
    design = _features(x)
    labels = np.asarray(y, dtype=np.float64)
    _same_shape(design[:, 0], labels)
    _check_labels(labels)
    return design, labels, _start(init, design.shape[1])


def _scores(params: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Logits of every parameter vector ``(..., d + 1)`` (bias last) on ``x`` ``(N, d)``."""
    scores: np.ndarray = params[..., :-1] @ x.T + params[..., -1:]
    return scores


@dataclass(frozen=True)
class LogisticFit:
    """A training run, one entry per epoch, the starting point included (epoch 0).

    Attributes
    ----------
    weights : numpy.ndarray
        The path of the weights: shape ``(epochs + 1,)`` for one feature, ``(epochs + 1, d)``
        for ``d`` features.
    biases : numpy.ndarray
        The path of the bias :math:`b`, shape ``(epochs + 1,)``.
    loss : numpy.ndarray
        Mean binary cross-entropy (what is trained).
    accuracy : numpy.ndarray
        Accuracy (what is reported).
    """

    weights: np.ndarray
    biases: np.ndarray
    loss: np.ndarray
    accuracy: np.ndarray


def fit_logistic(
    x: Any,
    y: Any,
    *,
    init: Sequence[float] | None = None,
    lr: float = 0.5,
    epochs: int = 50,
) -> LogisticFit:
    r"""Full-batch gradient descent on the mean binary cross-entropy, reporting accuracy too.

    With the logits :math:`z_i = w^\top x_i + b`,

    .. math::
        (w, b) \leftarrow (w, b) - \eta\,\frac1N\sum_i \big(\sigma(z_i) - y_i\big)\,(x_i, 1);

    one epoch is one step over all points.

    Parameters
    ----------
    x : array_like, shape (N,) or (N, d)
        One feature, or ``d`` features per point.
    y : array_like, shape (N,)
        Labels, 0 or 1.
    init : sequence of float, optional
        Starting :math:`(w_1, \dots, w_d, b)`; zeros by default.
    lr : float
        Step size :math:`\eta`.
    epochs : int
        Number of steps.

    Examples
    --------
    >>> fit = fit_logistic([-2.0, -1.0, 1.0, 2.0], [0.0, 0.0, 1.0, 1.0], epochs=20)
    >>> float(fit.accuracy[0]), float(fit.accuracy[-1])
    (0.5, 1.0)
    """
    check_schedule(lr, epochs, "epochs")
    design, y, params = _problem(x, y, init)
    path = [params]
    for _ in range(epochs):
        residual = sigmoid(_scores(params, design)) - y
        grad = np.append(residual @ design, residual.sum()) / y.size
        params = params - lr * grad
        path.append(params)
    trajectory = np.array(path)
    z = _scores(trajectory, design)
    target = np.broadcast_to(y, z.shape)
    loss = binary_cross_entropy_with_logits(z, target, reduction="none").mean(axis=-1)
    weights = trajectory[:, :-1] if np.ndim(x) == 2 else trajectory[:, 0]
    return LogisticFit(weights, trajectory[:, -1], loss, accuracy(z, target))


def random_search(
    x: Any,
    y: Any,
    *,
    init: Sequence[float] | None = None,
    step: float = 0.5,
    evaluations: int = 1000,
    seeds: int | Any = 1,
) -> np.ndarray:
    r"""Train on accuracy itself by random search; return the best accuracy after each try.

    Each try perturbs the current :math:`(w, b)` by :math:`\text{step}\cdot\mathcal N(0, I)`
    and keeps the perturbation when the accuracy does not drop (so the search can wander across
    the flat steps of the staircase). Only accuracy is ever evaluated: one evaluation per try.
    Several independent searches, one per seed, run side by side.

    Parameters
    ----------
    x : array_like, shape (N,) or (N, d)
        One feature, or ``d`` features per point.
    y : array_like, shape (N,)
        Labels, 0 or 1.
    init : sequence of float, optional
        Starting :math:`(w_1, \dots, w_d, b)` of every search; zeros by default.
    step : float
        Standard deviation of a proposal, per coordinate.
    evaluations : int
        Tries per search.
    seeds : int or array_like of int
        Number of searches (seeds ``0 .. seeds-1``) or the seeds themselves; a search depends
        only on its own seed.

    Returns
    -------
    numpy.ndarray, shape (searches, evaluations + 1)
        Accuracy of the kept weights after each try, starting with ``init``'s.

    Examples
    --------
    >>> best = random_search([-2.0, -1.0, 1.0, 2.0], [0.0, 0.0, 1.0, 1.0], evaluations=50)
    >>> float(best[0, 0]), float(best[0, -1])
    (0.5, 1.0)
    """
    if not step > 0:
        raise ValueError(f"step must be > 0, got {step!r}")
    check_count("evaluations", evaluations, 0)
    seeds = as_seeds(seeds)
    design, y, params = _problem(x, y, init)
    proposals = step * np.stack(
        [
            np.random.default_rng(int(seed)).standard_normal((evaluations, params.size))
            for seed in seeds
        ],
        axis=1,
    )
    positive, features = y == 1, np.ascontiguousarray(design.T)

    def hits(params: np.ndarray) -> np.ndarray:
        """Accuracy of each row of ``params`` (labels checked once, above)."""
        correct: np.ndarray = ((params[:, :-1] @ features + params[:, -1:] > 0) == positive).mean(
            axis=-1
        )
        return correct

    current = np.tile(params, (seeds.size, 1))
    score = hits(current)
    history = [score]
    for proposal in proposals:
        tried = current + proposal
        tried_score = hits(tried)
        keep = tried_score >= score
        current = np.where(keep[:, None], tried, current)
        score = np.where(keep, tried_score, score)
        history.append(score)
    return np.stack(history, axis=1)
