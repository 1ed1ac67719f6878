"""Tests for companion.experiments: the experiments behind chapters 5 and 6."""

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402
from sklearn.linear_model import QuantileRegressor  # noqa: E402
from sklearn.metrics import mean_absolute_error, root_mean_squared_error  # noqa: E402

from companion import experiments as ex  # noqa: E402
from companion import (  # noqa: E402
    huber_loss,
    huber_loss_grad,
    l1_loss_grad,
    mse_loss_grad,
    smooth_l1_loss,
    smooth_l1_loss_grad,
)
from companion.data import make_line_data  # noqa: E402
from companion.fitting import fit_line  # noqa: E402


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
    assert fits["Smooth L1"].intercept < fits["MSE"].intercept - 1


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


# ---------------------------------------------------------------------------------------------
# Exact minimisers: least absolute deviations, Huber / Smooth L1, IRLS.


def _l1_objective(slope, intercept, x, y):
    return np.abs(slope[..., None] * x + intercept[..., None] - y).sum(axis=-1)


def _grid_data(seeds, **kwargs):
    return ex.seeded_line_data(seeds, 100, **kwargs)


@pytest.mark.parametrize("noise", ["gaussian", "laplace", "student_t"])
def test_lad_line_matches_a_linear_programming_solver(noise):
    x, y = _grid_data(range(12), noise=noise, outlier_fraction=0.1)
    fit = ex.lad_line(x, y)
    for i in range(len(x)):
        reference = QuantileRegressor(quantile=0.5, alpha=0.0, solver="highs")
        reference.fit(x[i, :, None], y[i])
        ours = _l1_objective(fit.slope[i], fit.intercept[i], x[i], y[i])
        theirs = _l1_objective(
            np.asarray(reference.coef_[0]), np.asarray(reference.intercept_), x[i], y[i]
        )
        assert ours <= theirs + 1e-9
        assert fit.slope[i] == pytest.approx(reference.coef_[0], abs=1e-6)
        assert fit.intercept[i] == pytest.approx(reference.intercept_, abs=1e-6)


def test_lad_line_passes_through_two_data_points_and_beats_gradient_descent():
    x, y = _grid_data(range(20), noise="laplace")
    fit = ex.lad_line(x, y)
    residual = np.abs(fit.slope[:, None] * x + fit.intercept[:, None] - y)
    assert ((residual < 1e-9).sum(axis=-1) >= 2).all()
    descent = fit_line(x, y, l1_loss_grad, lr=0.1, steps=3000)
    ours = _l1_objective(fit.slope, fit.intercept, x, y)
    assert (ours <= _l1_objective(descent.slope, descent.intercept, x, y) + 1e-9).all()
    np.testing.assert_allclose(fit.slope, descent.slope, atol=0.02)


def test_lad_line_keeps_the_batch_shape_and_its_path():
    x, y = _grid_data(range(6))
    fit = ex.lad_line(x.reshape(2, 3, 100), y.reshape(2, 3, 100))
    assert fit.slope.shape == (2, 3) and fit.slopes.shape[1:] == (2, 3)
    np.testing.assert_array_equal(fit.slope.ravel(), ex.lad_line(x, y).slope)
    first = np.polyfit(x[0], y[0], 1)  # the path starts at least squares
    np.testing.assert_allclose([fit.slopes[0, 0, 0], fit.intercepts[0, 0, 0]], first)


def test_lad_line_on_an_exact_line_returns_it():
    x = np.linspace(-2, 2, 9)
    fit = ex.lad_line(x, 3 * x - 0.5)
    assert float(fit.slope) == pytest.approx(3.0) and float(fit.intercept) == pytest.approx(-0.5)


