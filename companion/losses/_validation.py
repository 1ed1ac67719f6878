"""Private argument checks shared by every loss (scikit-learn style).

Each check returns clean values or raises an error that echoes the bad value
(``{value!r}``) and says what is allowed.
"""

from __future__ import annotations

import functools
import math
import numbers
from typing import Any, Literal, overload

import array_api_compat
import numpy as np

REDUCTIONS = ("none", "mean", "sum")

# The oldest array API standard the losses run on (``isdtype`` is new in it). On 2022.12,
# which lacks ``minimum``, ``maximum`` and ``clip``, the formulas use ``where`` instead.
MINIMUM_API_VERSION = "2022.12"


def check_reduction(reduction: Any) -> str:
    """Return ``reduction`` if it is one of ``'none'``, ``'mean'``, ``'sum'``."""
    if not isinstance(reduction, str) or reduction not in REDUCTIONS:
        allowed = ", ".join(repr(r) for r in REDUCTIONS)
        raise ValueError(f"reduction must be one of {allowed}; got {reduction!r}")
    return reduction


@overload
def check_parameter(
    name: str, value: Any, *, allow_zero: bool, allow_traced: Literal[False] = False
) -> float: ...
@overload
def check_parameter(
    name: str, value: Any, *, allow_zero: bool, allow_traced: Literal[True]
) -> Any: ...
def check_parameter(name: str, value: Any, *, allow_zero: bool, allow_traced: bool = False) -> Any:
    """Return ``value`` as a float if it is a finite real number > 0 (>= 0 if ``allow_zero``).

    A 0-d real array (NumPy, PyTorch, JAX, ...) counts as a number. NaN and inf raise
    ``ValueError``; booleans, strings, complex numbers and arrays of other shapes raise
    ``TypeError``.

    A 0-d array whose value cannot be read without computing it (traced by ``jax.jit``,
    ``jax.grad`` or ``jax.vmap``; a dask array) is returned as it is if ``allow_traced``, with
    NaN in place of a value the checks would refuse, so that a bad value gives a NaN loss
    rather than a wrong one; otherwise it raises ``TypeError`` saying to pass a number
    (``static_argnames`` under ``jax.jit``).
    """
    allowed = f"a finite real number {'>= 0' if allow_zero else '> 0'}"
    # Numbers first: torch.compile cannot trace is_array_api_obj on a dynamic Python float.
    if not isinstance(value, numbers.Real) and array_api_compat.is_array_api_obj(value):
        if tuple(value.shape) != () or _dtype_kind(
            array_api_compat.array_namespace(value), value.dtype
        ) not in ("real floating", "integral"):
            raise TypeError(f"{name} must be {allowed}; got {value!r}")
        known = _known_value(value)
        if known is None:
            if not allow_traced:
                raise TypeError(
                    f"{name} must be {allowed}, known when the function is called; got "
                    f"{value!r}, whose value is not known yet. Pass a Python number (under "
                    f"jax.jit, mark it static: jax.jit(f, static_argnames='{name}'))."
                )
            return _nan_unless_allowed(value, allow_zero)
        value = known
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be {allowed}; got {value!r}")
    number = float(value)
    # Comparisons rather than math.isfinite, which torch.compile cannot trace on a dynamic
    # float; NaN fails both.
    if not ((number >= 0 if allow_zero else number > 0) and number < math.inf):
        raise ValueError(f"{name} must be {allowed}; got {value!r}")
    return number


def _known_value(value: Any) -> float | None:
    """A 0-d array's value, or None if it is traced (JAX) or lazy (dask, ...).

    ``array_api_compat.is_lazy_array`` is True for every JAX array, so a JAX array is asked
    directly: ``float`` raises ``jax.errors.ConcretizationTypeError``, a ``TypeError``, for
    a tracer. Other lazy arrays are never read (dask would compute its graph).
    """
    if array_api_compat.is_jax_array(value):
        try:
            return float(value)
        except TypeError:
            return None
    if array_api_compat.is_lazy_array(value):
        return None
    return float(value)


