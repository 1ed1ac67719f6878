r"""Linear binary classifiers for many runs at once: gradient descent from a chosen start,
maximum likelihood, and scores on held-out data.

A linear binary classifier scores an input :math:`x \in \mathbb R^d` with the logit
:math:`z = w^\top x + b` and gives class 1 the probability :math:`\sigma(z) = 1/(1 + e^{-z})`.
Two ways to fit one, each for ``R`` independent runs together (a leading run axis):

- :func:`train_linear_classifier`: full-batch gradient descent (or Adam) on any loss of the
  logits, from a starting point the caller chooses (confidently wrong, for instance), in
  float32 by default, so that what a loss's gradient does far from the answer, and what
  float32 does to it, can be watched; each run may have its own step size, so that a grid
  of step sizes trains in one call;
- :func:`fit_logistic_regression`: the maximum-likelihood fit, the minimum of the summed
  binary cross-entropy (optionally with a ``pos_weight``), by Newton's method to machine
  precision in float64; scikit-learn's ``LogisticRegression(C=np.inf)`` (no penalty) finds the same
  weights one run at a time (the tests check it). Its Hessian gives the standard errors of
  the weights.

:func:`held_out_scores` scores any binary classifier's logits on held-out data, run by run
(accuracy, log loss, calibration error and, where the truth is known, the distance to it).

:func:`train_linear_classifier` needs PyTorch (``pip install
"loss-functions-companion[torch]"``); the rest is NumPy only.
"""

# ruff: noqa: UP007 - ``Union[float, ArrayLike]``, not ``float | ArrayLike``: Sphinx resolves
# the ``ArrayLike`` alias (autodoc_type_aliases) inside ``Union`` but not in ``|``, which would
# leave unresolved references in the API page.

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Union

import numpy as np

from companion._checks import check_count
from companion._extras import missing_extra
from companion._typing import ArrayLike
from companion.calibration import calibration_bins


def _design(x: ArrayLike, runs: int | None = None) -> np.ndarray:
    """``x`` as float64 ``(R, N, d)``: 1-D is one feature, 2-D is shared by the ``runs``."""
    design = np.asarray(x, dtype=np.float64)
    if design.ndim == 1:
        design = design[:, None]
    if design.ndim == 2:
        design = np.broadcast_to(design, (runs or 1, *design.shape))
    if design.ndim != 3 or design.shape[1] == 0:
        raise ValueError(
            f"x must have shape (N,), (N, d) or (R, N, d) with N > 0, got {design.shape}"
        )
    return design


def _labels(y: ArrayLike, runs: int, n: int) -> np.ndarray:
    """``y`` as float64 ``(R, N)`` labels 0 and 1 (a 1-D ``y`` is shared by the runs)."""
    labels = np.asarray(y)
    if labels.dtype.kind not in "biuf":
        raise TypeError(f"y must hold the labels 0 and 1, got dtype {labels.dtype}")
    if labels.shape == (n,):
        labels = np.broadcast_to(labels, (runs, n))
    if labels.shape != (runs, n):
        raise ValueError(f"y must have shape (N,) or (R, N) = {(runs, n)}, got {labels.shape}")
    if not np.isin(labels, (0.0, 1.0)).all():
        raise ValueError("y must hold the labels 0 and 1 only")
    return np.asarray(labels, dtype=np.float64)


def _runs_of(x: ArrayLike, y: ArrayLike) -> int:
    """The number of runs: the leading axis of a 3-D ``x`` or of a 2-D ``y``, else 1."""
    if np.ndim(x) == 3:
        return int(np.shape(x)[0])
    return int(np.shape(y)[0]) if np.ndim(y) == 2 else 1


# ---------------------------------------------------------------------------------------------
# Gradient descent from a chosen start.


