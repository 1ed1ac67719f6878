"""Tests for companion.experiments: the experiments behind chapters 5 and 6."""

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402

from companion import experiments as ex  # noqa: E402
from companion import l1_loss_grad, mse_loss_grad, smooth_l1_loss_grad  # noqa: E402
from companion.data import make_line_data  # noqa: E402


def test_line_error_is_the_rms_gap_over_uniform_inputs():
    slope, intercept = 2.7, 0.4
    x = np.linspace(-2, 2, 200_001)  # dense grid: its mean approximates E over U(-2, 2)
    gap = (slope - 2.0) * x + (intercept - 1.0)
    expected = np.sqrt(np.mean(gap**2))
    assert ex.line_error(slope, intercept, 2.0, 1.0) == pytest.approx(expected, rel=1e-4)
    assert ex.line_error(2.0, 1.0, 2.0, 1.0) == 0.0


def test_line_error_is_batched():
    errors = ex.line_error(np.array([2.0, 2.0, 3.0]), np.array([1.0, 4.0, 1.0]), 2.0, 1.0)
    np.testing.assert_allclose(errors, [0.0, 3.0, np.sqrt(4 / 3)])


def test_line_error_of_a_diverged_fit_is_huge_without_a_warning(recwarn):
    errors = ex.line_error(np.array([1e200, np.inf, np.nan]), np.array([0.0, 0.0, 0.0]), 2.0, 1.0)
    assert errors[0] == pytest.approx(np.sqrt(4 / 3) * 1e200)
    assert errors[1] == np.inf and np.isnan(errors[2])
    assert len(recwarn) == 0


def test_seeded_line_data_stacks_make_line_data_per_seed():
    x, y = ex.seeded_line_data([3, 5], 7, noise="laplace", scale=0.2)
    assert x.shape == y.shape == (2, 7)
    for row, seed in enumerate([3, 5]):
        xs, ys = make_line_data(7, noise="laplace", scale=0.2, seed=seed)
        np.testing.assert_array_equal(x[row], xs)
        np.testing.assert_array_equal(y[row], ys)


def test_seeded_line_data_refuses_no_seeds():
    with pytest.raises(ValueError, match="seeds must name at least one seed"):
        ex.seeded_line_data([])


def test_fit_losses_fits_each_loss_to_the_same_data():
    x, y = make_line_data(60, seed=4, outlier_fraction=0.1)
    fits = ex.fit_losses(x, y, ex.GRID_LOSSES, lr=0.1, steps=2000)
    assert list(fits) == list(ex.GRID_LOSSES)
    np.testing.assert_allclose([fits["MSE"].slope, fits["MSE"].intercept], np.polyfit(x, y, 1))
    # The robust fits ignore the outliers that drag least squares upwards.
    assert fits["L1"].intercept < fits["MSE"].intercept - 1
    assert fits["Smooth L1 (beta=1)"].intercept < fits["MSE"].intercept - 1


def test_grid_shape_determinism_and_expected_pattern():
    kwargs = {"seeds": range(5), "n": 60, "steps": 400}
    grid = ex.noise_loss_grid(**kwargs)
    again = ex.noise_loss_grid(**kwargs)
    assert grid.noises == tuple(ex.NOISE_SETTINGS)
    assert grid.losses == tuple(ex.GRID_LOSSES)
    assert grid.errors.shape == (4, 3, 5)
    np.testing.assert_array_equal(grid.errors, again.errors)
    mean = grid.mean()
    assert mean.shape == (4, 3) and np.isfinite(mean).all()
    outliers = grid.noises.index("Gaussian + 10% outliers")
    mse = grid.losses.index("MSE")
    assert mean[outliers, mse] > 5 * np.delete(mean[outliers], mse).max()


def test_grid_errors_match_a_single_fit():
    grid = ex.noise_loss_grid(
        seeds=[7],
        n=40,
        noises={"Laplace": {"noise": "laplace"}},
        losses={"L1": (l1_loss_grad, {})},
        steps=300,
    )
    x, y = make_line_data(40, noise="laplace", scale=ex.NOISE_SCALE, seed=7)
    fit = ex.fit_losses(x, y, {"L1": (l1_loss_grad, {})}, steps=300)["L1"]
    assert grid.errors[0, 0, 0] == pytest.approx(
        float(ex.line_error(fit.slope, fit.intercept, 2.0, 1.0))
    )


def test_grid_table_lists_every_name_and_mean():
    grid = ex.GridResult(
        ("clean", "dirty"), ("A", "Bee"), np.array([[[0.5], [1.0]], [[2.0], [0.25]]])
    )
    lines = grid.table(digits=2).splitlines()
    assert len(lines) == 3
    assert [cell.strip() for cell in lines[0].split("|")] == ["", "A", "Bee"]
    bars = {tuple(i for i, ch in enumerate(line) if ch == "|") for line in lines}
    assert len(bars) == 1, "columns must line up"
    assert lines[1].split() == ["clean", "|", "0.50", "|", "1.00"]
    assert lines[2].split() == ["dirty", "|", "2.00", "|", "0.25"]


