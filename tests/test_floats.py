"""Tests for companion.floats: the first float at which a monotone condition holds."""

import math
import warnings

import numpy as np
import pytest
import torch

from companion.floats import _rank, _unrank, first_float_where


def every_float32(low, high):
    """Every float32 in [low, high] (both positive), in increasing order."""
    start, stop = np.float32(low).view(np.int32), np.float32(high).view(np.int32)
    return np.arange(start, stop + 1).astype(np.int32).view(np.float32)


def test_float32_sigmoid_threshold_equals_the_enumeration_of_every_float():
    floats = every_float32(16.0, 17.0)
    is_one = (torch.sigmoid(torch.from_numpy(floats)) == 1).numpy()
    first = floats[is_one.argmax()]
    found = first_float_where(lambda z: torch.sigmoid(torch.tensor(z)) == 1, 0.0, 100.0)
    assert found.dtype == np.float32 and found == first
    assert is_one[is_one.argmax() :].all() and not is_one[: is_one.argmax()].any()
    assert abs(found - 24 * math.log(2)) < 2e-6  # 1 + e^-z rounds to 1 from 2**-24


def test_every_float16_threshold_matches_a_linear_scan():
    floats = np.arange(np.float16(0).view(np.uint16), np.float16(60000).view(np.uint16) + 1)
    floats = floats.astype(np.uint16).view(np.float16)
    for threshold in (np.float16(0.1), np.float16(3.14), np.float16(1000), np.float16(6e-8)):
        found = first_float_where(lambda z, t=threshold: z >= t, 0.0, 60000.0, np.float16)
        assert found == floats[np.argmax(floats >= threshold)] == threshold


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_negative_intervals_and_zero_are_searched_in_value_order(dtype):
    found = first_float_where(lambda z: z > -1.5, -4.0, 2.0, dtype)
    assert found == np.nextafter(dtype(-1.5), dtype(0)) and found.dtype == dtype
    assert first_float_where(lambda z: z >= 0, -1.0, 1.0, dtype) == 0
    tiny = np.finfo(dtype).smallest_subnormal
    assert first_float_where(lambda z: z > 0, -1.0, 1.0, dtype) == tiny


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_rank_is_the_position_among_the_floats(dtype):
    values = np.array([-np.inf, -2.5, -1e-3, -0.0, 0.0, 1e-3, 1.0, np.inf], dtype=dtype)
    ranks = [_rank(v) for v in values]
    assert ranks == sorted(ranks) and ranks[3] == ranks[4] == 0
    for v in values:
        back = _unrank(_rank(v), np.dtype(dtype))
        assert back == v and back.dtype == dtype
    one = dtype(1)
    assert _rank(np.nextafter(one, dtype(2))) == _rank(one) + 1


def test_the_answer_is_start_when_the_condition_already_holds_there():
    assert first_float_where(lambda z: True, 3.0, 4.0) == np.float32(3.0)
    assert first_float_where(lambda z: True, 4.0, 3.0) == np.float32(4.0)
    assert first_float_where(lambda z: z == 2, 2.0, 2.0) == np.float32(2.0)


def test_a_downward_walk_finds_the_largest_float_where_the_condition_holds():
    floats = np.arange(np.float16(0).view(np.uint16), np.float16(60000).view(np.uint16) + 1)
    floats = -floats.astype(np.uint16).view(np.float16)  # 0, -tiny, ..., -60000
    for threshold in (np.float16(-0.1), np.float16(-3.14), np.float16(-1000), np.float16(-6e-8)):
        found = first_float_where(lambda z, t=threshold: z <= t, 0.0, -60000.0, np.float16)
        assert found == floats[np.argmax(floats <= threshold)] == threshold
        assert found.dtype == np.float16


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_the_two_directions_meet_at_neighbouring_floats(dtype):
    def is_one(z):
        return (
            torch.sigmoid(torch.tensor(float(z), dtype=torch.float64)).to(
                getattr(torch, np.dtype(dtype).name)
            )
            == 1
        )

    up = first_float_where(is_one, 0.0, 100.0, dtype)
    down = first_float_where(lambda z: not is_one(z), 100.0, 0.0, dtype)
    assert down == np.nextafter(up, dtype(0)) and up.dtype == down.dtype == dtype


def test_floating_point_warnings_are_silenced_during_the_search_only():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        found = first_float_where(lambda z: np.isinf(np.exp(z)), 0.0, 1000.0)
        assert found == np.float32(88.72284)
        assert first_float_where(lambda z: np.exp(z) == 0, 0.0, -1000.0) < -103.97
    with pytest.warns(RuntimeWarning, match="overflow"):
        np.exp(np.float32(100.0))


def test_bad_arguments_raise_errors_that_name_them():
    with pytest.raises(ValueError, match="does not hold at stop"):
        first_float_where(lambda z: z > 10, 0.0, 1.0)
    with pytest.raises(ValueError, match="does not hold at stop"):
        first_float_where(lambda z: z > 10, 1.0, 0.0)
    with pytest.raises(ValueError, match="finite"):
        first_float_where(lambda z: True, 0.0, np.inf)
    with pytest.raises(ValueError, match="finite"):
        first_float_where(lambda z: True, 0.0, 1e6, np.float16)  # beyond float16
    with pytest.raises(ValueError, match="float16, float32 or float64"):
        first_float_where(lambda z: True, 0.0, 1.0, np.int32)
