"""Robust wall-clock timing for the book's "measure, don't assume" cells.

A single timing on a shared machine is noisy; the minimum over several repeats is the least
disturbed estimate of what the code itself costs (the approach of ``timeit``).
"""

from __future__ import annotations

import timeit
from collections.abc import Callable
from typing import Any


def best_time(func: Callable[[], Any], *, number: int = 10, repeat: int = 5) -> float:
    r"""Seconds per call of ``func()``: the best of ``repeat`` runs of ``number`` calls each.

    .. math:: t = \min_{r = 1..R} \frac{T_r}{n}

    Examples
    --------
    >>> best_time(lambda: sum(range(10)), number=100, repeat=3) > 0
    True
    """
    for name, value in (("number", number), ("repeat", repeat)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    if not callable(func):
        raise TypeError(f"func must be callable, got {func!r}")
    return min(timeit.repeat(func, number=number, repeat=repeat)) / number
