"""Figure helpers so every chapter's plots share one readable style.

Every figure gets a solid white background (readable in a dark-mode browser), a title on each
axes, axis labels and, where several lines are drawn, a legend. :func:`use_book_style` makes
notebooks draw SVG (sharp at any size) with fonts sized for the book's text column. Needs
matplotlib (``pip install "loss-functions-companion[plot]"``).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from companion._extras import missing_extra

try:
    import matplotlib.pyplot as plt
    from matplotlib import ticker
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
except ModuleNotFoundError as error:
    raise missing_extra(error, "plot", __name__) from error

BACKGROUND = "white"

#: Fonts sized for figures about 6 inches wide shown in a text column of about 690 px (desktop)
#: or 360 px (phone); SVG ids salted with a constant so the same figure gives the same file.
BOOK_STYLE: dict[str, Any] = {
    "font.size": 12,
    "axes.titlesize": 13,
    "axes.labelsize": 12,
    "xtick.labelsize": 11,
    "ytick.labelsize": 11,
    "legend.fontsize": 11,
    "lines.linewidth": 2.0,
    "svg.hashsalt": "loss-functions-book",
    "svg.fonttype": "path",
}


def use_book_style() -> None:
    """Apply :data:`BOOK_STYLE` and, inside IPython/Jupyter, show figures as SVG.

    Every chapter calls it once, after its imports.
    """
    plt.style.use(BOOK_STYLE)
    ipython = sys.modules.get("IPython")  # loaded in every Jupyter kernel, never imported here
    if ipython is not None and ipython.get_ipython() is not None:
        from matplotlib_inline.backend_inline import set_matplotlib_formats

        set_matplotlib_formats("svg")


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


def plain_log_axis(ax: Axes, axis: str = "y", ticks: Sequence[float] | None = None) -> Axes:
    """Put ``axis`` ("x" or "y") of ``ax`` on a log scale labelled with plain numbers.

    Matplotlib labels a log axis with powers of ten and, when it spans less than a decade or
    two, labels the minor ticks too (``6×10⁰, 4×10⁰, ...``). This labels only ``ticks`` (by
    default 1, 3, 10, 30, ... within the data), written as plain numbers, and leaves the minor
    ticks unlabelled.
    """
    if axis not in ("x", "y"):
        raise ValueError(f"axis must be 'x' or 'y', got {axis!r}")
    target = ax.xaxis if axis == "x" else ax.yaxis
    (ax.set_xscale if axis == "x" else ax.set_yscale)("log")
    if ticks is None:
        target.set_major_locator(ticker.LogLocator(base=10, subs=(1.0, 3.0)))
    else:
        target.set_major_locator(ticker.FixedLocator(list(ticks)))
    target.set_major_formatter(ticker.FuncFormatter(lambda value, _: f"{value:g}"))
    target.set_minor_formatter(ticker.NullFormatter())
    return ax
