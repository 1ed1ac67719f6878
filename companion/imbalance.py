r"""Class imbalance: the decisions a threshold makes, and the probability each loss aims at.

Chapter 9 compares plain, weighted and focal cross-entropy on a 1:100 problem. Two tools:

- :func:`decisions` counts a threshold's true and false positives for many runs at once and
  gives precision, recall, F1 and accuracy, equal to scikit-learn's metrics run by run;
- :func:`best_probability` finds the prediction that minimises a binary loss's expected
  value when the true probability of class 1 is :math:`\eta`: the probability a model
  trained with that loss aims at, wherever it can fit it;
- :func:`precision_recall_points` gives the precision-recall curve of one run, the points
  of :func:`sklearn.metrics.precision_recall_curve`, without importing scikit-learn (whose
  import costs a chapter about a second);
- :func:`fit_linear_exact` fits a linear model to the exact minimum of any binary loss on
  logits, for many runs at once, so that losses are compared through their minimisers
  rather than through an optimiser's stopping point;
- :class:`HeavyTailedNegatives` is a rare Gaussian class among negatives with Student-t
  tails, a problem on which no linear model contains the Bayes posterior.

NumPy (the losses are the companion's, on NumPy arrays); :func:`fit_linear_exact` imports
PyTorch for the derivatives of the loss.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from companion._checks import check_count, check_seeds
from companion._extras import missing_extra
from companion._typing import ArrayLike
from companion.data import GaussianClasses

try:
    import torch
except ModuleNotFoundError as error:
    raise missing_extra(error, "torch", __name__) from error

from companion.networks import one_torch_thread  # noqa: E402 (after the torch check)


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


@dataclass(frozen=True)
class LinearFit:
    r"""What :func:`fit_linear_exact` returns: one linear model per run.

    Attributes
    ----------
    weights : numpy.ndarray
        :math:`\hat w`, shape ``(R, d)``.
    biases : numpy.ndarray
        :math:`\hat b`, shape ``(R,)``.
    gradient_norm : numpy.ndarray
        The largest component of each run's gradient of the mean loss at the fit, shape
        ``(R,)``: at most the ``tol`` of the fit.
    iterations : int
        Newton steps taken (by the slowest run).
    """

    weights: np.ndarray
    biases: np.ndarray
    gradient_norm: np.ndarray
    iterations: int

    def logits(self, x: ArrayLike) -> np.ndarray:
        """Every run's logits :math:`w^\top x + b` for new inputs ``(N, d)`` or ``(R, N, d)``,
        shape ``(R, N)``."""
        inputs = _inputs(x, self.weights.shape[0])
        if inputs.shape[2] != self.weights.shape[1]:
            raise ValueError(
                f"x must have {self.weights.shape[1]} features (last axis), got {inputs.shape}"
            )
        z: np.ndarray = np.einsum("rnd,rd->rn", inputs, self.weights) + self.biases[:, None]
        return z


def fit_linear_exact(
    loss: Callable[..., Any],
    x: ArrayLike,
    y: ArrayLike,
    *,
    tol: float = 1e-10,
    max_iter: int = 100,
    **loss_kwargs: Any,
) -> LinearFit:
    r"""The linear model that minimises a binary loss's mean over its training set, run by run.

    For each run, with logits :math:`z_i = w^\top x_i + b` and :math:`a_i = (x_i, 1)`,
    Newton's method, from zero weights and the bias
    :math:`\log(\bar t / (1 - \bar t))`, minimises

    .. math:: L(w, b) = \frac1N \sum_{i=1}^N \ell(z_i, t_i),

    with gradient and Hessian

    .. math:: \nabla L = \frac1N \sum_i \ell'(z_i)\, a_i, \qquad
              \nabla^2 L = \frac1N \sum_i \ell''(z_i)\, a_i a_i^\top,

    where :math:`\ell'` and :math:`\ell''` are the derivatives of one example's loss with
    respect to its logit, taken by PyTorch's autograd in float64. Each step is halved until
    the loss falls (Armijo's rule). A loss that is not convex in the logit (the focal loss
    curves down on confident mistakes, :math:`\ell'' < 0`) can make the Hessian indefinite
    away from the minimum; there the step uses the absolute values of its eigenvalues, which
    still points downhill. Near a minimum the steps are plain Newton steps and converge
    quadratically. The fit stops once every run's gradient is below ``tol`` (largest
    component): the minimum of a convex loss (the cross-entropy, with or without
    ``pos_weight``), a local minimum in general.

    Parameters
    ----------
    loss : callable
        A binary loss on logits, elementwise, called as
        ``loss(z, t, reduction="none", **loss_kwargs)`` on float64 tensors of shape
        ``(R, N)``: :func:`~companion.losses.classification.binary_cross_entropy_with_logits`,
        :func:`~companion.losses.classification.sigmoid_focal_loss`...
    x : array_like, shape (N, d) or (R, N, d)
        Inputs: shared by every run, or one set per run.
    y : array_like, shape (N,) or (R, N)
        Targets in [0, 1] (labels 0 and 1).
    tol : float
        The largest gradient component accepted at the minimum.
    max_iter : int
        Newton steps allowed.
    **loss_kwargs
        Further arguments of ``loss`` (``pos_weight``, ``gamma``, ``alpha``...).

    Returns
    -------
    LinearFit

    Raises
    ------
    ValueError
        For bad input, a loss that does not give one value per example, or a run that has
        not converged in ``max_iter`` steps (as when its classes can be separated by a line
        and the minimiser lies at infinity).

    Examples
    --------
    >>> from companion import binary_cross_entropy_with_logits, sigmoid_focal_loss
    >>> x = [[-2.0], [-1.0], [-0.5], [0.5], [1.0], [2.0], [3.0]]
    >>> y = [0, 0, 1, 0, 1, 1, 1]
    >>> fit = fit_linear_exact(binary_cross_entropy_with_logits, x, y)
    >>> fit.weights.round(4).tolist(), fit.biases.round(4).tolist()
    ([[1.4004]], [0.0167])
    >>> focal = fit_linear_exact(sigmoid_focal_loss, x, y, gamma=2.0, alpha=-1.0)
    >>> bool(focal.gradient_norm[0] <= 1e-10)
    True
    """
    if not (np.isfinite(tol) and tol > 0):
        raise ValueError(f"tol must be finite and > 0, got {tol!r}")
    check_count("max_iter", max_iter)
    targets = np.asarray(y, dtype=np.float64)
    if targets.ndim not in (1, 2) or targets.shape[-1] == 0:
        raise ValueError(f"y must have shape (N,) or (R, N) with N > 0, got {targets.shape}")
    shared = np.ndim(x) != 3
    runs = np.shape(x)[0] if not shared else (targets.shape[0] if targets.ndim == 2 else 1)
    inputs = _inputs(x, runs)
    if targets.ndim == 1:
        targets = np.broadcast_to(targets, (runs, targets.size))
    if targets.shape != inputs.shape[:2]:
        raise ValueError(
            f"x and y must hold the same runs and points, got shapes {inputs.shape} and "
            f"{targets.shape}"
        )
    if not (np.isfinite(targets).all() and ((targets >= 0) & (targets <= 1)).all()):
        raise ValueError("y must hold targets in [0, 1] (labels 0 and 1)")
    a = np.concatenate([inputs, np.ones((*inputs.shape[:2], 1))], axis=2)
    with one_torch_thread():
        theta, norm, iterations = _newton(
            loss, a, torch.tensor(targets), loss_kwargs, tol, max_iter
        )
    return LinearFit(theta[:, :-1], theta[:, -1], norm, iterations)


def _newton(
    loss: Callable[..., Any],
    a: np.ndarray,
    t: torch.Tensor,
    loss_kwargs: dict[str, Any],
    tol: float,
    max_iter: int,
) -> tuple[np.ndarray, np.ndarray, int]:
    """:func:`fit_linear_exact`'s iterations on the inputs ``a = (x, 1)``, shape (R, N, k)."""

    def mean_loss(theta: np.ndarray, derivatives: bool = False) -> tuple[np.ndarray, ...]:
        z = torch.as_tensor((a @ theta[:, :, None])[:, :, 0]).requires_grad_(derivatives)
        values = loss(z, t, reduction="none", **loss_kwargs)
        if values.shape != z.shape:
            raise ValueError(
                "loss must give one value per example with reduction='none' (shape "
                f"{tuple(z.shape)}), got shape {tuple(values.shape)}"
            )
        mean = values.detach().numpy().mean(axis=1)
        if not derivatives:
            return (mean,)
        (first,) = torch.autograd.grad(values.sum(), z, create_graph=True)
        (second,) = torch.autograd.grad(first.sum(), z)
        return mean, first.detach().numpy(), second.numpy()

    runs, n, _ = a.shape
    share = np.clip(t.numpy().mean(axis=1), 1e-6, 1 - 1e-6)
    theta = np.zeros((runs, a.shape[2]))
    theta[:, -1] = np.log(share / (1 - share))  # the cross-entropy's best constant
    for iteration in range(max_iter + 1):
        value, first, second = mean_loss(theta, derivatives=True)
        grad = (first[:, None, :] @ a)[:, 0, :] / n
        norm = np.abs(grad).max(axis=1)
        if (norm <= tol).all():
            return theta, norm, iteration
        if iteration == max_iter:
            break
        hessian = np.matmul(a.transpose(0, 2, 1) * second[:, None, :], a) / n
        eigenvalues, vectors = np.linalg.eigh(hessian)
        floor = 1e-12 * np.maximum(1.0, np.abs(eigenvalues).max(axis=1, keepdims=True))
        along = np.einsum("rkj,rk->rj", vectors, grad) / np.maximum(np.abs(eigenvalues), floor)
        step = -np.einsum("rkj,rj->rk", vectors, along) * (norm > tol)[:, None]
        slope = (grad * step).sum(axis=1)  # < 0: downhill
        scale = np.ones(runs)
        for _ in range(60):  # halve the steps that do not lower the loss enough
            trial = theta + scale[:, None] * step
            (new,) = mean_loss(trial)
            worse = ~(new <= value + 1e-4 * scale * slope + 1e-14 * np.abs(value))
            if not worse.any():
                break
            scale = np.where(worse, scale / 2, scale)
        theta = trial
    raise ValueError(
        f"Newton's method did not reach a gradient below {tol} in {max_iter} steps; are the "
        "classes of a run separable by a line? (The minimiser is then at infinity.)"
    )


