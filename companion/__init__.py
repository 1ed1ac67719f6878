"""Regression losses for NumPy arrays, PyTorch tensors and any array-API library."""

from companion.losses import (
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

__version__ = "0.1.0"

__all__ = [
    "__version__",
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
