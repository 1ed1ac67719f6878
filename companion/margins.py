r"""The multi-class hinge's gradient, and which examples it ignores during training.

The multi-class hinge of :func:`~companion.losses.classification.multi_margin_loss` costs
nothing once the target class leads every other class by the margin, and then its gradient is
exactly zero: the example no longer moves the weights. Chapter 9 measures how many examples
that is:

- :func:`multi_margin_loss_grad` is the loss's (sub)gradient with respect to the scores,
  the one PyTorch's autograd returns;
- :class:`LossRecorder` wraps a loss given to :func:`~companion.networks.train_classifier`
  and keeps every step's per-example losses, so the share of examples with zero loss, and
  zero gradient, can be followed through training.

NumPy only; :class:`LossRecorder` records any array library's values (PyTorch tensors too).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from companion._checks import check_count
from companion._typing import ArrayLike


def multi_margin_loss_grad(
    input: ArrayLike,
    target: ArrayLike,
    p: int = 1,
    margin: float = 1.0,
    reduction: str = "mean",
) -> np.ndarray:
    r"""The derivative of each example's multi-class hinge with respect to its scores.

    With :math:`z_j = m - x_y + x_j` for each class :math:`j \ne y`, the loss of an example
    is :math:`\ell = \frac1C \sum_{j \ne y} \max(0, z_j)^p`, so

    .. math::

        \frac{\partial \ell}{\partial x_j} = \frac{p}{C}\, z_j^{p-1}\, \mathbf 1[z_j > 0]
        \quad (j \ne y), \qquad
        \frac{\partial \ell}{\partial x_y} = -\sum_{j \ne y} \frac{\partial \ell}{\partial x_j}.

    At a kink (:math:`z_j = 0`, where the hinge has every slope between 0 and :math:`1/C`)
    this takes 0, as PyTorch's autograd does. An example whose target leads every other
    class by more than the margin has a zero row: it does not move the weights.

    Parameters
    ----------
    input : array_like, shape (N, C)
        Scores (logits) :math:`x`.
    target : array_like of int, shape (N,)
        Class indices :math:`y` in ``[0, C)``.
    p : {1, 2}
        The power of each hinge.
    margin : float
        The margin :math:`m \ge 0`.
    reduction : {'mean', 'sum', 'none'}
        The reduction of the loss differentiated: for ``'none'`` and ``'sum'`` row
        :math:`n` is :math:`\partial \ell_n / \partial x_n`; for ``'mean'`` it is divided
        by :math:`N`, as :func:`~companion.losses.classification.cross_entropy_grad` does.

    Returns
    -------
    numpy.ndarray, shape (N, C)

    Examples
    --------
    Class 2 leads class 0 by 3 (no loss) but class 1 by only 0.5:

    >>> multi_margin_loss_grad([[0.0, 2.5, 3.0]], [2], reduction="sum").round(4).tolist()
    [[0.0, 0.3333, -0.3333]]
    """
    scores = np.asarray(input, dtype=np.float64)
    labels = np.asarray(target)
    if scores.ndim != 2 or labels.shape != scores.shape[:1]:
        raise ValueError(
            f"input must have shape (N, C) and target (N,), got {scores.shape} and {labels.shape}"
        )
    classes = scores.shape[1]
    if labels.dtype.kind not in "iu" or not ((labels >= 0) & (labels < classes)).all():
        raise ValueError(f"target must hold class indices (integers) in [0, {classes})")
    if p not in (1, 2):
        raise ValueError(f"p must be 1 or 2, got {p!r}")
    if not (np.isfinite(margin) and margin >= 0):
        raise ValueError(f"margin must be finite and >= 0, got {margin!r}")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    rows = np.arange(scores.shape[0])
    z = margin - scores[rows, labels][:, None] + scores
    active = z > 0
    active[rows, labels] = False
    grad: np.ndarray = np.where(active, p * z ** (p - 1), 0.0) / scores.shape[1]
    grad[rows, labels] = -grad.sum(axis=1)
    if reduction == "mean" and scores.shape[0]:
        grad /= scores.shape[0]
    return grad


class LossRecorder:
    r"""A loss that keeps a copy of its per-example values at every call.

    ``LossRecorder(loss, **kwargs)`` is called as ``recorder(input, target, reduction)`` and
    returns ``loss(input, target, reduction=reduction, **kwargs)``; on the side it keeps the
    per-example losses of the call (a loss per logit summed over the classes). Given to
    :func:`~companion.networks.train_classifier`, which calls the loss once per step on the
    batches of all its runs, it records every example's loss when the example was used,
    before the step's update. For the multi-class hinge a zero loss means a zero gradient
    (see :func:`multi_margin_loss_grad`): :meth:`zero_share` counts the examples that did
    not move the weights.

    Attributes
    ----------
    values : list of numpy.ndarray
        One array per call: the per-example losses, in the order of the rows.

    Examples
    --------
    >>> import torch
    >>> from companion import multi_margin_loss
    >>> hinge = LossRecorder(multi_margin_loss)
    >>> x = torch.tensor([[3.0, 0.0], [0.5, 0.0], [0.0, 2.0], [0.0, 0.2]])
    >>> hinge(x, torch.tensor([0, 0, 1, 1]), reduction="none").tolist()
    [0.0, 0.25, 0.0, 0.4000000059604645]
    >>> hinge.zero_share(n_runs=2).tolist()
    [[0.5, 0.5]]
    """

    def __init__(self, loss: Callable[..., Any], **kwargs: Any) -> None:
        self.loss = loss
        self.kwargs = kwargs
        self.values: list[np.ndarray] = []

    def __call__(self, input: Any, target: Any, reduction: str = "mean") -> Any:
        values = self.loss(input, target, reduction="none", **self.kwargs)
        per_example = values.sum(1) if values.ndim == 2 else values
        if hasattr(per_example, "detach"):  # a tensor: no gradient, on the CPU
            per_example = per_example.detach().cpu().numpy()
        self.values.append(np.array(per_example, dtype=np.float64))
        if reduction == "none":
            return values
        return self.loss(input, target, reduction=reduction, **self.kwargs)

    def zero_share(self, n_runs: int) -> np.ndarray:
        """The share of each run's examples with exactly zero loss, call by call.

        Each call's rows are ``n_runs`` equal blocks, one per run, as
        :func:`~companion.networks.train_classifier` stacks them.

        Returns
        -------
        numpy.ndarray, shape (calls, n_runs)
        """
        check_count("n_runs", n_runs)
        shares = []
        for values in self.values:
            if values.size % n_runs:
                raise ValueError(
                    f"a call with {values.size} examples does not split into {n_runs} runs"
                )
            shares.append((values.reshape(n_runs, -1) == 0).mean(axis=1))
        return np.array(shares).reshape(len(shares), n_runs)
