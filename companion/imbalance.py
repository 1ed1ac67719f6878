r"""Class imbalance: the decisions a threshold makes, and the probability each loss aims at.

Chapter 9 compares plain, weighted and focal cross-entropy on a 1:100 problem. Two tools:

- :func:`decisions` counts a threshold's true and false positives for many runs at once and
  gives precision, recall, F1 and accuracy, equal to scikit-learn's metrics run by run;
- :func:`best_probability` finds the prediction that minimises a binary loss's expected
  value when the true probability of class 1 is :math:`\eta`: the probability a model
  trained with that loss aims at, wherever it can fit it;
- :func:`precision_recall_points` gives the precision-recall curve of one run, the points
  of :func:`sklearn.metrics.precision_recall_curve`, without importing scikit-learn (whose
  import costs a chapter about a second).

NumPy only (the losses are the companion's, on NumPy arrays).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from companion._checks import check_count
from companion._typing import ArrayLike


@dataclass(frozen=True)
class Decisions:
    """The confusion counts of a threshold's decisions, and the metrics made of them.

    Every attribute and metric has the shape of the runs (the leading axes of the scores
    given to :func:`decisions`).
    """

    true_positives: np.ndarray
    false_positives: np.ndarray
    false_negatives: np.ndarray
    true_negatives: np.ndarray

    @property
    def precision(self) -> np.ndarray:
        r""":math:`TP / (TP + FP)`, the share of predicted positives that are positive; 0 where
        nothing is predicted positive (scikit-learn's ``zero_division=0``)."""
        predicted = self.true_positives + self.false_positives
        return _ratio(self.true_positives, predicted, empty=0.0)

    @property
    def recall(self) -> np.ndarray:
        r""":math:`TP / (TP + FN)`, the share of the positives found; NaN without positives."""
        return _ratio(self.true_positives, self.true_positives + self.false_negatives)

    @property
    def f1(self) -> np.ndarray:
        r""":math:`2TP / (2TP + FP + FN)`, the harmonic mean of precision and recall (0 where
        both are 0)."""
        denominator = 2 * self.true_positives + self.false_positives + self.false_negatives
        return _ratio(2 * self.true_positives, denominator, empty=0.0)

    @property
    def accuracy(self) -> np.ndarray:
        """The share of right decisions."""
        right = self.true_positives + self.true_negatives
        return _ratio(right, right + self.false_positives + self.false_negatives)

    @property
    def predicted_positives(self) -> np.ndarray:
        """How many points are predicted positive, :math:`TP + FP`."""
        return np.asarray(self.true_positives + self.false_positives)


def decisions(y_true: ArrayLike, y_score: ArrayLike, threshold: ArrayLike = 0.0) -> Decisions:
    r"""Predict class 1 where ``y_score > threshold``, and count the outcomes run by run.

    On logits the default threshold 0 is the probability 1/2, the rule a classifier's
    ``predict`` applies. The metrics of the result equal scikit-learn's
    ``precision_score``, ``recall_score``, ``f1_score`` (with ``zero_division=0``) and
    ``accuracy_score`` of each run.

    Parameters
    ----------
    y_true : array_like of int or bool, shape (..., N)
        Labels 0 or 1 (1 is the positive class).
    y_score : array_like, shape (..., N)
        Scores (logits, probabilities...), shaped like ``y_true``.
    threshold : float or array_like
        One threshold, or one per run: an array of the runs' shape ``(...)``.

    Returns
    -------
    Decisions
        Counts of shape ``(...)``.

    Examples
    --------
    >>> d = decisions([[0, 1, 1, 0]], [[-1.0, 2.0, -0.5, 0.3]])
    >>> d.precision.tolist(), d.recall.tolist(), d.accuracy.tolist()
    ([0.5], [0.5], [0.5])
    >>> decisions([[0, 1, 1, 0]], [[-1.0, 2.0, -0.5, 0.3]], [1.0]).precision.tolist()
    [1.0]
    """
    labels, scores = np.asarray(y_true), np.asarray(y_score)
    if labels.dtype.kind not in "biuf" or scores.dtype.kind not in "iuf":
        raise TypeError(
            f"y_true and y_score must be real numbers, got dtypes {labels.dtype} and {scores.dtype}"
        )
    if labels.shape != scores.shape or labels.ndim == 0:
        raise ValueError(
            "y_true and y_score must have the same shape (..., N), got "
            f"{labels.shape} and {scores.shape}"
        )
    if not np.isin(labels, (0, 1)).all():
        raise ValueError("y_true must hold the labels 0 and 1")
    cut = np.asarray(threshold, dtype=np.float64)
    if cut.ndim and cut.shape != labels.shape[:-1]:
        raise ValueError(
            f"threshold must be one number or one per run, shape {labels.shape[:-1]}, "
            f"got shape {cut.shape}"
        )
    predicted = scores > cut[..., None]
    actual = labels.astype(bool)
    counts = [
        np.sum(predicted & actual, axis=-1),
        np.sum(predicted & ~actual, axis=-1),
        np.sum(~predicted & actual, axis=-1),
        np.sum(~predicted & ~actual, axis=-1),
    ]
    return Decisions(*counts)


def precision_recall_points(y_true: ArrayLike, y_score: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    r"""The precision and recall of "positive where the score is at least :math:`s`", for
    every distinct score :math:`s`, from the highest to the lowest.

    These are the points of :func:`sklearn.metrics.precision_recall_curve` (which lists
    them from the lowest threshold up and appends the point (recall 0, precision 1)); the
    average precision is :math:`\sum_n (R_n - R_{n-1}) P_n` over them
    (:func:`~companion.metrics.average_precision`). Draw them as a step function,
    ``ax.step(recall, precision, where="post")``.

    Parameters
    ----------
    y_true : array_like of int or bool, shape (N,)
        Labels 0 or 1, at least one of them 1.
    y_score : array_like, shape (N,)
        Scores of one run.

    Returns
    -------
    precision, recall : numpy.ndarray
        One value per distinct score, in order of decreasing score.

    Examples
    --------
    >>> precision, recall = precision_recall_points([0, 1, 1, 0], [0.1, 0.9, 0.4, 0.6])
    >>> precision.round(3).tolist(), recall.tolist()
    ([1.0, 0.5, 0.667, 0.5], [0.5, 0.5, 1.0, 1.0])
    """
    labels, scores = np.asarray(y_true), np.asarray(y_score, dtype=np.float64)
    if labels.ndim != 1 or labels.shape != scores.shape or labels.size == 0:
        raise ValueError(
            f"y_true and y_score must be 1-D arrays of the same length N > 0, got shapes "
            f"{labels.shape} and {scores.shape}"
        )
    if not np.isin(labels, (0, 1)).all() or not labels.any():
        raise ValueError("y_true must hold the labels 0 and 1, and at least one 1")
    if np.isnan(scores).any():
        raise ValueError("y_score must not hold NaN")
    order = np.argsort(-scores, kind="stable")
    ranked, hits = scores[order], labels[order].astype(np.float64)
    last = np.append(ranked[1:] != ranked[:-1], True)  # the end of each group of ties
    true_positives = np.cumsum(hits)[last]
    predicted = (np.arange(1, scores.size + 1))[last]
    precision: np.ndarray = true_positives / predicted
    recall: np.ndarray = true_positives / true_positives[-1]
    return precision, recall


def best_probability(
    loss: Callable[..., Any],
    eta: ArrayLike,
    *,
    logit_range: tuple[float, float] = (-30.0, 30.0),
    points: int = 2001,
    **loss_kwargs: Any,
) -> np.ndarray:
    r"""The probability a binary loss aims at when the true probability of class 1 is
    :math:`\eta`.

    A prediction with logit :math:`z` at a point where class 1 has probability :math:`\eta`
    costs, on average over the label,

    .. math:: R(z; \eta) = \eta\, \ell(z, 1) + (1 - \eta)\, \ell(z, 0),

    and a model that can give each point its own logit is pushed towards
    :math:`z^\star(\eta) = \arg\min_z R(z; \eta)`. This returns :math:`\sigma(z^\star)`,
    found on an even grid of ``points`` logits over ``logit_range`` and refined by the
    parabola through the best grid point and its two neighbours. For the cross-entropy it
    is :math:`\eta` itself (a proper scoring rule); with a ``pos_weight`` :math:`\rho` it is
    :math:`\rho\eta / (\rho\eta + 1 - \eta)`; the focal loss has no closed form.

    Parameters
    ----------
    loss : callable
        A binary loss on logits called as ``loss(z, t, reduction="none", **loss_kwargs)``
        with NumPy arrays, such as
        :func:`~companion.losses.classification.binary_cross_entropy_with_logits` or
        :func:`~companion.losses.classification.sigmoid_focal_loss`.
    eta : array_like
        True probabilities of class 1, in (0, 1). The answer is exact to the refinement
        only where :math:`z^\star` lies inside ``logit_range``.
    logit_range : (float, float)
        The logits searched.
    points : int
        The size of the grid, at least 3.
    **loss_kwargs
        Further arguments of ``loss`` (``pos_weight``, ``gamma``, ``alpha``...).

    Returns
    -------
    numpy.ndarray
        :math:`\sigma(z^\star(\eta))`, shaped like ``eta``.

    Examples
    --------
    >>> from companion import binary_cross_entropy_with_logits, sigmoid_focal_loss
    >>> eta = np.array([0.01, 0.3, 0.5])
    >>> best_probability(binary_cross_entropy_with_logits, eta).round(4).tolist()
    [0.01, 0.3, 0.5]
    >>> q = best_probability(sigmoid_focal_loss, eta, gamma=2.0, alpha=-1.0)
    >>> q.round(3).tolist()
    [0.154, 0.422, 0.5]
    """
    check_count("points", points, minimum=3)
    low, high = (float(v) for v in logit_range)
    if not (np.isfinite(low) and np.isfinite(high) and low < high):
        raise ValueError(f"logit_range must be two finite numbers, low < high, got {logit_range!r}")
    probabilities = np.asarray(eta, dtype=np.float64)
    if not ((probabilities > 0) & (probabilities < 1)).all():
        raise ValueError("eta must hold probabilities strictly between 0 and 1")
    z = np.linspace(low, high, points)
    step = z[1] - z[0]
    costs = [
        np.asarray(loss(z, np.full_like(z, t), reduction="none", **loss_kwargs)) for t in (1, 0)
    ]
    flat = probabilities.reshape(-1, 1)
    risk = flat * costs[0] + (1 - flat) * costs[1]
    best = np.clip(np.argmin(risk, axis=1), 1, points - 2)
    rows = np.arange(flat.shape[0])
    left, middle, right = (risk[rows, best + k] for k in (-1, 0, 1))
    curvature = left - 2 * middle + right
    with np.errstate(invalid="ignore", divide="ignore"):
        shift = np.where(curvature > 0, 0.5 * (left - right) / curvature, 0.0)
    logits = z[best] + np.clip(shift, -1.0, 1.0) * step
    result: np.ndarray = (1 / (1 + np.exp(-logits))).reshape(probabilities.shape)
    return result


def _ratio(numerator: np.ndarray, denominator: np.ndarray, empty: float = np.nan) -> np.ndarray:
    """``numerator / denominator`` as float64, ``empty`` where the denominator is 0."""
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.asarray(numerator, dtype=np.float64) / denominator
    return np.where(np.asarray(denominator) > 0, ratio, empty)
