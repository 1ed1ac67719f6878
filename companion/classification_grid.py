r"""Chapter 10's grid: classification losses trained on noisy labels, judged on clean ones.

Every run draws a binary problem from :class:`~companion.data.GaussianClasses` (two Gaussian
classes in the plane, balanced or imbalanced), flips a share :math:`\eta` of its training and
validation labels (:func:`~companion.data.flip_labels`, symmetric noise), trains a classifier
on the noisy labels with :func:`~companion.networks.train_classifier`, and scores it on a
test set with *clean* labels: accuracy, average precision of the rarer class 1
(:func:`~companion.metrics.average_precision`) and the expected calibration error of the
predicted :math:`P(y = 1 \mid x)` (:func:`~companion.calibration.expected_calibration_error`).
It also records how many of the flipped training labels the classifier reproduces (its
*memorisation* of the noise) and its accuracy on the noisy validation labels, the number a
practitioner would see. All seeds, noise levels and imbalances of one loss train together, in
one call.

Symmetric noise has a simple effect on the population. If each label is flipped with
probability :math:`\eta < 1/2`, independently of :math:`x`, the noisy labels have the posterior

.. math:: \tilde p(x) = P(\tilde y = 1 \mid x) = \eta + (1 - 2\eta)\, p(x),

an increasing function of the clean posterior :math:`p(x)`: the same decisions at the
threshold 1/2, the same ranking, but probabilities pulled towards 1/2 (Natarajan et al.,
2013). A loss whose minimiser is the posterior of its labels learns :math:`\tilde p`, which is
miscalibrated against clean labels by :math:`|\tilde p - p| = 2\eta\,|p - 1/2|`
(:func:`noisy_posterior`). Needs PyTorch.

References
----------
N. Natarajan, I. S. Dhillon, P. Ravikumar and A. Tewari, "Learning with Noisy Labels",
*Advances in Neural Information Processing Systems 26*, 1196-1204, 2013.

A. Ghosh, H. Kumar and P. S. Sastry, "Robust Loss Functions under Label Noise for Deep Neural
Networks", *Proceedings of the AAAI Conference on Artificial Intelligence*, 31(1), 2017.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

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
from companion.data import GaussianClasses, flip_labels
from companion.losses import (
    cross_entropy,
    l1_loss,
    mse_loss,
    multi_margin_loss,
    sigmoid_focal_loss,
)
from companion.losses._common import reduce
from companion.losses._validation import check_reduction
from companion.metrics import average_precision
from companion.networks import LossFn, predict_proba, train_classifier

#: The metrics measured in every run, in the order the grid stores them.
METRICS = (
    "accuracy",
    "average precision",
    "ECE",
    "memorised",
    "valid accuracy",
    "noisy valid accuracy",
)


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


def noisy_posterior(posterior: ArrayLike, eta: ArrayLike) -> np.ndarray:
    r"""The posterior of labels flipped with probability :math:`\eta`: :math:`\eta + (1 -
    2\eta)\,p`.

    Parameters
    ----------
    posterior : array_like
        Clean posteriors :math:`p = P(y = 1 \mid x)` in [0, 1].
    eta : float or array_like
        Flip probabilities in [0, 1], broadcast against ``posterior``.

    Examples
    --------
    >>> noisy_posterior([0.0, 0.5, 0.9], 0.4).round(3).tolist()
    [0.4, 0.5, 0.58]
    """
    p = np.asarray(posterior, dtype=np.float64)
    flip = np.asarray(eta, dtype=np.float64)
    if not (((p >= 0) & (p <= 1)).all() and ((flip >= 0) & (flip <= 1)).all()):
        raise ValueError("posterior and eta must be probabilities in [0, 1]")
    noisy: np.ndarray = flip + (1 - 2 * flip) * p
    return noisy


@dataclass(frozen=True)
class ClassificationGrid:
    r"""What :func:`noise_imbalance_grid` measured, run by run.

    Attributes
    ----------
    losses, imbalances : list of str
        Names, in the order of the axes below.
    noise_levels : list of float
        The flipped shares :math:`\eta`.
    seeds : list of int
        One data set (and one initialisation) per seed.
    probabilities : numpy.ndarray
        Every run's predicted :math:`P(y = 1 \mid x)` on its test set, shape ``(losses,
        imbalances, noise_levels, seeds, n_test)``, for further analysis.
    test_labels : numpy.ndarray
        The clean test labels, shape ``(imbalances, noise_levels, seeds, n_test)``.
    metrics : dict
        Each of :data:`METRICS`, shape ``(losses, imbalances, noise_levels, seeds)``:
        clean-test accuracy, average precision of class 1 and ECE of :math:`P(y = 1)` (15
        bins); ``"memorised"``, the share of flipped training labels the classifier
        predicts (NaN without noise); accuracy on the clean and on the noisy validation
        labels.
    bayes : dict
        The same test metrics for the Bayes posterior (shape ``(imbalances, noise_levels,
        seeds)``), plus ``"memorised"``, the share of flipped training labels that the Bayes
        classifier itself predicts, and ``"noisy posterior ECE"``, the mean of
        :math:`|\tilde p - p|` over the test points: the calibration error of a model that
        learned the noisy labels' posterior exactly.
    """

    losses: list[str]
    imbalances: list[str]
    noise_levels: list[float]
    seeds: list[int]
    probabilities: np.ndarray
    test_labels: np.ndarray
    metrics: dict[str, np.ndarray]
    bayes: dict[str, np.ndarray]

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
    steps: int = 100,
    lr: float = 0.05,
) -> ClassificationGrid:
    r"""Train every loss on noisy labels for every imbalance, noise level and seed.

    Seed ``s`` draws the training, validation and test sets of ``sizes`` from
    ``GaussianClasses(separation=separation, priors=...)`` (the same points at every noise
    level), flips ``round(eta * n)`` of its training and validation labels with
    :func:`~companion.data.flip_labels` (seed ``s``), and initialises the network with seed
    ``s``. Each loss trains all ``imbalances x noise_levels x seeds`` runs in one
    :func:`~companion.networks.train_classifier` call: a network with ``n_hidden`` ReLUs (0:
    the linear model) trained full-batch with Adam at learning rate ``lr`` for ``steps``
    steps. Test labels are never flipped. Everything runs on one CPU thread, as
    :func:`~companion.networks.train_classifier` does (for tensors this small, more threads
    only add synchronisation).

    Returns
    -------
    ClassificationGrid

    Examples
    --------
    >>> grid = noise_imbalance_grid(
    ...     {"Brier": GRID_LOSSES["Brier"]}, noise_levels=[0.0, 0.2], seeds=[0, 1],
    ...     sizes=(40, 20, 100), steps=5)
    >>> grid.metrics["accuracy"].shape
    (1, 2, 2, 2)
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small tensors: more threads only add synchronisation
    try:
        return _grid(
            losses, noise_levels, imbalances, seeds, sizes, separation, n_hidden, steps, lr
        )
    finally:
        torch.set_num_threads(threads)


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
) -> ClassificationGrid:
    """:func:`noise_imbalance_grid` on one thread."""
    seed_list = check_seeds(seeds)
    check_count("steps", steps)
    if len(seed_list) < 2:
        raise ValueError("noise_imbalance_grid needs at least two seeds for standard errors")
    etas = [float(eta) for eta in noise_levels]
    if not etas or not all(0 <= eta < 0.5 for eta in etas):
        raise ValueError(f"noise_levels must be shares in [0, 0.5), got {list(noise_levels)!r}")
    if not losses or not imbalances:
        raise ValueError("losses and imbalances must each name at least one setting")
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
    noisy = flip_labels(y, shares, n_classes=2, seeds=run_seeds)
    noisy_valid = flip_labels(y_valid, shares, n_classes=2, seeds=run_seeds)
    flipped = noisy != y

    def memorised(predicted: np.ndarray) -> np.ndarray:
        hits = np.where(flipped, predicted == noisy, False).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            share: np.ndarray = hits / flipped.sum(axis=1)
        return share

    metrics: dict[str, list[np.ndarray]] = {name: [] for name in METRICS}
    probabilities = []
    for spec in losses.values():
        result = train_classifier(
            x, noisy, spec.loss, seeds=run_seeds, lr=lr, n_out=spec.n_out,
            optimizer="adam", batch_size=sizes[0], epochs=steps, n_hidden=n_hidden,
            loss_kwargs=spec.kwargs,
        )  # fmt: skip
        p_test = predict_proba(result.model, x_test)[..., 1]
        p_train = predict_proba(result.model, x)[..., 1]
        p_valid = predict_proba(result.model, x_valid)[..., 1]
        probabilities.append(p_test)
        metrics["accuracy"].append(((p_test > 0.5) == y_test).mean(axis=1))
        metrics["average precision"].append(average_precision(y_test, p_test))
        metrics["ECE"].append(expected_calibration_error(y_test, p_test))
        metrics["memorised"].append(memorised(p_train > 0.5))
        metrics["valid accuracy"].append(((p_valid > 0.5) == y_valid).mean(axis=1))
        metrics["noisy valid accuracy"].append(((p_valid > 0.5) == noisy_valid).mean(axis=1))
    bayes = {
        "accuracy": ((posterior > 0.5) == y_test).mean(axis=1),
        "average precision": average_precision(y_test, posterior),
        "ECE": expected_calibration_error(y_test, posterior),
        "memorised": memorised(train_posterior > 0.5),
        "noisy posterior ECE": np.abs(
            noisy_posterior(posterior, eta_run[:, None]) - posterior
        ).mean(axis=1),
    }
    return ClassificationGrid(
        losses=list(losses),
        imbalances=list(imbalances),
        noise_levels=etas,
        seeds=seed_list,
        probabilities=np.stack(probabilities).reshape(len(losses), *shape, sizes[2]),
        test_labels=y_test.reshape(*shape, sizes[2]),
        metrics={k: np.stack(v).reshape(len(losses), *shape) for k, v in metrics.items()},
        bayes={k: np.asarray(v).reshape(shape) for k, v in bayes.items()},
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
    seen: dict[str, Any] = {}
    for ax in axes_list:
        for handle, name in zip(*ax.get_legend_handles_labels(), strict=True):
            seen.setdefault(name, handle)
    order = [*grid.losses, *(name for name in seen if name not in grid.losses)]
    seen = {name: seen[name] for name in order}  # the losses, then the reference lines
    axes_list[0].figure.legend(list(seen.values()), list(seen), loc="outside upper center", ncols=3)
    return axes