@dataclass(frozen=True)
class LinearPath:
    """What :func:`train_linear_classifier` returns: the weights after every step.

    Attributes
    ----------
    weights : numpy.ndarray
        Shape ``(steps + 1, R, d)``: ``weights[0]`` is the start, ``weights[t]`` the weights
        after ``t`` steps.
    biases : numpy.ndarray
        Shape ``(steps + 1, R)``.
    losses : numpy.ndarray
        Shape ``(steps, R)``: each run's mean training loss before each step.
    """

    weights: np.ndarray
    biases: np.ndarray
    losses: np.ndarray

    def logits(self, x: ArrayLike, step: int = -1) -> np.ndarray:
        r"""Every run's logits :math:`z = w^\top x + b` after ``step`` steps, shape ``(R, N)``.

        ``x`` has shape ``(N,)``, ``(N, d)`` (shared by the runs) or ``(R, N, d)`` (held-out
        data per run). Computed in float64 from the recorded weights.
        """
        design = _design(x, self.weights.shape[1])
        if design.shape[2] != self.weights.shape[2]:
            raise ValueError(f"x must have {self.weights.shape[2]} features, got {design.shape[2]}")
        z: np.ndarray = (
            np.einsum("rnd,rd->rn", design, self.weights[step]) + self.biases[step][:, None]
        )
        return z


