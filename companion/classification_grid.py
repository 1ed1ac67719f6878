r"""Chapter 10's grid: classification losses trained on noisy labels, judged on clean ones.

Every run draws a binary problem from :class:`~companion.data.GaussianClasses` (two Gaussian
classes in the plane, balanced or imbalanced), corrupts a share :math:`\eta` of its training
and validation labels (symmetric flips with :func:`~companion.data.flip_labels`, or missed
positives with :func:`miss_positives`), trains a classifier on the noisy labels with
:func:`~companion.networks.train_classifier`, and scores it on a test set with *clean*
labels: accuracy, average precision of the rarer class 1
(:func:`~companion.metrics.average_precision`), the expected calibration error of the
predicted :math:`P(y = 1 \mid x)` (:func:`~companion.calibration.expected_calibration_error`),
the log loss and the Brier score. It also records how many of the flipped training labels
the classifier reproduces, and how many more than its own error rate would explain (its
*memorisation* of the noise), and its scores on the noisy validation labels, the numbers a
practitioner would see. Every run is evaluated every few steps from snapshots of one
training run, and reported at the checkpoint its noisy validation labels prefer (early
stopping) and after the full training. All seeds, noise levels and imbalances of one loss
train together, in one call.

Label noise that does not depend on :math:`x` has a simple effect on the population. If a
label of class 0 is flipped with probability :math:`\eta_0` and one of class 1 with
probability :math:`\eta_1`, the noisy labels have the posterior

.. math:: \tilde p(x) = P(\tilde y = 1 \mid x) = \eta_0 + (1 - \eta_0 - \eta_1)\, p(x),

an increasing function of the clean posterior :math:`p(x)` when :math:`\eta_0 + \eta_1 < 1`:
the same ranking, but probabilities pulled away from :math:`p`. For symmetric noise,
:math:`\eta_0 = \eta_1 = \eta < 1/2`, the decisions at the threshold 1/2 are the same too
(Natarajan et al., 2013), and a loss whose minimiser is the posterior of its labels learns
:math:`\tilde p`, miscalibrated against clean labels by :math:`|\tilde p - p| = 2\eta\,|p -
1/2|` (:func:`noisy_posterior`). Needs PyTorch.

References
----------
N. Natarajan, I. S. Dhillon, P. Ravikumar and A. Tewari, "Learning with Noisy Labels",
*Advances in Neural Information Processing Systems 26*, 1196-1204, 2013.

A. Ghosh, H. Kumar and P. S. Sastry, "Robust Loss Functions under Label Noise for Deep Neural
Networks", *Proceedings of the AAAI Conference on Artificial Intelligence*, 31(1), 2017.

G. Patrini, A. Rozza, A. K. Menon, R. Nock and L. Qu, "Making Deep Neural Networks Robust to
Label Noise: A Loss Correction Approach", *IEEE Conference on Computer Vision and Pattern
Recognition*, 1944-1952, 2017.
"""

# ruff: noqa: UP007 - ``Union[ArrayLike, None]``, not ``ArrayLike | None``: Sphinx resolves
# the ``ArrayLike`` alias (autodoc_type_aliases) inside ``Union`` but not in ``|``.

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Union

import array_api_compat
import numpy as np

from companion._checks import check_count, check_seeds
from companion._extras import missing_extra
from companion._typing import ArrayLike

try:
    import torch
except ModuleNotFoundError as error:
    raise missing_extra(error, "torch", __name__) from error

from companion.calibration import expected_calibration_error
from companion.data import GaussianClasses, flip_labels, noisy_label_arguments
from companion.losses import (
    binary_cross_entropy_with_logits,
    cross_entropy,
    l1_loss,
    mse_loss,
    multi_margin_loss,
    sigmoid_focal_loss,
)
from companion.losses._common import reduce
from companion.losses._validation import check_reduction
from companion.metrics import average_precision
from companion.networks import MLP, LossFn, one_torch_thread, train_classifier

#: The metrics measured in every run, in the order the grid stores them.
METRICS = (
    "accuracy",
    "average precision",
    "ECE",
    "log loss",
    "Brier",
    "reproduced",
    "memorisation",
    "valid accuracy",
    "noisy valid accuracy",
    "noisy valid average precision",
)

#: The metrics also recorded at every checkpoint of training (:attr:`ClassificationGrid.curves`).
CURVES = (
    "accuracy",
    "reproduced",
    "memorisation",
    "valid accuracy",
    "noisy valid accuracy",
    "noisy valid average precision",
)

#: The validation metrics that can choose the early-stopping checkpoint (``stop_on``).
STOPPING_METRICS = ("accuracy", "average precision")


