"""Tests for companion.geometry."""

import numpy as np
import pytest

from companion.geometry import unit_ball_boundary


@pytest.mark.parametrize("p", [1, 1.5, 2, 3, np.inf])
def test_every_point_has_norm_one(p):
    v1, v2 = unit_ball_boundary(p, n_points=101)
    norms = np.linalg.norm(np.stack([v1, v2]), ord=p, axis=0)
    np.testing.assert_allclose(norms, 1.0, rtol=1e-12)


def test_l1_ball_is_the_diamond_and_l2_ball_the_circle():
    v1, v2 = unit_ball_boundary(1, n_points=9)  # angles every 45 degrees
    np.testing.assert_allclose(np.abs(v1) + np.abs(v2), 1.0)
    np.testing.assert_allclose(v1[[0, 2, 4, 6]], [1.0, 0.0, -1.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(v1[1], 0.5)  # the diamond's edge crosses the diagonal at 1/2
    w1, w2 = unit_ball_boundary(2, n_points=9)
    np.testing.assert_allclose(w1[1], np.sqrt(0.5))


def test_curve_is_closed():
    v1, v2 = unit_ball_boundary(2, n_points=50)
    assert v1.shape == v2.shape == (50,)
    assert v1[0] == pytest.approx(v1[-1]) and v2[0] == pytest.approx(v2[-1], abs=1e-12)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"p": 0.5}, r"p must be a number >= 1 \(or inf\), got 0.5"),
        ({"p": True}, r"p must be a number >= 1 \(or inf\), got True"),
        ({"p": "1"}, r"p must be a number >= 1 \(or inf\), got '1'"),
        ({"p": 2, "n_points": 2}, r"n_points must be an integer >= 3, got 2"),
    ],
)
def test_bad_arguments_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        unit_ball_boundary(**kwargs)
