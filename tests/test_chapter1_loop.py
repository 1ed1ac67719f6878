"""The training loop that chapter 1 shows is the loop the companion runs.

Chapter 1 prints a short ``training_loop`` for the reader instead of the source of
:func:`companion.training.gradient_descent` (which adds argument checks and uses
``loss.backward()``). These tests run the chapter's loop, taken from the notebook itself, next
to ``gradient_descent`` and require identical losses and parameters, so the two cannot drift.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from companion import l1_loss, mse_loss
from companion.training import gradient_descent

CHAPTER = Path(__file__).resolve().parents[1] / "book" / "01_why_loss_functions.ipynb"


def shown_training_loop():
    """The ``training_loop`` function defined in chapter 1's visible code."""
    cells = json.loads(CHAPTER.read_text(encoding="utf-8"))["cells"]
    shown = [
        cell
        for cell in cells
        if cell["cell_type"] == "code" and "".join(cell["source"]).startswith("def training_loop(")
    ]
    assert len(shown) == 1, "chapter 1 should define training_loop in exactly one cell"
    tags = shown[0]["metadata"].get("tags", [])
    assert not {"remove-cell", "remove-input"} & set(tags), "the loop must be shown"
    namespace = {"np": np, "torch": torch}
    exec("".join(shown[0]["source"]), namespace)
    return namespace["training_loop"]


def train_both(build, loss, x, y, *, lr, steps):
    """Train the same freshly initialised model with chapter 1's loop and with
    ``gradient_descent``; require identical losses and parameters; return the losses."""
    models = []
    for _ in range(2):
        torch.manual_seed(0)
        models.append(build())
    shown, companion_model = models
    shown_losses = shown_training_loop()(
        list(shown.parameters()), lambda: loss(shown(x), y), lr=lr, steps=steps
    )
    companion_losses = gradient_descent(
        companion_model.parameters(), lambda: loss(companion_model(x), y), lr=lr, steps=steps
    )
    np.testing.assert_array_equal(shown_losses, companion_losses)
    for a, b in zip(shown.parameters(), companion_model.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    return shown_losses


@pytest.mark.parametrize("loss", [mse_loss, l1_loss])
def test_shown_loop_matches_gradient_descent_on_a_line(loss):
    x = torch.linspace(-1, 1, 40).unsqueeze(1)
    y = 2 * x + 1 + 0.3 * torch.sin(7 * x)
    losses = train_both(lambda: torch.nn.Linear(1, 1), loss, x, y, lr=0.1, steps=50)
    assert losses[-1] < 0.5 * losses[0]


def test_shown_loop_matches_gradient_descent_on_a_network():
    x = torch.linspace(-3, 3, 64).unsqueeze(1)

    def build():
        return torch.nn.Sequential(torch.nn.Linear(1, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))

    train_both(build, mse_loss, x, torch.sin(x), lr=0.2, steps=30)


def test_shown_loop_leaves_parameters_alone_under_a_flat_loss():
    training_loop = shown_training_loop()
    w = torch.tensor([0.3, 0.7], requires_grad=True)
    losses = training_loop([w], lambda: torch.round(w).sum(), lr=1.0, steps=5)
    np.testing.assert_array_equal(losses, 1.0)
    torch.testing.assert_close(w.detach(), torch.tensor([0.3, 0.7]))
