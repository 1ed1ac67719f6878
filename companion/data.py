"""Seeded toy datasets used by the book's chapters.

Every function takes an explicit ``seed`` (or one seed per run) and returns NumPy arrays
(``float64`` features, ``float64`` or ``int64`` labels), so a chapter gives the same numbers
on every run.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from companion._checks import check_count, check_seeds
from companion._typing import ArrayLike

NOISE_KINDS = ("gaussian", "laplace", "student_t")


def make_noise(
    n: int, kind: str = "gaussian", scale: float = 1.0, *, rng: np.random.Generator
) -> np.ndarray:
    r"""Draw ``n`` samples of zero-centred noise of the given ``kind``.

    ``"gaussian"`` is :math:`\mathcal N(0, s^2)`, ``"laplace"`` is a Laplace law with scale
    :math:`s`, and ``"student_t"`` is :math:`s\,t_2`, Student's t with two degrees of freedom
    (heavy tails, infinite variance).
    """
    check_count("n", n, minimum=0)
    if not scale >= 0:
        raise ValueError(f"scale must be >= 0, got {scale!r}")
    if kind == "gaussian":
        return rng.normal(0.0, scale, n)
    if kind == "laplace":
        return rng.laplace(0.0, scale, n)
    if kind == "student_t":
        return scale * rng.standard_t(2, n)
    raise ValueError(f"noise kind must be one of {NOISE_KINDS}, got {kind!r}")


def make_line_data(
    n: int = 100,
    *,
    slope: float = 2.0,
    intercept: float = 1.0,
    noise: str = "gaussian",
    scale: float = 0.5,
    outlier_fraction: float = 0.0,
    outlier_shift: float = 20.0,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Points on a line plus noise, with an optional share of gross outliers.

    .. math:: y_i = a x_i + b + \varepsilon_i, \qquad x_i \sim \mathcal U(-2, 2)

    where :math:`\varepsilon` is drawn by :func:`make_noise`. Then ``round(outlier_fraction * n)``
    points, chosen at random, are moved up by ``outlier_shift`` (one-sided outliers, like a
    sensor that saturates), which pulls a least-squares fit away from the truth.

    Returns
    -------
    x, y : numpy.ndarray
        Two ``float64`` arrays of shape ``(n,)``.

    Examples
    --------
    >>> x, y = make_line_data(5, seed=1)
    >>> x.shape, y.dtype
    ((5,), dtype('float64'))
    """
    check_count("n", n)
    if not 0.0 <= outlier_fraction <= 1.0:
        raise ValueError(f"outlier_fraction must be in [0, 1], got {outlier_fraction!r}")
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2.0, 2.0, n)
    y = slope * x + intercept + make_noise(n, noise, scale, rng=rng)
    n_outliers = round(outlier_fraction * n)
    outliers = rng.choice(n, size=n_outliers, replace=False)
    y[outliers] += outlier_shift
    return x, y