def train_linear_classifier(
    x: ArrayLike,
    y: ArrayLike,
    loss: Callable[..., Any],
    *,
    weights: ArrayLike,
    biases: ArrayLike,
    lr: Union[float, ArrayLike],
    steps: int,
    optimizer: str = "gd",
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
    dtype: Any = None,
) -> LinearPath:
    r"""Full-batch gradient descent (or Adam) on a loss of the logits, from given weights.

    Run ``r`` starts from ``weights[r]`` and ``biases[r]``, :math:`\theta = (w, b)`, and
    takes ``steps`` steps on its mean training loss

    .. math:: L_r(\theta) = \frac1N \sum_{i=1}^N \ell\bigl(w^\top x_i + b,\ y_i\bigr),
              \qquad g_t = \nabla_\theta L_r(\theta_{t-1}),

    with the gradient from PyTorch's autograd through ``loss``: for a loss written on the
    probabilities, ``loss(sigmoid(z), t)``, that is the gradient PyTorch would give in a
    real model, rounding and clamps included. Gradient descent (``"gd"``) steps
    :math:`\theta_t = \theta_{t-1} - \eta_r\, g_t`; Adam (``"adam"``, Kingma and Ba's
    update as ``torch.optim.Adam`` takes it, without weight decay) steps

    .. math:: m_t = \beta_1 m_{t-1} + (1 - \beta_1)\, g_t, \quad
              v_t = \beta_2 v_{t-1} + (1 - \beta_2)\, g_t^2,

    .. math:: \theta_t = \theta_{t-1} - \eta_r\,
              \frac{m_t / (1 - \beta_1^t)}{\sqrt{v_t / (1 - \beta_2^t)} + \epsilon},

    coordinate by coordinate, so that each step moves a weight by about :math:`\eta_r`
    whatever the size of its gradient. The runs are independent, each with its own step size
    :math:`\eta_r` if ``lr`` gives one per run (a grid of step sizes trains in one call).
    Training runs on one CPU thread (for matrices this small, more threads only add
    synchronisation).

    Parameters
    ----------
    x : array_like, shape (N,), (N, d) or (R, N, d)
        Training inputs: shared by every run, or one set per run.
    y : array_like, shape (N,) or (R, N)
        Labels 0 and 1.
    loss : callable
        Called as ``loss(z, t, reduction="none")`` with the logits ``z`` and float labels
        ``t``, tensors of shape ``(R, N)``; returns the loss of every example, same shape.
        For example ``companion.binary_cross_entropy_with_logits`` or
        ``lambda z, t, reduction: mse_loss(torch.sigmoid(z), t, reduction=reduction)``.
    weights : array_like, shape (R, d) or (d,)
        Starting weights :math:`w` of each run (1-D: the same for every run).
    biases : array_like, shape (R,) or ()
        Starting biases :math:`b`.
    lr : float or array_like, shape (R,)
        The step size :math:`\eta > 0`: one for every run, or one per run.
    steps : int
        Number of steps, ``>= 0``.
    optimizer : {"gd", "adam"}
        Plain gradient descent or Adam.
    betas, eps : float
        Adam's decay rates :math:`(\beta_1, \beta_2)`, each in ``[0, 1)``, and its
        :math:`\epsilon > 0` (PyTorch's defaults); ignored by gradient descent.
    dtype : torch.dtype, optional
        The precision of training, ``torch.float32`` by default (the recorded weights are
        returned as float64).

    Returns
    -------
    LinearPath

    Examples
    --------
    Started confidently wrong, the cross-entropy on logits turns the weight around:

    >>> import torch
    >>> from companion import binary_cross_entropy_with_logits
    >>> x, y = [-2.0, -1.0, 1.0, 2.0], [0, 0, 1, 1]
    >>> path = train_linear_classifier(x, y, binary_cross_entropy_with_logits,
    ...                                weights=[-5.0], biases=0.0, lr=1.0, steps=20)
    >>> path.weights.shape, bool(path.weights[0, 0, 0] < 0 < path.weights[-1, 0, 0])
    ((21, 1, 1), True)

    Three step sizes at once, one run each, with Adam: its first step moves every weight by
    the step size (:math:`m_1 / \sqrt{v_1} = \pm 1`):

    >>> path = train_linear_classifier(x, y, binary_cross_entropy_with_logits,
    ...                                weights=[-5.0], biases=0.0, lr=[0.1, 1.0, 10.0],
    ...                                steps=1, optimizer="adam")
    >>> (path.weights[1, :, 0] - path.weights[0, :, 0]).round(4).tolist()
    [0.1, 1.0, 10.0]
    """
    try:
        import torch
    except ModuleNotFoundError as error:
        raise missing_extra(error, "torch", f"{__name__}.train_linear_classifier") from error
    from companion.networks import one_torch_thread

    dtype = torch.float32 if dtype is None else dtype
    step_sizes = np.asarray(lr, dtype=np.float64)
    if step_sizes.ndim > 1 or not (np.isfinite(step_sizes).all() and (step_sizes > 0).all()):
        raise ValueError(f"lr must be finite and > 0, one number or one per run, got {lr!r}")
    if optimizer not in ("gd", "adam"):
        raise ValueError(f"optimizer must be 'gd' or 'adam', got {optimizer!r}")
    if not (all(0 <= beta < 1 for beta in betas) and len(betas) == 2 and eps > 0):
        raise ValueError(f"betas must be two numbers in [0, 1) and eps > 0, got {betas}, {eps}")
    check_count("steps", steps, minimum=0)
    runs = max(
        _runs_of(x, y),
        int(np.shape(weights)[0]) if np.ndim(weights) == 2 else 1,
        step_sizes.size if step_sizes.ndim == 1 else 1,
    )
    design = _design(x, runs)
    runs, n, d = design.shape
    if step_sizes.ndim == 1 and step_sizes.size != runs:
        raise ValueError(f"lr must have one step size per run, {runs}, got {step_sizes.size}")
    labels = _labels(y, runs, n)
    start_w = np.broadcast_to(np.asarray(weights, dtype=np.float64), (runs, d))
    start_b = np.broadcast_to(np.asarray(biases, dtype=np.float64), (runs,))
    with_ones = np.concatenate([design, np.ones((runs, n, 1))], axis=2)
    inputs = torch.as_tensor(with_ones, dtype=dtype)
    targets = torch.as_tensor(np.array(labels), dtype=dtype)
    theta = torch.as_tensor(np.concatenate([start_w, start_b[:, None]], axis=1), dtype=dtype)
    eta = torch.as_tensor(np.array(np.broadcast_to(step_sizes, (runs,))[:, None]), dtype=dtype)
    first, second = torch.zeros_like(theta), torch.zeros_like(theta)  # Adam's m and v
    path, losses = [theta], []
    with one_torch_thread():
        for step in range(1, steps + 1):
            leaf = theta.detach().requires_grad_(True)
            z = torch.bmm(inputs, leaf[:, :, None])[:, :, 0]
            values = loss(z, targets, reduction="none")
            if tuple(values.shape) != (runs, n):
                raise ValueError(
                    f"loss must return one value per example, shape {(runs, n)}, with "
                    f"reduction='none'; got {tuple(values.shape)}"
                )
            mean = values.mean(dim=1)
            (grad,) = torch.autograd.grad(mean.sum(), leaf)
            if optimizer == "adam":
                first = betas[0] * first + (1 - betas[0]) * grad
                second = betas[1] * second + (1 - betas[1]) * grad**2
                scale = (second / (1 - betas[1] ** step)).sqrt() + eps
                grad = first / (1 - betas[0] ** step) / scale
            theta = (theta - eta * grad).detach()
            path.append(theta)
            losses.append(mean.detach())
    trajectory = torch.stack(path).double().numpy()
    recorded = torch.stack(losses).double().numpy() if losses else np.zeros((0, runs))
    return LinearPath(trajectory[:, :, :d], trajectory[:, :, d], recorded)