def test_plot_grid_annotates_every_cell():
    grid = ex.noise_loss_grid(seeds=range(2), n=30, steps=50)
    fig, ax = plt.subplots()
    ex.plot_grid(grid, ax)
    texts = [t.get_text() for t in ax.texts]
    assert texts == [f"{v:.3f}" for v in grid.mean().ravel()]
    assert ax.get_title() and ax.get_xlabel() == "loss" and ax.get_ylabel() == "noise"
    plt.close(fig)


def _efficiency_by_quadrature(k):
    u = np.linspace(-12, 12, 400_001)
    density = np.exp(-(u**2) / 2) / np.sqrt(2 * np.pi)
    psi = np.clip(u, -k, k)
    second = np.trapezoid(psi**2 * density, u)
    slope = np.trapezoid((np.abs(u) < k) * density, u)
    return slope**2 / second


@pytest.mark.parametrize("k", [0.3, 1.0, 1.345, 2.5])
def test_huber_efficiency_matches_numerical_integration(k):
    assert ex.huber_gaussian_efficiency(k) == pytest.approx(_efficiency_by_quadrature(k), rel=1e-4)


def test_huber_efficiency_limits_are_the_median_and_the_mean():
    assert ex.huber_gaussian_efficiency(1e-4) == pytest.approx(2 / np.pi, rel=1e-3)
    assert ex.huber_gaussian_efficiency(10.0) == pytest.approx(1.0)


@pytest.mark.parametrize("k", [0.0, -1.0, float("nan")])
def test_huber_efficiency_refuses_a_non_positive_cut_off(k):
    with pytest.raises(ValueError, match="k must be > 0"):
        ex.huber_gaussian_efficiency(k)


def test_beta_sweep_with_a_huge_beta_is_least_squares():
    errors = ex.beta_sweep([1000.0], seeds=[1, 2], n=50, steps=400)
    x, y = ex.seeded_line_data([1, 2], 50, scale=ex.NOISE_SCALE)
    expected = [ex.line_error(*np.polyfit(x[i], y[i], 1), 2.0, 1.0) for i in range(2)]
    assert errors.shape == (1, 1, 2)
    np.testing.assert_allclose(errors[0, 0], expected, rtol=1e-6)


def test_beta_sweep_small_beta_resists_outliers_large_beta_does_not():
    errors = ex.beta_sweep([1.0, 100.0], seeds=range(3), n=60, outlier_fractions=(0.0, 0.1))
    assert errors.shape == (2, 2, 3)
    assert (errors[:, 0] < 0.3).all() and (errors[0, 1] < 0.3).all()
    assert (errors[1, 1] > 1.0).all()


def test_draw_robust_fits_draws_data_truth_and_three_labelled_fits():
    ax = ex.draw_robust_fits(0.2, 0.5, seed=3, n=40)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[:2] == ["data", "true line"]
    assert [lab.split(":")[0] for lab in labels[2:]] == ["L1", "MSE", "Smooth L1 (beta=0.5)"]
    assert ax.get_title() == "Line fits with 20% outliers"
    assert to_rgba(ax.figure.get_facecolor()) == to_rgba("white")
    plt.close(ax.figure)


def test_draw_robust_fits_refuses_a_non_positive_beta():
    with pytest.raises(ValueError, match=r"beta must be > 0 for this view, got 0.0"):
        ex.draw_robust_fits(0.1, 0.0)


def test_robust_fit_losses_uses_the_given_beta():
    losses = ex.robust_fit_losses(2.5)
    assert list(losses) == ["L1", "MSE", "Smooth L1 (beta=2.5)"]
    assert losses["MSE"][0] is mse_loss_grad
    assert losses["Smooth L1 (beta=2.5)"] == (smooth_l1_loss_grad, {"beta": 2.5})


def test_widget_has_two_sliders_and_redraws_on_change():
    widgets = pytest.importorskip("ipywidgets")
    view = ex.robust_fit_widget()
    assert isinstance(view, widgets.interactive)
    sliders = {w.description: w for w in view.children if isinstance(w, widgets.ValueWidget)}
    assert sliders["outliers"].value == pytest.approx(0.1)
    assert sliders["beta"].value == pytest.approx(1.0)
    sliders["beta"].value = 2.0  # re-runs the fit; must not raise
    assert view.kwargs == {"outlier_fraction": pytest.approx(0.1), "beta": pytest.approx(2.0)}
    plt.close("all")
