"""Tests for companion.data.make_leverage_data (chapter 4's diverging experiment)."""

import numpy as np
import pytest

from companion.data import make_leverage_data, make_line_data


def test_faulty_points_get_the_faulty_input_and_keep_their_targets():
    x, y = make_leverage_data(50, n_faulty=4, faulty_x=7.5, seed=2)
    clean_x, clean_y = make_line_data(50, scale=0.5, seed=2)
    faulty = x != clean_x
    assert np.count_nonzero(faulty) == 4
    np.testing.assert_array_equal(x[faulty], 7.5)
    np.testing.assert_array_equal(y, clean_y)


def test_no_faulty_points_gives_the_clean_line_data():
    x, y = make_leverage_data(30, slope=-1.0, intercept=3.0, scale=0.2, n_faulty=0, seed=5)
    expected = make_line_data(30, slope=-1.0, intercept=3.0, scale=0.2, seed=5)
    np.testing.assert_array_equal(x, expected[0])
    np.testing.assert_array_equal(y, expected[1])


def test_leverage_data_is_deterministic_per_seed():
    first, again, other = (make_leverage_data(seed=s)[0] for s in (0, 0, 1))
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_faulty": -1}, r"n_faulty must be an integer >= 0, got -1"),
        ({"n_faulty": 1.5}, r"n_faulty must be an integer >= 0, got 1.5"),
        ({"n": 5, "n_faulty": 6}, r"n_faulty must be <= n = 5, got 6"),
        ({"faulty_x": float("nan")}, r"faulty_x must be a finite number, got nan"),
        ({"faulty_x": float("inf")}, r"faulty_x must be a finite number, got inf"),
    ],
)
def test_bad_arguments_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_leverage_data(**kwargs)