# ---------------------------------------------------------------------------------------------
# Maximum likelihood by Newton's method.


@dataclass(frozen=True)
class LogisticRegressionFit:
    r"""What :func:`fit_logistic_regression` returns.

    Attributes
    ----------
    weights : numpy.ndarray
        :math:`\hat w`, shape ``(R, d)``.
    biases : numpy.ndarray
        :math:`\hat b`, shape ``(R,)``.
    hessian : numpy.ndarray
        The Hessian of the summed loss at the optimum with respect to
        :math:`(w_1, \dots, w_d, b)`, shape ``(R, d + 1, d + 1)``: for the plain
        cross-entropy, the observed Fisher information :math:`\sum_i \sigma_i (1 - \sigma_i)
        a_i a_i^\top` with :math:`a_i = (x_i, 1)`.
    iterations : int
        Newton steps taken (by the slowest run).
    """

    weights: np.ndarray
    biases: np.ndarray
    hessian: np.ndarray
    iterations: int

    @property
    def standard_errors(self) -> np.ndarray:
        r"""The asymptotic standard errors of :math:`(\hat w, \hat b)`, shape ``(R, d + 1)``.

        The square roots of the diagonal of the inverse Fisher information, the usual
        standard errors of maximum-likelihood estimates: valid for the plain cross-entropy
        of a well-specified model (no ``pos_weight``) and many points.
        """
        errors: np.ndarray = np.sqrt(np.diagonal(np.linalg.inv(self.hessian), axis1=1, axis2=2))
        return errors

    def logits(self, x: ArrayLike) -> np.ndarray:
        """Every run's logits for new inputs, shape ``(R, N)`` (``x`` as for the fit)."""
        design = _design(x, self.weights.shape[0])
        z: np.ndarray = np.einsum("rnd,rd->rn", design, self.weights) + self.biases[:, None]
        return z


def _summed_loss(z: np.ndarray, y: np.ndarray, v: np.ndarray) -> np.ndarray:
    r""":math:`\sum_i v_i\,[\operatorname{softplus}(z_i) - y_i z_i]` for every run."""
    softplus = np.logaddexp(0.0, z)
    total: np.ndarray = (v * (softplus - y * z)).sum(axis=-1)
    return total


def _hessian(a: np.ndarray, curvature: np.ndarray) -> np.ndarray:
    r""":math:`\sum_i c_i\, a_i a_i^\top` for every run: ``a`` ``(R, N, k)``, ``c`` ``(R, N)``."""
    hessian: np.ndarray = np.matmul(a.transpose(0, 2, 1) * curvature[:, None, :], a)
    return hessian


