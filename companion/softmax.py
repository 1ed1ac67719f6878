r"""Softmax numerics, logit margins and temperature: the tools of Chapter 8.

The softmax turns a vector of :math:`K` logits :math:`z` into probabilities,

.. math:: p_c = \frac{e^{z_c}}{\sum_{k=1}^{K} e^{z_k}},

and it does not change when the same number is added to every logit. This module measures
where a formula stops being representable (:func:`smallest_float_where`), how far a network
pushes its top logit above the others (:func:`logit_margin`) and how far label smoothing
lets it (:func:`smoothed_margin`), and fits the temperature :math:`T` that divides the
logits, :math:`p = \operatorname{softmax}(z / T)`, on held-out data
(:func:`fit_temperature`, Guo et al., 2017). NumPy only.

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
from collections.abc import Callable
from typing import Any

import numpy as np

from companion._typing import ArrayLike

#: The floating dtypes :func:`smallest_float_where` searches, with the signed integer type
#: of the same width (the bit patterns it bisects).
_INTEGER_OF: dict[np.dtype[Any], type[np.signedinteger[Any]]] = {
    np.dtype(np.float16): np.int16,
    np.dtype(np.float32): np.int32,
    np.dtype(np.float64): np.int64,
}


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


def _ordered(value: float, dtype: np.dtype[Any]) -> int:
    """The rank of ``value`` among the finite numbers of ``dtype`` (0 for both zeros)."""
    bits = int(np.array(value, dtype=dtype).view(_INTEGER_OF[dtype]))
    smallest = int(np.iinfo(_INTEGER_OF[dtype]).min)
    return bits if bits >= 0 else smallest - bits


def _from_ordered(rank: int, dtype: np.dtype[Any]) -> np.generic:
    """The number of ``dtype`` with the given rank (the inverse of :func:`_ordered`)."""
    smallest = int(np.iinfo(_INTEGER_OF[dtype]).min)
    bits = rank if rank >= 0 else smallest - rank
    value: np.generic = np.array([bits], dtype=_INTEGER_OF[dtype]).view(dtype)[0]
    return value


def smallest_float_where(
    predicate: Callable[[np.generic], bool],
    low: float,
    high: float,
    dtype: type[np.floating] = np.float32,
) -> float:
    r"""The smallest number of ``dtype`` in ``[low, high]`` at which ``predicate`` holds.

    ``predicate`` must be monotone on the interval: false up to some number, true from it
    on (``exp(x)`` is infinite, a softmax returns NaN...). The search bisects the bit
    patterns of the numbers of ``dtype``, which are ordered like the numbers themselves,
    so it returns the exact threshold, one representable number, after at most 64 calls.

    Parameters
    ----------
    predicate : callable
        Called with a NumPy scalar of ``dtype``, with NumPy's floating-point warnings
        silenced (the search probes overflow on purpose); returns a truth value.
    low, high : float
        Finite ends of the interval, rounded to ``dtype``; ``predicate(low)`` must be false
        and ``predicate(high)`` true.
    dtype : {numpy.float16, numpy.float32, numpy.float64}

    Returns
    -------
    float
        The threshold :math:`x^\star` (as a Python float, exact): ``predicate`` is false at
        the number of ``dtype`` just below it and true at it.

    Raises
    ------
    ValueError
        If ``dtype`` is not one of the three, the ends are not finite with
        ``low <= high``, or ``predicate`` is not false at ``low`` and true at ``high``.

    Examples
    --------
    The largest float16 is 65504, and :math:`e^x` exceeds it (rounded) from
    :math:`x = 11.09375`, about :math:`\log 65504 = 11.0898`:

    >>> smallest_float_where(lambda x: np.isinf(np.exp(x)), 0.0, 20.0, np.float16)
    11.09375
    """
    kind = np.dtype(dtype)
    if kind not in _INTEGER_OF:
        raise ValueError(f"dtype must be float16, float32 or float64, got {kind}")
    with np.errstate(all="ignore"):
        return _bisect(predicate, low, high, kind)


def _bisect(
    predicate: Callable[[np.generic], bool], low: float, high: float, kind: np.dtype[Any]
) -> float:
    """:func:`smallest_float_where` after its dtype check."""
    lo_value, hi_value = kind.type(low), kind.type(high)
    if not (np.isfinite(lo_value) and np.isfinite(hi_value) and lo_value <= hi_value):
        raise ValueError(
            f"low and high must be finite in {kind} with low <= high, got {low!r} and {high!r}"
        )
    if predicate(lo_value) or not predicate(hi_value):
        raise ValueError(
            f"predicate must be false at low = {low!r} and true at high = {high!r} "
            f"(in {kind}), so that a threshold lies between them"
        )
    below, at = _ordered(float(lo_value), kind), _ordered(float(hi_value), kind)
    while at - below > 1:  # invariant: false at `below`, true at `at`
        middle = (below + at) // 2
        if predicate(_from_ordered(middle, kind)):
            at = middle
        else:
            below = middle
    return float(_from_ordered(at, kind))


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


def negative_log_likelihood(logits: ArrayLike, labels: ArrayLike) -> np.ndarray:
    r"""Mean negative log-likelihood of class indices under :math:`\operatorname{softmax}(z)`,
    run by run: :math:`\frac1N\sum_n \bigl(\log\sum_c e^{z_{n,c}} - z_{n,y_n}\bigr)`.

    The held-out log loss of each run (scikit-learn's ``log_loss`` of the softmax, without
    its clipping), computed from the logits by the log-sum-exp.

    Parameters
    ----------
    logits : array_like, shape (..., N, K)
    labels : array_like of int, shape (..., N)
        Or a shape that broadcasts to it (one set of labels for every run).

    Returns
    -------
    numpy.ndarray, shape (...)

    Examples
    --------
    >>> round(float(negative_log_likelihood([[0.0, 0.0], [1e4, 0.0]], [0, 1])), 4)
    5000.3466
    """
    z = np.asarray(logits, dtype=np.float64)
    y = np.asarray(labels)
    if y.dtype.kind not in "iu" or z.ndim < 2 or y.ndim < 1:
        raise ValueError(
            "logits must have shape (..., N, K) and labels be class indices of shape (..., N), "
            f"got {z.shape} and {y.shape} ({y.dtype})"
        )
    y = _broadcast_labels(y, z)
    picked = np.take_along_axis(_log_softmax(z), y[..., None], axis=-1)[..., 0]
    nll: np.ndarray = -picked.mean(axis=-1)
    return nll


__all__ = [
    "fit_temperature",
    "logit_margin",
    "negative_log_likelihood",
    "smallest_float_where",
    "smoothed_margin",
]