@pytest.mark.parametrize(
    ("x", "y", "match"),
    [
        (np.zeros(3), np.zeros(4), "same shape"),
        (np.array([0.0, 1.0, np.nan]), np.zeros(3), "finite"),
        (np.ones(5), np.arange(5.0), "two distinct inputs"),
        (np.array([1.0]), np.array([2.0]), "two distinct inputs"),
    ],
)
def test_exact_fitters_refuse_data_that_fix_no_line(x, y, match):
    for fitter in (ex.lad_line, lambda a, b: ex.huber_line(a, b, 1.0)):
        with pytest.raises(ValueError, match=match):
            fitter(x, y)
    with pytest.raises(ValueError, match=match):
        ex.irls_line(x, y, mse_loss_grad)


def test_lad_line_says_when_it_runs_out_of_steps():
    x, y = _grid_data(range(3), noise="laplace")
    with pytest.raises(RuntimeError, match="lad_line did not settle within max_iter=1"):
        ex.lad_line(x, y, max_iter=1)


@pytest.mark.parametrize("delta", [0.1, 1.0, 30.0])
def test_huber_line_is_where_gradient_descent_ends(delta):
    data = [_grid_data(range(4), outlier_fraction=f) for f in (0.0, 0.1, 0.4)]
    x, y = np.stack([d[0] for d in data]), np.stack([d[1] for d in data])
    fit = ex.huber_line(x, y, delta)
    descent = fit_line(x, y, huber_loss_grad, lr=0.5, steps=6000, delta=delta)
    np.testing.assert_allclose(fit.slope, descent.slope, atol=1e-8)
    np.testing.assert_allclose(fit.intercept, descent.intercept, atol=1e-8)


def test_huber_line_gradient_is_zero_and_no_nearby_line_is_better():
    x, y = _grid_data(range(10), noise="student_t")
    fit = ex.huber_line(x, y, 0.7)
    r = fit.slope[:, None] * x + fit.intercept[:, None] - y
    psi = huber_loss_grad(r, np.zeros_like(r), reduction="none", delta=0.7)
    np.testing.assert_allclose((psi * x).sum(-1), 0, atol=1e-9)
    np.testing.assert_allclose(psi.sum(-1), 0, atol=1e-9)

    def total(a, b):
        return huber_loss(a[:, None] * x + b[:, None], y, reduction="none", delta=0.7).sum(-1)

    best = total(fit.slope, fit.intercept)
    for da, db in [(1e-4, 0), (-1e-4, 0), (0, 1e-4), (0, -1e-4), (1e-4, -1e-4)]:
        assert (total(fit.slope + da, fit.intercept + db) >= best).all()


def test_huber_line_is_smooth_l1s_minimiser_with_beta_delta():
    x, y = _grid_data(range(5), outlier_fraction=0.1)
    fit = ex.huber_line(x, y, 2.0)
    descent = fit_line(x, y, smooth_l1_loss_grad, lr=1.0, steps=6000, beta=2.0)
    np.testing.assert_allclose(fit.slope, descent.slope, atol=1e-8)


def test_huber_line_refuses_a_non_positive_delta():
    with pytest.raises(ValueError, match="delta must be > 0, got 0.0"):
        ex.huber_line(np.arange(3.0), np.arange(3.0), 0.0)


def test_huber_total_is_the_companion_huber_loss_summed():
    x, y = _grid_data(range(4), noise="student_t")
    a, b = np.array([1.5, 2.0, 2.5, -1.0]), np.array([0.0, 1.0, 3.0, 0.5])
    for delta in (0.01, 1.0, 50.0):
        expected = huber_loss(a[:, None] * x + b[:, None], y, reduction="none", delta=delta)
        np.testing.assert_allclose(ex._huber_total(x, y, a, b, delta), expected.sum(-1))


def test_irls_line_one_step_is_least_squares_for_mse():
    x, y = _grid_data(range(3), noise="laplace")
    fit = ex.irls_line(x, y, mse_loss_grad)
    for i in range(3):
        np.testing.assert_allclose([fit.slope[i], fit.intercept[i]], np.polyfit(x[i], y[i], 1))
    assert len(fit.slopes) <= 3


