"""The classification losses on dask arrays: every function builds a lazy graph and computes
nothing, also with a batch of unknown size (after boolean indexing), and the computed results
equal NumPy's. The value checks cannot run on lazy arrays: an out-of-range class index gives
NaN when computed."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest
from classification_cases import CASES, GRAD_CASES

import companion

da = pytest.importorskip(
    "dask.array",
    reason="dask is a test requirement (requirements.txt); the dask client is untested",
)
import dask  # noqa: E402  (after the import-or-skip above)

ALL = CASES + GRAD_CASES
WITH_REDUCTIONS = [(case, reduction) for case in ALL for reduction in case.reductions]
KEEP = np.array([True, False, True, True, False, True])  # the samples x[mask] keeps


@contextlib.contextmanager
def no_compute():
    """Fail if anything is computed inside the block (every dask scheduler goes through here)."""

    def refuse(*args, **kwargs):
        raise AssertionError("dask computed a graph inside a companion call")

    with dask.config.set(scheduler=refuse):
        yield


def case_id(value) -> str:
    return value if isinstance(value, str) else repr(value)


@pytest.mark.parametrize("unknown_size", [False, True], ids=["known-size", "unknown-size"])
@pytest.mark.parametrize(("case", "reduction"), WITH_REDUCTIONS, ids=case_id)
def test_lazy_and_equal_to_numpy(case, reduction, unknown_size):
    """Built lazily, then computed: NumPy's result. After ``x[mask]`` the number of samples is
    unknown (NaN) until computed; 'mean', 'batchmean' and the derivatives count it lazily."""
    x, y = case.problem(0)
    dx, dy = da.from_array(x, chunks=3), da.from_array(y, chunks=3)
    kwargs = {
        k: da.from_array(v) if isinstance(v, np.ndarray) else v for k, v in case.kwargs.items()
    }
    if unknown_size:
        mask = da.from_array(KEEP, chunks=3)
        dx, dy, x, y = dx[mask], dy[mask], x[KEEP], y[KEEP]
        assert np.isnan(dx.shape[0])
    with no_compute():
        result = case.fn(dx, dy, reduction=reduction, **kwargs)
    assert isinstance(result, da.Array)
    expected = case.fn(x, y, reduction=reduction, **case.kwargs)
    np.testing.assert_allclose(result.compute(), expected, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize(
    "fn",
    [companion.cross_entropy, companion.nll_loss_reference, companion.multi_margin_loss],
    ids=lambda fn: fn.__name__,
)
def test_class_index_out_of_range_gives_nan(fn):
    """Reading the indices would compute the graph: they are not checked, and the loss of an
    index out of range is NaN (without it, dask would select no class: a loss of 0)."""
    x = da.from_array(np.array([[2.0, -1.0, 0.5], [0.0, 3.0, -2.0], [1.0, 1.0, 1.0]]))
    for bad in (3, -1):
        y = da.from_array(np.array([0, bad, 2]))
        with no_compute():
            per_target, mean = fn(x, y, reduction="none"), fn(x, y)
        per_target = per_target.compute()
        assert np.isnan(per_target[1]) and np.isfinite(per_target[[0, 2]]).all()
        assert np.isnan(mean.compute())


def test_shapes_that_are_known_are_still_compared():
    x = da.ones((4, 3), chunks=2)
    with pytest.raises(ValueError, match=r"same batch size N \(axis 0\); got 4"):
        companion.cross_entropy(x, da.zeros(3, dtype=int))
    mask = da.from_array(np.array([True, False, True, True]))
    with pytest.raises(ValueError, match="must hold class indices of shape"):
        companion.cross_entropy(x[mask], da.zeros((3, 1), dtype=int))
