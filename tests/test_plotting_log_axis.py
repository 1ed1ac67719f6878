"""Tests for companion.plotting.plain_log_axis (chapter 1's log axes)."""

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from companion.plotting import new_figure, plain_log_axis  # noqa: E402


def tick_labels(axis, which="major"):
    fig = axis.figure
    fig.canvas.draw()
    ticks = axis.get_majorticklabels() if which == "major" else axis.get_minorticklabels()
    return [t.get_text() for t in ticks if t.get_visible()]


def test_plain_labels_one_three_ten_and_no_minor_labels():
    fig, ax = new_figure()
    ax.plot(np.arange(1, 401), np.linspace(0.25, 7, 400))
    plain_log_axis(ax, "y")
    plain_log_axis(ax, "x")
    assert ax.get_yscale() == "log" and ax.get_xscale() == "log"
    low, high = ax.get_ylim()
    shown = [t for t in ax.get_yticks() if low <= t <= high]
    np.testing.assert_allclose(shown, [0.3, 1.0, 3.0])
    formatter = ax.yaxis.get_major_formatter()
    assert [formatter(t, 0) for t in shown] == ["0.3", "1", "3"]
    assert not any(tick_labels(ax.yaxis, "minor"))
    assert {"1", "3", "10", "30", "100", "300"} <= set(tick_labels(ax.xaxis))
    plt.close(fig)


def test_fixed_ticks():
    fig, ax = new_figure()
    ax.plot([1, 400], [0, 1])
    plain_log_axis(ax, "x", ticks=[1, 10, 400])
    np.testing.assert_array_equal(ax.get_xticks(), [1, 10, 400])
    assert tick_labels(ax.xaxis) == ["1", "10", "400"]
    plt.close(fig)


def test_axis_name_is_checked():
    fig, ax = new_figure()
    with pytest.raises(ValueError, match="axis must be 'x' or 'y', got 'z'"):
        plain_log_axis(ax, "z")
    plt.close(fig)