def test_irls_line_reaches_the_same_line_as_newton_and_never_raises_the_loss():
    x, y = _grid_data(range(6), outlier_fraction=0.2)
    fit = ex.irls_line(x, y, smooth_l1_loss_grad, beta=0.5)
    np.testing.assert_allclose(fit.slope, ex.huber_line(x, y, 0.5).slope, atol=1e-8)
    losses = [
        smooth_l1_loss(a[:, None] * x + b[:, None], y, reduction="none", beta=0.5).sum(-1)
        for a, b in zip(fit.slopes, fit.intercepts, strict=True)
    ]
    assert (np.diff(np.stack(losses), axis=0) <= 1e-9).all()  # majorise-minimise


def test_irls_line_says_when_it_runs_out_of_steps():
    x, y = _grid_data(range(3), outlier_fraction=0.3)
    with pytest.raises(RuntimeError, match="irls_line did not converge within max_iter=2"):
        ex.irls_line(x, y, smooth_l1_loss_grad, max_iter=2, beta=0.1)


def test_minimise_line_picks_the_exact_method_for_each_loss():
    x, y = _grid_data(range(4), noise="laplace", outlier_fraction=0.1)
    lad = ex.lad_line(x, y).slope
    np.testing.assert_array_equal(ex.minimise_line(x, y, l1_loss_grad).slope, lad)
    beta_zero = ex.minimise_line(x, y, smooth_l1_loss_grad, beta=0.0).slope
    np.testing.assert_array_equal(beta_zero, lad)
    huber = ex.huber_line(x, y, 0.8).slope
    np.testing.assert_array_equal(ex.minimise_line(x, y, huber_loss_grad, delta=0.8).slope, huber)
    smooth = ex.minimise_line(x, y, smooth_l1_loss_grad, beta=0.8).slope
    np.testing.assert_array_equal(smooth, huber)
    np.testing.assert_allclose(
        ex.minimise_line(x, y, mse_loss_grad).slope,
        [np.polyfit(a, b, 1)[0] for a, b in zip(x, y, strict=True)],
    )


def test_fit_losses_exact_matches_long_gradient_descent():
    x, y = make_line_data(60, seed=4, outlier_fraction=0.1)
    exact = ex.fit_losses(x, y, ex.GRID_LOSSES, exact=True)
    descent = ex.fit_losses(x, y, ex.GRID_LOSSES, lr=0.1, steps=5000)
    for name in ("MSE", "Smooth L1"):
        assert float(exact[name].slope) == pytest.approx(float(descent[name].slope), abs=1e-8)
    # Gradient descent on L1 chatters around the minimiser, within about lr / N.
    assert float(exact["L1"].slope) == pytest.approx(float(descent["L1"].slope), abs=0.01)


# ---------------------------------------------------------------------------------------------
# Statistics: standard errors, ratios of means, Huber's location.


def test_standard_error_is_the_sample_sd_over_root_n():
    values = np.array([[1.0, 2.0, 4.0, 7.0], [0.0, 0.0, 0.0, 0.0]])
    np.testing.assert_allclose(ex.standard_error(values), [np.std(values[0], ddof=1) / 2, 0.0])
    with pytest.raises(ValueError, match="at least two values, got 1"):
        ex.standard_error([3.0])


def test_mean_ratio_standard_error_matches_the_spread_over_repeats():
    rng = np.random.default_rng(0)
    shared = rng.exponential(1.0, (4000, 200))  # paired: a and b rise and fall together
    a = 1.25 * shared + rng.normal(0, 0.3, shared.shape)
    b = shared + rng.normal(0, 0.3, shared.shape)
    ratio, se = ex.mean_ratio(a, b)
    assert ratio.shape == se.shape == (4000,)
    assert ratio.mean() == pytest.approx(1.25, abs=0.002)
    assert se.mean() == pytest.approx(ratio.std(), rel=0.05)