def make_leverage_data(
    n: int = 100,
    *,
    slope: float = 2.0,
    intercept: float = 1.0,
    scale: float = 0.5,
    n_faulty: int = 3,
    faulty_x: float = 10.0,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Line data in which a few *inputs* are faulty: high-leverage outliers.

    The clean points are ``make_line_data(n, slope=slope, intercept=intercept, scale=scale,
    seed=seed)`` (Gaussian noise, :math:`x \sim \mathcal U(-2, 2)`). Then ``n_faulty`` of them,
    chosen by a second generator seeded with ``(seed, 1)``, get the input ``faulty_x`` (a sensor
    stuck at its maximum reading) while keeping their targets. Far from the other inputs, these
    points raise the curvature of the mean squared error,

    .. math:: \nabla^2 \frac1N\sum_i (a x_i + b - y_i)^2
              = 2 \begin{pmatrix} \overline{x^2} & \bar x \\ \bar x & 1 \end{pmatrix},

    and so lower the largest stable learning rate (see :func:`companion.fitting.mse_lr_limit`).
    ``n_faulty=0`` gives the same points without the fault.

    Returns
    -------
    x, y : numpy.ndarray
        Two ``float64`` arrays of shape ``(n,)``.

    Examples
    --------
    >>> x, y = make_leverage_data()
    >>> int((x == 10.0).sum()), bool(np.abs(x[x != 10.0]).max() <= 2.0)
    (3, True)
    """
    check_count("n_faulty", n_faulty, minimum=0)
    if n_faulty > n:
        raise ValueError(f"n_faulty must be <= n = {n!r}, got {n_faulty!r}")
    if not np.isfinite(faulty_x):
        raise ValueError(f"faulty_x must be a finite number, got {faulty_x!r}")
    x, y = make_line_data(n, slope=slope, intercept=intercept, scale=scale, seed=seed)
    faulty = np.random.default_rng((seed, 1)).choice(n, size=n_faulty, replace=False)
    x[faulty] = faulty_x
    return x, y


def make_two_class_data(
    n: int = 200, *, separation: float = 2.0, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    r"""A one-feature, two-class problem: half the points per class.

    Class 0 is drawn from :math:`\mathcal N(-s/2, 1)` and class 1 from :math:`\mathcal N(s/2, 1)`,
    with :math:`s` the ``separation``; the classes overlap, so no threshold is perfect.

    Returns
    -------
    x : numpy.ndarray
        Features, ``float64``, shape ``(n,)``.
    y : numpy.ndarray
        Labels 0.0 or 1.0, ``float64``, shape ``(n,)``.

    Examples
    --------
    >>> x, y = make_two_class_data(6, seed=0)
    >>> y.tolist()
    [0.0, 0.0, 0.0, 1.0, 1.0, 1.0]
    """
    check_count("n", n, minimum=2)
    rng = np.random.default_rng(seed)
    y = np.repeat([0.0, 1.0], [n // 2, n - n // 2])
    x = rng.normal((y - 0.5) * separation, 1.0)
    return x, y


def make_gaussian_classes(
    n: int = 1000, features: int = 2, *, separation: float = 2.0, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    r"""A two-class problem with ``features`` features, every one of which carries signal.

    Half the points per class. Class :math:`k \in \{0, 1\}` is drawn from
    :math:`\mathcal N\big((k - \tfrac12)\,s\,u,\; I_d\big)` with :math:`s` the ``separation`` and
    :math:`u = (1, \dots, 1)/\sqrt d`: the class means are :math:`s` apart along the diagonal.
    The best possible rule thresholds :math:`u^\top x` at 0 and is right with probability
    :math:`\Phi(s/2)` (0.841 for :math:`s = 2`) whatever :math:`d`, so the problem is equally
    hard in every dimension, but a linear classifier has :math:`d + 1` weights to find.

    Returns
    -------
    x : numpy.ndarray
        Features, ``float64``, shape ``(n, features)``.
    y : numpy.ndarray
        Labels 0.0 or 1.0, ``float64``, shape ``(n,)``.

    Examples
    --------
    >>> x, y = make_gaussian_classes(6, features=3, seed=0)
    >>> x.shape, y.tolist()
    ((6, 3), [0.0, 0.0, 0.0, 1.0, 1.0, 1.0])
    """
    check_count("n", n, minimum=2)
    check_count("features", features, minimum=1)
    if not separation >= 0:
        raise ValueError(f"separation must be >= 0, got {separation!r}")
    rng = np.random.default_rng(seed)
    y = np.repeat([0.0, 1.0], [n // 2, n - n // 2])
    direction = np.full(features, 1.0 / np.sqrt(features))
    x = rng.standard_normal((n, features)) + np.outer((y - 0.5) * separation, direction)
    return x, y


def _check_skewed_noise_scale(scale: float, scale_slope: float) -> None:
    if not (np.isfinite(scale) and np.isfinite(scale_slope) and scale >= 2 * abs(scale_slope)):
        raise ValueError(
            "the noise scale s(x) = scale + scale_slope * x must be finite and >= 0 on [-2, 2],"
            f" got scale={scale!r}, scale_slope={scale_slope!r}"
        )


def make_skewed_line_data(
    n: int = 200,
    *,
    slope: float = 2.0,
    intercept: float = 1.0,
    scale: float = 1.0,
    scale_slope: float = 0.4,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    r"""A line plus skewed, outlier-free noise whose spread grows with ``x``.

    .. math:: y_i = a x_i + b + s(x_i)\,E_i, \qquad s(x) = s_0 + s_1 x,

    with :math:`x_i \sim \mathcal U(-2, 2)`, :math:`E_i \sim \operatorname{Exp}(1)` and
    :math:`a, b, s_0, s_1` = ``slope, intercept, scale, scale_slope``. The exponential
    noise has light tails (no outliers) but is skewed: its median :math:`\ln 2` lies below its
    mean 1, so the conditional median and the conditional mean of :math:`y` given :math:`x`
    are two different lines (:func:`skewed_line_truth` gives them).

    Returns
    -------
    x, y : numpy.ndarray
        Two ``float64`` arrays of shape ``(n,)``.

    Raises
    ------
    ValueError
        If ``n`` is not a positive integer, or :math:`s(x)` is negative somewhere on [-2, 2].

    Examples
    --------
    >>> x, y = make_skewed_line_data(1000, seed=1)
    >>> bool(np.all(y >= 2 * x + 1))  # the noise is never negative
    True
    """
    check_count("n", n)
    _check_skewed_noise_scale(scale, scale_slope)
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2.0, 2.0, n)
    y = slope * x + intercept + (scale + scale_slope * x) * rng.exponential(1.0, n)
    return x, y


def skewed_line_truth(
    statistic: str | float = "median",
    *,
    slope: float = 2.0,
    intercept: float = 1.0,
    scale: float = 1.0,
    scale_slope: float = 0.4,
) -> tuple[float, float]:
    r"""Slope and intercept of a conditional statistic of :func:`make_skewed_line_data`.

    Given :math:`x`, the target is :math:`y = a x + b + s(x) E` with
    :math:`E \sim \operatorname{Exp}(1)` and :math:`s(x) = s_0 + s_1 x \ge 0`, so each location
    statistic of :math:`y` given :math:`x` is :math:`a x + b + s(x)\,q`, where :math:`q` is the
    same statistic of :math:`E`: :math:`q = 1` for the mean and :math:`q = -\ln(1 - \tau)` for the
    :math:`\tau`-quantile (:math:`\ln 2` for the median). Each is therefore a line,

    .. math:: \text{slope} = a + s_1 q, \qquad \text{intercept} = b + s_0 q .

    Parameters
    ----------
    statistic : {"mean", "median"} or float
        The conditional mean, the conditional median, or the conditional ``tau``-quantile for a
        number ``tau`` in (0, 1).
    slope, intercept, scale, scale_slope : float
        The arguments given to :func:`make_skewed_line_data`.

    Returns
    -------
    (float, float)
        Slope and intercept of the line.

    Raises
    ------
    ValueError
        If ``statistic`` is none of the above, or :math:`s(x)` is negative somewhere on [-2, 2].

    Examples
    --------
    >>> [round(v, 4) for v in skewed_line_truth("median")]
    [2.2773, 1.6931]
    >>> skewed_line_truth("mean")
    (2.4, 2.0)
    """
    _check_skewed_noise_scale(scale, scale_slope)
    if statistic == "mean":
        q = 1.0
    elif statistic == "median":
        q = float(np.log(2.0))
    elif (
        isinstance(statistic, (float, int, np.floating))
        and not isinstance(statistic, bool)
        and 0.0 < statistic < 1.0
    ):
        q = float(-np.log1p(-statistic))
    else:
        raise ValueError(
            f"statistic must be 'mean', 'median' or a quantile level in (0, 1), got {statistic!r}"
        )
    return slope + scale_slope * q, intercept + scale * q


@dataclass(frozen=True)
class GaussianClasses:
    r"""``K`` Gaussian classes in ``d`` dimensions, with class priors: Part II's problem.

    Class :math:`k` has prior :math:`\pi_k` and density :math:`\mathcal N(\mu_k, I_d)`. The
    means lie in the plane of the first two features, on a circle with neighbouring means
    ``separation`` :math:`s` apart: :math:`\mu_k = r(\cos\theta_k, \sin\theta_k, 0, \dots)`
    with :math:`\theta_k = \pi + 2\pi k / K` and :math:`r = s / (2\sin(\pi/K))`; for
    :math:`K = 2` they are :math:`\mp (s/2)\, e_1` (class 1 on the positive side), and any
    further features are noise. Every :math:`\lVert\mu_k\rVert` equals :math:`r`, so the
    posterior (:meth:`posterior`) is a softmax of linear functions of :math:`x`: a linear
    softmax (or logistic) model can represent it exactly. For :math:`K = 2` with equal
    priors the best rule is right with probability :math:`\Phi(s/2)`.

    Attributes
    ----------
    n_classes : int
        :math:`K \ge 2`.
    features : int
        :math:`d \ge 1`; at least 2 when :math:`K \ge 3`.
    separation : float
        :math:`s \ge 0`.
    priors
        ``None`` (equal priors, the default) or one relative frequency per class, a sequence
        of ``K`` numbers > 0, normalised to sum to 1: ``(100, 1)`` is a 1:100 imbalance.

    Examples
    --------
    >>> problem = GaussianClasses(separation=2.0, priors=(3, 1))
    >>> x, y = problem.sample(8, seeds=[0, 1, 2])
    >>> x.shape, y.shape, y.dtype, np.bincount(y[0]).tolist()
    ((3, 8, 2), (3, 8), dtype('int64'), [6, 2])
    >>> problem.posterior([[0.0, 0.0]]).round(3).tolist()
    [[0.75, 0.25]]
    """

    n_classes: int = 2
    features: int = 2
    separation: float = 2.0
    priors: Sequence[float] | None = None

    def __post_init__(self) -> None:
        check_count("n_classes", self.n_classes, minimum=2)
        check_count("features", self.features, minimum=1 if self.n_classes == 2 else 2)
        if not (np.isfinite(self.separation) and self.separation >= 0):
            raise ValueError(f"separation must be finite and >= 0, got {self.separation!r}")
        if self.priors is not None:
            priors = np.asarray(self.priors, dtype=np.float64)
            if priors.shape != (self.n_classes,) or not (
                np.isfinite(priors).all() and (priors > 0).all()
            ):
                raise ValueError(
                    f"priors must be {self.n_classes} finite numbers > 0 (one per class), "
                    f"got {self.priors!r}"
                )

    @property
    def class_priors(self) -> np.ndarray:
        r"""The priors :math:`\pi_k`, shape ``(K,)``, summing to 1."""
        if self.priors is None:
            return np.full(self.n_classes, 1.0 / self.n_classes)
        priors = np.asarray(self.priors, dtype=np.float64)
        normalised: np.ndarray = priors / priors.sum()
        return normalised

    @property
    def means(self) -> np.ndarray:
        r"""The class means :math:`\mu_k`, shape ``(K, d)``."""
        means = np.zeros((self.n_classes, self.features))
        if self.n_classes == 2:
            means[:, 0] = [-self.separation / 2, self.separation / 2]
        else:
            angle = math.pi + 2 * math.pi * np.arange(self.n_classes) / self.n_classes
            radius = self.separation / (2 * math.sin(math.pi / self.n_classes))
            means[:, 0], means[:, 1] = radius * np.cos(angle), radius * np.sin(angle)
        return means

    def class_counts(self, n: int) -> np.ndarray:
        r"""How many of ``n`` points each class gets: :math:`n\pi_k` rounded to sum to ``n``.

        Each class gets :math:`\lfloor n\pi_k \rfloor`, and the points left over go to the
        classes with the largest remainders (the lowest class first on a tie). Every class
        must get at least one point.

        Examples
        --------
        >>> GaussianClasses(priors=(100, 1)).class_counts(1000).tolist()
        [990, 10]
        """
        check_count("n", n, minimum=self.n_classes)
        share = n * self.class_priors
        counts: np.ndarray = np.floor(share).astype(np.int64)
        left_over = n - int(counts.sum())
        counts[np.argsort(-(share - counts), kind="stable")[:left_over]] += 1
        if (counts == 0).any():
            raise ValueError(
                f"n = {n} gives class {int(np.argmin(counts))} no point (priors "
                f"{self.class_priors.round(4).tolist()}); take a larger n"
            )
        return counts

    def sample(self, n: int, seeds: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        r"""``n`` points per run, one run per seed, with exactly :meth:`class_counts` per class.

        Run ``r`` draws from ``np.random.default_rng(seeds[r])`` the order of its labels (a
        random permutation) and then the points, :math:`x_i = \mu_{y_i} + \varepsilon_i`
        with :math:`\varepsilon_i \sim \mathcal N(0, I_d)`, so it depends on its own seed
        only.

        Returns
        -------
        x : numpy.ndarray
            ``float64``, shape ``(R, n, d)``.
        y : numpy.ndarray
            Class indices, ``int64``, shape ``(R, n)``.
        """
        (split,) = self.sample_splits([n], seeds)
        return split

    def sample_splits(
        self, sizes: Sequence[int], seeds: Sequence[int]
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """Independent samples of the given sizes (train, validation, test...) for every run.

        Run ``r`` draws its samples one after the other from one generator,
        ``np.random.default_rng(seeds[r])``, so the first equals :meth:`sample`'s and every
        sample has exactly :meth:`class_counts` points per class (held-out sets whose class
        balance does not vary from run to run).

        Returns
        -------
        list of (x, y)
            One pair per size, shaped as :meth:`sample` returns them.

        Examples
        --------
        >>> train, validation, test = GaussianClasses().sample_splits([6, 4, 10], seeds=[0])
        >>> [split[0].shape for split in (train, validation, test)]
        [(1, 6, 2), (1, 4, 2), (1, 10, 2)]
        """
        seed_list = check_seeds(seeds)
        counts = [self.class_counts(n) for n in sizes]
        labels = [np.repeat(np.arange(self.n_classes), c) for c in counts]
        means = self.means
        draws: list[list[tuple[np.ndarray, np.ndarray]]] = []
        for seed in seed_list:
            rng = np.random.default_rng(seed)
            draws.append([])
            for base in labels:
                y = rng.permutation(base)
                draws[-1].append((means[y] + rng.standard_normal((y.size, self.features)), y))
        return [
            (np.stack([run[k][0] for run in draws]), np.stack([run[k][1] for run in draws]))
            for k in range(len(labels))
        ]

    def posterior(self, x: ArrayLike) -> np.ndarray:
        r"""The Bayes posterior :math:`P(y = k \mid x)` for inputs of shape ``(..., d)``.

        .. math:: P(y = k \mid x) = \frac{\pi_k\, \mathcal N(x; \mu_k, I)}
                  {\sum_j \pi_j\, \mathcal N(x; \mu_j, I)}
                  = \operatorname{softmax}_k\bigl(\log\pi_k + \mu_k^\top x\bigr),

        since every :math:`\lVert\mu_k\rVert` is the same. Its argmax is the Bayes
        classifier, the best rule there is; a model's probabilities can be compared with
        it point by point.

        Returns
        -------
        numpy.ndarray, shape (..., K)
        """
        points = np.asarray(x, dtype=np.float64)
        if points.ndim == 0 or points.shape[-1] != self.features:
            raise ValueError(
                f"x must have shape (..., {self.features}) (the features last), got {points.shape}"
            )
        scores = np.log(self.class_priors) + points @ self.means.T
        scores -= scores.max(axis=-1, keepdims=True)
        weights = np.exp(scores)
        posterior: np.ndarray = weights / weights.sum(axis=-1, keepdims=True)
        return posterior


def noisy_label_arguments(
    y: ArrayLike, fraction: float | Sequence[float], *, n_classes: int, seeds: Sequence[int]
) -> tuple[np.ndarray, list[int], np.ndarray]:
    """Check the arguments of a label-noise function; return the labels, the seeds and one
    share per run.

    ``y`` must hold class indices in ``[0, n_classes)`` with shape ``(R, N)``, one row per
    seed; ``fraction`` one share in [0, 1], or one per run.
    """
    check_count("n_classes", n_classes, minimum=2)
    labels = np.asarray(y)
    seed_list = check_seeds(seeds)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"y must hold class indices (integers), got dtype {labels.dtype}")
    if labels.ndim != 2 or labels.shape[0] != len(seed_list):
        raise ValueError(
            f"y must have shape (R, N) with R = {len(seed_list)} (one run per seed), "
            f"got {labels.shape}"
        )
    if labels.size and not (labels.min() >= 0 and labels.max() < n_classes):
        bad = int(labels.min() if labels.min() < 0 else labels.max())
        raise ValueError(f"y must hold class indices in [0, {n_classes}), got {bad}")
    shares = np.asarray(fraction, dtype=np.float64)
    if shares.shape not in [(), (len(seed_list),)] or not ((shares >= 0) & (shares <= 1)).all():
        raise ValueError(
            f"fraction must lie in [0, 1], one value or one per run ({len(seed_list)}), "
            f"got {fraction!r}"
        )
    return labels, seed_list, np.broadcast_to(shares, (len(seed_list),))


def flip_labels(
    y: ArrayLike, fraction: float | Sequence[float], *, n_classes: int, seeds: Sequence[int]
) -> np.ndarray:
    r"""Symmetric label noise: each run's labels with a ``fraction`` of them flipped.

    Run ``r`` flips exactly ``round(fraction * N)`` of its ``N`` labels, chosen uniformly
    without replacement, each to one of the other ``n_classes - 1`` classes, uniformly
    (:math:`y \to (y + u) \bmod K` with :math:`u \sim \mathcal U\{1, \dots, K - 1\}`). It
    draws from ``np.random.default_rng((seeds[r], 1))``, a stream independent of
    :meth:`GaussianClasses.sample`'s with the same seed. ``y`` is not modified: keep it as
    the clean labels for evaluation.

    Parameters
    ----------
    y : array_like of int, shape (R, N)
        Class indices in ``[0, n_classes)``.
    fraction : float or sequence of float
        The share of labels to flip, in [0, 1]: one for every run, or one per run.
    n_classes : int
        :math:`K \ge 2`.
    seeds : sequence of int
        One seed per run.

    Returns
    -------
    numpy.ndarray
        The noisy labels, ``int64``, shape ``(R, N)``.

    Examples
    --------
    >>> y = np.zeros((2, 10), dtype=np.int64)
    >>> noisy = flip_labels(y, [0.0, 0.3], n_classes=3, seeds=[0, 1])
    >>> (noisy != y).sum(axis=1).tolist(), bool(noisy.max() <= 2)
    ([0, 3], True)
    """
    labels, seed_list, shares = noisy_label_arguments(y, fraction, n_classes=n_classes, seeds=seeds)
    noisy = labels.astype(np.int64)  # a copy
    n = labels.shape[1]
    for run, (seed, share) in enumerate(zip(seed_list, shares, strict=True)):
        rng = np.random.default_rng((seed, 1))
        flipped = rng.choice(n, size=round(float(share) * n), replace=False)
        shift = rng.integers(1, n_classes, size=flipped.size)
        noisy[run, flipped] = (noisy[run, flipped] + shift) % n_classes
    return noisy


_normal_cdf = np.vectorize(lambda t: 0.5 * math.erfc(-t / math.sqrt(2.0)), otypes=[np.float64])


def gaussian_classes_accuracy(weights: Any, bias: Any, *, separation: float = 2.0) -> np.ndarray:
    r"""The accuracy of a linear rule on the whole distribution, not on a sample.

    For :func:`make_gaussian_classes` (and :func:`make_two_class_data`, its one-feature case),
    the rule that predicts class 1 when :math:`w^\top x + b > 0` is right on a point of class 1,
    :math:`x \sim \mathcal N(\tfrac s2 u, I)`, with probability
    :math:`\Phi\big((\tfrac s2 w^\top u + b)/\lVert w\rVert\big)`, because
    :math:`w^\top x` is normal with mean :math:`\tfrac s2 w^\top u` and standard deviation
    :math:`\lVert w\rVert`. With half the points in each class,

    .. math::
        \operatorname{acc}(w, b) = \tfrac12\Big[
        \Phi\Big(\frac{\tfrac s2 w^\top u + b}{\lVert w\rVert}\Big)
        + \Phi\Big(\frac{\tfrac s2 w^\top u - b}{\lVert w\rVert}\Big)\Big],

    with :math:`u = (1, \dots, 1)/\sqrt d` and :math:`\Phi` the standard normal distribution
    function. A rule with :math:`w = 0` predicts one class everywhere: accuracy 0.5.

    Parameters
    ----------
    weights : array_like, shape (..., d)
        The weights :math:`w`, one row per rule (``d = 1`` for one feature).
    bias : array_like, shape (...)
        The biases :math:`b`, broadcast against the rows of ``weights``.
    separation : float
        :math:`s`, the distance between the class means, as in the data functions.

    Returns
    -------
    numpy.ndarray, shape (...)

    Examples
    --------
    >>> round(float(gaussian_classes_accuracy([1.0], 0.0)), 4)  # the best rule: Phi(1)
    0.8413
    >>> gaussian_classes_accuracy([[1.0, 1.0], [0.0, 0.0]], [0.0, 3.0]).round(4).tolist()
    [0.8413, 0.5]
    """
    w = np.asarray(weights, dtype=np.float64)
    b = np.asarray(bias, dtype=np.float64)
    if w.ndim == 0:
        raise ValueError("weights must have a last axis of d >= 1 features, got a scalar")
    if not (np.isfinite(w).all() and np.isfinite(b).all()):
        raise ValueError("weights and bias must be finite")
    if not separation >= 0:
        raise ValueError(f"separation must be >= 0, got {separation!r}")
    along = 0.5 * separation * w.sum(axis=-1) / np.sqrt(w.shape[-1])  # (s/2) w.u
    along, b = np.broadcast_arrays(along, b)
    norm = np.broadcast_to(np.linalg.norm(w, axis=-1), along.shape)
    safe = np.where(norm > 0, norm, 1.0)
    accuracy = 0.5 * (_normal_cdf((along + b) / safe) + _normal_cdf((along - b) / safe))
    result: np.ndarray = np.where(norm > 0, accuracy, 0.5)
    return result


def gaussian_line_mae(
    slope: Any,
    intercept: Any,
    *,
    true_slope: float = 2.0,
    true_intercept: float = 1.0,
    scale: float = 0.5,
) -> np.ndarray:
    r"""The mean absolute error of lines on the whole distribution of :func:`make_line_data`.

    For Gaussian noise of standard deviation :math:`\sigma` (``scale``, no outliers), a line
    :math:`a x + b` misses a new point by :math:`d(x) - \varepsilon`, with
    :math:`d(x) = (a - a^\star)x + (b - b^\star)` its gap to the true line. The mean of
    :math:`|d - \varepsilon|` over the noise is that of a folded normal,

    .. math::
        \mathbb E|d - \varepsilon| = \sigma\sqrt{2/\pi}\,e^{-d^2/(2\sigma^2)}
        + d\,\big(1 - 2\Phi(-d/\sigma)\big),

    and the result is its average over :math:`x \sim \mathcal U(-2, 2)`, computed by 64-point
    Gauss–Legendre quadrature (exact to rounding for these smooth integrands). The true line
    scores :math:`\sigma\sqrt{2/\pi}`, the least any line can.

    Parameters
    ----------
    slope, intercept : array_like
        The lines, broadcast against each other.
    true_slope, true_intercept, scale : float
        :math:`a^\star`, :math:`b^\star` and :math:`\sigma`, as in :func:`make_line_data`.

    Returns
    -------
    numpy.ndarray, the broadcast shape of ``slope`` and ``intercept``

    Examples
    --------
    >>> round(float(gaussian_line_mae(2.0, 1.0)), 4)  # 0.5 * sqrt(2 / pi)
    0.3989
    >>> gaussian_line_mae([2.0, 2.0], [1.5, 0.5]).round(4).tolist()  # 0.5 off, either side
    [0.5833, 0.5833]
    """
    a = np.asarray(slope, dtype=np.float64)
    b = np.asarray(intercept, dtype=np.float64)
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise ValueError("slope and intercept must be finite")
    if not (np.isfinite(scale) and scale > 0):
        raise ValueError(f"scale must be a finite number > 0, got {scale!r}")
    nodes, weights = np.polynomial.legendre.leggauss(64)
    x = 2.0 * nodes  # U(-2, 2): nodes on [-1, 1] scaled, weights summing to 2 -> mean = sum / 2
    a, b = np.broadcast_arrays(a, b)
    gap = (a[..., None] - true_slope) * x + (b[..., None] - true_intercept)
    folded = scale * math.sqrt(2 / math.pi) * np.exp(-0.5 * (gap / scale) ** 2) + gap * (
        1 - 2 * _normal_cdf(-gap / scale)
    )
    mae: np.ndarray = (folded * weights).sum(axis=-1) / 2
    return mae
