r"""Logit margins, temperature scaling and held-out metrics: the tools of Chapter 8.

The softmax turns a vector of :math:`K` logits :math:`z` into probabilities,

.. math:: p_c = \frac{e^{z_c}}{\sum_{k=1}^{K} e^{z_k}},

and it does not change when the same number is added to every logit. This module measures
how far a network pushes its top logit above the others (:func:`logit_margin`) and how far
label smoothing lets it go on one example (:func:`smoothed_margin`), fits the temperature
:math:`T` that divides the logits, :math:`p = \operatorname{softmax}(z / T)`, on held-out
data (:func:`fit_temperature`, Guo et al., 2017), and scores many runs' held-out logits at
once (:func:`held_out_metrics`). The first float at which a formula overflows or underflows
is found with :func:`companion.floats.first_float_where`. NumPy only.

References
----------
C. Guo, G. Pleiss, Y. Sun and K. Q. Weinberger, "On Calibration of Modern Neural
Networks", *Proceedings of the 34th International Conference on Machine Learning (ICML)*,
PMLR 70, 1321-1330, 2017.

R. Müller, S. Kornblith and G. E. Hinton, "When Does Label Smoothing Help?", *Advances in
Neural Information Processing Systems 32 (NeurIPS)*, 2019.
"""

from __future__ import annotations

import math

import numpy as np

from companion._typing import ArrayLike
from companion.calibration import expected_calibration_error
from companion.losses import cross_entropy


def _log_softmax(z: np.ndarray) -> np.ndarray:
    """Log-probabilities along the last axis, by the log-sum-exp shifted by the largest logit."""
    shifted = z - z.max(axis=-1, keepdims=True)
    result: np.ndarray = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    return result


def _broadcast_labels(y: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Labels broadcast to the logits' shape without the class axis, or a ValueError."""
    try:
        return np.broadcast_to(y, z.shape[:-1])
    except ValueError:
        raise ValueError(
            f"labels of shape {y.shape} do not match logits of shape {z.shape}: labels need "
            "the logits' shape without the class axis, or a shape that broadcasts to it"
        ) from None


def logit_margin(logits: ArrayLike) -> np.ndarray:
    r"""How far the top logit stands above the others: :math:`z_{\max} - \operatorname{mean}`
    of the other :math:`K - 1` logits.

    .. math:: m(z) = \max_c z_c - \frac{1}{K - 1}\Bigl(\sum_{c} z_c - \max_c z_c\Bigr).

    Adding a constant to every logit changes neither the softmax nor :math:`m`; scaling the
    logits by :math:`a > 0` scales :math:`m` by :math:`a`. A network trained with plain
    cross-entropy on separable training points can grow its margins without limit; with
    label smoothing the loss is smallest at a finite margin (:func:`smoothed_margin`).

    Parameters
    ----------
    logits : array_like, shape (..., K)
        :math:`K \ge 2` logits per example, along the last axis.

    Returns
    -------
    numpy.ndarray, shape (...)

    Examples
    --------
    >>> logit_margin([[3.0, 1.0, -1.0], [0.0, 0.0, 0.0]]).tolist()
    [3.0, 0.0]
    """
    z = np.asarray(logits, dtype=np.float64)
    if z.ndim == 0 or z.shape[-1] < 2:
        raise ValueError(f"logits must have shape (..., K) with K >= 2, got {z.shape}")
    top = z.max(axis=-1)
    margin: np.ndarray = top - (z.sum(axis=-1) - top) / (z.shape[-1] - 1)
    return margin


def smoothed_margin(n_classes: int, label_smoothing: float) -> float:
    r"""The logit margin at which label-smoothed cross-entropy is smallest.

    With label smoothing :math:`\varepsilon` the target puts
    :math:`1 - \varepsilon + \varepsilon/K` on the labelled class and :math:`\varepsilon/K`
    on each of the others. Cross-entropy is smallest when the softmax equals the target,
    that is when the labelled class's logit exceeds every other logit by

    .. math:: \log\frac{1 - \varepsilon + \varepsilon / K}{\varepsilon / K}
              = \log\Bigl(1 + \frac{K (1 - \varepsilon)}{\varepsilon}\Bigr),

    which is then also the :func:`logit_margin`. Without smoothing
    (:math:`\varepsilon = 0`) there is no such point: the loss keeps falling as the margin
    grows, and the function returns ``inf``.

    This is the optimum of *one example with a fixed label*, such as a memorised training
    point. Where the class is uncertain, with true posterior :math:`\eta(x)`, the expected
    smoothed loss is smallest at the smoothed posterior
    :math:`(1 - \varepsilon)\,\eta(x) + \varepsilon / K` (the cross-entropy is linear in
    its target), whose margin is at most this one, with equality only where
    :math:`\eta(x)` is one-hot.

    Parameters
    ----------
    n_classes : int
        :math:`K \ge 2`.
    label_smoothing : float
        :math:`\varepsilon \in [0, 1]`, as PyTorch's ``label_smoothing``.

    Examples
    --------
    >>> round(smoothed_margin(10, 0.1), 4)  # log(91)
    4.5109
    >>> smoothed_margin(5, 0.0), smoothed_margin(5, 1.0)
    (inf, 0.0)
    """
    if isinstance(n_classes, bool) or not isinstance(n_classes, int) or n_classes < 2:
        raise ValueError(f"n_classes must be an integer >= 2, got {n_classes!r}")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"label_smoothing must lie in [0, 1], got {label_smoothing!r}")
    if label_smoothing == 0.0:
        return math.inf
    return math.log1p(n_classes * (1.0 - label_smoothing) / label_smoothing)