def test_mean_ratio_refuses_unpaired_samples():
    with pytest.raises(ValueError, match="paired"):
        ex.mean_ratio(np.ones(3), np.ones(4))


def test_huber_location_solves_the_clipped_mean_equation():
    y = np.array([-15.74, -0.15, 0.5, 2.07, 2.67])
    t = float(ex.huber_location(y, delta=1.0))
    assert t == pytest.approx(0.675, abs=1e-12)
    assert np.clip(y - t, -1, 1).sum() == pytest.approx(0.0, abs=1e-12)
    assert not (y.mean() <= t <= np.median(y))  # outside [mean, median]
    grid = np.linspace(-3, 3, 6001)
    summed = smooth_l1_loss(*np.broadcast_arrays(grid[:, None], y), reduction="none").sum(1)
    assert grid[summed.argmin()] == pytest.approx(t, abs=1e-3)


def test_huber_location_is_the_mean_for_a_wide_band_and_the_median_for_a_narrow_one():
    rng = np.random.default_rng(3)
    y = rng.standard_t(2, (50, 31))
    wide = ex.huber_location(y, delta=10 * np.abs(y).max())
    np.testing.assert_allclose(wide, y.mean(axis=1), atol=1e-12)
    np.testing.assert_allclose(ex.huber_location(y, delta=1e-9), np.median(y, axis=1), atol=1e-8)


def test_huber_location_works_along_any_axis():
    rng = np.random.default_rng(4)
    y = rng.normal(size=(7, 40))
    np.testing.assert_array_equal(ex.huber_location(y.T, axis=0), ex.huber_location(y))


@pytest.mark.parametrize(
    ("y", "delta", "match"),
    [
        ([1.0, 2.0], 0.0, "delta must be > 0"),
        ([1.0, np.inf], 1.0, "no nan or inf"),
        (np.zeros((3, 0)), 1.0, "at least one finite value"),
    ],
)
def test_huber_location_refuses_bad_input(y, delta, match):
    with pytest.raises(ValueError, match=match):
        ex.huber_location(y, delta=delta)


# ---------------------------------------------------------------------------------------------
# The grid, held-out scores and choosing beta.


def test_grid_is_deterministic_and_holds_the_fitted_lines():
    kwargs = {"seeds": range(5), "n": 60}
    grid = ex.noise_loss_grid(**kwargs)
    again = ex.noise_loss_grid(**kwargs)
    assert grid.noises == tuple(ex.NOISE_SETTINGS) and grid.losses == tuple(ex.GRID_LOSSES)
    assert grid.errors.shape == grid.slopes.shape == grid.intercepts.shape == (4, 3, 5)
    np.testing.assert_array_equal(grid.errors, again.errors)
    np.testing.assert_allclose(grid.errors, ex.line_error(grid.slopes, grid.intercepts, 2.0, 1.0))
    outliers, mse = grid.noises.index("10% outliers"), grid.losses.index("MSE")
    assert grid.mean()[outliers, mse] > 5 * np.delete(grid.mean()[outliers], mse).max()


def test_grid_fits_are_each_loss_minimiser_on_make_line_data():
    grid = ex.noise_loss_grid(
        seeds=[7], n=40, noises={"Laplace": {"noise": "laplace"}}, losses=ex.GRID_LOSSES
    )
    x, y = make_line_data(40, noise="laplace", scale=ex.NOISE_SCALE, seed=7)
    assert grid.slopes[0, 0, 0] == pytest.approx(float(ex.lad_line(x, y).slope))
    assert grid.slopes[0, 1, 0] == pytest.approx(np.polyfit(x, y, 1)[0])
    assert grid.slopes[0, 2, 0] == pytest.approx(float(ex.huber_line(x, y, 1.0).slope))


