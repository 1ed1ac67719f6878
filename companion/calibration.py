r"""Calibration of predicted probabilities: reliability-diagram bins and the calibration error.

A classifier is *calibrated* when, among the points it gives probability :math:`p`, a share
:math:`p` has the predicted outcome. Binning the predictions by probability measures it. With
:math:`M` equal-width bins :math:`B_m = \bigl(\tfrac{m-1}{M}, \tfrac{m}{M}\bigr]` (the first
also holds 0), the reliability diagram plots, for every non-empty bin, the observed frequency
of the outcome against the mean predicted probability,

.. math:: \operatorname{freq}(B_m) = \frac{1}{|B_m|}\sum_{i \in B_m} o_i, \qquad
          \operatorname{conf}(B_m) = \frac{1}{|B_m|}\sum_{i \in B_m} p_i,

and the expected calibration error (ECE) is their gap averaged over the points
(Naeini et al., 2015; Guo et al., 2017),

.. math:: \mathrm{ECE} = \sum_{m=1}^{M} \frac{|B_m|}{N}\,
          \bigl|\operatorname{freq}(B_m) - \operatorname{conf}(B_m)\bigr| .

Two readings of "probability" and "outcome" are in use, and both are supported:

- Binary, as scikit-learn's :func:`sklearn.calibration.calibration_curve` and
  Naeini et al. (2015): :math:`p_i` is the predicted probability of class 1 and
  :math:`o_i = y_i`.
- Multi-class *top-label*, as Guo et al. (2017): :math:`p_i = \max_k p_{ik}` is
  the confidence in the predicted class and :math:`o_i = \mathbf 1[\arg\max_k p_{ik} = y_i]`
  says whether that prediction is right.

The bins are those of ``calibration_curve(..., strategy="uniform")`` (a probability on an
edge goes to the lower bin), which gives the same frequencies and confidences for the
non-empty bins; this module adds what it lacks: the bin counts, the ECE, the top-label
reading, and many runs at once (leading axes). NumPy only.

References
----------
M. P. Naeini, G. F. Cooper and M. Hauskrecht, "Obtaining Well Calibrated Probabilities
Using Bayesian Binning", *Proceedings of the AAAI Conference on Artificial Intelligence*,
29(1), 2901-2907, 2015.

C. Guo, G. Pleiss, Y. Sun and K. Q. Weinberger, "On Calibration of Modern Neural
Networks", *Proceedings of the 34th International Conference on Machine Learning (ICML)*,
PMLR 70, 1321-1330, 2017.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from companion._checks import check_count
from companion._typing import ArrayLike


@dataclass(frozen=True)
class CalibrationBins:
    """Equal-width bins of predicted probabilities, for each run (leading axes ``...``).

    Attributes
    ----------
    edges : numpy.ndarray
        The ``M + 1`` bin edges, ``np.linspace(0, 1, M + 1)``.
    counts : numpy.ndarray
        Points per bin, :math:`|B_m|`, ``int64``, shape ``(..., M)``.
    confidence : numpy.ndarray
        Mean predicted probability per bin, shape ``(..., M)``; NaN for an empty bin.
    frequency : numpy.ndarray
        Observed frequency of the outcome per bin (the accuracy, for the top-label
        reading), shape ``(..., M)``; NaN for an empty bin.
    """

    edges: np.ndarray
    counts: np.ndarray
    confidence: np.ndarray
    frequency: np.ndarray

    @property
    def ece(self) -> np.ndarray:
        """The expected calibration error of each run, shape ``(...)``."""
        total = self.counts.sum(axis=-1, keepdims=True)
        gaps = np.where(self.counts > 0, np.abs(self.frequency - self.confidence), 0.0)
        ece: np.ndarray = (self.counts / total * gaps).sum(axis=-1)
        return ece


def calibration_bins(y_true: ArrayLike, y_prob: ArrayLike, *, n_bins: int = 15) -> CalibrationBins:
    """Bin predictions by probability: the data of a reliability diagram, and the ECE.

    Parameters
    ----------
    y_true : array_like of int, shape (..., N)
        The labels: 0 or 1 for binary probabilities, class indices for class probabilities.
    y_prob : array_like, shape (..., N) or (..., N, K)
        Predicted probabilities of class 1 (binary reading), or of each of ``K >= 2``
        classes (top-label reading), in [0, 1].
    n_bins : int
        :math:`M`, the number of equal-width bins (Guo et al., 2017, use 15).

    Returns
    -------
    CalibrationBins
        For a plot, the non-empty bins: ``b.confidence[b.counts > 0]`` against
        ``b.frequency[b.counts > 0]``.

    Examples
    --------
    >>> bins = calibration_bins([0, 0, 1, 1], [0.1, 0.3, 0.6, 0.8], n_bins=2)
    >>> bins.counts.tolist(), bins.frequency.tolist(), round(float(bins.ece), 3)
    ([2, 2], [0.0, 1.0], 0.25)

    Top-label, for three classes: the first two points are predicted right.

    >>> proba = [[0.7, 0.2, 0.1], [0.1, 0.5, 0.4], [0.6, 0.3, 0.1]]
    >>> round(float(calibration_bins([0, 1, 2], proba, n_bins=5).ece), 3)
    0.133
    """
    check_count("n_bins", n_bins)
    outcome, confidence = _outcomes(y_true, y_prob)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    runs = confidence.shape[:-1]
    # bin of each point, offset by its run's position so that one bincount does every run
    index = np.searchsorted(edges[1:-1], confidence) + n_bins * np.arange(
        int(np.prod(runs))
    ).reshape(*runs, 1)
    size = n_bins * int(np.prod(runs))
    counts = np.bincount(index.ravel(), minlength=size).reshape(*runs, n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_confidence = (
            np.bincount(index.ravel(), weights=confidence.ravel(), minlength=size).reshape(
                *runs, n_bins
            )
            / counts
        )
        frequency = (
            np.bincount(index.ravel(), weights=outcome.ravel(), minlength=size).reshape(
                *runs, n_bins
            )
            / counts
        )
    return CalibrationBins(edges, counts, mean_confidence, frequency)


def expected_calibration_error(
    y_true: ArrayLike, y_prob: ArrayLike, *, n_bins: int = 15
) -> np.ndarray:
    """The expected calibration error of each run: ``calibration_bins(...).ece``.

    Returns
    -------
    numpy.ndarray, shape (...)
        0-d for one run (``float()`` gives the number).

    Examples
    --------
    >>> y = [0, 1, 1, 0]
    >>> ece = expected_calibration_error([y, y], [[0.2, 0.8, 0.9, 0.1], [0.5] * 4], n_bins=10)
    >>> ece.round(3).tolist()
    [0.15, 0.0]
    """
    return calibration_bins(y_true, y_prob, n_bins=n_bins).ece


def _outcomes(y_true: ArrayLike, y_prob: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """The outcome :math:`o_i` and probability :math:`p_i` of every point, shape (..., N)."""
    labels, proba = np.asarray(y_true), np.asarray(y_prob)
    if labels.dtype.kind not in "iuf" or proba.dtype.kind not in "iuf":
        raise TypeError(
            f"y_true and y_prob must be real numbers, got dtypes {labels.dtype} and {proba.dtype}"
        )
    proba = proba.astype(np.float64)
    if proba.size == 0 or not ((proba >= 0) & (proba <= 1)).all():
        raise ValueError("y_prob must be a non-empty array of probabilities in [0, 1]")
    if labels.shape == proba.shape and labels.ndim >= 1:
        if not np.isin(labels, (0, 1)).all():
            raise ValueError(
                "y_true must be 0 or 1 for probabilities of class 1 (y_prob of y_true's shape)"
            )
        return labels.astype(np.float64), proba
    if labels.shape == proba.shape[:-1] and labels.ndim >= 1 and proba.shape[-1] >= 2:
        classes = proba.shape[-1]
        if not (np.isin(labels, np.arange(classes)).all()):
            raise ValueError(f"y_true must hold class indices in [0, {classes})")
        predicted = proba.argmax(axis=-1)
        return (predicted == labels).astype(np.float64), proba.max(axis=-1)
    raise ValueError(
        "y_prob must have y_true's shape (..., N) (probabilities of class 1) or (..., N, K) "
        f"with K >= 2 (class probabilities), got {proba.shape} and {labels.shape}"
    )
