r"""Tiny neural networks trained on mini-batches, many independent runs at once.

The chapters use them to test a claim where deep learning is practised: a one-hidden-layer
ReLU network (a multilayer perceptron, MLP)

.. math:: f(x) = \mathrm{relu}(x W_1 + b_1)\, W_2 + b_2,

trained on mini-batches by SGD or Adam with any companion loss. Runs differ in their seed
(initial weights and batch order), learning rate and data, and they train together: every
weight has a leading *run* axis and every product is a batched matrix product, so ten runs cost
little more than one. Each run's loss depends on its own weights only, so the runs are exactly
independent, and a run that overflows to ``inf`` or ``nan`` leaves the others alone.

Needs PyTorch (``pip install "loss-functions-companion[torch]"``).
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from companion._checks import check_count
from companion._typing import ArrayLike

#: The optimisers :func:`train_mlp` implements.
OPTIMIZERS = ("sgd", "adam")

#: A loss called as ``loss(prediction, target, **kwargs)``, such as ``companion.mse_loss``.
LossFn = Callable[..., torch.Tensor]


@dataclass(frozen=True)
class MLP:
    r"""The weights of ``R`` independent one-hidden-layer ReLU networks.

    Run ``r`` computes :math:`f_r(x) = \mathrm{relu}(x W_1^{(r)} + b_1^{(r)})\, W_2^{(r)} +
    b_2^{(r)}` for inputs ``x`` of shape ``(N, n_in)``.

    Attributes
    ----------
    w1, b1, w2, b2 : torch.Tensor
        Shapes ``(R, n_in, H)``, ``(R, 1, H)``, ``(R, H, n_out)`` and ``(R, 1, n_out)``.
    """

    w1: torch.Tensor
    b1: torch.Tensor
    w2: torch.Tensor
    b2: torch.Tensor

    @property
    def n_runs(self) -> int:
        """The number of networks, ``R``."""
        return int(self.w1.shape[0])

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """Every run's outputs, shape ``(R, N, n_out)``, for ``x`` of shape ``(R, N, n_in)``.

        An ``x`` of shape ``(N, n_in)`` goes to every run.
        """
        if x.ndim == 2:
            x = x.expand(self.n_runs, *x.shape)
        hidden = torch.relu(torch.baddbmm(self.b1, x, self.w1))
        return torch.baddbmm(self.b2, hidden, self.w2)


def init_mlp(
    seeds: Sequence[int],
    n_in: int = 1,
    n_hidden: int = 32,
    n_out: int = 1,
    *,
    dtype: torch.dtype = torch.float32,
) -> MLP:
    r"""One freshly initialised network per seed, drawn as :class:`torch.nn.Linear` draws them.

    Every weight and bias of a layer with ``fan_in`` inputs is drawn from
    :math:`\mathcal U(-1/\sqrt{\mathrm{fan\_in}},\ 1/\sqrt{\mathrm{fan\_in}})`, PyTorch's
    default. Run ``r`` draws ``w1, b1, w2, b2`` in that order from
    ``torch.Generator().manual_seed(seeds[r])``.

    Examples
    --------
    >>> net = init_mlp([0, 1], n_hidden=4)
    >>> tuple(net.w1.shape), tuple(net(torch.zeros(3, 1)).shape)
    ((2, 1, 4), (2, 3, 1))
    """
    generators = [torch.Generator().manual_seed(s) for s in _check_seeds(seeds)]
    return _unflatten(_draw_weights(generators, n_in, n_hidden, n_out, dtype), n_in, n_out)


@dataclass(frozen=True)
class TrainResult:
    """What :func:`train_mlp` returns: the trained networks and a record of every step.

    ``model`` holds the weights after the last step. ``losses[t, r]`` is run ``r``'s
    mini-batch loss at step ``t``, before that step's update, and ``grad_norms[t, r]`` the
    Euclidean norm of its gradient (all its weights together); both have shape
    ``(steps, R)``.
    """

    model: MLP
    losses: np.ndarray
    grad_norms: np.ndarray

    @property
    def diverged(self) -> np.ndarray:
        """True for every run whose weights ended with an ``inf`` or ``nan``."""
        weights = (self.model.w1, self.model.b1, self.model.w2, self.model.b2)
        finite = torch.stack([torch.isfinite(w).flatten(1).all(1) for w in weights])
        return np.asarray(~finite.all(0).numpy())


def train_mlp(
    x: ArrayLike,
    y: ArrayLike,
    loss: LossFn,
    *,
    seeds: Sequence[int],
    lr: float | Sequence[float],
    optimizer: str = "sgd",
    batch_size: int = 10,
    epochs: int = 30,
    n_hidden: int = 32,
    loss_kwargs: Mapping[str, Any] | None = None,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
    dtype: torch.dtype = torch.float32,
) -> TrainResult:
    r"""Train one network per seed on mini-batches of ``(x, y)``; return the weights and record.

    Run ``r`` starts from :func:`init_mlp`'s weights for ``seeds[r]``; at every epoch it
    shuffles the ``N`` examples with the same generator and takes one step per mini-batch of
    ``batch_size`` (an epoch's last batch may be smaller). A step scores the run's batch with
    ``loss`` (its ``'mean'`` over the batch) and updates the weights :math:`\theta` with the
    gradient :math:`g`:

    - ``"sgd"``: :math:`\theta \leftarrow \theta - \eta\, g`;
    - ``"adam"`` (Kingma and Ba, 2015): :math:`m \leftarrow \beta_1 m + (1-\beta_1) g`,
      :math:`v \leftarrow \beta_2 v + (1-\beta_2) g^2` and, at step :math:`t`,
      :math:`\theta \leftarrow \theta - \eta\, \hat m / (\sqrt{\hat v} + \epsilon)` with
      :math:`\hat m = m/(1-\beta_1^t)`, :math:`\hat v = v/(1-\beta_2^t)`, all elementwise.

    Run by run, these are :class:`torch.optim.SGD` and :class:`torch.optim.Adam` with their
    defaults, except that every run may have its own learning rate. Training runs on one CPU
    thread (for matrices this small, more threads only add synchronisation), so the result does
    not depend on the machine's thread count.

    Parameters
    ----------
    x, y : array_like, shape (N,), (N, d) or (R, N, d)
        Inputs and targets: the same for every run, or one set per run. A 1-D array is one
        feature (or one output) per example.
    loss : callable
        A companion loss such as :func:`~companion.losses.regression.mse_loss` or
        :func:`~companion.losses.regression.smooth_l1_loss`, called with
        ``reduction="none"`` and ``**loss_kwargs`` and averaged over each run's batch; or a
        loss without a ``reduction`` argument, such as
        :func:`~companion.losses.regression.rmse`, called on each run's batch (through
        :func:`torch.vmap`).
    seeds : sequence of int
        One seed per run; there are ``R = len(seeds)`` runs.
    lr : float or sequence of float
        The learning rate :math:`\eta`: one for every run, or one per run.
    optimizer : {"sgd", "adam"}
    batch_size, epochs, n_hidden : int
        Mini-batch size, passes over the data, hidden units.
    loss_kwargs : mapping, optional
        Further arguments of ``loss``, for example ``{"beta": 1.0}``.
    betas, eps : (float, float), float
        Adam's decay rates :math:`\beta_1, \beta_2` and :math:`\epsilon` (ignored by SGD).
    dtype : torch.dtype
        Floating dtype of the weights and the data.

    Returns
    -------
    TrainResult
        A run that diverges keeps going with ``inf``/``nan`` weights, silently: see
        :attr:`TrainResult.diverged`.

    Examples
    --------
    >>> from companion import mse_loss
    >>> x = np.linspace(-1, 1, 20)
    >>> result = train_mlp(x, 2 * x, mse_loss, seeds=[0, 1], lr=0.1, epochs=50)
    >>> result.losses.shape, bool(result.losses[-1].max() < 0.01)
    ((100, 2), True)
    """
    seed_list = _check_seeds(seeds)
    runs = len(seed_list)
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {optimizer!r}")
    for name, count in [("batch_size", batch_size), ("epochs", epochs), ("n_hidden", n_hidden)]:
        check_count(name, count)
    if not (0 <= betas[0] < 1 and 0 <= betas[1] < 1 and eps > 0):
        raise ValueError(f"betas must lie in [0, 1) and eps be > 0, got {betas!r} and {eps!r}")
    rates = np.asarray(lr, dtype=np.float64)
    if rates.shape not in [(), (runs,)] or not (np.isfinite(rates).all() and (rates > 0).all()):
        raise ValueError(
            f"lr must be finite and > 0, one value or one per run ({runs}), got {lr!r}"
        )
    rates = np.array(np.broadcast_to(rates, (runs,)))  # a writable copy
    inputs, targets = _as_runs(x, "x", runs, dtype), _as_runs(y, "y", runs, dtype)
    if inputs.shape[1] != targets.shape[1]:
        raise ValueError(
            "x and y must hold the same number of examples, got "
            f"{inputs.shape[1]} and {targets.shape[1]}"
        )
    n_examples, n_in, n_out = inputs.shape[1], inputs.shape[2], targets.shape[2]
    batch_loss = _per_run_loss(loss, dict(loss_kwargs or {}))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny matrices: more threads only add synchronisation
    try:
        generators = [torch.Generator().manual_seed(s) for s in seed_list]
        theta = _draw_weights(generators, n_in, n_hidden, n_out, dtype).requires_grad_(True)
        order = torch.stack(
            [
                torch.stack([torch.randperm(n_examples, generator=g) for g in generators])
                for _ in range(epochs)
            ]
        )  # (epochs, R, N): each run's shuffle of each epoch
        runs_index = torch.arange(runs)[:, None]
        rate = torch.as_tensor(rates, dtype=dtype)[:, None]
        m, v = torch.zeros_like(theta), torch.zeros_like(theta)
        losses: list[torch.Tensor] = []
        norms: list[torch.Tensor] = []
        for epoch in range(epochs):
            for start in range(0, n_examples, batch_size):
                batch = order[epoch, :, start : start + batch_size]
                prediction = _unflatten(theta, n_in, n_out)(inputs[runs_index, batch])
                value = batch_loss(prediction, targets[runs_index, batch])
                (grad,) = torch.autograd.grad(value.sum(), theta)
                with torch.no_grad():
                    if optimizer == "sgd":
                        theta -= rate * grad
                    else:
                        _adam_step(theta, grad, m, v, rate, len(losses) + 1, betas, eps)
                losses.append(value.detach())
                norms.append(torch.linalg.vector_norm(grad, dim=1))
        model = _unflatten(theta.detach(), n_in, n_out)
        return TrainResult(model, torch.stack(losses).numpy(), torch.stack(norms).numpy())
    finally:
        torch.set_num_threads(threads)


def line_error(
    model: MLP,
    true_slope: float,
    true_intercept: float,
    *,
    low: float = -2.0,
    high: float = 2.0,
    points: int = 401,
) -> np.ndarray:
    r"""Each run's RMS gap to the line :math:`a^\star x + b^\star` over :math:`[l, h]`.

    .. math:: \sqrt{\frac{1}{h - l}\int_l^h \big(f(x) - a^\star x - b^\star\big)^2\, dx},

    estimated by the mean over ``points`` evenly spaced inputs. For a network with one input
    and one output this is the line error of :func:`companion.experiments.line_error`. Runs
    with ``inf`` or ``nan`` weights get ``inf`` or ``nan``, without a warning.

    Returns
    -------
    numpy.ndarray, shape (R,)

    Examples
    --------
    >>> net = init_mlp([0])
    >>> flat = MLP(*(torch.zeros_like(w) for w in (net.w1, net.b1, net.w2, net.b2)))
    >>> line_error(flat, 0.0, 1.5).tolist()
    [1.5]
    """
    check_count("points", points, minimum=2)
    if model.w1.shape[1] != 1 or model.w2.shape[2] != 1:
        raise ValueError(
            f"line_error needs networks with one input and one output, got "
            f"{model.w1.shape[1]} and {model.w2.shape[2]}"
        )
    grid = torch.linspace(low, high, points, dtype=torch.float64)
    with torch.no_grad():
        outputs = model(grid[:, None].to(model.w1.dtype))[..., 0].double()
    gap = outputs - (true_slope * grid + true_intercept)
    return np.asarray(gap.square().mean(dim=1).sqrt().numpy())


# ---------------------------------------------------------------------------------------------
# Helpers: the weights of all runs live in one (R, P) tensor, read through views.


def _adam_step(
    theta: torch.Tensor,
    grad: torch.Tensor,
    m: torch.Tensor,
    v: torch.Tensor,
    rate: torch.Tensor,
    step: int,
    betas: tuple[float, float],
    eps: float,
) -> None:
    """One Adam update of ``theta`` in place, with moment estimates ``m`` and ``v``."""
    m.lerp_(grad, 1 - betas[0])
    v.mul_(betas[1]).addcmul_(grad, grad, value=1 - betas[1])
    denominator = v.sqrt() / math.sqrt(1 - betas[1] ** step) + eps
    theta -= rate / (1 - betas[0] ** step) * m / denominator


def _check_seeds(seeds: Sequence[int]) -> list[int]:
    values = list(seeds)
    if not values:
        raise ValueError("seeds must name at least one seed, got an empty sequence")
    for seed in values:
        check_count("every seed", seed, minimum=0)
    return [int(seed) for seed in values]


def _shapes(n_in: int, n_hidden: int, n_out: int) -> list[tuple[int, int]]:
    return [(n_in, n_hidden), (1, n_hidden), (n_hidden, n_out), (1, n_out)]


def _draw_weights(
    generators: Sequence[torch.Generator], n_in: int, n_hidden: int, n_out: int, dtype: torch.dtype
) -> torch.Tensor:
    """Each generator's ``w1, b1, w2, b2``, flattened into one row of an ``(R, P)`` tensor."""
    for name, value in [("n_in", n_in), ("n_hidden", n_hidden), ("n_out", n_out)]:
        check_count(name, value)
    bounds = [1 / math.sqrt(n_in)] * 2 + [1 / math.sqrt(n_hidden)] * 2
    rows = []
    for generator in generators:
        parts = [
            (2 * torch.rand(shape, generator=generator, dtype=dtype) - 1) * bound
            for shape, bound in zip(_shapes(n_in, n_hidden, n_out), bounds, strict=True)
        ]
        rows.append(torch.cat([part.flatten() for part in parts]))
    return torch.stack(rows)