def test_grid_summary_and_standard_error():
    errors = np.array([[[0.5, 0.7], [1.0, 1.0]], [[2.0, 2.2], [0.25, 0.35]]])
    grid = ex.GridResult(("clean", "dirty"), ("A", "B"), errors, errors, errors)
    np.testing.assert_allclose(grid.standard_error(), [[0.1, 0.0], [0.1, 0.05]])
    assert grid.summary(digits=2) == [
        ["0.60 ± 0.10", "1.00 ± 0.00"],
        ["2.10 ± 0.10", "0.30 ± 0.05"],
    ]


def test_grid_reproduces_the_efficiency_of_the_median_on_gaussian_noise():
    grid = ex.noise_loss_grid(seeds=range(400), noises={"Gaussian": {"noise": "gaussian"}})
    ratio, se = ex.mean_ratio(grid.errors[0, 0], grid.errors[0, 1])
    assert abs(ratio - np.sqrt(np.pi / 2)) < 3 * se and se < 0.04


def test_plot_grid_draws_intervals_theory_and_one_legend():
    grid = ex.noise_loss_grid(seeds=range(3), n=30)
    fig, axes = plt.subplots(4, 1)
    ex.plot_grid(grid, axes, {("Gaussian", "L1"): 0.5})
    assert [ax.get_title() for ax in axes] == list(grid.noises)
    assert [t.get_text() for t in axes[0].get_yticklabels()] == list(grid.losses)
    assert axes[0].get_xlim()[1] >= 0.5  # the theory marker is inside the panel
    assert axes[-1].get_xlabel() == "mean line error"
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["theory (large N)", "measured"]
    with pytest.raises(ValueError, match="one axes per noise"):
        ex.plot_grid(grid, axes[:2])
    plt.close(fig)


def test_plot_outlier_sweep_draws_one_line_per_loss_and_the_mean_shift():
    shares = [0.0, 0.2]
    sweep = ex.noise_loss_grid(
        seeds=range(3), n=40, noises={f"{s}": {"outlier_fraction": s} for s in shares}
    )
    fig, ax = plt.subplots()
    ex.plot_outlier_sweep(sweep, shares, ax)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == [*sweep.losses, "shift of the mean"]
    np.testing.assert_allclose(ax.get_lines()[-1].get_ydata(), [4.0])
    with pytest.raises(ValueError, match="one share per noise setting"):
        ex.plot_outlier_sweep(sweep, [0.0], ax)
    plt.close(fig)


def test_prediction_errors_match_scikit_learn():
    x, y = _grid_data(range(3), outlier_fraction=0.1)
    slope, intercept = np.array([2.0, 1.5, 0.0]), np.array([1.0, 0.0, 2.0])
    scores = ex.prediction_errors(slope, intercept, x, y)
    for i in range(3):
        prediction = slope[i] * x[i] + intercept[i]
        assert scores["MAE"][i] == pytest.approx(mean_absolute_error(y[i], prediction))
        assert scores["RMSE"][i] == pytest.approx(root_mean_squared_error(y[i], prediction))


def test_select_beta_scores_every_candidate_on_held_out_data():
    betas = [0.0, 1.0, np.inf]
    result = ex.select_beta(betas, range(4), n_train=50, n_valid=30, n_test=200)
    assert result.betas == (0.0, 1.0, np.inf)
    assert result.line_errors.shape == result.valid["MAE"].shape == (3, 4)
    assert result.test["RMSE"].shape == (3, 4)
    x, y = ex.seeded_line_data(range(4), 280, scale=ex.NOISE_SCALE)
    train, valid = (x[:, :50], y[:, :50]), (x[:, 50:80], y[:, 50:80])
    lad = ex.lad_line(*train)
    np.testing.assert_allclose(
        result.valid["MAE"][0], ex.prediction_errors(lad.slope, lad.intercept, *valid)["MAE"]
    )
    ls = [np.polyfit(a, b, 1) for a, b in zip(*train, strict=True)]
    np.testing.assert_allclose(
        result.line_errors[2], [ex.line_error(s, i, 2.0, 1.0) for s, i in ls]
    )
    chosen = result.chosen("RMSE")
    np.testing.assert_array_equal(chosen, result.valid["RMSE"].argmin(axis=0))
    picked = result.take(result.test["MAE"], chosen)
    np.testing.assert_array_equal(picked, result.test["MAE"][chosen, np.arange(4)])
    np.testing.assert_array_equal(
        result.take(result.line_errors, [2, 2, 2, 2]), result.line_errors[2]
    )
    np.testing.assert_array_equal(result.take(result.test["MAE"], 1), result.test["MAE"][1])


