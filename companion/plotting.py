"""Figure helpers so every chapter's plots share one readable style.

Every figure gets a solid white background (readable in a dark-mode browser), a title on each
axes, axis labels and, where several lines are drawn, a legend. :func:`use_book_style` makes
notebooks draw SVG (sharp at any size) with fonts sized for the book's text column. Needs
matplotlib (``pip install "loss-functions-companion[plot]"``).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
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


def plot_decision_regions(
    ax: Axes,
    scores: Callable[[np.ndarray], np.ndarray],
    extent: tuple[float, float, float, float],
    *,
    colors: Sequence[str],
    resolution: int = 200,
    shade: bool = True,
    linestyle: str = "solid",
    linecolor: str = "black",
    margin: float | None = None,
) -> np.ndarray:
    """Colour where each class wins in a 2-D input space and draw the boundaries.

    ``scores`` maps points of shape ``(M, 2)`` to class scores ``(M, K)`` (logits or
    probabilities: the class with the largest wins). The regions are shaded lightly in
    ``colors`` (unless ``shade`` is false), the boundaries, where the two largest scores
    tie, are drawn as lines (interpolated between grid points), and with a
    ``margin`` the band where the winning class leads the runner-up by less than the margin
    (a multi-class hinge's band) is shaded grey. Returns the winning class on the
    ``resolution x resolution`` grid over ``extent = (x_min, x_max, y_min, y_max)``.
    """
    from matplotlib.colors import ListedColormap

    x0, x1, y0, y1 = extent
    gx, gy = np.meshgrid(np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution))
    values = np.asarray(scores(np.column_stack([gx.ravel(), gy.ravel()])))
    classes = values.shape[-1]
    winner: np.ndarray = values.argmax(axis=-1).reshape(gx.shape)
    if shade:
        levels = np.arange(classes + 1) - 0.5
        shades = ListedColormap(list(colors[:classes]))
        ax.contourf(gx, gy, winner, levels=levels, cmap=shades, alpha=0.15)
    if margin is not None:
        top_two = np.sort(values, axis=-1)[:, -2:]
        lead = (top_two[:, 1] - top_two[:, 0]).reshape(gx.shape)
        ax.contourf(gx, gy, lead, levels=[-np.inf, margin], colors=["0.6"], alpha=0.3)
    for k in range(classes):  # class k's boundary: where it ties with its strongest rival
        rivals = np.delete(values, k, axis=-1).max(axis=-1)
        ahead = (values[:, k] - rivals).reshape(gx.shape)
        ax.contour(gx, gy, ahead, levels=[0.0], colors=linecolor, linestyles=linestyle)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    return winner


def plain_logit_axis(
    ax: Axes,
    axis: str = "both",
    ticks: Sequence[float] = (0.001, 0.01, 0.1, 0.5, 0.9, 0.99, 0.999),
) -> Axes:
    """Put ``axis`` ("x", "y" or "both") of ``ax`` on a logit scale with plain tick labels.

    On the logit scale, :math:`\\log(p / (1 - p))`, probabilities near 0 and near 1 get as
    much room as those near 1/2. Only ``ticks`` are marked, written as plain numbers, with
    no minor ticks (Matplotlib's default minor ticks on this scale are many and slow to
    draw as SVG).
    """
    if axis not in ("x", "y", "both"):
        raise ValueError(f"axis must be 'x', 'y' or 'both', got {axis!r}")
    for name in ("x", "y") if axis == "both" else (axis,):
        (ax.set_xscale if name == "x" else ax.set_yscale)("logit")
        target = ax.xaxis if name == "x" else ax.yaxis
        target.set_major_locator(ticker.FixedLocator(list(ticks)))
        target.set_major_formatter(ticker.FuncFormatter(lambda value, _: f"{value:g}"))
        target.set_minor_locator(ticker.NullLocator())
    return ax
