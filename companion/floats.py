r"""Probing floating-point arithmetic: the first number at which a condition starts to hold.

Where does ``sigmoid(z)`` become exactly 1 in float32? Where does a gradient stop being right?
Such questions have an exact answer, a single floating-point number, when the condition is
false on one side of some value and true on the other. :func:`first_float_where` finds it,
searching up or down, by bisection over the representable numbers themselves: every float of
a format, read as an integer in the order of the values, is one step from its neighbours, so
about 16 (float16), 32 (float32) or 64 (float64) evaluations of the condition pin down the
answer exactly. NumPy only.
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
    start: float,
    stop: float,
    dtype: Any = np.float32,
) -> np.floating[Any]:
    r"""The first float of ``dtype``, walking from ``start`` to ``stop``, where ``condition`` holds.

    The walk goes up when ``start < stop`` (the answer is the *smallest* float in
    ``[start, stop]`` where the condition holds) and down when ``start > stop`` (the
    *largest* float in ``[stop, start]`` where it holds). The condition must be *monotone*
    along the walk: false up to some threshold and true from it on to ``stop``. Bisection
    cannot check that (``z + 1 == z`` in float32, for instance, holds at :math:`2^{24}` but
    not at the next float, :math:`2^{24} + 2`). For a condition that holds first and then
    stops holding, search for its negation. Bisection over the floats in their order finds
    the threshold with one evaluation per bit of the format; the result is the exact float,
    not an approximation. NumPy's floating-point warnings are silenced while the condition
    is evaluated, since probing overflow and underflow is what the search is for.

    Parameters
    ----------
    condition : callable
        Called with a NumPy scalar of ``dtype``; its result is read as a bool.
    start, stop : float
        Where the walk begins and where it ends, both finite, rounded to ``dtype``; the
        condition must hold at ``stop``.
    dtype : {numpy.float16, numpy.float32, numpy.float64}

    Returns
    -------
    numpy.floating
        A scalar of ``dtype`` (``start`` itself if the condition already holds there);
        ``float()`` of it is exact.

    Raises
    ------
    ValueError
        If the condition does not hold at ``stop`` (there is nothing to find), if an end
        is not finite, or if ``dtype`` is not one of the three formats.

    Examples
    --------
    The float32 exponential overflows to infinity from the logarithm of the largest float32,
    :math:`\ln(3.4 \cdot 10^{38}) \approx 88.72`:

    >>> import numpy as np
    >>> print(first_float_where(lambda z: np.isinf(np.exp(z)), 0.0, 1000.0))
    88.72284

    Walking down instead: the float32 exponential is 0 once :math:`e^z` is at most half the
    smallest positive float32 (the subnormal :math:`2^{-149}`), that is from about
    :math:`z = -150 \ln 2 \approx -103.97` down:

    >>> print(first_float_where(lambda z: np.exp(z) == 0, 0.0, -1000.0))
    -103.972084

    In float16 the exponential overflows from 11.09375, just above :math:`\ln 65504
    \approx 11.0898`, the logarithm of the largest float16:

    >>> float(first_float_where(lambda z: np.isinf(np.exp(z)), 0.0, 20.0, np.float16))
    11.09375

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
    with np.errstate(all="ignore"):
        begin = cast(np.floating[Any], np.array(start, dtype=kind)[()])
        end = cast(np.floating[Any], np.array(stop, dtype=kind)[()])
        if not (np.isfinite(begin) and np.isfinite(end)):
            raise ValueError(f"start and stop must be finite in {kind}, got {start!r}, {stop!r}")
        if not condition(end):
            raise ValueError(f"the condition does not hold at stop = {end!r}: nothing to find")
        if condition(begin):
            return begin
        false_at, true_at = _rank(begin), _rank(end)  # either order: the walk's direction
        while abs(true_at - false_at) > 1:
            middle = (false_at + true_at) // 2
            if condition(_unrank(middle, kind)):
                true_at = middle
            else:
                false_at = middle
        return _unrank(true_at, kind)