def test_select_beta_on_outliers_follows_the_metric():
    betas = [0.0, 0.5, np.inf]
    result = ex.select_beta(betas, range(60), outlier_fraction=0.1, n_test=300)
    # Validation RMSE rewards the line through the mean, validation MAE the robust ones.
    assert (result.chosen("RMSE") == 2).mean() > 0.7
    assert (result.chosen("MAE") < 2).all()


@pytest.mark.parametrize("betas", [[], [-1.0, 1.0], [float("nan")]])
def test_select_beta_refuses_bad_candidates(betas):
    with pytest.raises(ValueError, match="betas must be a non-empty list of values >= 0"):
        ex.select_beta(betas, range(2))


def test_select_beta_refits_every_candidate_on_training_and_validation_data():
    betas = [0.0, 1.0, np.inf]
    result = ex.select_beta(betas, range(3), n_train=40, n_valid=20, n_test=100)
    assert result.refit_line_errors.shape == result.refit_test["MAE"].shape == (3, 3)
    x, y = ex.seeded_line_data(range(3), 160, scale=ex.NOISE_SCALE)
    both, test = (x[:, :60], y[:, :60]), (x[:, 60:], y[:, 60:])
    lad = ex.lad_line(*both)
    np.testing.assert_allclose(
        result.refit_line_errors[0], ex.line_error(lad.slope, lad.intercept, 2.0, 1.0)
    )
    huber = ex.huber_line(*both, delta=1.0)
    np.testing.assert_allclose(
        result.refit_test["RMSE"][1],
        ex.prediction_errors(huber.slope, huber.intercept, *test)["RMSE"],
    )
    ls = [np.polyfit(a, b, 1) for a, b in zip(*both, strict=True)]
    np.testing.assert_allclose(
        result.refit_line_errors[2], [ex.line_error(s, i, 2.0, 1.0) for s, i in ls]
    )


def test_noise_grid_data_is_the_grids_data():
    noises = {"a": {"noise": "laplace"}, "b": {"outlier_fraction": 0.2}}
    x, y = ex.noise_grid_data(range(3), n=30, noises=noises)
    assert x.shape == y.shape == (2, 3, 30)
    for i, kw in enumerate(noises.values()):
        xs, ys = ex.seeded_line_data(range(3), 30, **kw)
        np.testing.assert_array_equal(x[i], xs)
        np.testing.assert_array_equal(y[i], ys)
    np.testing.assert_array_equal(x[0], x[1])  # the same inputs in every setting
    grid = ex.noise_loss_grid(range(3), n=30, noises=noises)
    lad = ex.lad_line(x, y)
    np.testing.assert_allclose(grid.slopes[:, 0], lad.slope)


def test_plot_grid_puts_the_named_panels_on_a_log_scale():
    grid = ex.noise_loss_grid(seeds=range(3), n=30)
    fig, axes = plt.subplots(4, 1)
    ex.plot_grid(grid, axes, log_scale=["10% outliers"])
    assert [ax.get_xscale() for ax in axes] == ["linear"] * 3 + ["log"]
    low, high = axes[-1].get_xlim()
    mean = grid.mean()[-1]
    assert low < mean.min() and mean.max() < high and low > 0
    ticks = [t for t in axes[-1].get_xticks() if low <= t <= high]
    assert ticks and all(f"{t:.0e}"[0] in "125" for t in ticks)
    with pytest.raises(ValueError, match="log_scale names noises not in the grid"):
        ex.plot_grid(grid, axes, log_scale=["Cauchy"])
    plt.close(fig)