def fit_logistic_regression(
    x: ArrayLike,
    y: ArrayLike,
    *,
    pos_weight: float = 1.0,
    tol: float = 1e-10,
    max_iter: int = 100,
) -> LogisticRegressionFit:
    r"""Maximum-likelihood logistic regression for every run, by Newton's method.

    Minimises the summed binary cross-entropy with ``pos_weight`` :math:`\rho`,

    .. math:: L(w, b) = -\sum_{i=1}^N \bigl[\rho\, y_i \log\sigma(z_i)
              + (1 - y_i)\log\sigma(-z_i)\bigr], \qquad z_i = w^\top x_i + b,

    which for labels 0 and 1 is the cross-entropy with every positive example counted
    :math:`\rho` times (scikit-learn: ``sample_weight`` :math:`\rho` on the positives). With
    :math:`v_i = \rho y_i + 1 - y_i` and :math:`a_i = (x_i, 1)`, the gradient is
    :math:`\sum_i v_i(\sigma(z_i) - y_i)\,a_i` and the Hessian
    :math:`\sum_i v_i\,\sigma(z_i)(1 - \sigma(z_i))\,a_i a_i^\top`, positive definite, so
    the loss is convex and Newton's method, halving a step whenever it would raise the
    loss, converges to the unique minimum (from zero weights) in a few steps.

    Parameters
    ----------
    x : array_like, shape (N,), (N, d) or (R, N, d)
        Inputs: shared by every run, or one set per run.
    y : array_like, shape (N,) or (R, N)
        Labels 0 and 1.
    pos_weight : float
        :math:`\rho > 0`, the weight of every positive example.
    tol : float
        Stop once no Newton step changes a weight by more than ``tol`` (relative to the
        weights' size, at least 1).
    max_iter : int
        Newton steps allowed.

    Returns
    -------
    LogisticRegressionFit

    Raises
    ------
    ValueError
        If a run has not converged after ``max_iter`` steps or its Hessian has become
        singular, as happens when its classes can be separated by a line (the
        maximum-likelihood weights are then infinite: the loss falls towards 0 as they grow,
        Albert and Anderson, 1984), or for bad arguments.

    Examples
    --------
    >>> x = [-2.0, -1.0, -0.5, 0.5, 1.0, 2.0, 3.0]
    >>> fit = fit_logistic_regression(x, [0, 0, 1, 0, 1, 1, 1])
    >>> fit.weights.round(4).tolist(), fit.biases.round(4).tolist()
    ([[1.4004]], [0.0167])
    """
    if not (np.isfinite(pos_weight) and pos_weight > 0):
        raise ValueError(f"pos_weight must be finite and > 0, got {pos_weight!r}")
    if not (np.isfinite(tol) and tol > 0):
        raise ValueError(f"tol must be finite and > 0, got {tol!r}")
    check_count("max_iter", max_iter)
    design = _design(x, _runs_of(x, y))
    runs, n, d = design.shape
    labels = _labels(y, runs, n)
    a = np.concatenate([design, np.ones((runs, n, 1))], axis=2)
    v = pos_weight * labels + (1.0 - labels)
    theta = np.zeros((runs, d + 1))
    loss = _summed_loss(np.zeros((runs, n)), labels, v)
    for iteration in range(1, max_iter + 1):
        z = np.einsum("rnk,rk->rn", a, theta)
        p = 0.5 * (1.0 + np.tanh(0.5 * z))  # sigmoid without overflow
        grad = np.einsum("rn,rnk->rk", v * (p - labels), a)
        hessian = _hessian(a, v * p * (1.0 - p))
        try:
            step = np.linalg.solve(hessian, grad[..., None])[..., 0]
        except np.linalg.LinAlgError:
            raise ValueError(
                f"Newton's method stopped after {iteration - 1} steps at a singular Hessian; "
                "are the classes of a run separable by a line? (The maximum-likelihood "
                "weights are then infinite.) Or are two features collinear?"
            ) from None
        scale = np.ones(runs)
        for _ in range(60):  # halve the steps that would raise the loss
            trial = theta - scale[:, None] * step
            new_loss = _summed_loss(np.einsum("rnk,rk->rn", a, trial), labels, v)
            worse = new_loss > loss + 1e-12 * np.abs(loss)
            if not worse.any():
                break
            scale = np.where(worse, scale / 2, scale)
        theta, loss = trial, new_loss
        size = np.maximum(1.0, np.abs(theta).max(axis=1))
        if (np.abs(scale[:, None] * step).max(axis=1) <= tol * size).all():
            z = np.einsum("rnk,rk->rn", a, theta)
            p = 0.5 * (1.0 + np.tanh(0.5 * z))
            hessian = _hessian(a, v * p * (1.0 - p))
            return LogisticRegressionFit(theta[:, :d], theta[:, d], hessian, iteration)
    raise ValueError(
        f"Newton's method did not converge in {max_iter} steps; are the classes of a run "
        "separable by a line? (The maximum-likelihood weights are then infinite.)"
    )


