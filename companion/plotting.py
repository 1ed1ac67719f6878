"""Figure helpers so every chapter's plots share one readable style.

Every figure gets a solid white background (readable in a dark-mode browser), a title on each
axes, axis labels and, where several lines are drawn, a legend. Needs matplotlib
(``pip install "loss-functions-companion[plot]"``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

BACKGROUND = "white"


def new_figure(
    ncols: int = 1, nrows: int = 1, *, width: float = 4.2, height: float = 3.2
) -> tuple[Figure, Any]:
    """A figure of ``nrows x ncols`` panels, each ``width x height`` inches, on white.

    Returns the figure and the axes (a single :class:`~matplotlib.axes.Axes` for one panel,
    else an array of them).
    """
    fig, axes = plt.subplots(
        nrows,
        ncols,
        figsize=(width * ncols, height * nrows),
        facecolor=BACKGROUND,
        layout="constrained",
        squeeze=True,
    )
    for ax in np.atleast_1d(axes).ravel():
        ax.set_facecolor(BACKGROUND)
    return fig, axes


def label(ax: Axes, title: str, xlabel: str, ylabel: str, *, legend: bool = False) -> Axes:
    """Set the title and axis labels of ``ax`` (and draw its legend when ``legend``)."""
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if legend:
        ax.legend(frameon=True, facecolor=BACKGROUND)
    ax.grid(alpha=0.3)
    return ax


def plot_curves(
    ax: Axes,
    x: Sequence[float] | np.ndarray,
    curves: Mapping[str, Sequence[float] | np.ndarray],
    **style: Any,
) -> Axes:
    """Draw one labelled line per entry of ``curves`` (name -> y values) against ``x``."""
    for name, y in curves.items():
        ax.plot(x, y, label=name, **style)
    return ax