def test_log_ticks_are_one_two_five_times_powers_of_ten():
    assert ex._log_ticks(0.05, 3.0) == [0.05, 0.1, 0.2, 0.5, 1.0, 2.0]
    assert ex._log_ticks(0.3, 0.4) == []


def test_robust_scale_matches_scipy_and_ignores_outliers():
    from scipy.stats import median_abs_deviation

    rng = np.random.default_rng(0)
    r = rng.normal(0.0, 2.0, (3, 2001))
    np.testing.assert_allclose(ex.robust_scale(r), median_abs_deviation(r, axis=-1, scale="normal"))
    assert abs(ex.robust_scale(r[0]) - 2.0) < 0.1
    r[:, :400] += 1e6  # a fifth of the values far out
    assert (ex.robust_scale(r) < 3.0).all()
    np.testing.assert_allclose(ex.robust_scale(r.T, axis=0), ex.robust_scale(r))
    with pytest.raises(ValueError, match="at least one finite value"):
        ex.robust_scale([1.0, np.nan])


def _numerical_derivative(f, r, h=1e-6):
    return (f(r + h) - f(r - h)) / (2 * h)


def test_tukey_weights_are_psi_over_r_of_the_biweight():
    c = 2.0

    def rho(r):
        inside = np.abs(r) < c
        return np.where(inside, c**2 / 6 * (1 - (1 - (r / c) ** 2) ** 3), c**2 / 6)

    r = np.array([-3.0, -1.5, -0.3, 0.7, 1.9, 2.5])
    psi = _numerical_derivative(rho, r)
    np.testing.assert_allclose(ex.tukey_weights(r, c) * r, psi, atol=1e-8)
    assert ex.tukey_weights(0.0, c) == 1.0 and ex.tukey_weights(100.0, c) == 0.0
    with pytest.raises(ValueError, match="cut-off c must be > 0"):
        ex.tukey_weights(r, 0.0)


def test_tukey_cut_off_4685_is_95_percent_efficient_on_gaussian_noise():
    from scipy.integrate import quad
    from scipy.stats import norm

    c = 4.685

    def psi(u):
        return u * ex.tukey_weights(u, c)

    def dpsi(u):
        return (1 - (u / c) ** 2) * (1 - 5 * (u / c) ** 2) if abs(u) < c else 0.0

    second = quad(lambda u: psi(u) ** 2 * norm.pdf(u), -c, c)[0]
    slope = quad(lambda u: dpsi(u) * norm.pdf(u), -c, c)[0]
    assert round(slope**2 / second, 2) == 0.95


def test_student_t_weights_are_the_t_likelihoods_psi_over_r():
    from scipy.stats import t

    s, dof = 0.7, 2.0
    r = np.array([-5.0, -0.4, 0.2, 1.3, 8.0])
    psi = -_numerical_derivative(lambda v: t.logpdf(v, dof, scale=s), r)
    np.testing.assert_allclose(ex.student_t_weights(r, s, dof) * r / s**2, psi, rtol=1e-6)
    with pytest.raises(ValueError, match="scale and dof must be > 0"):
        ex.student_t_weights(r, s, 0.0)


@pytest.mark.parametrize("loss", ["tukey", "student_t"])
def test_redescending_line_is_a_stationary_point_started_from_l1(loss):
    x, y = _grid_data(range(20), noise="student_t")
    fit = ex.redescending_line(x, y, loss, tol=1e-12)
    lad = ex.lad_line(x, y)
    np.testing.assert_array_equal(fit.slopes[0], lad.slope)
    residual = fit.slope[:, None] * x + fit.intercept[:, None] - y
    scale = ex.robust_scale(lad.slope[:, None] * x + lad.intercept[:, None] - y)[:, None]
    if loss == "tukey":
        psi = residual * ex.tukey_weights(residual, 4.685 * scale)
    else:
        psi = residual * ex.student_t_weights(residual, scale, 2.0)
    assert np.abs((psi * x).sum(axis=-1)).max() < 1e-8
    assert np.abs(psi.sum(axis=-1)).max() < 1e-8