def fit_temperature(
    logits: ArrayLike,
    labels: ArrayLike,
    *,
    bounds: tuple[float, float] = (0.01, 100.0),
) -> np.ndarray:
    r"""Temperature scaling: the :math:`T` whose :math:`\operatorname{softmax}(z / T)` has the
    smallest negative log-likelihood on the given (held-out) examples, run by run.

    Guo et al. (2017) fit this one number on a validation set, after training: dividing the
    logits by :math:`T > 1` softens every prediction and :math:`T < 1` sharpens it, and
    neither changes which class is predicted. With :math:`\beta = 1/T` the mean negative
    log-likelihood

    .. math:: f(\beta) = \frac1N \sum_{n}\Bigl(\log\sum_c e^{\beta z_{n,c}}
              - \beta z_{n, y_n}\Bigr)

    is convex in :math:`\beta` (its second derivative is the mean variance of :math:`z_n`
    under :math:`\operatorname{softmax}(\beta z_n)`), and its derivative
    :math:`f'(\beta) = \frac1N\sum_n \bigl(\mathbb{E}_{p_n}[z_n] - z_{n,y_n}\bigr)` increases
    with :math:`\beta`. The minimiser is found by bisecting :math:`f'` on
    :math:`\log\beta`, for all runs at once, to float64 precision.

    Parameters
    ----------
    logits : array_like, shape (..., N, K)
        Each run's logits for its held-out examples (``...`` are runs).
    labels : array_like of int, shape (..., N)
        Their class indices (or a shape that broadcasts to it: one set for every run).
    bounds : (float, float)
        The smallest and largest temperature allowed, ``0 < low < high``; a run whose
        likelihood keeps improving beyond one of them gets that bound.

    Returns
    -------
    numpy.ndarray, shape (...)
        The fitted temperature of each run (0-d for one run).

    Examples
    --------
    Logits twice as large as those of the model that generated the labels are fitted with
    a temperature near 2:

    >>> rng = np.random.default_rng(0)
    >>> z = rng.normal(size=(20000, 3))
    >>> p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    >>> y = (rng.random(20000)[:, None] > p.cumsum(axis=1)).sum(axis=1)
    >>> round(float(fit_temperature(2 * z, y)), 1)
    2.0
    """
    z = np.asarray(logits, dtype=np.float64)
    y = np.asarray(labels)
    if y.dtype.kind not in "iu":
        raise TypeError(f"labels must be class indices (integers), got dtype {y.dtype}")
    if z.ndim < 2 or y.ndim < 1 or z.shape[-1] < 2 or z.shape[-2] == 0:
        raise ValueError(
            "logits must have shape (..., N, K) with N >= 1 and K >= 2 and labels shape "
            f"(..., N), got {z.shape} and {y.shape}"
        )
    y = _broadcast_labels(y, z)
    if not np.isfinite(z).all():
        raise ValueError("logits must be finite")
    if y.min() < 0 or y.max() >= z.shape[-1]:
        raise ValueError(f"labels must be class indices in [0, {z.shape[-1]})")
    low, high = bounds
    if not 0 < low < high < math.inf:
        raise ValueError(f"bounds must satisfy 0 < low < high < inf, got {bounds!r}")
    picked = np.take_along_axis(z, y[..., None], axis=-1)[..., 0]

    def slope(beta: np.ndarray) -> np.ndarray:  # f'(beta), one per run
        p = np.exp(_log_softmax(beta[..., None, None] * z))
        gap: np.ndarray = ((p * z).sum(axis=-1) - picked).mean(axis=-1)
        return gap

    runs = z.shape[:-2]
    log_lo = np.full(runs, math.log(1.0 / high))  # beta = 1 / T
    log_hi = np.full(runs, math.log(1.0 / low))
    for _ in range(60):  # the bracket shrinks to float64 precision on log(beta)
        middle = (log_lo + log_hi) / 2
        rising = slope(np.exp(middle)) > 0
        log_hi = np.where(rising, middle, log_hi)
        log_lo = np.where(rising, log_lo, middle)
    temperature: np.ndarray = 1.0 / np.exp((log_lo + log_hi) / 2)
    return temperature


