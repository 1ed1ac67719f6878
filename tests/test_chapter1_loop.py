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


def two_models(build):
    """The same freshly initialised model twice."""
    torch.manual_seed(0)
    first = build()
    torch.manual_seed(0)
    second = build()
    return first, second


@pytest.mark.parametrize("loss", [mse_loss, l1_loss])
def test_shown_loop_matches_gradient_descent_on_a_line(loss):
    training_loop = shown_training_loop()
    x = torch.linspace(-1, 1, 40).unsqueeze(1)
    y = 2 * x + 1 + 0.3 * torch.sin(7 * x)
    shown, companion_model = two_models(lambda: torch.nn.Linear(1, 1))
    shown_losses = training_loop(
        list(shown.parameters()), lambda: loss(shown(x), y), lr=0.1, steps=50
    )
    companion_losses = gradient_descent(
        companion_model.parameters(), lambda: loss(companion_model(x), y), lr=0.1, steps=50
    )
    np.testing.assert_array_equal(shown_losses, companion_losses)
    for a, b in zip(shown.parameters(), companion_model.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert shown_losses[-1] < 0.5 * shown_losses[0]


def test_shown_loop_matches_gradient_descent_on_a_network():
    training_loop = shown_training_loop()
    x = torch.linspace(-3, 3, 64).unsqueeze(1)
    y = torch.sin(x)

    def build():
        return torch.nn.Sequential(torch.nn.Linear(1, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))

    shown, companion_model = two_models(build)
    shown_losses = training_loop(
        list(shown.parameters()), lambda: mse_loss(shown(x), y), lr=0.2, steps=30
    )
    companion_losses = gradient_descent(
        companion_model.parameters(), lambda: mse_loss(companion_model(x), y), lr=0.2, steps=30
    )
    np.testing.assert_array_equal(shown_losses, companion_losses)
    for a, b in zip(shown.parameters(), companion_model.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_shown_loop_leaves_parameters_alone_under_a_flat_loss():
    training_loop = shown_training_loop()
    w = torch.tensor([0.3, 0.7], requires_grad=True)
    losses = training_loop([w], lambda: torch.round(w).sum(), lr=1.0, steps=5)
    np.testing.assert_array_equal(losses, 1.0)
    torch.testing.assert_close(w.detach(), torch.tensor([0.3, 0.7]))