def test_redescending_line_ignores_outliers_beyond_the_cut_off():
    x, y = _grid_data(range(5), outlier_fraction=0.1)
    far = np.where(y - (2 * x + 1) > 10, y + 1000.0, y)  # the outliers 1000 further up
    near, farther = ex.redescending_line(x, y), ex.redescending_line(x, far)
    np.testing.assert_allclose(near.slope, farther.slope, atol=1e-9)
    np.testing.assert_allclose(near.intercept, farther.intercept, atol=1e-9)
    assert (ex.line_error(near.slope, near.intercept, 2.0, 1.0) < 0.2).all()


def test_redescending_line_keeps_an_l1_line_through_most_points():
    x = np.linspace(0.0, 4.0, 9)
    y = 3 * x - 1
    y[[0, 8]] += [5.0, -7.0]  # seven points on the line: the robust scale is 0
    fit = ex.redescending_line(x, y)
    assert fit.slopes.shape[0] == 1
    assert (round(float(fit.slope), 9), round(float(fit.intercept), 9)) == (3.0, -1.0)


def test_redescending_line_refuses_bad_arguments():
    x, y = _grid_data(range(2))
    with pytest.raises(ValueError, match="loss must be 'tukey' or 'student_t'"):
        ex.redescending_line(x, y, "cauchy")
    with pytest.raises(ValueError, match="c and dof must be > 0"):
        ex.redescending_line(x, y, c=0.0)
    with pytest.raises(RuntimeError, match="did not settle"):
        ex.redescending_line(x, y, tol=0.0, max_iter=2)


def test_lognormal_line_data_has_mean_zero_right_skewed_noise():
    x, y = ex.lognormal_line_data(range(4), 50_000)
    assert x.shape == y.shape == (4, 50_000)
    noise = y - (2 * x + 1)
    assert abs(noise.mean()) < 0.03  # standard error about 0.005
    assert abs(np.median(noise) - (1 - np.exp(0.5))) < 0.02
    assert (noise > -np.exp(0.5)).all()
    again = ex.lognormal_line_data([2], 50_000)
    np.testing.assert_array_equal(again[1][0], y[2])
    with pytest.raises(ValueError, match="at least one seed"):
        ex.lognormal_line_data([], 5)
    with pytest.raises(ValueError, match="sigma > 0"):
        ex.lognormal_line_data([0], 5, sigma=0.0)


def test_scaled_huber_line_uses_delta_k_times_the_robust_scale_per_data_set():
    x, y = ex.lognormal_line_data(range(3), 80)
    fit = ex.scaled_huber_line(x, y, 1.5)
    for i in range(3):
        ls = np.polyfit(x[i], y[i], 1)
        scale = float(ex.robust_scale(y[i] - np.polyval(ls, x[i])))
        one = ex.huber_line(x[i], y[i], delta=1.5 * scale)
        np.testing.assert_allclose(fit.slope[i], one.slope, rtol=1e-9)
        np.testing.assert_allclose(fit.intercept[i], one.intercept, rtol=1e-9, atol=1e-12)
    with pytest.raises(ValueError, match="robust scale of zero"):
        ex.scaled_huber_line(np.arange(5.0), 2 * np.arange(5.0), 1.0)


def test_public_docstrings_hold_no_control_characters():
    import inspect
    import re

    docs = [ex.__doc__ or ""] + [
        inspect.getdoc(obj) or ""
        for name, obj in vars(ex).items()
        if callable(obj) and getattr(obj, "__module__", None) == ex.__name__
    ]
    assert not [d for d in docs if re.search(r"[\x00-\x08\x0b-\x1f\x7f]", d)]
