r"""Experiments behind chapters 5 and 6: robust line fits, choosing beta, the noise x loss grid.

Every experiment fits the line :math:`\\hat y = a x + b` by full-batch gradient descent
(:func:`companion.fitting.fit_line`) to seeded data from :func:`companion.data.make_line_data`,
many seeds at once, and scores each fit by :func:`line_error`, its distance from the true line.
Plotting functions need matplotlib; :func:`robust_fit_widget` needs ipywidgets.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np

from companion import huber_loss_grad, l1_loss_grad, mse_loss_grad, smooth_l1_loss_grad
from companion._extras import missing_extra
from companion.data import make_line_data
from companion.fitting import LineFit, LossGrad, fit_line

#: Slope of the true line in every experiment.
TRUE_SLOPE = 2.0
#: Intercept of the true line in every experiment.
TRUE_INTERCEPT = 1.0
#: Scale of the noise (the standard deviation for Gaussian noise).
NOISE_SCALE = 0.5
#: How far up the outliers are moved.
OUTLIER_SHIFT = 20.0

#: Noise settings of chapter 6's grid, each a name and keyword arguments of ``make_line_data``.
NOISE_SETTINGS: dict[str, dict[str, Any]] = {
    "Gaussian": {"noise": "gaussian"},
    "Laplace": {"noise": "laplace"},
    "Student-t (2 dof)": {"noise": "student_t"},
    "Gaussian + 10% outliers": {"noise": "gaussian", "outlier_fraction": 0.1},
}

# A loss for the fits: (derivative from companion, its keyword arguments).
LossSpec = tuple[LossGrad, dict[str, Any]]

#: The losses of chapter 6's grid.
GRID_LOSSES: dict[str, LossSpec] = {
    "L1": (l1_loss_grad, {}),
    "MSE": (mse_loss_grad, {}),
    "Smooth L1 (beta=1)": (smooth_l1_loss_grad, {"beta": 1.0}),
}


def line_error(slope: Any, intercept: Any, true_slope: float, true_intercept: float) -> np.ndarray:
    r"""RMS vertical gap between a fitted and the true line over :math:`x\sim\mathcal U(-2,2)`.

    .. math::
        \sqrt{\mathbb E_x\big[((a-a^\star)x + (b-b^\star))^2\big]}
        = \sqrt{\tfrac43 (a-a^\star)^2 + (b-b^\star)^2}

    It is in the units of ``y``, and it is the typical error of the fitted line's predictions
    over the range of :func:`companion.data.make_line_data`'s inputs. A diverged fit gets a
    huge or infinite error (``nan`` for ``nan`` parameters), without a warning.

    Examples
    --------
    >>> float(line_error(2.0, 1.5, true_slope=2.0, true_intercept=1.0))
    0.5
    """
    da = np.asarray(slope, dtype=np.float64) - true_slope
    db = np.asarray(intercept, dtype=np.float64) - true_intercept
    # hypot: no overflow before the inputs do
    return cast(np.ndarray, np.hypot(np.sqrt(4.0 / 3.0) * da, db))


def seeded_line_data(
    seeds: Sequence[int], n: int = 100, **data_kwargs: Any
) -> tuple[np.ndarray, np.ndarray]:
    """Stack :func:`~companion.data.make_line_data` over ``seeds`` into ``(len(seeds), n)`` arrays.

    ``data_kwargs`` go to ``make_line_data`` (the true line, noise kind and scale, outliers).
    """
    if len(seeds) == 0:
        raise ValueError("seeds must name at least one seed, got an empty sequence")
    pairs = [make_line_data(n, seed=int(s), **data_kwargs) for s in seeds]
    return np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs])


def fit_losses(
    x: Any,
    y: Any,
    losses: Mapping[str, LossSpec],
    *,
    lr: float = 0.1,
    steps: int = 1000,
) -> dict[str, LineFit]:
    """Fit one line per loss to the same data with :func:`~companion.fitting.fit_line`.

    Parameters
    ----------
    x, y : array_like, shape (..., N)
        The data; leading axes are a batch of independent data sets (for example seeds).
    losses : mapping
        Name -> ``(loss_grad, loss_kwargs)``, such as :data:`GRID_LOSSES`.
    lr, steps : float, int
        Step size and number of gradient-descent steps, the same for every loss.

    Returns
    -------
    dict
        Name -> :class:`~companion.fitting.LineFit`, in the order of ``losses``.
    """
    return {
        name: fit_line(x, y, grad, lr=lr, steps=steps, **kwargs)
        for name, (grad, kwargs) in losses.items()
    }


@dataclass(frozen=True)
class GridResult:
    """Errors of chapter 6's grid: ``errors[i, j, s]`` is the :func:`line_error` of loss ``j``
    on noise ``i`` and seed ``s``."""

    noises: tuple[str, ...]
    losses: tuple[str, ...]
    errors: np.ndarray

    def mean(self) -> np.ndarray:
        """Mean error over seeds, shape ``(len(noises), len(losses))``."""
        return cast(np.ndarray, self.errors.mean(axis=-1))

    def table(self, digits: int = 3) -> str:
        """The mean errors as a plain-text table, one row per noise, one column per loss."""
        first = max(len(name) for name in self.noises)
        widths = [max(len(name), digits + 3) for name in self.losses]
        header = [name.rjust(w) for name, w in zip(self.losses, widths, strict=True)]
        lines = [" | ".join([" " * first, *header])]
        for noise, row in zip(self.noises, self.mean(), strict=True):
            cells = [f"{v:.{digits}f}".rjust(w) for v, w in zip(row, widths, strict=True)]
            lines.append(" | ".join([noise.ljust(first), *cells]))
        return "\n".join(lines)


def noise_loss_grid(
    seeds: Sequence[int] = tuple(range(20)),
    *,
    n: int = 100,
    noises: Mapping[str, Mapping[str, Any]] = NOISE_SETTINGS,
    losses: Mapping[str, LossSpec] = GRID_LOSSES,
    lr: float = 0.1,
    steps: int = 500,
) -> GridResult:
    r"""Fit every loss to every noise over ``seeds``; score each fit by :func:`line_error`.

    The data are :func:`~companion.data.make_line_data` with slope :data:`TRUE_SLOPE`, intercept
    :data:`TRUE_INTERCEPT`, noise scale :data:`NOISE_SCALE` and outliers shifted by
    :data:`OUTLIER_SHIFT`, plus each setting's keyword arguments. All noise settings and seeds
    are fitted in one batch per loss.
    """
    base = {
        "slope": TRUE_SLOPE,
        "intercept": TRUE_INTERCEPT,
        "scale": NOISE_SCALE,
        "outlier_shift": OUTLIER_SHIFT,
    }
    data = [seeded_line_data(seeds, n, **{**base, **kw}) for kw in noises.values()]
    x = np.stack([d[0] for d in data])
    y = np.stack([d[1] for d in data])
    fits = fit_losses(x, y, losses, lr=lr, steps=steps)
    errors = np.stack(
        [line_error(f.slope, f.intercept, TRUE_SLOPE, TRUE_INTERCEPT) for f in fits.values()],
        axis=1,
    )
    return GridResult(tuple(noises), tuple(losses), errors)


def plot_grid(result: GridResult, ax: Any) -> Any:
    """Draw the mean errors of ``result`` as an annotated heatmap (log colour scale) on ``ax``."""
    from matplotlib.colors import LogNorm

    from companion.plotting import label

    mean = result.mean()
    image = ax.imshow(mean, cmap="viridis_r", norm=LogNorm(), aspect="auto")
    for (i, j), value in np.ndenumerate(mean):
        ax.text(
            j,
            i,
            f"{value:.3f}",
            ha="center",
            va="center",
            color="black",
            bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "none"},
        )
    ax.set_xticks(range(len(result.losses)), result.losses)
    ax.set_yticks(range(len(result.noises)), result.noises)
    ax.figure.colorbar(image, ax=ax, label="mean line error (log scale)")
    label(
        ax, f"Error of the fitted line, mean over {result.errors.shape[-1]} seeds", "loss", "noise"
    )
    ax.grid(False)
    return ax


def huber_gaussian_efficiency(k: float) -> float:
    r"""Asymptotic efficiency, relative to the mean, of Huber's location estimate on Gaussian noise.

    With the cut-off :math:`\delta = k\sigma`, :math:`\psi(u) = \mathrm{clip}(u, -k, k)` and
    :math:`u \sim \mathcal N(0, 1)` (Huber, 1964), the estimate's variance is
    :math:`\mathbb E[\psi^2] / \mathbb E[\psi']^2` times that of the mean, so

    .. math::
        \mathrm{eff}(k) = \frac{(2\Phi(k)-1)^2}{2\Phi(k) - 1 - 2k\varphi(k) + 2k^2(1-\Phi(k))}

    Examples
    --------
    >>> round(huber_gaussian_efficiency(1.345), 3)
    0.95
    """
    if not k > 0:
        raise ValueError(f"k must be > 0, got {k!r}")
    inside = math.erf(k / math.sqrt(2.0))  # 2 Phi(k) - 1
    density = math.exp(-(k**2) / 2.0) / math.sqrt(2.0 * math.pi)
    second_moment = inside - 2.0 * k * density + k**2 * (1.0 - inside)
    return inside**2 / second_moment


def beta_sweep(
    beta_over_sigma: Sequence[float],
    seeds: Sequence[int] = tuple(range(50)),
    *,
    n: int = 100,
    sigma: float = NOISE_SCALE,
    outlier_fractions: Sequence[float] = (0.0,),
    lr: float = 0.5,
    steps: int = 400,
) -> np.ndarray:
    r"""Line errors of Smooth L1 fits with :math:`\beta = r\sigma` for each ratio ``r``.

    The data are Gaussian noise of scale ``sigma`` around the true line, with a share of the
    points (each of ``outlier_fractions`` in turn) shifted up by :data:`OUTLIER_SHIFT`; the same
    seed gives the same inputs and noise for every share. The fits minimise Huber with
    :math:`\delta=\beta`: since :math:`\mathrm{Huber}_\delta = \delta\,
    \mathrm{SmoothL1}_{\beta=\delta}`, it has the same minimiser as Smooth L1, and gradient
    descent on it with step ``lr`` is gradient descent on Smooth L1 with step
    :math:`\mathrm{lr}\cdot\beta`, a step that suits every :math:`\beta`.

    Returns
    -------
    numpy.ndarray, shape (len(outlier_fractions), len(beta_over_sigma), len(seeds))
    """
    data = [
        seeded_line_data(
            seeds,
            n,
            slope=TRUE_SLOPE,
            intercept=TRUE_INTERCEPT,
            scale=sigma,
            outlier_fraction=fraction,
            outlier_shift=OUTLIER_SHIFT,
        )
        for fraction in outlier_fractions
    ]
    x = np.stack([d[0] for d in data])
    y = np.stack([d[1] for d in data])
    errors = []
    for ratio in beta_over_sigma:
        fit = fit_line(x, y, huber_loss_grad, lr=lr, steps=steps, delta=float(ratio) * sigma)
        errors.append(line_error(fit.slope, fit.intercept, TRUE_SLOPE, TRUE_INTERCEPT))
    return np.stack(errors, axis=1)


def robust_fit_losses(beta: float) -> dict[str, LossSpec]:
    """L1, MSE and Smooth L1 with the given ``beta``: the losses of the interactive view."""
    return {
        "L1": (l1_loss_grad, {}),
        "MSE": (mse_loss_grad, {}),
        f"Smooth L1 (beta={beta:g})": (smooth_l1_loss_grad, {"beta": float(beta)}),
    }


def draw_robust_fits(
    outlier_fraction: float = 0.1, beta: float = 1.0, *, seed: int = 0, n: int = 100, ax: Any = None
) -> Any:
    """Fit L1, MSE and Smooth L1 (``beta``) to one seeded data set and draw the data and lines.

    The data are those of :func:`noise_loss_grid`'s Gaussian setting with ``outlier_fraction``
    of the points shifted up by :data:`OUTLIER_SHIFT`. Returns the axes (a new figure's when
    ``ax`` is None).
    """
    from companion.plotting import label, new_figure

    if not beta > 0:
        raise ValueError(f"beta must be > 0 for this view, got {beta!r}")
    if ax is None:
        _, ax = new_figure(width=6.0, height=4.0)
    x, y = make_line_data(
        n,
        slope=TRUE_SLOPE,
        intercept=TRUE_INTERCEPT,
        scale=NOISE_SCALE,
        outlier_fraction=outlier_fraction,
        outlier_shift=OUTLIER_SHIFT,
        seed=seed,
    )
    grid = np.linspace(-2.0, 2.0, 2)
    ax.scatter(x, y, s=10, color="0.5", label="data")
    ax.plot(grid, TRUE_SLOPE * grid + TRUE_INTERCEPT, "k--", label="true line")
    fits = fit_losses(x, y, robust_fit_losses(beta), lr=0.1, steps=1000)
    for name, fit in fits.items():
        error = float(line_error(fit.slope, fit.intercept, TRUE_SLOPE, TRUE_INTERCEPT))
        ax.plot(grid, fit.slope * grid + fit.intercept, label=f"{name}: error {error:.2f}")
    label(ax, f"Line fits with {outlier_fraction:.0%} outliers", "x", "y", legend=True)
    return ax


def robust_fit_widget() -> Any:
    """Sliders for the outlier fraction and beta that re-fit and redraw :func:`draw_robust_fits`.

    Returns an :class:`ipywidgets.interactive`; it needs a live Jupyter kernel (for example in
    Binder) to respond, and ipywidgets installed (``pip install
    "loss-functions-companion[widgets]"``).
    """
    try:
        import ipywidgets as widgets
    except ModuleNotFoundError as error:
        raise missing_extra(error, "widgets", f"{__name__}.robust_fit_widget") from error
    import matplotlib.pyplot as plt

    def redraw(outlier_fraction: float, beta: float) -> None:
        draw_robust_fits(outlier_fraction, beta)
        plt.show()

    return widgets.interactive(
        redraw,
        outlier_fraction=widgets.FloatSlider(
            value=0.1, min=0.0, max=0.4, step=0.05, description="outliers"
        ),
        beta=widgets.FloatLogSlider(
            value=1.0, base=10, min=-1, max=1, step=0.1, description="beta"
        ),
    )
