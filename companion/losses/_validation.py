"""Private argument checks shared by every loss (scikit-learn style).

Each check returns clean values or raises an error that echoes the bad value
(``{value!r}``) and says what is allowed.
"""

from __future__ import annotations

import functools
import math
import numbers
from typing import Any

import array_api_compat
import numpy as np

REDUCTIONS = ("none", "mean", "sum")


def check_reduction(reduction: Any) -> str:
    """Return ``reduction`` if it is one of ``'none'``, ``'mean'``, ``'sum'``."""
    if not isinstance(reduction, str) or reduction not in REDUCTIONS:
        allowed = ", ".join(repr(r) for r in REDUCTIONS)
        raise ValueError(f"reduction must be one of {allowed}; got {reduction!r}")
    return reduction


def check_parameter(name: str, value: Any, *, allow_zero: bool) -> float:
    """Return ``value`` as a float if it is a finite real number > 0 (>= 0 if ``allow_zero``).

    NaN and inf raise ``ValueError``; booleans, strings and complex numbers raise ``TypeError``.
    """
    allowed = f"a finite real number {'>= 0' if allow_zero else '> 0'}"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be {allowed}; got {value!r}")
    number = float(value)
    if not math.isfinite(number) or number < 0 or (number == 0 and not allow_zero):
        raise ValueError(f"{name} must be {allowed}; got {value!r}")
    return number


def _reject_non_numeric(name: str, value: Any) -> None:
    """Raise TypeError for strings, booleans and complex numbers given as Python objects."""
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{name} must be an array or a real number, not a string; got {value!r}")
    kind = np.asarray(value).dtype.kind
    if kind not in "iuf":
        what = {"b": "booleans", "c": "complex numbers"}.get(
            kind, f"dtype {np.asarray(value).dtype}"
        )
        raise TypeError(f"{name} must hold real numbers, not {what}; got {value!r}")


def _default_float(xp: Any, x: Any) -> Any:
    """The array library's default real floating dtype on ``x``'s device."""
    info = xp.__array_namespace_info__()
    return info.default_dtypes(device=array_api_compat.device(x))["real floating"]


@functools.cache
def _dtype_kind(xp: Any, dtype: Any) -> str:
    """The array API kind of ``dtype`` ('real floating', 'integral', ...), cached per dtype."""
    for kind in ("real floating", "integral", "bool", "complex floating"):
        if xp.isdtype(dtype, kind):
            return kind
    return "other"


def _as_float_array(name: str, x: Any, xp: Any) -> Any:
    """Return ``x`` with a real floating dtype: integers are promoted, the rest is refused."""
    kind = _dtype_kind(xp, x.dtype)
    if kind == "real floating":
        return x
    if kind == "integral":
        return xp.astype(x, _default_float(xp, x))
    if kind == "bool":
        raise TypeError(f"{name} must hold real numbers, not booleans; got dtype {x.dtype}")
    if kind == "complex floating":
        raise TypeError(f"{name} must hold real numbers, not complex numbers; got dtype {x.dtype}")
    raise TypeError(f"{name} must hold real numbers; got dtype {x.dtype}")


def _from_python(name: str, value: Any, xp: Any, like: Any) -> Any:
    """Convert a Python scalar or (nested) list to an array of ``like``'s library.

    It takes ``like``'s floating dtype when ``like`` is floating (a Python number has no
    precision of its own), otherwise the library's default float.
    """
    _reject_non_numeric(name, value)
    if _dtype_kind(xp, like.dtype) == "real floating":
        dtype = like.dtype
    else:
        dtype = _default_float(xp, like)
    return xp.asarray(value, dtype=dtype, device=array_api_compat.device(like))


# Array type -> its namespace, for the common call with two arrays of one type
# (``array_namespace`` costs microseconds, a dictionary look-up does not).
_NAMESPACES: dict[type, Any] = {}


def _namespace(input: Any, target: Any) -> Any:
    """The array namespace shared by two arrays; ``TypeError`` if they are from two libraries."""
    same_type = type(input) is type(target)
    if same_type and type(input) in _NAMESPACES:
        return _NAMESPACES[type(input)]
    try:
        xp = array_api_compat.array_namespace(input, target)
    except TypeError:
        raise TypeError(
            "input and target must come from the same array library; got "
            f"{type(input).__module__}.{type(input).__qualname__} and "
            f"{type(target).__module__}.{type(target).__qualname__}"
        ) from None
    if same_type:
        _NAMESPACES[type(input)] = xp
    return xp


def check_input_target(input: Any, target: Any) -> tuple[Any, Any, Any]:
    """Return ``(xp, input, target)``: two floating arrays of one library, one shape, one dtype.

    Raises
    ------
    TypeError
        If the two come from different array libraries, or hold strings, booleans or
        complex numbers.
    ValueError
        If their shapes differ (no broadcasting: it hides bugs such as (3, 1) against (3,)).
    """
    input_is_array = array_api_compat.is_array_api_obj(input)
    target_is_array = array_api_compat.is_array_api_obj(target)
    if input_is_array and target_is_array:
        xp = _namespace(input, target)
    elif input_is_array:
        xp = array_api_compat.array_namespace(input)
        target = _from_python("target", target, xp, like=input)
    elif target_is_array:
        xp = array_api_compat.array_namespace(target)
        input = _from_python("input", input, xp, like=target)
    else:
        _reject_non_numeric("input", input)
        _reject_non_numeric("target", target)
        input, target = np.asarray(input), np.asarray(target)
        xp = array_api_compat.array_namespace(input, target)
    input = _as_float_array("input", input, xp)
    target = _as_float_array("target", target, xp)
    if tuple(input.shape) != tuple(target.shape):
        raise ValueError(
            "input and target must have the same shape; got input.shape="
            f"{tuple(input.shape)!r} and target.shape={tuple(target.shape)!r} "
            "(the companion never broadcasts; broadcast explicitly if you mean it)"
        )
    if input.dtype == target.dtype:
        return xp, input, target
    dtype = xp.result_type(input, target)
    if input.dtype != dtype:
        input = xp.astype(input, dtype)
    if target.dtype != dtype:
        target = xp.astype(target, dtype)
    return xp, input, target
