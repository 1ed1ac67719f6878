"""Tests for companion.plotting's decision regions and logit axes (Chapter 9)."""

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from companion.plotting import (  # noqa: E402
    new_figure,
    plain_logit_axis,
    plot_decision_regions,
)

COLORS = ["tab:blue", "tab:orange", "tab:green"]


def nearest_centre(points):
    """Scores of three classes: minus the squared distance to (-2, 0), (2, 0) and (0, 2)."""
    centres = np.array([[-2.0, 0.0], [2.0, 0.0], [0.0, 2.0]])
    return -((points[:, None, :] - centres) ** 2).sum(-1)


def test_decision_regions_are_the_argmax_of_the_scores_on_the_grid():
    fig, ax = new_figure()
    winner = plot_decision_regions(ax, nearest_centre, (-4, 4, -3, 5), colors=COLORS, resolution=9)
    assert winner.shape == (9, 9)
    gx, gy = np.meshgrid(np.linspace(-4, 4, 9), np.linspace(-3, 5, 9))
    expected = nearest_centre(np.column_stack([gx.ravel(), gy.ravel()])).argmax(-1)
    assert (winner.ravel() == expected).all()
    assert ax.get_xlim() == (-4, 4) and ax.get_ylim() == (-3, 5)
    # three shaded levels, and one boundary contour per class
    assert len(ax.collections) >= 1 + 3
    matplotlib.pyplot.close(fig)


def test_margin_band_and_unshaded_boundaries_add_their_artists():
    fig, ax = new_figure()
    plot_decision_regions(ax, nearest_centre, (-4, 4, -3, 5), colors=COLORS, resolution=20)
    plain = len(ax.collections)
    plot_decision_regions(
        ax, nearest_centre, (-4, 4, -3, 5), colors=COLORS, resolution=20, margin=1.0
    )
    assert len(ax.collections) == 2 * plain + 1  # the grey band on top of the same artists
    plot_decision_regions(
        ax, nearest_centre, (-4, 4, -3, 5), colors=COLORS, resolution=20, shade=False
    )
    assert len(ax.collections) == 3 * plain  # no shading: the boundaries only
    matplotlib.pyplot.close(fig)


@pytest.mark.parametrize("axis", ["x", "y", "both"])
def test_plain_logit_axis_marks_only_the_given_ticks(axis):
    fig, ax = new_figure()
    eta = np.linspace(0.01, 0.99, 50)
    ax.plot(eta, eta)
    plain_logit_axis(ax, axis, ticks=[0.01, 0.5, 0.99])
    for name in ("x", "y") if axis == "both" else (axis,):
        target = ax.xaxis if name == "x" else ax.yaxis
        assert (ax.get_xscale() if name == "x" else ax.get_yscale()) == "logit"
        assert list(target.get_majorticklocs()) == [0.01, 0.5, 0.99]
        fig.canvas.draw()
        labels = [t.get_text() for t in target.get_majorticklabels()]
        assert labels == ["0.01", "0.5", "0.99"]
        assert len(target.get_minorticklocs()) == 0
    matplotlib.pyplot.close(fig)


def test_plain_logit_axis_rejects_an_unknown_axis():
    fig, ax = new_figure()
    with pytest.raises(ValueError, match="axis must be"):
        plain_logit_axis(ax, "z")
    matplotlib.pyplot.close(fig)
