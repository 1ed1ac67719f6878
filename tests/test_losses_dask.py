"""The companion on dask arrays: every function builds a lazy graph without computing anything,
also for arrays of unknown size (after boolean indexing) and for a dask beta/delta, and the
computed results equal NumPy's."""

from __future__ import annotations

import contextlib
import warnings

import numpy as np
import pytest

import companion

da = pytest.importorskip(
    "dask.array",
    reason="dask is a test requirement (requirements.txt); the dask client is untested",
)
import dask  # noqa: E402  (after the import-or-skip above)

NAMES = ("l1_loss", "mse_loss", "smooth_l1_loss", "huber_loss")
PARAMETERS = {"smooth_l1_loss": [{"beta": 0.0}, {"beta": 1.5}], "huber_loss": [{"delta": 1.5}]}
# (function, keyword arguments, reduction) for every function, reduction and code path of beta.
CASES = [
    (getattr(companion, f"{name}{suffix}"), params, reduction)
    for name in NAMES
    for params in PARAMETERS.get(name, [{}])
    for suffix in ("", "_reference", "_grad")
    for reduction in ("none", "mean", "sum")
]
CASES.append((companion.rmse, {}, None))
CASES += [
    (fn, {"tau": 0.3}, reduction)
    for fn in (companion.pinball_loss, companion.pinball_loss_grad)
    for reduction in ("none", "mean", "sum")
]


def case_id(case) -> str:
    if isinstance(case, dict):
        return "-".join(f"{k}={v}" for k, v in case.items()) or "default"
    return getattr(case, "__name__", str(case))


@contextlib.contextmanager
def no_compute():
    """Fail if anything is computed inside the block (every dask scheduler goes through here)."""

    def refuse(*args, **kwargs):
        raise AssertionError("dask computed a graph inside a companion call")

    with dask.config.set(scheduler=refuse):
        yield


def numpy_data():
    rng = np.random.default_rng(11)
    x = rng.normal(size=(6, 5)) * 3
    x[0, :3] = [0.0, 1.5, -1.5]  # exactly 0 and at the kink
    return x, rng.normal(size=(6, 5))


@pytest.mark.parametrize("unknown_size", [False, True], ids=["known-size", "unknown-size"])
@pytest.mark.parametrize(("fn", "params", "reduction"), CASES, ids=case_id)
def test_lazy_and_equal_to_numpy(fn, params, reduction, unknown_size):
    """Built lazily (nothing computed in the call), then computed: NumPy's result. With
    ``x[m]`` for a boolean mask the size is unknown (NaN) until computed; the gradients'
    'mean' scaling then counts the elements lazily."""
    x, y = numpy_data()
    dx, dy = da.from_array(x, chunks=(3, 5)), da.from_array(y, chunks=(3, 5))
    if unknown_size:
        keep = x > -2.0
        dx, dy, x, y = dx[dx > -2.0], dy[dx > -2.0], x[keep], y[keep]
        assert np.isnan(dx.shape[0])
    arguments = {} if reduction is None else {"reduction": reduction}
    with no_compute():
        result = fn(dx, dy, **arguments, **params)
    assert isinstance(result, da.Array)
    expected = fn(x, y, **arguments, **params)
    np.testing.assert_allclose(result.compute(), expected, rtol=1e-13, atol=0)


@pytest.mark.parametrize("name", ["smooth_l1_loss", "huber_loss"])
def test_dask_beta_and_delta_stay_lazy(name):
    """A 0-d dask array as beta/delta is not read (that would compute); a bad value gives NaN."""
    x, y = numpy_data()
    dx, dy = da.from_array(x, chunks=3), da.from_array(y, chunks=3)
    parameter = "beta" if name == "smooth_l1_loss" else "delta"
    for suffix in ("", "_grad"):
        fn = getattr(companion, f"{name}{suffix}")
        with no_compute():
            good = fn(dx, dy, **{parameter: da.asarray(1.5)})
            bad = fn(dx, dy, **{parameter: da.asarray(-1.0)})
        expected = fn(x, y, **{parameter: 1.5})
        np.testing.assert_allclose(good.compute(), expected, rtol=1e-13, atol=0)
        assert np.isnan(bad.compute()).all()


def test_empty_selection_mean_is_nan_without_a_warning():
    x = da.from_array(np.arange(6.0), chunks=3)
    nothing = x[x > 100]
    with no_compute():
        loss = companion.huber_loss(nothing, nothing)
        grad = companion.huber_loss_grad(nothing, nothing)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isnan(loss.compute())
        assert grad.compute().shape == (0,)


def test_known_shapes_are_still_compared():
    x = da.ones((4, 3), chunks=2)
    with pytest.raises(ValueError, match=r"input\.shape=\(4, 3\) and target\.shape=\(3, 4\)"):
        companion.l1_loss(x, x.T)
    with pytest.raises(ValueError, match=r"input\.shape=\(nan,\) and target\.shape=\(4, 3\)"):
        companion.l1_loss(x[x > 0], x)
