r"""Tiny neural networks trained on mini-batches, many independent runs at once.

The chapters use them to test a claim where deep learning is practised: a one-hidden-layer
ReLU network (a multilayer perceptron, MLP)

.. math:: f(x) = \mathrm{relu}(x W_1 + b_1)\, W_2 + b_2,

or, with no hidden layer, the linear model :math:`f(x) = x W_1 + b_1` (linear, logistic or
softmax regression, depending on the loss), trained on mini-batches by SGD or Adam with any
companion loss: :func:`train_mlp` for regression, :func:`train_classifier` for
classification (the same loop; they differ in the targets they take and in how a loss's
values become one number per example). Runs differ in their seed (initial weights and batch
order), learning rate and data, and they train together: every weight has a leading *run* axis
and every product is a batched matrix product, so ten runs cost little more than one. Each
run's loss depends on its own weights only, so the runs are exactly independent, and a run
that overflows to ``inf`` or ``nan`` leaves the others alone.

Needs PyTorch (``pip install "loss-functions-companion[torch]"``).
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from companion._checks import check_count, check_seeds
from companion._extras import missing_extra
from companion._typing import ArrayLike

try:
    import torch
except ModuleNotFoundError as error:
    raise missing_extra(error, "torch", __name__) from error

#: The optimisers :func:`train_mlp` and :func:`train_classifier` implement.
OPTIMIZERS = ("sgd", "adam")

#: A loss called as ``loss(prediction, target, **kwargs)``, such as ``companion.mse_loss``.
LossFn = Callable[..., torch.Tensor]


@dataclass(frozen=True)
class MLP:
    r"""The weights of ``R`` independent networks: one hidden ReLU layer, or none.

    Run ``r`` computes :math:`f_r(x) = \mathrm{relu}(x W_1^{(r)} + b_1^{(r)})\, W_2^{(r)} +
    b_2^{(r)}` for inputs ``x`` of shape ``(N, n_in)``; a network without a hidden layer
    (``w2`` and ``b2`` are ``None``) is the linear model :math:`f_r(x) = x W_1^{(r)} +
    b_1^{(r)}`.

    Attributes
    ----------
    w1, b1, w2, b2 : torch.Tensor
        Shapes ``(R, n_in, H)``, ``(R, 1, H)``, ``(R, H, n_out)`` and ``(R, 1, n_out)``; for
        the linear model ``(R, n_in, n_out)``, ``(R, 1, n_out)``, ``None`` and ``None``.
    """

    w1: torch.Tensor
    b1: torch.Tensor
    w2: torch.Tensor | None = None
    b2: torch.Tensor | None = None

    def __post_init__(self) -> None:
        if (self.w2 is None) != (self.b2 is None):
            raise ValueError("w2 and b2 must both be tensors (a hidden layer) or both be None")

    @property
    def n_runs(self) -> int:
        """The number of networks, ``R``."""
        return int(self.w1.shape[0])

    @property
    def n_in(self) -> int:
        """The number of inputs of each network."""
        return int(self.w1.shape[1])

    @property
    def n_out(self) -> int:
        """The number of outputs of each network (for a classifier, of logits)."""
        return int((self.w1 if self.w2 is None else self.w2).shape[2])

    @property
    def weights(self) -> tuple[torch.Tensor, ...]:
        """``(w1, b1, w2, b2)``, or ``(w1, b1)`` for the linear model."""
        if self.w2 is None or self.b2 is None:
            return (self.w1, self.b1)
        return (self.w1, self.b1, self.w2, self.b2)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """Every run's outputs, shape ``(R, N, n_out)``, for ``x`` of shape ``(R, N, n_in)``.

        An ``x`` of shape ``(N, n_in)`` goes to every run.
        """
        if x.ndim == 2:
            x = x.expand(self.n_runs, *x.shape)
        if self.w2 is None or self.b2 is None:
            return torch.baddbmm(self.b1, x, self.w1)
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
    default. Run ``r`` draws ``w1, b1, w2, b2`` (``w1, b1`` for ``n_hidden=0``, the linear
    model) in that order from ``torch.Generator().manual_seed(seeds[r])``.

    Examples
    --------
    >>> net = init_mlp([0, 1], n_hidden=4)
    >>> tuple(net.w1.shape), tuple(net(torch.zeros(3, 1)).shape)
    ((2, 1, 4), (2, 3, 1))
    >>> linear = init_mlp([0, 1], n_in=2, n_hidden=0, n_out=3)
    >>> tuple(linear.w1.shape), linear.w2 is None
    ((2, 2, 3), True)
    """
    generators = [torch.Generator().manual_seed(s) for s in check_seeds(seeds)]
    theta = _draw_weights(generators, n_in, n_hidden, n_out, dtype)
    return _unflatten(theta, n_in, n_hidden, n_out)