# ---------------------------------------------------------------------------------------------
# Scoring on held-out data.


def held_out_scores(
    logits: ArrayLike,
    labels: ArrayLike,
    posterior: Union[ArrayLike, None] = None,
    *,
    n_bins: int = 15,
) -> dict[str, np.ndarray]:
    r"""Accuracy, log loss and calibration of binary classifiers on held-out data, run by run.

    For logits :math:`z_i` (class 1 predicted where :math:`z_i > 0`, with probability
    :math:`p_i = \sigma(z_i)`) and labels :math:`y_i`, each run gets

    - ``"accuracy"``: :math:`\frac1N \sum_i \mathbf 1[\,\mathbf 1[z_i > 0] = y_i\,]`;
    - ``"log loss"``: the mean binary cross-entropy :math:`\frac1N \sum_i
      [\operatorname{softplus}(z_i) - y_i z_i]`, computed from the logits (so that a
      confident prediction does not round to a probability of exactly 0 or 1);
    - ``"ECE"``: the expected calibration error of :math:`p_i` as the probability of class 1
      in ``n_bins`` equal-width bins (:func:`companion.calibration.calibration_bins`);
    - ``"mean |p - p*|"`` (with ``posterior``): :math:`\frac1N \sum_i |p_i - p^\star_i|`, the
      distance to the true probability of class 1.

    Parameters
    ----------
    logits : array_like, shape (..., N)
        Every run's logits.
    labels : array_like, shape (..., N)
        The labels 0 and 1.
    posterior : array_like, shape (..., N), optional
        The true :math:`P(y = 1 \mid x_i)`, where known (simulated data).
    n_bins : int
        Bins of the ECE.

    Returns
    -------
    dict of str to numpy.ndarray
        One array of shape ``(...)`` per score.

    Examples
    --------
    >>> scores = held_out_scores([[2.0, -1.0, 0.5, -3.0]], [[1, 0, 0, 0]])
    >>> {name: value.round(3).tolist() for name, value in scores.items()}
    {'accuracy': [0.75], 'log loss': [0.366], 'ECE': [0.265]}
    """
    z = np.asarray(logits, dtype=np.float64)
    y = np.asarray(labels)
    if z.shape != y.shape or z.ndim == 0:
        raise ValueError(
            f"logits and labels must have the same shape (..., N), got {z.shape}, {y.shape}"
        )
    if not np.isin(y, (0, 1)).all():
        raise ValueError("labels must be 0 and 1")
    p = 0.5 * (1.0 + np.tanh(0.5 * z))  # sigmoid without overflow
    scores = {
        "accuracy": ((z > 0) == (y == 1)).mean(axis=-1),
        "log loss": (np.logaddexp(0.0, z) - y * z).mean(axis=-1),
        "ECE": calibration_bins(y.astype(np.int64), p, n_bins=n_bins).ece,
    }
    if posterior is not None:
        truth = np.asarray(posterior, dtype=np.float64)
        if truth.shape != z.shape:
            raise ValueError(f"posterior must have the logits' shape {z.shape}, got {truth.shape}")
        scores["mean |p - p*|"] = np.abs(p - truth).mean(axis=-1)
    return scores
