r"""A one-feature logistic classifier, its metric (accuracy) and its loss (binary cross-entropy).

The model scores a point :math:`x` with the logit :math:`z = w x + b` and predicts class 1 when
:math:`z > 0`, with probability :math:`\sigma(z) = 1 / (1 + e^{-z})`. The functions take the two
weights as arrays of any shape (a grid, a batch) and return one value per weight pair, which is
how the book draws accuracy and loss against a weight. NumPy only; the names and arguments of
:func:`binary_cross_entropy_with_logits` follow ``torch.nn.functional``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import numpy as np

from companion._checks import as_seeds, check_count

REDUCTIONS = ("none", "mean", "sum")


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
    return cast(np.ndarray, w[..., None] * x + b[..., None])


def sigmoid(z: Any) -> np.ndarray:
    r""":math:`\sigma(z) = 1/(1+e^{-z})`, computed without overflow for large :math:`|z|`.

    Examples
    --------
    >>> sigmoid([-800.0, 0.0, 800.0]).tolist()
    [0.0, 0.5, 1.0]
    """
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(-np.abs(z))
    return cast(np.ndarray, np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e)))


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
    return cast(np.ndarray, ((input > 0) == (target == 1)).mean(axis=-1))


def binary_cross_entropy_with_logits(
    input: Any, target: Any, reduction: str = "mean"
) -> np.ndarray:
    r"""Binary cross-entropy of labels given logits: the smooth loss trained in accuracy's place.

    .. math::
        \ell(z, y) = -\big[y \log \sigma(z) + (1-y)\log(1-\sigma(z))\big]
                   = \max(z, 0) - z y + \log\big(1 + e^{-|z|}\big)

    The second form never overflows. Same arguments as
    ``torch.nn.functional.binary_cross_entropy_with_logits`` (without weights).

    Parameters
    ----------
    input : array_like
        Logits :math:`z`.
    target : array_like
        Labels or probabilities :math:`y \in [0, 1]`, same shape as ``input``.
    reduction : {"mean", "sum", "none"}
        Mean or sum over all elements, or the per-element losses.

    Examples
    --------
    >>> round(float(binary_cross_entropy_with_logits([0.0, 2.0], [1.0, 0.0])), 4)
    1.41
    """
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")
    z = np.asarray(input, dtype=np.float64)
    y = np.asarray(target, dtype=np.float64)
    _same_shape(z, y)
    if not ((y >= 0) & (y <= 1)).all():
        raise ValueError("target must lie in [0, 1]")
    loss = np.maximum(z, 0.0) - z * y + np.log1p(np.exp(-np.abs(z)))
    if reduction == "mean":
        return cast(np.ndarray, loss.mean())
    if reduction == "sum":
        return cast(np.ndarray, loss.sum())
    return loss


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
    return cast(np.ndarray, (np.asarray(f(w + h)) - np.asarray(f(w - h))) / (2 * h))


@dataclass(frozen=True)
class LogisticFit:
    """A training run, one entry per epoch, the starting point included (epoch 0).

    Attributes
    ----------
    weights, biases : numpy.ndarray
        The path of :math:`w` and :math:`b`.
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
    x: Any, y: Any, *, init: tuple[float, float] = (0.0, 0.0), lr: float = 0.5, epochs: int = 50
) -> LogisticFit:
    r"""Full-batch gradient descent on the mean binary cross-entropy, reporting accuracy too.

    .. math:: (w, b) \leftarrow (w, b) - \eta\,\nabla_{w,b}\,\bar\ell

    with the gradient of :func:`logistic_loss_grad`; one epoch is one step over all points.

    Examples
    --------
    >>> fit = fit_logistic([-2.0, -1.0, 1.0, 2.0], [0.0, 0.0, 1.0, 1.0], epochs=20)
    >>> float(fit.accuracy[0]), float(fit.accuracy[-1])
    (0.5, 1.0)
    """
    if not lr > 0:
        raise ValueError(f"lr must be > 0, got {lr!r}")
    check_count("epochs", epochs, 0)
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    _same_shape(x, y)
    _check_labels(y)
    w, b = (float(v) for v in init)
    path = [(w, b)]
    for _ in range(epochs):
        dw, db = logistic_loss_grad(w, b, x, y)
        w, b = w - lr * float(dw), b - lr * float(db)
        path.append((w, b))
    weights, biases = np.array(path).T
    z = logits(weights, biases, x)
    target = np.broadcast_to(y, z.shape)
    loss = binary_cross_entropy_with_logits(z, target, reduction="none").mean(axis=-1)
    return LogisticFit(weights, biases, loss, accuracy(z, target))


def random_search(
    x: Any,
    y: Any,
    *,
    init: tuple[float, float] = (0.0, 0.0),
    step: float = 0.5,
    evaluations: int = 1000,
    seeds: int | Any = 1,
) -> np.ndarray:
    r"""Train on accuracy itself by random search; return the best accuracy after each try.

    Each try perturbs the current weights by :math:`\text{step}\cdot\mathcal N(0, I)` and keeps
    the perturbation when the accuracy does not drop (so the search can wander across the flat
    steps of the staircase). Only accuracy is ever evaluated: one evaluation per try. Several
    independent searches, one per seed, run side by side.

    Parameters
    ----------
    x, y : array_like, shape (N,)
        Features and 0/1 labels.
    init : (float, float)
        Starting :math:`(w, b)` of every search.
    step : float
        Standard deviation of a proposal.
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
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    _same_shape(x, y)
    _check_labels(y)
    proposals = step * np.stack(
        [np.random.default_rng(int(seed)).standard_normal((evaluations, 2)) for seed in seeds],
        axis=1,
    )
    current = np.tile(np.asarray(init, dtype=np.float64), (seeds.size, 1))
    score = accuracy(
        logits(current[:, 0], current[:, 1], x), np.broadcast_to(y, (seeds.size, x.size))
    )
    history = [score]
    for proposal in proposals:
        tried = current + proposal
        tried_score = accuracy(
            logits(tried[:, 0], tried[:, 1], x), np.broadcast_to(y, (seeds.size, x.size))
        )
        keep = tried_score >= score
        current = np.where(keep[:, None], tried, current)
        score = np.where(keep, tried_score, score)
        history.append(score)
    return np.stack(history, axis=1)
