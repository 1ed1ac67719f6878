r"""Probing floating-point arithmetic: the first number at which a condition starts to hold.

Where does ``sigmoid(z)`` become exactly 1 in float32? Where does a gradient stop being right?
Such questions have an exact answer, a single floating-point number, when the condition is
false below some value and true from there on. :func:`first_float_where` finds it by bisection
over the representable numbers themselves: every float of a format, read as an integer in
the order of the values, is one step from its neighbours, so about 32 (float32) or 64
(float64) evaluations of the condition pin down the answer exactly. NumPy only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import numpy as np

#: The floating-point formats :func:`first_float_where` searches, by NumPy dtype.
_BITS = {
    np.dtype(np.float16): (np.uint16, 15),
    np.dtype(np.float32): (np.uint32, 31),
    np.dtype(np.float64): (np.uint64, 63),
}


def _rank(value: np.floating[Any]) -> int:
    """The position of ``value`` among its format's floats: consecutive floats, consecutive ints.

    Non-negative floats keep their bit pattern; a negative one gets minus the pattern of its
    absolute value, so that ``-0.0`` and ``0.0`` share the rank 0.
    """
    unsigned, sign = _BITS[value.dtype]
    bits = int(value.view(unsigned))
    return bits if bits >> sign == 0 else -(bits ^ (1 << sign))


def _unrank(rank: int, dtype: np.dtype[Any]) -> np.floating[Any]:
    """The float of ``dtype`` at position ``rank`` (the inverse of :func:`_rank`)."""
    unsigned, sign = _BITS[dtype]
    bits = rank if rank >= 0 else (-rank) | (1 << sign)
    return cast(np.floating[Any], np.array(bits, dtype=unsigned).view(dtype)[()])


def first_float_where(
    condition: Callable[[np.floating[Any]], Any],
    low: float,
    high: float,
    dtype: Any = np.float32,
) -> np.floating[Any]:
    r"""The smallest float ``z`` of ``dtype`` in ``[low, high]`` at which ``condition(z)`` holds.

    The condition must be *monotone* on the interval: false below some threshold and true
    from it on. Bisection cannot check that (``z + 1 == z`` in float32, for instance, holds
    at :math:`2^{24}` but not at the next float, :math:`2^{24} + 2`). For a condition that
    holds *below* a threshold, search for its negation: the answer is the first float where
    it stops holding. Bisection over the floats in their order finds the threshold with one
    evaluation per bit of the format; the result is the exact float, not an approximation.

    Parameters
    ----------
    condition : callable
        Called with a NumPy scalar of ``dtype``; its result is read as a bool.
    low, high : float
        The interval to search, rounded to ``dtype``; ``low <= high``, both finite.
    dtype : {numpy.float16, numpy.float32, numpy.float64}

    Returns
    -------
    numpy.floating
        A scalar of ``dtype``: ``low`` if the condition already holds there.

    Raises
    ------
    ValueError
        If the condition does not hold at ``high`` (there is nothing to find), if the
        interval is empty or not finite, or if ``dtype`` is not one of the three formats.

    Examples
    --------
    The float32 exponential overflows to infinity from the logarithm of the largest float32,
    :math:`\ln(3.4 \cdot 10^{38}) \approx 88.72`:

    >>> import numpy as np
    >>> with np.errstate(over="ignore"):
    ...     print(first_float_where(lambda z: np.isinf(np.exp(z)), 0.0, 1000.0))
    88.72284

    A float32 sum ``1 + eps`` is rounded back to 1 up to ``eps = 2**-24`` (half the spacing
    of float32 numbers above 1, where the tie goes to the even neighbour, 1); the first
    ``eps`` that survives is the next float above it:

    >>> def survives(eps):
    ...     return np.float32(1) + eps != np.float32(1)
    >>> first = first_float_where(survives, 0.0, 1.0)
    >>> bool(first == np.nextafter(np.float32(2.0**-24), np.float32(1)))
    True
    """
    kind = np.dtype(dtype)
    if kind not in _BITS:
        raise ValueError(f"dtype must be float16, float32 or float64, got {kind}")
    start = cast(np.floating[Any], np.array(low, dtype=kind)[()])
    stop = cast(np.floating[Any], np.array(high, dtype=kind)[()])
    if not (np.isfinite(start) and np.isfinite(stop) and start <= stop):
        raise ValueError(f"low and high must be finite with low <= high, got {low!r}, {high!r}")
    if not condition(stop):
        raise ValueError(f"the condition does not hold at high = {stop!r}: nothing to find")
    if condition(start):
        return start
    below, above = _rank(start), _rank(stop)  # condition false at below, true at above
    while above - below > 1:
        middle = (below + above) // 2
        if condition(_unrank(middle, kind)):
            above = middle
        else:
            below = middle
    return _unrank(above, kind)