def held_out_metrics(
    logits: ArrayLike, labels: ArrayLike, *, n_bins: int = 15
) -> dict[str, np.ndarray]:
    r"""Each run's accuracy, log loss, calibration and margins on held-out examples.

    For logits :math:`z_n` and labels :math:`y_n`, :math:`n = 1, \dots, N`, with
    :math:`p_n = \operatorname{softmax}(z_n)` and the confidence
    :math:`\hat p_n = \max_c p_{n,c}` of the predicted class :math:`\hat y_n`:

    - ``"accuracy"``: :math:`\frac1N \sum_n [\hat y_n = y_n]`;
    - ``"NLL"``: the mean negative log-likelihood (log loss)
      :math:`\frac1N\sum_n \bigl(\log\sum_c e^{z_{n,c}} - z_{n,y_n}\bigr)`, the
      companion's ``cross_entropy`` (exact for logits that overflow a naive softmax);
    - ``"ECE"``: the top-label expected calibration error with ``n_bins`` equal-width bins
      (:func:`~companion.calibration.expected_calibration_error`);
    - ``"confidence gap"``: the mean confidence minus the accuracy,
      :math:`\frac1N\sum_n \hat p_n - \text{accuracy}`, positive for an overconfident model
      and negative for an underconfident one;
    - ``"median margin"``: the median of :func:`logit_margin` over the examples.

    Parameters
    ----------
    logits : array_like, shape (..., N, K)
        Each run's logits (``...`` are runs), :math:`K \ge 2`, finite.
    labels : array_like of int, shape (..., N)
        Their class indices, or a shape that broadcasts to it (one set for every run).
    n_bins : int
        Bins of the calibration error.

    Returns
    -------
    dict of str to numpy.ndarray
        The five metrics above, in that order, each of shape ``(...)``.

    Examples
    --------
    >>> m = held_out_metrics([[2.0, 0.0], [0.0, 1.0], [3.0, 0.0]], [0, 0, 0])
    >>> for name, value in m.items():
    ...     print(f"{name}: {value:.3f}")
    accuracy: 0.667
    NLL: 0.496
    ECE: 0.299
    confidence gap: 0.188
    median margin: 2.000
    """
    z = np.asarray(logits, dtype=np.float64)
    y = np.asarray(labels)
    if y.dtype.kind not in "iu":
        raise TypeError(f"labels must be class indices (integers), got dtype {y.dtype}")
    if z.ndim < 2 or z.shape[-1] < 2 or z.shape[-2] == 0:
        raise ValueError(
            f"logits must have shape (..., N, K) with N >= 1 and K >= 2, got {z.shape}"
        )
    y = _broadcast_labels(y, z)
    if not np.isfinite(z).all():
        raise ValueError("logits must be finite")
    if y.min() < 0 or y.max() >= z.shape[-1]:
        raise ValueError(f"labels must be class indices in [0, {z.shape[-1]})")
    p = np.exp(_log_softmax(z))
    accuracy: np.ndarray = (p.argmax(axis=-1) == y).mean(axis=-1)
    losses = cross_entropy(z.reshape(-1, z.shape[-1]), y.reshape(-1), reduction="none")
    return {
        "accuracy": accuracy,
        "NLL": np.asarray(losses).reshape(y.shape).mean(axis=-1),
        "ECE": expected_calibration_error(y, p, n_bins=n_bins),
        "confidence gap": p.max(axis=-1).mean(axis=-1) - accuracy,
        "median margin": np.median(logit_margin(z), axis=-1),
    }


__all__ = [
    "fit_temperature",
    "held_out_metrics",
    "logit_margin",
    "smoothed_margin",
]
