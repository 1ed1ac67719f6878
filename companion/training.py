"""The supervised learning loop in PyTorch, with any loss as the only training signal.

Needs PyTorch (``pip install "loss-functions-companion[torch]"``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from companion._checks import check_schedule
from companion._extras import missing_extra

try:
    import torch
except ModuleNotFoundError as error:
    raise missing_extra(error, "torch", __name__) from error


def gradient_descent(
    parameters: Iterable[torch.Tensor],
    loss_fn: Callable[[], torch.Tensor],
    *,
    lr: float = 0.1,
    steps: int = 100,
) -> np.ndarray:
    r"""Minimise ``loss_fn()`` over ``parameters`` by plain gradient descent; return the losses.

    Every step is the supervised loop: predict and score (``loss_fn`` runs the model and
    returns one number), backpropagate (autograd fills every ``parameter.grad``), update

    .. math:: \theta \leftarrow \theta - \eta\, \nabla_\theta L(\theta),

    and repeat. Nothing but the loss tells the parameters where to go: a loss with zero
    gradient leaves them where they are.

    Parameters
    ----------
    parameters : iterable of torch.Tensor
        Leaf tensors with ``requires_grad=True``, updated in place.
    loss_fn : callable
        Takes no argument and returns a scalar tensor that depends on ``parameters``.
    lr, steps : float, int
        Step size :math:`\eta` and number of steps.

    Returns
    -------
    numpy.ndarray, shape (steps,)
        The loss before each update.

    Examples
    --------
    >>> w = torch.tensor(0.0, requires_grad=True)
    >>> losses = gradient_descent([w], lambda: (w - 3.0) ** 2, lr=0.25, steps=3)
    >>> losses.tolist(), w.item()
    ([9.0, 2.25, 0.5625], 2.625)
    """
    check_schedule(lr, steps)
    parameters = list(parameters)
    if not parameters or not all(p.is_leaf and p.requires_grad for p in parameters):
        raise ValueError("parameters must be leaf tensors with requires_grad=True")
    losses = []
    for _ in range(steps):
        loss = loss_fn()
        if loss.ndim != 0:
            raise ValueError(f"loss_fn must return a scalar, got shape {tuple(loss.shape)}")
        for p in parameters:
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in parameters:
                if p.grad is not None:
                    p -= lr * p.grad
        losses.append(loss.item())
    return np.array(losses)