@dataclass(frozen=True)
class TrainResult:
    """What :func:`train_mlp` and :func:`train_classifier` return: the networks and a record.

    ``model`` holds the weights after the last step. ``losses[t, r]`` is run ``r``'s
    mini-batch loss at step ``t``, before that step's update, and ``grad_norms[t, r]`` the
    Euclidean norm of its gradient (all its weights together); both have shape
    ``(steps, R)``. ``snapshots[t]`` holds the weights after ``t`` steps, for every ``t``
    asked for with the ``snapshots`` argument of :func:`train_mlp` or
    :func:`train_classifier` (in increasing order; empty by default): the networks a
    training run of ``t`` steps would return, kept for early stopping at no extra training.
    """

    model: MLP
    losses: np.ndarray
    grad_norms: np.ndarray
    snapshots: dict[int, MLP] = field(default_factory=dict)

    @property
    def diverged(self) -> np.ndarray:
        """True for every run whose weights ended with an ``inf`` or ``nan``."""
        finite = torch.stack([torch.isfinite(w).flatten(1).all(1) for w in self.model.weights])
        return np.asarray(~finite.all(0).numpy())


_TRAINING_PARAMETERS = r"""seeds : sequence of int
        One seed per run; there are ``R = len(seeds)`` runs.
    lr : float or sequence of float
        The learning rate :math:`\eta`: one for every run, or one per run.
    optimizer : {"sgd", "adam"}
    batch_size, epochs : int
        Mini-batch size and passes over the data.
    n_hidden : int
        Hidden units; 0 for the linear model :math:`f(x) = x W_1 + b_1`.
    snapshots : sequence of int, optional
        Steps after which to keep a copy of every run's weights, each in ``[1, steps]``
        with ``steps = epochs * ceil(N / batch_size)``; returned in
        the ``snapshots`` of the :class:`TrainResult`."""


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
    snapshots: Sequence[int] = (),
) -> TrainResult:
    r"""Train one network per seed on mini-batches of ``(x, y)``; return the weights and record.

    Run ``r`` starts from :func:`init_mlp`'s weights for ``seeds[r]``; at every epoch it
    shuffles the ``N`` examples with the same generator and takes one step per mini-batch of
    ``batch_size`` (an epoch's last batch may be smaller). A step scores the run's batch with
    ``loss`` (its ``'mean'`` over the batch and the outputs) and updates the weights
    :math:`\theta` with the gradient :math:`g`:

    - ``"sgd"``: :math:`\theta \leftarrow \theta - \eta\, g`;
    - ``"adam"`` (Kingma and Ba, 2015): :math:`m \leftarrow \beta_1 m + (1-\beta_1) g`,
      :math:`v \leftarrow \beta_2 v + (1-\beta_2) g^2` and, at step :math:`t`,
      :math:`\theta \leftarrow \theta - \eta\, \hat m / (\sqrt{\hat v} + \epsilon)` with
      :math:`\hat m = m/(1-\beta_1^t)`, :math:`\hat v = v/(1-\beta_2^t)`, all elementwise.

    Run by run, these are :class:`torch.optim.SGD` and :class:`torch.optim.Adam` with their
    defaults, except that every run may have its own learning rate. Training runs on one CPU
    thread (for matrices this small, more threads only add synchronisation), so the result does
    not depend on the machine's thread count. :func:`train_classifier` is the same loop for
    class targets.

    Parameters
    ----------
    x, y : array_like, shape (N,), (N, d) or (R, N, d)
        Inputs and targets: the same for every run, or one set per run. A 1-D array is one
        feature (or one output) per example.
    loss : callable
        A companion loss such as :func:`~companion.losses.regression.mse_loss` or
        :func:`~companion.losses.regression.smooth_l1_loss`, called with
        ``reduction="none"`` and ``**loss_kwargs`` and averaged over each run's batch (and
        outputs); or a loss without a ``reduction`` argument, such as
        :func:`~companion.losses.regression.rmse`, called on each run's batch (through
        :func:`torch.vmap`).
    %(training)s
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
    seed_list, rates = _check_options(
        seeds, lr, optimizer, batch_size, epochs, n_hidden, betas, eps
    )
    inputs = _as_runs(x, "x", len(seed_list), dtype)
    targets = _as_runs(y, "y", len(seed_list), dtype)
    batch_loss = _per_run_loss(loss, dict(loss_kwargs or {}))
    return _train(
        inputs, targets, batch_loss, seed_list, rates, optimizer, batch_size, epochs,
        n_hidden, int(targets.shape[2]), betas, eps, dtype, snapshots=snapshots,
    )  # fmt: skip


def train_classifier(
    x: ArrayLike,
    y: ArrayLike,
    loss: LossFn,
    *,
    seeds: Sequence[int],
    lr: float | Sequence[float],
    n_out: int | None = None,
    optimizer: str = "sgd",
    batch_size: int = 10,
    epochs: int = 30,
    n_hidden: int = 32,
    loss_kwargs: Mapping[str, Any] | None = None,
    run_loss_kwargs: Mapping[str, ArrayLike] | None = None,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
    dtype: torch.dtype = torch.float32,
    snapshots: Sequence[int] = (),
) -> TrainResult:
    r"""Train one classifier per seed: :func:`train_mlp`'s loop, with class targets.

    The networks output ``n_out`` logits per example. At each step the run's batch of
    logits, shape ``(B, C)`` with the class axis 1 as the classification losses expect it,
    is scored by ``loss(logits, target, reduction="none", **loss_kwargs)`` (all runs in
    one call, as a batch of ``R * B`` examples), which must give one value per example,
    shape ``(B,)``, or one per logit, shape ``(B, C)``. One per logit is summed over the
    classes: an elementwise loss such as :func:`~companion.losses.classification.kl_div`
    then gives the loss of the example, as its ``'batchmean'`` does. The run's loss is the
    mean of its ``B`` example losses,

    .. math:: L_r = \frac1B \sum_{i \in \text{batch}} \ell_i, \qquad
              \ell_i = \sum_{c=1}^{C} \ell_{ic} \ \text{(for a loss per logit)},

    the ``'mean'`` of a loss without class weights. With ``weight`` in ``loss_kwargs`` this
    is the plain mean of the weighted example losses, not PyTorch's weighted ``'mean'``
    (which divides by the summed weights of the batch's targets). A ``batch_size`` of at
    least ``N`` makes every step a full-batch gradient step, taken without shuffling (which
    would only change the rounding, at a cost).

    Parameters
    ----------
    x : array_like, shape (N,), (N, d) or (R, N, d)
        Inputs: the same for every run, or one set per run.
    y : array_like
        Targets, of one of two kinds.

        - Class indices (an integer dtype), shape ``(N,)`` or ``(R, N)``, each in
          ``[0, n_out)`` (no ``ignore_index``: every example counts), passed to the loss as
          int64 (for ``cross_entropy``, ``nll_loss``, ``multi_margin_loss``); ``n_out`` is
          required. With ``n_out=1`` (one logit, for
          ``binary_cross_entropy_with_logits`` and ``sigmoid_focal_loss``) they are the
          labels 0 and 1, passed as floats of shape ``(B, 1)``.
        - Probabilities (a float dtype), shape ``(N, C)`` or ``(R, N, C)``: one-hot or soft
          targets for ``cross_entropy`` or ``kl_div``; ``n_out`` defaults to ``C``. A 1-D
          float array is one column, ``C = 1``.
    loss : callable
        A loss that takes ``reduction="none"``: a companion classification loss such as
        :func:`~companion.losses.classification.cross_entropy`, or a function of the logits
        written for the purpose, such as
        ``lambda z, t, reduction: kl_div(log_softmax(z, 1), t, reduction=reduction)``.
    %(training)s
    n_out : int, optional
        Number of outputs: the number of classes, or 1 for a binary loss on one logit.
    loss_kwargs : mapping, optional
        Further arguments of ``loss``: ``weight``, ``pos_weight``, ``label_smoothing``,
        ``gamma``, ``alpha``, ``margin``...
    run_loss_kwargs : mapping, optional
        Arguments of ``loss`` that differ from run to run: each value is an array with one
        entry per run along its first axis, shape ``(R, ...)``. At every step run ``r``'s
        entry is repeated for each row of its batch, so that the loss receives shape
        ``(R * B, ...)``, aligned with the rows of the logits whatever the batch size and
        shuffling. A temperature per run of shape ``(R, 1)``, for example, reaches the loss
        as ``(R * B, 1)`` and broadcasts against the logits ``(R * B, C)``. Floating values
        are cast to ``dtype``. A name may not be in both mappings.
    betas, eps, dtype
        As for :func:`train_mlp`.

    Returns
    -------
    TrainResult
        :func:`predict` and :func:`predict_proba` score new inputs with its ``model``.

    Examples
    --------
    Softmax regression (no hidden layer) on three classes, five runs:

    >>> from companion import cross_entropy
    >>> x = np.array([[-2.0, 0.0], [2.0, 0.0], [0.0, 2.0]]).repeat(10, axis=0)
    >>> y = np.arange(3).repeat(10)
    >>> result = train_classifier(x, y, cross_entropy, seeds=range(5), lr=0.5, n_out=3,
    ...                           n_hidden=0, batch_size=30, epochs=50)
    >>> predict(result.model, x).shape, bool(result.losses[-1].max() < 0.05)
    ((5, 30, 3), True)
    """
    seed_list, rates = _check_options(
        seeds, lr, optimizer, batch_size, epochs, n_hidden, betas, eps
    )
    inputs = _as_runs(x, "x", len(seed_list), dtype)
    targets, classes = _as_class_targets(y, len(seed_list), n_out, dtype)
    per_run = _as_run_kwargs(run_loss_kwargs or {}, len(seed_list), dtype, loss_kwargs or {})
    batch_loss = _per_run_class_loss(loss, dict(loss_kwargs or {}), per_run)
    return _train(
        inputs, targets, batch_loss, seed_list, rates, optimizer, batch_size, epochs,
        n_hidden, classes, betas, eps, dtype, shuffle=batch_size < inputs.shape[1],
        snapshots=snapshots,
    )  # fmt: skip


def predict(model: MLP, x: ArrayLike) -> np.ndarray:
    """Every run's outputs for new inputs (a classifier's logits), as ``float64``.

    Parameters
    ----------
    model : MLP
        For example the ``model`` of a :class:`TrainResult`.
    x : array_like, shape (N,), (N, d) or (R, N, d)
        Inputs: the same for every run, or one set per run (held-out data).

    Returns
    -------
    numpy.ndarray, shape (R, N, n_out)

    Examples
    --------
    >>> net = init_mlp([0, 1, 2], n_in=2, n_hidden=0, n_out=3)
    >>> predict(net, np.zeros((4, 2))).shape
    (3, 4, 3)
    """
    inputs = _as_runs(x, "x", model.n_runs, model.w1.dtype)
    if inputs.shape[2] != model.n_in:
        raise ValueError(
            f"x must have {model.n_in} features per example, as the model has, "
            f"got {inputs.shape[2]}"
        )
    with torch.no_grad():
        return np.asarray(model(inputs).double().numpy())


def predict_proba(model: MLP, x: ArrayLike) -> np.ndarray:
    r"""Every run's class probabilities for new inputs, as ``float64``.

    The softmax of the logits, :math:`p_c = e^{z_c} / \sum_k e^{z_k}`; a network with one
    output is a binary classifier, whose probabilities are
    :math:`(1 - \sigma(z), \sigma(z))` (the columns of scikit-learn's ``predict_proba``).

    Returns
    -------
    numpy.ndarray, shape (R, N, K)
        ``K = n_out`` classes, or 2 for one output. ``argmax`` over the last axis is the
        predicted class.

    Examples
    --------
    >>> net = init_mlp([0], n_in=2, n_hidden=0, n_out=1)
    >>> p = predict_proba(net, np.zeros((4, 2)))
    >>> p.shape, bool(np.allclose(p.sum(-1), 1.0))
    ((1, 4, 2), True)
    """
    logits = torch.from_numpy(predict(model, x))
    if model.n_out == 1:
        positive = torch.sigmoid(logits)
        return np.asarray(torch.cat([torch.sigmoid(-logits), positive], dim=2).numpy())
    return np.asarray(torch.softmax(logits, dim=2).numpy())


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
    if model.n_in != 1 or model.n_out != 1:
        raise ValueError(
            f"line_error needs networks with one input and one output, got "
            f"{model.n_in} and {model.n_out}"
        )
    grid = torch.linspace(low, high, points, dtype=torch.float64)
    with torch.no_grad():
        outputs = model(grid[:, None].to(model.w1.dtype))[..., 0].double()
    gap = outputs - (true_slope * grid + true_intercept)
    return np.asarray(gap.square().mean(dim=1).sqrt().numpy())


for _function in (train_mlp, train_classifier):
    _function.__doc__ = (_function.__doc__ or "").replace("%(training)s", _TRAINING_PARAMETERS)


# ---------------------------------------------------------------------------------------------
# Helpers: the weights of all runs live in one (R, P) tensor, read through views.


def _check_options(
    seeds: Sequence[int],
    lr: float | Sequence[float],
    optimizer: str,
    batch_size: int,
    epochs: int,
    n_hidden: int,
    betas: tuple[float, float],
    eps: float,
) -> tuple[list[int], np.ndarray]:
    """The seeds and one learning rate per run, after checking every training option."""
    seed_list = check_seeds(seeds)
    runs = len(seed_list)
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {optimizer!r}")
    for name, count in [("batch_size", batch_size), ("epochs", epochs)]:
        check_count(name, count)
    check_count("n_hidden", n_hidden, minimum=0)
    if not (0 <= betas[0] < 1 and 0 <= betas[1] < 1 and eps > 0):
        raise ValueError(f"betas must lie in [0, 1) and eps be > 0, got {betas!r} and {eps!r}")
    rates = np.asarray(lr, dtype=np.float64)
    if rates.shape not in [(), (runs,)] or not (np.isfinite(rates).all() and (rates > 0).all()):
        raise ValueError(
            f"lr must be finite and > 0, one value or one per run ({runs}), got {lr!r}"
        )
    return seed_list, np.array(np.broadcast_to(rates, (runs,)))  # a writable copy


def _train(
    inputs: torch.Tensor,
    targets: torch.Tensor,
    batch_loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    seeds: list[int],
    rates: np.ndarray,
    optimizer: str,
    batch_size: int,
    epochs: int,
    n_hidden: int,
    n_out: int,
    betas: tuple[float, float],
    eps: float,
    dtype: torch.dtype,
    shuffle: bool = True,
    snapshots: Sequence[int] = (),
) -> TrainResult:
    """The training loop of :func:`train_mlp` and :func:`train_classifier` (checked input)."""
    if inputs.shape[1] != targets.shape[1]:
        raise ValueError(
            "x and y must hold the same number of examples, got "
            f"{inputs.shape[1]} and {targets.shape[1]}"
        )
    runs, n_examples, n_in = inputs.shape
    kept = _snapshot_steps(snapshots, epochs * math.ceil(n_examples / batch_size))
    copies: dict[int, MLP] = {}
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny matrices: more threads only add synchronisation
    try:
        generators = [torch.Generator().manual_seed(s) for s in seeds]
        theta = _draw_weights(generators, n_in, n_hidden, n_out, dtype).requires_grad_(True)
        orders = [  # each run's shuffle of each epoch, (R, N) per epoch
            torch.stack([torch.randperm(n_examples, generator=g) for g in generators])
            for _ in range(epochs if shuffle else 0)
        ]
        offsets = (torch.arange(runs) * n_examples)[:, None]
        flat_inputs, flat_targets = inputs.flatten(0, 1), targets.flatten(0, 1)
        rate = torch.as_tensor(rates, dtype=dtype)[:, None]
        m, v = torch.zeros_like(theta), torch.zeros_like(theta)
        losses: list[torch.Tensor] = []
        norms: list[torch.Tensor] = []
        epoch_inputs, epoch_targets = inputs, targets
        for epoch in range(epochs):
            if shuffle:  # gather the epoch's shuffled examples once, from every run's rows
                rows = (orders[epoch] + offsets).flatten()
                epoch_inputs = flat_inputs.index_select(0, rows).view(inputs.shape)
                epoch_targets = flat_targets.index_select(0, rows).view(targets.shape)
            for start in range(0, n_examples, batch_size):
                batch = slice(start, start + batch_size)
                model = _unflatten(theta, n_in, n_hidden, n_out)
                value = batch_loss(model(epoch_inputs[:, batch]), epoch_targets[:, batch])
                (grad,) = torch.autograd.grad(value.sum(), theta)
                with torch.no_grad():
                    if optimizer == "sgd":
                        theta -= rate * grad
                    else:
                        _adam_step(theta, grad, m, v, rate, len(losses) + 1, betas, eps)
                losses.append(value.detach())
                norms.append(torch.linalg.vector_norm(grad, dim=1))
                if len(losses) in kept:
                    copies[len(losses)] = _unflatten(theta.detach().clone(), n_in, n_hidden, n_out)
        model = _unflatten(theta.detach(), n_in, n_hidden, n_out)
        return TrainResult(model, torch.stack(losses).numpy(), torch.stack(norms).numpy(), copies)
    finally:
        torch.set_num_threads(threads)


def _snapshot_steps(snapshots: Sequence[int], steps: int) -> set[int]:
    """The steps to keep a copy of the weights after, checked against the ``steps`` taken."""
    wanted = list(snapshots)
    for step in wanted:
        if (
            isinstance(step, bool)
            or not isinstance(step, int | np.integer)
            or not 1 <= step <= steps
        ):
            raise ValueError(
                f"snapshots must be steps in [1, {steps}] (integers; this run takes {steps} "
                f"steps), got {step!r}"
            )
    return {int(step) for step in wanted}


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


def _shapes(n_in: int, n_hidden: int, n_out: int) -> list[tuple[int, int]]:
    if n_hidden == 0:
        return [(n_in, n_out), (1, n_out)]
    return [(n_in, n_hidden), (1, n_hidden), (n_hidden, n_out), (1, n_out)]


def _draw_weights(
    generators: Sequence[torch.Generator], n_in: int, n_hidden: int, n_out: int, dtype: torch.dtype
) -> torch.Tensor:
    """Each generator's ``w1, b1, w2, b2``, flattened into one row of an ``(R, P)`` tensor."""
    for name, value, minimum in [("n_in", n_in, 1), ("n_hidden", n_hidden, 0), ("n_out", n_out, 1)]:
        check_count(name, value, minimum)
    bounds = [1 / math.sqrt(n_in)] * 2 + [1 / math.sqrt(max(n_hidden, 1))] * 2
    rows = []
    for generator in generators:
        parts = [
            (2 * torch.rand(shape, generator=generator, dtype=dtype) - 1) * bound
            for shape, bound in zip(_shapes(n_in, n_hidden, n_out), bounds, strict=False)
        ]
        rows.append(torch.cat([part.flatten() for part in parts]))
    return torch.stack(rows)


def _unflatten(theta: torch.Tensor, n_in: int, n_hidden: int, n_out: int) -> MLP:
    """The networks whose weights are the rows of ``theta`` (views, so gradients flow)."""
    shapes = _shapes(n_in, n_hidden, n_out)
    parts = torch.split(theta, [rows * cols for rows, cols in shapes], dim=1)
    return MLP(*(p.view(-1, *s) for p, s in zip(parts, shapes, strict=True)))


def _takes_reduction(loss: LossFn) -> bool:
    try:
        return "reduction" in inspect.signature(loss).parameters
    except (TypeError, ValueError):  # pragma: no cover - builtins without a signature
        return False


def _per_run_loss(loss: LossFn, kwargs: dict[str, Any]) -> Callable[..., torch.Tensor]:
    """``(prediction, target) -> (R,)`` losses, each the loss of one run's batch."""
    if _takes_reduction(loss):

        def mean_over_batch(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
            return loss(prediction, target, reduction="none", **kwargs).mean(dim=(1, 2))

        return mean_over_batch
    return torch.vmap(lambda prediction, target: loss(prediction, target, **kwargs))


def _as_run_kwargs(
    values: Mapping[str, ArrayLike], runs: int, dtype: torch.dtype, shared: Mapping[str, Any]
) -> dict[str, torch.Tensor]:
    """Per-run loss arguments as tensors with a leading axis of ``runs``, or a ValueError."""
    tensors = {}
    for name, value in values.items():
        if name in shared:
            raise ValueError(
                f"the loss argument {name!r} is in both loss_kwargs and run_loss_kwargs"
            )
        tensor = torch.as_tensor(np.asarray(value))
        if tensor.is_floating_point():
            tensor = tensor.to(dtype)
        if tensor.ndim == 0 or tensor.shape[0] != runs:
            raise ValueError(
                f"run_loss_kwargs[{name!r}] must have one entry per run along its first axis, "
                f"shape ({runs}, ...), got {tuple(tensor.shape)}"
            )
        tensors[name] = tensor
    return tensors


def _per_run_class_loss(
    loss: LossFn, kwargs: dict[str, Any], per_run: Mapping[str, torch.Tensor] | None = None
) -> Callable[..., torch.Tensor]:
    """``(logits (R, B, C), target) -> (R,)``: each run's mean loss per example.

    Each tensor of ``per_run`` (leading axis ``R``) is repeated ``B`` times per run, so that
    row ``r * B + i`` of the loss's arguments belongs to run ``r``, as the logits' rows do.
    """
    if not _takes_reduction(loss):
        raise TypeError(
            "train_classifier needs a loss with a reduction argument (it calls the loss with "
            f"reduction='none'), such as companion.cross_entropy; got {loss!r}"
        )

    def mean_over_batch(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        runs, batch, classes = logits.shape
        rows = {name: v.repeat_interleave(batch, dim=0) for name, v in (per_run or {}).items()}
        values = loss(
            logits.reshape(runs * batch, classes),
            target.flatten(0, 1),
            reduction="none",
            **kwargs,
            **rows,
        )
        if values.shape == (runs * batch, classes):
            values = values.sum(dim=1)
        elif values.shape != (runs * batch,):
            raise ValueError(
                f"the loss must give one value per example or per logit with "
                f"reduction='none', shape ({runs * batch},) or ({runs * batch}, {classes}) "
                f"for {runs * batch} examples and {classes} outputs, got {tuple(values.shape)}"
            )
        return values.reshape(runs, batch).mean(dim=1)

    return mean_over_batch


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


def _as_class_targets(
    values: ArrayLike, runs: int, n_out: int | None, dtype: torch.dtype
) -> tuple[torch.Tensor, int]:
    """Class indices as an int64 ``(R, N)`` tensor, or probabilities as ``(R, N, C)``."""
    array = np.asarray(values)
    if array.dtype.kind == "f":
        targets = _as_runs(array, "y", runs, dtype)
        classes = int(targets.shape[2])
        if n_out is not None and n_out != classes:
            raise ValueError(
                f"n_out must equal the {classes} columns of the float targets y, got {n_out!r}"
            )
        return targets, classes
    if array.dtype.kind not in "iu":
        raise TypeError(
            "y must hold class indices (an integer dtype) or probabilities or labels (a float "
            f"dtype), got dtype {array.dtype}"
        )
    if n_out is None:
        raise ValueError("n_out (the number of classes) is required when y holds class indices")
    check_count("n_out", n_out)
    if array.ndim == 1:
        array = array[None, :].repeat(runs, axis=0)
    if array.ndim != 2 or array.shape[0] != runs or array.shape[1] == 0:
        raise ValueError(
            f"class indices y must have shape (N,) or (runs, N) with runs = {runs} and N > 0, "
            f"got {array.shape}"
        )
    classes = max(n_out, 2)  # one output: labels 0 and 1 for a binary loss
    outside = (array < 0) | (array >= classes)
    if outside.any():
        raise ValueError(
            f"y holds the class index {array[outside][0]}, outside [0, {classes}) (n_out = "
            f"{n_out}{', a binary classifier' if n_out == 1 else ''})"
        )
    if n_out == 1:
        return torch.as_tensor(array[..., None], dtype=dtype), n_out
    return torch.as_tensor(array.astype(np.int64)), n_out


def loss_hessian(
    model: MLP,
    x: ArrayLike,
    y: ArrayLike,
    loss: LossFn,
    *,
    loss_kwargs: Mapping[str, Any] | None = None,
) -> torch.Tensor:
    r"""Each run's Hessian of its mean loss on ``(x, y)``, with respect to all its weights.

    For run :math:`r` with weights :math:`\theta` (:attr:`MLP.weights` flattened in order,
    :math:`P` numbers), the :math:`P \times P` matrix of second derivatives
    :math:`\nabla^2_\theta\, L(\theta)` of the loss that :func:`train_mlp` would take on
    ``(x, y)`` as one batch, computed exactly by automatic differentiation in float64. For the
    mean squared error it is the sum of two terms,

    .. math::
        \nabla^2_\theta\,\mathrm{MSE}
        = \frac2N \sum_i J_i^\top J_i + \frac2N \sum_i r_i\, \nabla^2_\theta f(x_i; \theta),

    with :math:`J_i = \nabla_\theta f(x_i; \theta)` and the residuals :math:`r_i = f(x_i) - y_i`.
    The first (Gauss–Newton) term alone is the Hessian with targets ``y = model(x)``, where
    every residual is zero. For the linear model (no hidden layer) and one input, the MSE's
    Hessian is the constant :math:`2M` of :func:`companion.fitting.mse_lr_limit`.

    Parameters
    ----------
    model : MLP
        The networks, for example :func:`init_mlp`'s, or the ``model`` of a :class:`TrainResult`.
    x, y : array_like, shape (N,), (N, d) or (R, N, d)
        As for :func:`train_mlp`.
    loss, loss_kwargs
        As for :func:`train_mlp`.

    Returns
    -------
    torch.Tensor, shape (R, P, P), float64

    Examples
    --------
    >>> from companion import mse_loss
    >>> net = init_mlp([0], n_hidden=3)
    >>> h = loss_hessian(net, [0.0, 1.0], [1.0, 2.0], mse_loss)
    >>> tuple(h.shape), bool(torch.allclose(h, h.mT))
    ((1, 10, 10), True)
    """
    n_in, n_out = model.n_in, model.n_out
    n_hidden = 0 if model.w2 is None else int(model.w1.shape[2])
    theta = torch.cat([w.detach().flatten(1) for w in model.weights], 1).to(torch.float64)
    inputs = _as_runs(x, "x", model.n_runs, torch.float64)
    targets = _as_runs(y, "y", model.n_runs, torch.float64)
    if inputs.shape[1] != targets.shape[1] or inputs.shape[2] != n_in or targets.shape[2] != n_out:
        raise ValueError(
            f"x and y must hold the same number of examples with {n_in} input(s) and {n_out} "
            f"output(s), got shapes {tuple(inputs.shape)} and {tuple(targets.shape)}"
        )
    batch_loss = _per_run_loss(loss, dict(loss_kwargs or {}))

    def run_loss(weights: torch.Tensor, run: int) -> torch.Tensor:
        prediction = _unflatten(weights[None], n_in, n_hidden, n_out)(inputs[run : run + 1])
        return batch_loss(prediction, targets[run : run + 1])[0]

    return torch.stack(
        [
            torch.autograd.functional.hessian(lambda w, r=run: run_loss(w, r), theta[run])
            for run in range(model.n_runs)
        ]
    )


# ---------------------------------------------------------------------------------------------
# Many loss settings trained together (Chapter 9): one loop for a whole grid of losses.

#: A setting of :func:`train_settings`: a loss and the keyword arguments it is called with.
Setting = tuple[LossFn, Mapping[str, Any]]


def grouped_loss(settings: Sequence[Setting]) -> Callable[..., torch.Tensor]:
    r"""One loss for a batch whose rows are ``G`` equal, consecutive blocks, one per setting.

    Block ``g`` of the ``M`` rows (rows :math:`gM/G` to :math:`(g+1)M/G - 1`) is scored by
    setting ``g``'s loss, called as ``loss_g(input, target, reduction="none", **kwargs_g)``;
    a loss per logit (shape ``(rows, C)``) is summed over the classes, so every row gets one
    value. :func:`train_classifier` stacks its runs' batches in this order (run by run), so
    with ``G * S`` runs, setting by setting, every run is scored by its own setting's loss.

    Examples
    --------
    >>> from companion import binary_cross_entropy_with_logits as bce
    >>> loss = grouped_loss([(bce, {}), (bce, {"pos_weight": torch.tensor(3.0)})])
    >>> z, t = torch.zeros(4, 1), torch.ones(4, 1)
    >>> (loss(z, t) / math.log(2)).tolist()
    [1.0, 1.0, 3.0, 3.0]
    """
    blocks = list(settings)
    if not blocks:
        raise ValueError("settings must hold at least one (loss, kwargs) pair")

    def loss(input: torch.Tensor, target: torch.Tensor, reduction: str = "none") -> torch.Tensor:
        rows = int(input.shape[0])
        if rows % len(blocks):
            raise ValueError(
                f"a batch of {rows} rows does not split into {len(blocks)} equal blocks"
            )
        size = rows // len(blocks)
        parts = []
        for g, (function, kwargs) in enumerate(blocks):
            block = slice(g * size, (g + 1) * size)
            value = function(input[block], target[block], reduction="none", **kwargs)
            parts.append(value.sum(dim=1) if value.ndim == 2 else value)
        values = torch.cat(parts)
        if reduction == "none":
            return values
        if reduction == "mean":
            return values.mean()
        if reduction == "sum":
            return values.sum()
        raise ValueError(f"reduction must be 'none', 'mean' or 'sum', got {reduction!r}")

    return loss


@dataclass(frozen=True)
class SettingRuns:
    """What :func:`train_settings` returns: one trained run per setting and seed.

    Attributes
    ----------
    names : tuple of str
        The settings, in the order given; ``G = len(names)``.
    n_seeds : int
        The number of seeds ``S``; run ``g * S + s`` is setting ``g`` with seed ``s``.
    result : TrainResult
        The ``G * S`` trained networks and their record.
    """

    names: tuple[str, ...]
    n_seeds: int
    result: TrainResult

    def logits(self, x: ArrayLike) -> np.ndarray:
        """Every run's logits for new inputs, as ``float64``, shape ``(G, S, N, n_out)``.

        ``x`` of shape ``(S, N, d)`` gives seed ``s``'s points to seed ``s`` of every
        setting (each seed its own held-out set); ``(N, d)`` goes to every run.
        """
        inputs = np.asarray(x, dtype=np.float64)
        if inputs.ndim == 3:
            inputs = _tile_settings(inputs, "x", len(self.names), self.n_seeds)
        out = predict(self.result.model, inputs)
        return out.reshape(len(self.names), self.n_seeds, *out.shape[1:])

    def select(self, name: str, seed_index: int) -> MLP:
        """The network of one setting and one seed (``seed_index`` counts the seeds from 0).

        Examples
        --------
        >>> from companion import cross_entropy
        >>> x, y = np.array([[-1.0], [1.0]]), np.array([0, 1])
        >>> runs = train_settings(x, y, {"CE": (cross_entropy, {})}, seeds=[0, 1], lr=0.1,
        ...                       n_out=2, n_hidden=0, epochs=1)
        >>> runs.select("CE", 1).n_runs
        1
        """
        if name not in self.names:
            raise ValueError(f"name must be one of the settings {self.names}, got {name!r}")
        if not 0 <= seed_index < self.n_seeds:
            raise ValueError(f"seed_index must be in [0, {self.n_seeds}), got {seed_index!r}")
        run = self.names.index(name) * self.n_seeds + seed_index
        return MLP(*(w[run : run + 1] for w in self.result.model.weights))


def train_settings(
    x: ArrayLike,
    y: ArrayLike,
    settings: Mapping[str, Setting],
    *,
    seeds: Sequence[int],
    lr: float | Sequence[float],
    **train_kwargs: Any,
) -> SettingRuns:
    r"""Train every setting (a loss and its arguments) with every seed, in one loop.

    Setting ``g`` with seed ``s`` is, up to rounding, run ``s`` of
    ``train_classifier(x, y, loss_g, seeds=seeds, loss_kwargs=kwargs_g, **train_kwargs)``:
    it starts from seed ``s``'s weights and sees the same mini-batches, in the same order, as
    every other setting with that seed, so that settings are compared on equal terms (paired).
    All ``G * S`` runs train together through :func:`grouped_loss`, so a grid of settings
    costs one training loop instead of ``G``.

    Parameters
    ----------
    x, y : array_like
        Inputs and class targets as :func:`train_classifier` takes them: shared by every
        run, or one set per seed (a leading axis of length ``S``).
    settings : mapping of str to (loss, kwargs)
        For example ``{"CE": (binary_cross_entropy_with_logits, {}), "focal":
        (sigmoid_focal_loss, {"gamma": 2.0, "alpha": -1.0})}``. Each loss takes
        ``reduction="none"`` and gives one value per example or per logit.
    seeds : sequence of int
        The seeds of each setting's runs; ``S = len(seeds)``.
    lr : float or sequence of float
        One learning rate for every run, or one per seed (the same for every setting).
    **train_kwargs
        The other arguments of :func:`train_classifier` (``n_out``, ``optimizer``,
        ``batch_size``, ``epochs``, ``n_hidden``...), except ``loss_kwargs``.

    Returns
    -------
    SettingRuns

    Examples
    --------
    >>> from companion import binary_cross_entropy_with_logits, sigmoid_focal_loss
    >>> x, y = np.array([[-1.0], [-0.5], [0.5], [1.0]]), np.array([0, 0, 1, 1])
    >>> settings = {
    ...     "CE": (binary_cross_entropy_with_logits, {}),
    ...     "focal": (sigmoid_focal_loss, {"gamma": 2.0, "alpha": -1.0}),
    ... }
    >>> runs = train_settings(x, y, settings, seeds=[0, 1, 2], lr=0.5, n_out=1,
    ...                       n_hidden=0, batch_size=4, epochs=20)
    >>> runs.names, runs.logits(x).shape
    (('CE', 'focal'), (2, 3, 4, 1))
    """
    if "loss_kwargs" in train_kwargs:
        raise TypeError(
            "train_settings takes each setting's arguments in settings, not loss_kwargs"
        )
    if not settings:
        raise ValueError("settings must name at least one (loss, kwargs) setting")
    seed_list = check_seeds(seeds)
    groups, runs = len(settings), len(seed_list)
    inputs, targets = np.asarray(x), np.asarray(y)
    if inputs.ndim == 3:
        inputs = _tile_settings(inputs, "x", groups, runs)
    per_seed_targets = targets.ndim == (2 if targets.dtype.kind in "iu" else 3)
    if per_seed_targets:
        targets = _tile_settings(targets, "y", groups, runs)
    rates = np.asarray(lr, dtype=np.float64)
    if rates.shape not in [(), (runs,)]:
        raise ValueError(f"lr must be one value or one per seed ({runs}), got {lr!r}")
    result = train_classifier(
        inputs,
        targets,
        grouped_loss(list(settings.values())),
        seeds=seed_list * groups,
        lr=np.tile(rates, groups).tolist() if rates.ndim else float(rates),
        **train_kwargs,
    )
    return SettingRuns(tuple(settings), runs, result)


def _tile_settings(values: np.ndarray, name: str, groups: int, seeds: int) -> np.ndarray:
    """Per-seed ``values`` (leading axis of length ``S``), repeated for each setting."""
    if values.shape[0] != seeds:
        raise ValueError(
            f"{name} holds one set per seed, so its first axis must have the {seeds} seeds, "
            f"got shape {values.shape}"
        )
    return np.concatenate([values] * groups)


@contextmanager
def one_torch_thread() -> Iterator[None]:
    """Run PyTorch on one intra-op thread inside the block; restore the thread count after it.

    The companion's training loops work on small tensors (a few thousand elements), where more
    threads only add synchronisation, and one thread gives the same results on every machine.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