def _unflatten(theta: torch.Tensor, n_in: int, n_out: int) -> MLP:
    """The networks whose weights are the rows of ``theta`` (views, so gradients flow)."""
    n_hidden = (theta.shape[1] - n_out) // (n_in + 1 + n_out)
    shapes = _shapes(n_in, n_hidden, n_out)
    sizes = [rows * cols for rows, cols in shapes]
    parts = torch.split(theta, sizes, dim=1)
    w1, b1, w2, b2 = (p.view(-1, *s) for p, s in zip(parts, shapes, strict=True))
    return MLP(w1, b1, w2, b2)


def _per_run_loss(loss: LossFn, kwargs: dict[str, Any]) -> Callable[..., torch.Tensor]:
    """``(prediction, target) -> (R,)`` losses, each the loss of one run's batch."""
    try:
        elementwise = "reduction" in inspect.signature(loss).parameters
    except (TypeError, ValueError):  # pragma: no cover - builtins without a signature
        elementwise = False
    if elementwise:

        def mean_over_batch(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
            return loss(prediction, target, reduction="none", **kwargs).mean(dim=(1, 2))

        return mean_over_batch
    return torch.vmap(lambda prediction, target: loss(prediction, target, **kwargs))


def _as_runs(values: ArrayLike, name: str, runs: int, dtype: torch.dtype) -> torch.Tensor:
    """``values`` as an ``(R, N, d)`` tensor; 1-D is one feature, 2-D is shared by the runs."""
    tensor = torch.as_tensor(np.array(values, dtype=np.float64), dtype=dtype)
    if tensor.ndim == 1:
        tensor = tensor[:, None]
    if tensor.ndim == 2:
        tensor = tensor.expand(runs, *tensor.shape)
    if tensor.ndim != 3 or tensor.shape[0] != runs or tensor.shape[1] == 0:
        raise ValueError(
            f"{name} must have shape (N,), (N, d) or (runs, N, d) with runs = {runs} and "
            f"N > 0, got {tuple(tensor.shape)}"
        )
    return tensor
