r"""Unit balls of the :math:`L^p` norms in the plane, for the book's geometry figures."""

from __future__ import annotations

import numpy as np


def unit_ball_boundary(p: float, n_points: int = 401) -> tuple[np.ndarray, np.ndarray]:
    r"""Points on the boundary of the 2-D unit ball of the :math:`L^p` norm.

    .. math:: \|v\|_p = \left(|v_1|^p + |v_2|^p\right)^{1/p} = 1, \qquad
              \|v\|_\infty = \max(|v_1|, |v_2|) = 1

    The direction :math:`(\cos\theta, \sin\theta)` is scaled to norm one, for ``n_points``
    angles from 0 to :math:`2\pi` (the curve is closed: the first and last points coincide).
    ``p = 1`` gives the diamond of the Manhattan distance, ``p = 2`` the circle.

    Returns
    -------
    v1, v2 : numpy.ndarray
        Coordinates, ``float64`` arrays of shape ``(n_points,)``.

    Examples
    --------
    >>> v1, v2 = unit_ball_boundary(1, n_points=5)
    >>> np.round(np.abs(v1) + np.abs(v2), 12).tolist()
    [1.0, 1.0, 1.0, 1.0, 1.0]
    """
    if isinstance(p, bool) or not (isinstance(p, (int, float, np.integer, np.floating)) and p >= 1):
        raise ValueError(f"p must be a number >= 1 (or inf), got {p!r}")
    if isinstance(n_points, bool) or not isinstance(n_points, (int, np.integer)) or n_points < 3:
        raise ValueError(f"n_points must be an integer >= 3, got {n_points!r}")
    theta = np.linspace(0.0, 2.0 * np.pi, n_points)
    direction = np.stack([np.cos(theta), np.sin(theta)])
    norm = np.linalg.norm(direction, ord=p, axis=0)
    v1, v2 = direction / norm
    return v1, v2