def _one_hot(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return torch.nn.functional.one_hot(target, logits.shape[1]).to(logits.dtype)


def _reduce(values: torch.Tensor, reduction: str) -> torch.Tensor:
    """``reduction`` of per-example losses, checked and applied as the companion's losses do."""
    xp = array_api_compat.array_namespace(values)
    reduced: torch.Tensor = reduce(values, check_reduction(reduction), xp)
    return reduced


def brier_score(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    r"""The Brier score of the softmax of logits against class indices, per example.

    .. math:: \ell_n = \sum_{c} \big(p_{n,c} - [y_n = c]\big)^2, \qquad
              p_{n} = \operatorname{softmax}(x_n),

    the squared error of the probabilities (the companion's ``mse_loss``) summed over the
    classes (Brier, 1950). A strictly proper scoring rule, bounded by 2.

    Parameters
    ----------
    input : torch.Tensor, shape (N, C)
        Logits.
    target : torch.Tensor, shape (N,)
        Class indices (int64).
    reduction : {'mean', 'sum', 'none'}
        ``'none'``: the :math:`\ell_n`, shape (N,).

    Examples
    --------
    >>> z = torch.tensor([[0.0, 0.0], [2.0, -2.0]])
    >>> brier_score(z, torch.tensor([0, 1]), reduction="none").round(decimals=4)
    tensor([0.5000, 1.9287])
    """
    per_class = mse_loss(torch.softmax(input, 1), _one_hot(input, target), reduction="none")
    return _reduce(per_class.sum(1), reduction)


def probability_mae(
    input: torch.Tensor, target: torch.Tensor, reduction: str = "mean"
) -> torch.Tensor:
    r"""The absolute error of the softmax probabilities, per example (Ghosh et al., 2017).

    .. math:: \ell_n = \sum_{c} \big|p_{n,c} - [y_n = c]\big| = 2\,(1 - p_{n,y_n}),

    the L1 loss of chapter 3 (the companion's ``l1_loss``) on the one-hot label. It is
    *symmetric*, :math:`\sum_{k} \ell(x, k) = 2(C - 1)` whatever the logits, the condition
    under which Ghosh et al. prove a loss tolerant to symmetric label noise. Its expected
    value is linear in the probabilities, so it is minimised by putting all the probability
    on the most likely class: a decision, not a probability.

    Parameters
    ----------
    input, target, reduction
        As for :func:`brier_score`.

    Examples
    --------
    >>> z = torch.tensor([[0.0, 0.0], [2.0, -2.0]])
    >>> probability_mae(z, torch.tensor([0, 1]), reduction="none").round(decimals=4)
    tensor([1.0000, 1.9640])
    """
    per_class = l1_loss(torch.softmax(input, 1), _one_hot(input, target), reduction="none")
    return _reduce(per_class.sum(1), reduction)


def forward_corrected_cross_entropy(
    input: torch.Tensor, target: torch.Tensor, reduction: str = "mean", *, eta: float
) -> torch.Tensor:
    r"""Cross-entropy trained through a known symmetric noise model (Patrini et al., 2017).

    .. math:: \ell_n = -\log \tilde q_{n, y_n}, \qquad
              \tilde q_{n} = \eta + (1 - 2\eta)\, \operatorname{softmax}(x_n),

    the *forward* correction for two classes whose labels were flipped with probability
    :math:`\eta < 1/2`: the softmax models the clean posterior :math:`p`, and the loss
    scores the noisy labels against the noisy posterior that :math:`p` implies,
    :math:`\eta + (1 - 2\eta)\,p` (:func:`noisy_posterior`). Its minimiser is therefore the
    clean posterior, not the noisy one.

    Parameters
    ----------
    input : torch.Tensor, shape (N, 2)
        Logits.
    target : torch.Tensor, shape (N,)
        Noisy class indices (int64).
    reduction : {'mean', 'sum', 'none'}
    eta : float
        The flip probability, in [0, 1/2).

    Examples
    --------
    >>> z = torch.tensor([[0.0, 0.0], [0.0, 30.0]])
    >>> loss = forward_corrected_cross_entropy(z, torch.tensor([0, 0]), "none", eta=0.2)
    >>> loss.round(decimals=4)  # -log(1/2) and -log(0.2): never more than -log(eta)
    tensor([0.6931, 1.6094])
    """
    if not 0 <= eta < 0.5:
        raise ValueError(f"eta must be a flip probability in [0, 1/2), got {eta!r}")
    if input.ndim != 2 or input.shape[1] != 2:
        raise ValueError(f"input must hold two logits per example, shape (N, 2), got {input.shape}")
    noisy = eta + (1 - 2 * eta) * torch.softmax(input, 1)
    return _reduce(-torch.log(noisy.gather(1, target[:, None])[:, 0]), reduction)


def fit_logistic_to_probabilities(
    x: ArrayLike, target: ArrayLike, *, steps: int = 30
) -> tuple[np.ndarray, float]:
    r"""Logistic regression fitted to probabilities: the weights ``(w, b)`` of
    :math:`\sigma(w^\top x + b)` that minimise the cross-entropy

    .. math:: -\frac1N \sum_i \big(t_i \log \sigma(z_i) + (1 - t_i) \log(1 - \sigma(z_i))\big),
              \qquad z_i = w^\top x_i + b,

    for targets :math:`t_i \in [0, 1]`. With :math:`t_i = P(\tilde y = 1 \mid x_i)` this is
    the fit to unlimited noisy labels at the points :math:`x_i` (each label's expected
    loss), without sampling any label. Newton's method from zero, ``steps`` steps: the
    gradient is :math:`X^\top(\sigma(z) - t)/N` and the Hessian
    :math:`X^\top \operatorname{diag}(\sigma(z)(1 - \sigma(z)))\, X / N`, with a column of
    ones in :math:`X` for :math:`b`.

    Parameters
    ----------
    x : array_like, shape (N, d)
    target : array_like, shape (N,)
        Probabilities (0/1 labels are the usual maximum-likelihood fit).
    steps : int

    Returns
    -------
    (numpy.ndarray of shape (d,), float)
        ``w`` and ``b``.

    Examples
    --------
    >>> x = np.linspace(-3, 3, 61)[:, None]
    >>> w, b = fit_logistic_to_probabilities(x, 1 / (1 + np.exp(-(2 * x[:, 0] - 1))))
    >>> w.round(6).tolist(), round(b, 6)
    ([2.0], -1.0)
    """
    check_count("steps", steps)
    design = np.asarray(x, dtype=np.float64)
    t = np.asarray(target, dtype=np.float64)
    if design.ndim != 2 or t.shape != design.shape[:1] or not ((t >= 0) & (t <= 1)).all():
        raise ValueError(
            f"x must have shape (N, d) and target N probabilities in [0, 1], got "
            f"{design.shape} and {t.shape}"
        )
    design = np.column_stack([design, np.ones(len(t))])
    theta = np.zeros(design.shape[1])
    for _ in range(steps):
        q = 0.5 * (1 + np.tanh(design @ theta / 2))
        gradient = design.T @ (q - t)
        hessian = (design * (q * (1 - q))[:, None]).T @ design
        theta = theta - np.linalg.solve(hessian, gradient)
    return theta[:-1], float(theta[-1])


@dataclass(frozen=True)
class GridLoss:
    """A loss of the grid: the function, its fixed arguments and the network's outputs.

    ``n_out`` is 2 (two logits, a softmax) or 1 (one logit, a sigmoid, for
    :func:`~companion.losses.classification.sigmoid_focal_loss`).
    """

    loss: LossFn
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    n_out: int = 2


#: The losses of the grid and their arguments, fixed in advance.
#:
#: Label smoothing 0.1 (Szegedy et al., 2016); the focal loss with :math:`\gamma = 2` and
#: without the class weight :math:`\alpha` (Lin et al., 2017; torchvision's ``alpha=-1``);
#: the multi-class hinge with margin 1 (PyTorch's default); the Brier score and the MAE of
#: the softmax probabilities.
GRID_LOSSES: dict[str, GridLoss] = {
    "cross-entropy": GridLoss(cross_entropy),
    "smoothed CE": GridLoss(cross_entropy, {"label_smoothing": 0.1}),
    "focal": GridLoss(sigmoid_focal_loss, {"alpha": -1.0, "gamma": 2.0}, n_out=1),
    "hinge": GridLoss(multi_margin_loss),
    "Brier": GridLoss(brier_score),
    "MAE": GridLoss(probability_mae),
}

#: The noise levels of the grid, each a share of training (and validation) labels flipped.
NOISE_LEVELS = (0.0, 0.1, 0.2, 0.4)

#: The class balances of the grid, as ``GaussianClasses`` priors (``None`` for equal ones).
IMBALANCES: dict[str, tuple[float, float] | None] = {"balanced": None, "1:9": (9.0, 1.0)}

#: The kinds of label noise :func:`noise_imbalance_grid` applies: ``"symmetric"`` flips a
#: share of all labels, whatever their class; ``"missed positives"`` flips a share of the
#: class-1 labels to 0 and leaves class 0 alone (positives that went unrecorded).
NOISE_KINDS = ("symmetric", "missed positives")

#: Training steps between two evaluations of every run (the early-stopping checkpoints).
CHECKPOINT_EVERY = 5

#: The metric each imbalance is judged by, on which its early-stopping checkpoint is chosen.
STOP_ON = {"balanced": "accuracy", "1:9": "average precision"}


def noisy_posterior(
    posterior: ArrayLike, eta: ArrayLike, eta_positive: Union[ArrayLike, None] = None
) -> np.ndarray:
    r"""The posterior of flipped labels: :math:`\eta_0 + (1 - \eta_0 - \eta_1)\,p`.

    A label of class 0 is flipped with probability :math:`\eta_0` (``eta``) and one of class
    1 with probability :math:`\eta_1` (``eta_positive``, by default ``eta``: symmetric noise,
    :math:`\eta + (1 - 2\eta)\,p`), independently of :math:`x`. Then :math:`P(\tilde y = 1
    \mid x) = p\,(1 - \eta_1) + (1 - p)\,\eta_0`.

    Parameters
    ----------
    posterior : array_like
        Clean posteriors :math:`p = P(y = 1 \mid x)` in [0, 1].
    eta, eta_positive : float or array_like
        Flip probabilities in [0, 1], broadcast against ``posterior``.

    Examples
    --------
    >>> noisy_posterior([0.0, 0.5, 0.9], 0.4).round(3).tolist()
    [0.4, 0.5, 0.58]
    >>> noisy_posterior([0.0, 0.5, 0.9], 0.0, 0.3).round(3).tolist()  # positives missed
    [0.0, 0.35, 0.63]
    """
    p = np.asarray(posterior, dtype=np.float64)
    flip_0 = np.asarray(eta, dtype=np.float64)
    flip_1 = flip_0 if eta_positive is None else np.asarray(eta_positive, dtype=np.float64)
    if not all(((v >= 0) & (v <= 1)).all() for v in (p, flip_0, flip_1)):
        raise ValueError("posterior and eta must be probabilities in [0, 1]")
    noisy: np.ndarray = flip_0 + (1 - flip_0 - flip_1) * p
    return noisy


def miss_positives(
    y: ArrayLike, fraction: float | Sequence[float], *, seeds: Sequence[int]
) -> np.ndarray:
    r"""Class-conditional label noise: a ``fraction`` of each run's class-1 labels set to 0.

    Run ``r`` relabels exactly ``round(fraction * N_1)`` of its :math:`N_1` positives, chosen
    uniformly without replacement with ``np.random.default_rng((seeds[r], 2))``, as 0; the
    class-0 labels are left alone. The noisy posterior is then :math:`(1 - \eta_1)\,p`
    (:func:`noisy_posterior` with ``eta=0``). ``y`` is not modified.

    Parameters
    ----------
    y : array_like of int, shape (R, N)
        Labels 0 and 1.
    fraction : float or sequence of float
        The share of positives to relabel, in [0, 1]: one for every run, or one per run.
    seeds : sequence of int
        One seed per run.

    Examples
    --------
    >>> y = np.array([[1, 1, 1, 1, 0, 0], [1, 0, 0, 0, 0, 0]])
    >>> miss_positives(y, 0.5, seeds=[0, 1]).sum(axis=1).tolist()
    [2, 1]
    """
    labels, seed_list, shares = noisy_label_arguments(y, fraction, n_classes=2, seeds=seeds)
    noisy = labels.astype(np.int64)  # a copy
    for run, (seed, share) in enumerate(zip(seed_list, shares, strict=True)):
        positives = np.flatnonzero(labels[run] == 1)
        rng = np.random.default_rng((seed, 2))
        missed = rng.choice(positives, size=round(float(share) * positives.size), replace=False)
        noisy[run, missed] = 0
    return noisy


@dataclass(frozen=True)
class ClassificationGrid:
    r"""What :func:`noise_imbalance_grid` measured, run by run.

    Every run was evaluated every few steps (``checkpoints``); the ``metrics`` and
    ``probabilities`` are those of each run's *early-stopping* checkpoint, the one with the
    highest accuracy on its noisy validation labels (the first, if several tie), as a
    practitioner who keeps the best checkpoint would report. :meth:`at_last_step` gives
    the same grid after the full training instead.

    Attributes
    ----------
    losses, imbalances : list of str
        Names, in the order of the axes below.
    noise_levels : list of float
        The flipped shares :math:`\eta`.
    seeds : list of int
        One data set (and one initialisation) per seed.
    noise : str
        One of :data:`NOISE_KINDS`.
    checkpoints : list of int
        The steps after which every run was evaluated; the last is the length of training.
    stopped_at : numpy.ndarray
        The step each run's ``metrics`` and ``probabilities`` come from, shape ``(losses,
        imbalances, noise_levels, seeds)``.
    probabilities : numpy.ndarray
        Every run's predicted :math:`P(y = 1 \mid x)` on its test set at that step, shape
        ``(losses, imbalances, noise_levels, seeds, n_test)``.
    test_labels : numpy.ndarray
        The clean test labels, shape ``(imbalances, noise_levels, seeds, n_test)``.
    metrics : dict
        Each of :data:`METRICS` at that step, shape ``(losses, imbalances, noise_levels,
        seeds)``: on the clean test labels, the accuracy, the average precision of class 1
        (ranked by the logit, which does not saturate as a probability does), the ECE of
        :math:`P(y = 1)` (15 bins), the log loss and the Brier score :math:`\frac1N
        \sum_i (q_i - y_i)^2` (scikit-learn's ``log_loss`` and ``brier_score_loss``, the log
        loss computed from the logits, exactly); ``"reproduced"``, the share of flipped
        training labels the classifier predicts (NaN without noise), and
        ``"memorisation"``, that share minus the classifier's clean-test error rate; the
        accuracy on the clean and on the noisy validation labels, and the average precision
        on the noisy validation labels (NaN for the runs that ``stop_on`` stops on accuracy,
        where it is not needed).
    curves : dict
        Each of :data:`CURVES` at every checkpoint, shape ``(losses, imbalances,
        noise_levels, seeds, checkpoints)``.
    bayes : dict
        The test metrics of the Bayes posterior (shape ``(imbalances, noise_levels,
        seeds)``), its ``"reproduced"`` and ``"memorisation"``, and, for a model that learned
        the noisy labels' posterior :math:`\tilde p` (:func:`noisy_posterior`) exactly,
        ``"noisy posterior ECE"`` (its ECE, estimated like the networks') and ``"noisy
        posterior accuracy"`` (the accuracy of its decision :math:`\tilde p > 1/2`).
    last_metrics, last_probabilities : dict, numpy.ndarray
        ``metrics`` and ``probabilities`` after the last step.
    """

    losses: list[str]
    imbalances: list[str]
    noise_levels: list[float]
    seeds: list[int]
    noise: str
    checkpoints: list[int]
    stopped_at: np.ndarray
    probabilities: np.ndarray
    test_labels: np.ndarray
    metrics: dict[str, np.ndarray]
    curves: dict[str, np.ndarray]
    bayes: dict[str, np.ndarray]
    last_metrics: dict[str, np.ndarray]
    last_probabilities: np.ndarray

    def at_last_step(self) -> ClassificationGrid:
        """The same grid with every run's metrics and probabilities after the full training."""
        return replace(
            self,
            stopped_at=np.full_like(self.stopped_at, self.checkpoints[-1]),
            probabilities=self.last_probabilities,
            metrics=self.last_metrics,
        )

    def _values(self, metric: str) -> np.ndarray:
        if metric not in self.metrics:
            raise ValueError(f"metric must be one of {list(self.metrics)}, got {metric!r}")
        return self.metrics[metric]

    def mean(self, metric: str) -> np.ndarray:
        """Mean over seeds, shape ``(losses, imbalances, noise_levels)``."""
        return np.asarray(self._values(metric).mean(axis=-1))

    def standard_error(self, metric: str) -> np.ndarray:
        """Standard error of :meth:`mean` over seeds (``ddof=1``), same shape."""
        values = self._values(metric)
        return np.asarray(values.std(axis=-1, ddof=1) / np.sqrt(values.shape[-1]))

    def difference(self, metric: str, loss: str, baseline: str) -> tuple[np.ndarray, np.ndarray]:
        """Paired difference ``loss - baseline`` and its standard error over seeds.

        Both losses saw the same data sets, so the difference is surer than either mean.
        Returns two arrays of shape ``(imbalances, noise_levels)``.
        """
        values = self._values(metric)
        gap = values[self.losses.index(loss)] - values[self.losses.index(baseline)]
        return gap.mean(axis=-1), gap.std(axis=-1, ddof=1) / np.sqrt(gap.shape[-1])

    def summary(self, metric: str, imbalance: str, digits: int = 2) -> list[list[str]]:
        """``"mean ± standard error"`` for every loss (rows) and noise level (columns)."""
        k = self.imbalances.index(imbalance)
        mean, se = self.mean(metric)[:, k], self.standard_error(metric)[:, k]
        return [
            [f"{m:.{digits}f} ± {s:.{digits}f}" for m, s in zip(row_m, row_s, strict=True)]
            for row_m, row_s in zip(mean, se, strict=True)
        ]


def noise_imbalance_grid(
    losses: Mapping[str, GridLoss] = GRID_LOSSES,
    *,
    noise_levels: Sequence[float] = NOISE_LEVELS,
    imbalances: Mapping[str, tuple[float, float] | None] = IMBALANCES,
    seeds: Sequence[int] = range(20),
    sizes: tuple[int, int, int] = (100, 200, 1000),
    separation: float = 2.0,
    n_hidden: int = 16,
    steps: int = 60,
    lr: float = 0.05,
    noise: str = "symmetric",
    stop_on: str | Mapping[str, str] = "accuracy",
) -> ClassificationGrid:
    r"""Train every loss on noisy labels for every imbalance, noise level and seed.

    Seed ``s`` draws the training, validation and test sets of ``sizes`` from
    ``GaussianClasses(separation=separation, priors=...)`` (the same points at every noise
    level) and corrupts its training and validation labels: with ``noise="symmetric"``,
    :func:`~companion.data.flip_labels` flips ``round(eta * n)`` of them (seed ``s``); with
    ``"missed positives"``, :func:`miss_positives` sets ``round(eta * n_1)`` of the ``n_1``
    positives to 0. The network is initialised with seed ``s``. Each loss trains all
    ``imbalances x noise_levels x seeds`` runs in one
    :func:`~companion.networks.train_classifier` call: a network with ``n_hidden`` ReLUs (0:
    the linear model) trained full-batch with Adam at learning rate ``lr`` for ``steps``
    steps, evaluated every :data:`CHECKPOINT_EVERY` steps (and after the last) from the
    snapshots of that one run. Test labels are never flipped. Everything runs on one CPU
    thread, as :func:`~companion.networks.train_classifier` does (for tensors this small,
    more threads only add synchronisation).

    Returns
    -------
    ClassificationGrid
        Metrics at each run's early-stopping checkpoint (best noisy validation accuracy);
        :meth:`ClassificationGrid.at_last_step` for those after ``steps`` steps.

    Examples
    --------
    >>> grid = noise_imbalance_grid(
    ...     {"Brier": GRID_LOSSES["Brier"]}, noise_levels=[0.0, 0.2], seeds=[0, 1],
    ...     sizes=(40, 20, 100), steps=10)
    >>> grid.metrics["accuracy"].shape, grid.checkpoints
    ((1, 2, 2, 2), [5, 10])
    """
    with one_torch_thread():
        return _grid(
            losses, noise_levels, imbalances, seeds, sizes, separation, n_hidden, steps, lr,
            noise, stop_on,
        )  # fmt: skip


def _scores(model: MLP, inputs: torch.Tensor) -> np.ndarray:
    """Each run's score for class 1: the logit difference (two outputs) or the logit (one).

    ``inputs`` holds each run's points as columns, shape ``(R, d, N)``: with the network's
    last layer reduced to one column first, scoring thousands of points at every checkpoint
    costs a few times less than :func:`~companion.networks.predict`.
    """
    with torch.no_grad():
        if model.w2 is None or model.b2 is None:
            features, weight, bias = inputs, model.w1, model.b1
        else:
            hidden = torch.baddbmm(model.b1.mT, model.w1.mT, inputs)
            features, weight, bias = hidden.relu_(), model.w2, model.b2
        if model.n_out == 2:
            weight, bias = weight[..., 1:] - weight[..., :1], bias[..., 1:] - bias[..., :1]
        score = torch.baddbmm(bias, weight.mT, features)[:, 0]
    return np.asarray(score.double().numpy())


def _sigmoid(score: np.ndarray) -> np.ndarray:
    probability: np.ndarray = 0.5 * (1 + np.tanh(score / 2))
    return probability


def _test_metrics(
    y: np.ndarray, score: np.ndarray, probability: np.ndarray | None = None
) -> dict[str, np.ndarray]:
    """Accuracy, AP, ECE, log loss and Brier score of every run on clean labels.

    ``score`` is the logit of the probability of class 1, ``probability`` (by default its
    sigmoid).
    """
    labels = y.astype(np.float64)
    probability = _sigmoid(score) if probability is None else probability
    log_loss = binary_cross_entropy_with_logits(score, labels, reduction="none")
    return {
        "accuracy": ((score > 0) == y).mean(axis=-1),
        "average precision": average_precision(y, score),
        "ECE": expected_calibration_error(y, probability),
        "log loss": np.asarray(log_loss).mean(axis=-1),
        "Brier": ((probability - labels) ** 2).mean(axis=-1),
    }


def _select_runs(snapshots: Sequence[MLP], index: np.ndarray) -> MLP:
    """The network whose run ``r`` is run ``r`` of ``snapshots[index[r]]``."""
    rows = torch.as_tensor(index)
    runs = torch.arange(len(index))
    weights = zip(*(snapshot.weights for snapshot in snapshots), strict=True)
    return MLP(*(torch.stack(stage)[rows, runs] for stage in weights))


def _grid(
    losses: Mapping[str, GridLoss],
    noise_levels: Sequence[float],
    imbalances: Mapping[str, tuple[float, float] | None],
    seeds: Sequence[int],
    sizes: tuple[int, int, int],
    separation: float,
    n_hidden: int,
    steps: int,
    lr: float,
    noise: str,
    stop_on: str | Mapping[str, str],
) -> ClassificationGrid:
    """:func:`noise_imbalance_grid` on one thread."""
    seed_list = check_seeds(seeds)
    check_count("steps", steps)
    if len(seed_list) < 2:
        raise ValueError("noise_imbalance_grid needs at least two seeds for standard errors")
    etas = [float(eta) for eta in noise_levels]
    if noise not in NOISE_KINDS:
        raise ValueError(f"noise must be one of {NOISE_KINDS}, got {noise!r}")
    top = 0.5 if noise == "symmetric" else 1.0
    if not etas or not all(0 <= eta < top for eta in etas):
        raise ValueError(
            f"noise_levels must be shares in [0, {top:g}) for {noise} noise, got "
            f"{list(noise_levels)!r}"
        )
    if not losses or not imbalances:
        raise ValueError("losses and imbalances must each name at least one setting")
    rules = {name: stop_on for name in imbalances} if isinstance(stop_on, str) else stop_on
    if set(rules) != set(imbalances) or not set(rules.values()) <= set(STOPPING_METRICS):
        raise ValueError(
            f"stop_on must be one of {STOPPING_METRICS}, or map every imbalance "
            f"({list(imbalances)}) to one, got {stop_on!r}"
        )
    shape = (len(imbalances), len(etas), len(seed_list))
    runs = int(np.prod(shape))
    split_arrays: list[list[np.ndarray]] = [[] for _ in range(6)]
    posteriors, train_posteriors = [], []
    for priors in imbalances.values():
        problem = GaussianClasses(separation=separation, priors=priors)
        splits = problem.sample_splits(list(sizes), seeds=seed_list)
        for _ in etas:  # the same points at every noise level
            for k, array in enumerate(a for split in splits for a in split):
                split_arrays[k].append(array)
            posteriors.append(problem.posterior(splits[2][0])[..., 1])
            train_posteriors.append(problem.posterior(splits[0][0])[..., 1])
    x, y, x_valid, y_valid, x_test, y_test = (np.concatenate(a) for a in split_arrays)
    posterior, train_posterior = np.concatenate(posteriors), np.concatenate(train_posteriors)
    eta_run = np.broadcast_to(np.asarray(etas)[None, :, None], shape).reshape(runs)
    shares = [float(eta) for eta in eta_run]
    run_seeds = seed_list * (runs // len(seed_list))
    if noise == "symmetric":
        noisy = flip_labels(y, shares, n_classes=2, seeds=run_seeds)
        noisy_valid = flip_labels(y_valid, shares, n_classes=2, seeds=run_seeds)
        p_noisy = noisy_posterior(posterior, eta_run[:, None])
    else:
        noisy = miss_positives(y, shares, seeds=run_seeds)
        noisy_valid = miss_positives(y_valid, shares, seeds=run_seeds)
        p_noisy = noisy_posterior(posterior, 0.0, eta_run[:, None])
    flipped = noisy != y
    on_ap = np.repeat([rules[name] != "accuracy" for name in imbalances], runs // len(imbalances))
    checkpoints = sorted({*range(CHECKPOINT_EVERY, steps + 1, CHECKPOINT_EVERY), steps})

    inputs = [torch.as_tensor(a, dtype=torch.float32).mT.contiguous() for a in (x, x_valid, x_test)]

    def reproduced(train_score: np.ndarray) -> np.ndarray:
        hits = np.where(flipped, (train_score > 0) == noisy, False).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            share: np.ndarray = hits / flipped.sum(axis=1)
        return share

    def track(model: MLP) -> dict[str, np.ndarray]:  # the metrics of CURVES, cheap
        train_score, valid_score, test_score = (_scores(model, a) for a in inputs)
        train, valid, test = train_score > 0, valid_score > 0, test_score > 0
        values = {"accuracy": (test == y_test).mean(axis=1), "reproduced": reproduced(train)}
        values["memorisation"] = values["reproduced"] - (1 - values["accuracy"])
        values["valid accuracy"] = (valid == y_valid).mean(axis=1)
        values["noisy valid accuracy"] = (valid == noisy_valid).mean(axis=1)
        ranked = np.full(len(on_ap), np.nan)  # only where it chooses the checkpoint
        if on_ap.any():
            ranked[on_ap] = average_precision(noisy_valid[on_ap], valid_score[on_ap])
        values["noisy valid average precision"] = ranked
        return values

    def evaluate(model: MLP) -> tuple[dict[str, np.ndarray], np.ndarray]:  # all METRICS
        score = _scores(model, inputs[2])
        return {**_test_metrics(y_test, score), **track(model)}, _sigmoid(score)

    curves: dict[str, list[np.ndarray]] = {name: [] for name in CURVES}
    results: dict[str, list[Any]] = {key: [] for key in ("stop", "stopped", "p", "last", "p_last")}
    for spec in losses.values():
        result = train_classifier(
            x, noisy, spec.loss, seeds=run_seeds, lr=lr, n_out=spec.n_out,
            optimizer="adam", batch_size=sizes[0], epochs=steps, n_hidden=n_hidden,
            loss_kwargs=spec.kwargs, snapshots=checkpoints,
        )  # fmt: skip
        snapshots = [result.snapshots[step] for step in checkpoints]
        per_step = [track(model) for model in snapshots]
        for name in CURVES:
            curves[name].append(np.stack([values[name] for values in per_step], axis=-1))
        accuracy, ap = (
            np.stack([v[f"noisy valid {m}"] for v in per_step]) for m in STOPPING_METRICS
        )
        best = np.nan_to_num(np.where(on_ap, ap, accuracy), nan=-np.inf).argmax(axis=0)
        results["stop"].append(np.asarray(checkpoints)[best])
        for key, model in [("stopped", _select_runs(snapshots, best)), ("last", result.model)]:
            values, probability = evaluate(model)
            results[key].append(values)
            results["p" if key == "stopped" else "p_last"].append(probability)
    bayes = _test_metrics(y_test, np.log(posterior) - np.log1p(-posterior), posterior)
    bayes["reproduced"] = reproduced(np.log(train_posterior) - np.log1p(-train_posterior))
    bayes["memorisation"] = bayes["reproduced"] - (1 - bayes["accuracy"])
    bayes["noisy posterior ECE"] = expected_calibration_error(y_test, p_noisy)
    bayes["noisy posterior accuracy"] = ((p_noisy > 0.5) == y_test).mean(axis=1)

    def by_metric(per_loss: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
        return {
            name: np.stack([values[name] for values in per_loss]).reshape(len(losses), *shape)
            for name in METRICS
        }

    return ClassificationGrid(
        losses=list(losses),
        imbalances=list(imbalances),
        noise_levels=etas,
        seeds=seed_list,
        noise=noise,
        checkpoints=checkpoints,
        stopped_at=np.stack(results["stop"]).reshape(len(losses), *shape),
        probabilities=np.stack(results["p"]).reshape(len(losses), *shape, sizes[2]),
        test_labels=y_test.reshape(*shape, sizes[2]),
        metrics=by_metric(results["stopped"]),
        curves={
            name: np.stack(values).reshape(len(losses), *shape, len(checkpoints))
            for name, values in curves.items()
        },
        bayes={k: np.asarray(v).reshape(shape) for k, v in bayes.items()},
        last_metrics=by_metric(results["last"]),
        last_probabilities=np.stack(results["p_last"]).reshape(len(losses), *shape, sizes[2]),
    )


def plot_noise_grid(
    grid: ClassificationGrid,
    axes: Any,
    panels: Sequence[tuple[str, str]] = (("accuracy", "balanced"), ("average precision", "1:9")),
) -> Any:
    """Each loss's mean against the noise level, with 95% intervals (±1.96 standard errors).

    ``axes`` holds one axes per ``(metric, imbalance)`` panel. The losses are offset slightly
    along the noise axis so that their intervals do not hide one another. The value of the
    true posterior (the Bayes classifier) is a dashed grey line; in an ``"ECE"`` panel a
    dotted black line is the calibration error of the noisy labels' posterior
    (``grid.bayes["noisy posterior ECE"]``). One legend goes above the panels.
    """
    from companion.plotting import label

    axes_list = list(np.atleast_1d(np.asarray(axes, dtype=object)).ravel())
    if len(axes_list) != len(panels):
        raise ValueError(f"need one axes per panel ({len(panels)}), got {len(axes_list)}")
    noise = 100 * np.asarray(grid.noise_levels)
    offsets = np.linspace(-1.2, 1.2, len(grid.losses))
    for i, (ax, (metric, imbalance)) in enumerate(zip(axes_list, panels, strict=True)):
        col = grid.imbalances.index(imbalance)
        mean, half = grid.mean(metric)[:, col], 1.96 * grid.standard_error(metric)[:, col]
        for k, name in enumerate(grid.losses):
            ax.errorbar(
                noise + offsets[k], mean[k], yerr=half[k], fmt="o-", ms=4, lw=1.2,
                capsize=2, label=name,
            )  # fmt: skip
        if metric in grid.bayes:
            bayes = grid.bayes[metric][col].mean(axis=-1)
            ax.plot(noise, bayes, "--", color="0.45", lw=1.5, label="true posterior")
        if metric == "ECE":
            theory = grid.bayes["noisy posterior ECE"][col].mean(axis=-1)
            ax.plot(noise, theory, ":", color="black", lw=2, label="noisy posterior")
        ax.set_xticks(noise, [f"{v:g}%" for v in noise])
        last = i == len(panels) - 1
        label(ax, f"{metric}, {imbalance}", "labels flipped" if last else "", "")
    _legend_above(axes_list, grid.losses)
    return axes


def _legend_above(axes_list: list[Any], losses: list[str]) -> None:
    """One legend above the panels: the losses, then the reference lines."""
    seen: dict[str, Any] = {}
    for ax in axes_list:
        for handle, name in zip(*ax.get_legend_handles_labels(), strict=True):
            seen.setdefault(name, handle)
    order = [*losses, *(name for name in seen if name not in losses)]
    seen = {name: seen[name] for name in order}
    axes_list[0].figure.legend(list(seen.values()), list(seen), loc="outside upper center", ncols=3)


def plot_training_curves(
    grid: ClassificationGrid, axes: Any, panels: Sequence[tuple[str, str, float]]
) -> Any:
    """Each loss's mean over seeds of a metric at every checkpoint of training.

    ``panels`` names one ``(metric, imbalance, noise level)`` per axes, the metric one of
    :data:`CURVES`. The Bayes classifier's value, where the grid has one, is a dashed grey
    line. The losses keep the colours of :func:`plot_noise_grid`; one legend goes above the
    panels.
    """
    from companion.plotting import label

    axes_list = list(np.atleast_1d(np.asarray(axes, dtype=object)).ravel())
    if len(axes_list) != len(panels):
        raise ValueError(f"need one axes per panel ({len(panels)}), got {len(axes_list)}")
    for i, (ax, (metric, imbalance, eta)) in enumerate(zip(axes_list, panels, strict=True)):
        if metric not in grid.curves:
            raise ValueError(f"metric must be one of {list(grid.curves)}, got {metric!r}")
        col, e = grid.imbalances.index(imbalance), grid.noise_levels.index(eta)
        for k, name in enumerate(grid.losses):
            ax.plot(
                grid.checkpoints, grid.curves[metric][k, col, e].mean(axis=0), lw=1.5, label=name
            )
        if metric in grid.bayes:
            bayes = float(grid.bayes[metric][col, e].mean())
            ax.axhline(bayes, ls="--", color="0.45", lw=1.5, label="true posterior")
        last = i == len(panels) - 1
        label(ax, f"{metric}, {imbalance}, {eta:.0%} flipped", "training step" if last else "", "")
    _legend_above(axes_list, grid.losses)
    return axes