def _inputs(x: ArrayLike, runs: int) -> np.ndarray:
    """Inputs ``(N, d)`` or ``(R, N, d)`` as float64 of shape ``(R, N, d)``."""
    inputs = np.asarray(x, dtype=np.float64)
    if inputs.ndim == 2:
        inputs = np.broadcast_to(inputs, (runs, *inputs.shape))
    if inputs.ndim != 3 or inputs.shape[0] != runs or inputs.shape[1] == 0:
        raise ValueError(f"x must have shape (N, d) or ({runs}, N, d), got {inputs.shape}")
    if not np.isfinite(inputs).all():
        raise ValueError("x must be finite")
    return inputs


@dataclass(frozen=True)
class HeavyTailedNegatives:
    r"""A rare Gaussian class among negatives with heavy tails: a linear model is misspecified.

    The positives (class 1) are :math:`\mathcal N(\mu_1, I_d)` and the negatives (class 0)
    have independent Student-:math:`t` features with :math:`\nu` degrees of freedom,
    :math:`x = \mu_0 + \varepsilon`, :math:`\varepsilon_j \sim t_\nu`, with
    :math:`\mu_{0,1} = \mp (s/2)\, e_1` as in
    :class:`~companion.data.GaussianClasses`. The log-odds of the posterior,

    .. math:: \log\frac{\pi_1}{\pi_0} + \sum_j \log\varphi(x_j - \mu_{1j})
              - \sum_j \log t_\nu(x_j - \mu_{0j}),

    are not linear in :math:`x`: far from the means in any direction the heavy tails win,
    so the positive region is bounded, and a linear logit cannot represent it. With
    :math:`\nu \le 2` the negatives' variance is infinite, and a few of them land far out.

    Attributes
    ----------
    df : float
        :math:`\nu > 0`.
    separation : float
        :math:`s \ge 0`.
    priors : (float, float)
        Relative frequencies of class 0 and class 1, as for ``GaussianClasses``.
    features : int
        :math:`d \ge 1`.

    Examples
    --------
    >>> problem = HeavyTailedNegatives(priors=(9, 1))
    >>> (x, y), = problem.sample_splits([20], seeds=[0, 1])
    >>> x.shape, y.shape, y.sum(axis=1).tolist()
    ((2, 20, 2), (2, 20), [2, 2])
    >>> problem.posterior([[1.5, 0.0], [12.0, 0.0]])[:, 1].round(3).tolist()
    [0.646, 0.0]
    """

    df: float = 2.0
    separation: float = 3.0
    priors: tuple[float, float] = (100.0, 1.0)
    features: int = 2

    def __post_init__(self) -> None:
        if not (np.isfinite(self.df) and self.df > 0):
            raise ValueError(f"df must be finite and > 0, got {self.df!r}")
        check_count("features", self.features)
        GaussianClasses(2, self.features, self.separation, self.priors)  # checks the rest

    @property
    def _gaussian(self) -> GaussianClasses:
        """The Gaussian problem with the same means, priors and class counts."""
        return GaussianClasses(2, self.features, self.separation, self.priors)

    def sample_splits(
        self, sizes: Sequence[int], seeds: Sequence[int]
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """Independent samples of the given sizes for every run, with exact class counts.

        Run ``r`` draws from ``np.random.default_rng(seeds[r])``, sample after sample: the
        order of the labels (a permutation of ``GaussianClasses.class_counts``), then the
        Gaussian noise of every point, then the Student-:math:`t` noise, of which each
        negative takes its row.

        Returns
        -------
        list of (x, y)
            ``x`` float64 ``(R, n, d)``, ``y`` int64 ``(R, n)``, one pair per size.
        """
        seed_list = check_seeds(seeds)
        problem = self._gaussian
        means = problem.means
        draws: list[list[tuple[np.ndarray, np.ndarray]]] = []
        for seed in seed_list:
            rng = np.random.default_rng(seed)
            draws.append([])
            for n in sizes:
                y = rng.permutation(np.repeat([0, 1], problem.class_counts(n)))
                gaussian = rng.standard_normal((n, self.features))
                heavy = rng.standard_t(self.df, (n, self.features))
                noise = np.where(y[:, None] == 1, gaussian, heavy)
                draws[-1].append((means[y] + noise, y))
        return [
            (np.stack([run[k][0] for run in draws]), np.stack([run[k][1] for run in draws]))
            for k in range(len(sizes))
        ]

    def posterior(self, x: ArrayLike) -> np.ndarray:
        r"""The Bayes posterior :math:`P(y = k \mid x)`, shape ``(..., 2)``, for inputs
        ``(..., d)``."""
        points = np.asarray(x, dtype=np.float64)
        if points.ndim == 0 or points.shape[-1] != self.features:
            raise ValueError(
                f"x must have shape (..., {self.features}) (the features last), got {points.shape}"
            )
        problem = self._gaussian
        means, priors = problem.means, problem.class_priors
        nu = self.df
        log_t = (
            math.lgamma((nu + 1) / 2)
            - math.lgamma(nu / 2)
            - 0.5 * math.log(nu * math.pi)
            - (nu + 1) / 2 * np.log1p((points - means[0]) ** 2 / nu)
        ).sum(axis=-1)
        log_gauss = (-0.5 * (points - means[1]) ** 2 - 0.5 * math.log(2 * math.pi)).sum(axis=-1)
        log_odds = math.log(priors[1] / priors[0]) + log_gauss - log_t
        positive = 0.5 * (1.0 + np.tanh(0.5 * log_odds))  # sigmoid without overflow
        result: np.ndarray = np.stack([1.0 - positive, positive], axis=-1)
        return result


def _ratio(numerator: np.ndarray, denominator: np.ndarray, empty: float = np.nan) -> np.ndarray:
    """``numerator / denominator`` as float64, ``empty`` where the denominator is 0."""
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.asarray(numerator, dtype=np.float64) / denominator
    return np.where(np.asarray(denominator) > 0, ratio, empty)