def _nan_unless_allowed(value: Any, allow_zero: bool) -> Any:
    """A traced 0-d parameter as a floating array, NaN where its value would be refused."""
    xp = array_api_compat.array_namespace(value)
    if _dtype_kind(xp, value.dtype) != "real floating":
        value = xp.astype(value, _default_float(xp, value))
    in_range = (value >= 0) if allow_zero else (value > 0)
    nan = xp.asarray(math.nan, dtype=value.dtype, device=array_api_compat.device(value))
    return xp.where(in_range & (value < math.inf), value, nan)


def _python_kind(value: Any) -> str | None:
    """None if ``value`` is a real number or a (nested) list or tuple of them, else what it
    holds instead ('strings', 'booleans', ...).

    Pure Python (no ``np.asarray``), so ``torch.compile(fullgraph=True)`` traces it.
    """
    if isinstance(value, (list, tuple)):
        return next((kind for item in value if (kind := _python_kind(item))), None)
    if isinstance(value, (str, bytes)):
        return "strings"
    if isinstance(value, (bool, np.bool_)):
        return "booleans"
    if isinstance(value, numbers.Real):
        return None
    if isinstance(value, numbers.Complex):
        return "complex numbers"
    return type(value).__name__


def _reject_non_numeric(name: str, value: Any) -> None:
    """Raise TypeError unless ``value`` is a real number or a (nested) list of them."""
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{name} must be an array or a real number, not a string; got {value!r}")
    kind = _python_kind(value)
    if kind is not None:
        raise TypeError(f"{name} must hold real numbers, not {kind}; got {value!r}")


def _default_float(xp: Any, x: Any) -> Any:
    """The array library's default real floating dtype on ``x``'s device.

    It is the dtype of ``zeros``, which array API 2022.12 has too (it lacks
    ``__array_namespace_info__``).
    """
    return xp.zeros((), device=array_api_compat.device(x)).dtype


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
    _check_api_version(xp)
    if same_type:
        _NAMESPACES[type(input)] = xp
    return xp


def _check_api_version(xp: Any) -> None:
    """Raise TypeError if ``xp`` says it implements an array API older than 2022.12."""
    version = getattr(xp, "__array_api_version__", MINIMUM_API_VERSION)
    if version < MINIMUM_API_VERSION:
        raise TypeError(
            f"the companion needs an array library that implements the array API standard "
            f"{MINIMUM_API_VERSION} or later; {getattr(xp, '__name__', xp)} implements {version}"
        )


def _same_shape(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    """Equal shapes, where a dimension of unknown size (None, or NaN in dask) matches any."""
    return len(a) == len(b) and all(
        m == n or _unknown(m) or _unknown(n) for m, n in zip(a, b, strict=True)
    )


def _unknown(size: Any) -> bool:
    """Whether a dimension's size is unknown until computed (dask after boolean indexing)."""
    return size is None or (isinstance(size, float) and math.isnan(size))


def check_input_target(input: Any, target: Any) -> tuple[Any, Any, Any]:
    """Return ``(xp, input, target)``: two floating arrays of one library, one shape, one dtype.

    Raises
    ------
    TypeError
        If the two come from different array libraries, or hold strings, booleans or
        complex numbers.
    ValueError
        If their shapes differ (no broadcasting: it hides bugs such as (3, 1) against (3,)).
        A dimension of unknown size (dask after boolean indexing) is not compared: it is
        known only once computed.
    """
    input_is_array = array_api_compat.is_array_api_obj(input)
    target_is_array = array_api_compat.is_array_api_obj(target)
    if input_is_array and target_is_array:
        xp = _namespace(input, target)
    elif input_is_array:
        xp = _namespace(input, input)
        target = _from_python("target", target, xp, like=input)
    elif target_is_array:
        xp = _namespace(target, target)
        input = _from_python("input", input, xp, like=target)
    else:
        _reject_non_numeric("input", input)
        _reject_non_numeric("target", target)
        input, target = np.asarray(input), np.asarray(target)
        xp = _namespace(input, target)
    input = _as_float_array("input", input, xp)
    target = _as_float_array("target", target, xp)
    if input.shape != target.shape and not _same_shape(input.shape, target.shape):
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
