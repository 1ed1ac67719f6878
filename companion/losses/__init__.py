"""The losses: regression losses in :mod:`companion.losses.regression`.

Every name is also importable from :mod:`companion` itself (``from companion import mse_loss``).
The argument checks shared by all losses live in ``companion.losses._validation`` and the shared
docstring sections in ``companion.losses._docs``.
"""

from companion.losses.regression import (
    huber_loss,
    huber_loss_grad,
    huber_loss_reference,
    l1_loss,
    l1_loss_grad,
    l1_loss_reference,
    mse_loss,
    mse_loss_grad,
    mse_loss_reference,
    rmse,
    smooth_l1_loss,
    smooth_l1_loss_grad,
    smooth_l1_loss_reference,
)

__all__ = [
    "l1_loss",
    "mse_loss",
    "rmse",
    "smooth_l1_loss",
    "huber_loss",
    "l1_loss_reference",
    "mse_loss_reference",
    "smooth_l1_loss_reference",
    "huber_loss_reference",
    "l1_loss_grad",
    "mse_loss_grad",
    "smooth_l1_loss_grad",
    "huber_loss_grad",
]
