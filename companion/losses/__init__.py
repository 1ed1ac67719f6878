"""The losses: regression losses in :mod:`companion.losses.regression`, classification losses
in :mod:`companion.losses.classification`.

Every name is also importable from :mod:`companion` itself (``from companion import mse_loss``).
The argument checks shared by all losses live in ``companion.losses._validation`` and the shared
docstring sections in ``companion.losses._docs``.
"""

from companion.losses.classification import (
    binary_cross_entropy,
    binary_cross_entropy_reference,
    binary_cross_entropy_with_logits,
    binary_cross_entropy_with_logits_grad,
    binary_cross_entropy_with_logits_reference,
    cross_entropy,
    cross_entropy_grad,
    cross_entropy_reference,
    kl_div,
    kl_div_reference,
    multi_margin_loss,
    multi_margin_loss_reference,
    nll_loss,
    nll_loss_reference,
    sigmoid_focal_loss,
)
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
    pinball_loss,
    pinball_loss_grad,
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
    "pinball_loss",
    "pinball_loss_grad",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "nll_loss",
    "kl_div",
    "sigmoid_focal_loss",
    "multi_margin_loss",
    "binary_cross_entropy_reference",
    "binary_cross_entropy_with_logits_reference",
    "cross_entropy_reference",
    "nll_loss_reference",
    "kl_div_reference",
    "multi_margin_loss_reference",
    "binary_cross_entropy_with_logits_grad",
    "cross_entropy_grad",
]
