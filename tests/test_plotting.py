"""Tests for the shared figure style in companion.plotting."""

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from matplotlib.colors import to_rgba  # noqa: E402

from companion.plotting import BOOK_STYLE, label, new_figure, plot_curves, use_book_style  # noqa: E402

WHITE = to_rgba("white")


@pytest.mark.parametrize(("ncols", "nrows", "panels"), [(1, 1, 1), (3, 1, 3), (2, 2, 4)])
def test_new_figure_is_solid_white_with_the_requested_panels(ncols, nrows, panels):
    fig, axes = new_figure(ncols, nrows, width=2.0, height=1.5)
    flat = np.atleast_1d(axes).ravel()
    assert len(flat) == panels
    assert to_rgba(fig.get_facecolor()) == WHITE
    assert all(to_rgba(ax.get_facecolor()) == WHITE for ax in flat)
    np.testing.assert_allclose(fig.get_size_inches(), (2.0 * ncols, 1.5 * nrows))
    matplotlib.pyplot.close(fig)


def test_label_and_plot_curves_fill_in_titles_axes_and_legend():
    fig, ax = new_figure()
    x = np.linspace(-1, 1, 5)
    plot_curves(ax, x, {"abs": np.abs(x), "square": x**2})
    label(ax, "Two losses", "residual", "loss", legend=True)
    assert ax.get_title() == "Two losses"
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("residual", "loss")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["abs", "square"]
    np.testing.assert_allclose(ax.lines[1].get_ydata(), x**2)
    matplotlib.pyplot.close(fig)


def test_label_without_legend_draws_none():
    fig, ax = new_figure()
    ax.plot([0, 1], [0, 1], label="line")
    label(ax, "t", "x", "y")
    assert ax.get_legend() is None
    matplotlib.pyplot.close(fig)


def test_book_style_sets_readable_fonts_outside_jupyter():
    with matplotlib.rc_context():
        use_book_style()  # no IPython here: only the rcParams change
        assert all(matplotlib.rcParams[key] == value for key, value in BOOK_STYLE.items())
        assert matplotlib.rcParams["font.size"] >= 12
