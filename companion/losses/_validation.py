"""Private argument checks shared by every loss (scikit-learn style).

Each check returns clean values or raises an error that echoes the bad value
(``{value!r}``) and says what is allowed.
"""

from __future__ import annotations

import functools
import math
import numbers
import sys
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


def _non_real_content(value: Any) -> str | None:
    """None if ``value`` is a real number or a (nested) list or tuple of them, else what it
    holds instead ('strings', 'booleans', ...).

    Pure Python (no ``np.asarray``), so ``torch.compile(fullgraph=True)`` traces it.
    """
    if isinstance(value, (list, tuple)):
        return next((kind for item in value if (kind := _non_real_content(item))), None)
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
    kind = _non_real_content(value)
    if kind is not None:
        raise TypeError(f"{name} must hold real numbers, not {kind}; got {value!r}")


def _default_float(xp: Any, x: Any) -> Any:
    """The array library's default real floating dtype on ``x``'s device.

    It is the dtype of ``zeros``, which array API 2022.12 has too (it lacks
    ``__array_namespace_info__``).
    """
    return xp.zeros((), device=array_api_compat.device(x)).dtype


@functools.cache
def default_index_dtype(xp: Any) -> Any:
    """The library's default integer dtype (that of ``asarray(0)``): int64, or int32 for JAX
    without 64-bit types. Array API 2022.12 has no ``__array_namespace_info__`` to ask."""
    return xp.asarray(0).dtype


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


def _all_integers(value: Any) -> bool:
    """Whether a Python number or (nested) list holds integers only (and at least one)."""
    if isinstance(value, (list, tuple)):
        return bool(value) and all(_all_integers(item) for item in value)
    return isinstance(value, numbers.Integral)


def _from_python(name: str, value: Any, xp: Any, like: Any, *, integers: bool = False) -> Any:
    """Convert a Python scalar or (nested) list to an array of ``like``'s library.

    It takes ``like``'s floating dtype when ``like`` is floating (a Python number has no
    precision of its own), otherwise the library's default float; with ``integers``, a value
    that holds integers only (class indices) becomes the library's default integer dtype.
    The checks are pure Python (no ``np.asarray``), so ``torch.compile(fullgraph=True)``
    traces them.
    """
    _reject_non_numeric(name, value)
    device = array_api_compat.device(like)
    if integers and _all_integers(value):
        return xp.asarray(value, device=device)
    if _dtype_kind(xp, like.dtype) == "real floating":
        dtype = like.dtype
    else:
        dtype = _default_float(xp, like)
    return xp.asarray(value, dtype=dtype, device=device)


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


# ---------------------------------------------------------------------------------------
# Classification: logits with class-index or probability targets, class weights, the
# range checks that need the values, and the options of the classification losses.

_CLASS_AXIS_SHAPES = "(C,), (N, C) or (N, C, d1, ..., dk)"


def _same_library(xp: Any, name: str, value: Any, like: Any, *, integers: bool) -> Any:
    """``value`` (an array or Python object) as an array of ``like``'s library and device.

    A Python value becomes an array as in :func:`_from_python` (``integers``: integers stay
    integers, for class indices).
    """
    if type(value) is type(like):
        return value
    if array_api_compat.is_array_api_obj(value):
        try:
            array_api_compat.array_namespace(like, value)
        except TypeError:
            raise TypeError(
                f"input and {name} must come from the same array library; got "
                f"{type(like).__module__}.{type(like).__qualname__} and "
                f"{type(value).__module__}.{type(value).__qualname__}"
            ) from None
        return value
    return _from_python(name, value, xp, like, integers=integers)


def check_logits_target(
    input: Any, target: Any, *, probabilities: bool = True
) -> tuple[Any, Any, Any, bool]:
    """Return ``(xp, input, target, is_index)`` for a loss with a class axis (axis 1).

    ``input`` holds one score per class: shape (C,), (N, C) or (N, C, d1, ..., dk), a real
    floating array (integers are promoted to the library's default float). ``target`` holds
    either class indices (an integer array of ``input``'s shape without the class axis) or,
    if ``probabilities``, class probabilities (a floating array of ``input``'s shape; the two
    are then promoted to their common floating dtype, as by :func:`check_input_target`).

    Raises
    ------
    TypeError
        Mixed array libraries; strings, booleans or complex numbers; floating class indices.
    ValueError
        ``input`` without a class axis or with no classes; a target of any other shape (the
        message names the batch sizes when they differ).
    """
    xp = _NAMESPACES.get(type(input))  # a known array type: the common call, kept fast
    if xp is None:
        if not array_api_compat.is_array_api_obj(input):
            if array_api_compat.is_array_api_obj(target):
                input = _from_python("input", input, _namespace(target, target), like=target)
            else:
                _reject_non_numeric("input", input)
                input = np.asarray(input)
        xp = _namespace(input, input)
    if _dtype_kind(xp, input.dtype) != "real floating":
        input = _as_float_array("input", input, xp)
    if type(target) is not type(input):
        target = _same_library(xp, "target", target, input, integers=True)
    shape = input.shape  # a tuple (a subclass for PyTorch): no copies on the common path
    if not shape or shape[len(shape) > 1] == 0:
        raise ValueError(
            f"input must have a class axis with at least one class, shape {_CLASS_AXIS_SHAPES}; "
            f"got input.shape={tuple(shape)!r}"
        )
    kind = _dtype_kind(xp, target.dtype)
    ndim = len(shape)
    index_shape = (shape[0],) if ndim == 2 else () if ndim == 1 else (shape[0], *shape[2:])
    if kind == "integral":
        if target.shape != index_shape and not _same_shape(tuple(target.shape), index_shape):
            _raise_target_shape(shape, target.shape, index_shape, probabilities)
        return xp, input, target, True
    if kind != "real floating":
        what = {"bool": "booleans", "complex floating": "complex numbers"}.get(kind, "them")
        allowed = "integer class indices" + (" or floating class probabilities" * probabilities)
        raise TypeError(f"target must hold {allowed}, not {what}; got dtype {target.dtype}")
    if _same_shape(tuple(target.shape), index_shape) or not probabilities:
        raise TypeError(
            f"class indices in target must be integers; got dtype {target.dtype}"
            + (
                f" (floating targets are class probabilities, of input's shape "
                f"{tuple(input.shape)!r})"
                if probabilities
                else ""
            )
        )
    if not _same_shape(tuple(target.shape), tuple(input.shape)):
        _raise_target_shape(input.shape, target.shape, index_shape, probabilities)
    xp, input, target = check_input_target(input, target)
    return xp, input, target, False


def _raise_target_shape(
    input_shape: Any, target_shape: Any, index_shape: tuple[int, ...], probabilities: bool
) -> None:
    """``ValueError`` for a target of the wrong shape, naming both batch sizes if they differ."""
    input_shape, target_shape = tuple(input_shape), tuple(target_shape)
    batch_sizes = input_shape[:1], target_shape[:1]
    if len(input_shape) > 1 and len(target_shape) > 0 and not _same_shape(*batch_sizes):
        raise ValueError(
            f"input and target must have the same batch size N (axis 0); got "
            f"{input_shape[0]} (input.shape={input_shape!r}) and {target_shape[0]} "
            f"(target.shape={target_shape!r})"
        )
    expected = f"class indices of shape {index_shape!r} (input's shape without the class axis 1)"
    if probabilities:
        expected += f" or class probabilities of input's shape {input_shape!r}"
    raise ValueError(
        f"target must hold {expected}; got target.shape={target_shape!r} for "
        f"input.shape={input_shape!r}"
    )


def check_class_weight(weight: Any, xp: Any, input: Any) -> Any:
    """``None``, or ``weight`` as a 1-d array of one entry per class in ``input``'s dtype."""
    if weight is None:
        return None
    weight = _same_library(xp, "weight", weight, input, integers=False)
    weight = _as_float_array("weight", weight, xp)
    num_classes = input.shape[1] if input.ndim > 1 else input.shape[0]
    if tuple(weight.shape) != (num_classes,):
        raise ValueError(
            f"weight must hold one weight per class, shape ({num_classes},) for "
            f"input.shape={tuple(input.shape)!r}; got weight.shape={tuple(weight.shape)!r}"
        )
    return weight if weight.dtype == input.dtype else xp.astype(weight, input.dtype)


def check_broadcast_weight(name: str, weight: Any, xp: Any, input: Any) -> Any:
    """``None``, or ``weight`` in ``input``'s dtype if it broadcasts to ``input``'s shape."""
    if weight is None:
        return None
    weight = _as_float_array(name, _same_library(xp, name, weight, input, integers=False), xp)
    shape, target_shape = tuple(weight.shape), tuple(input.shape)
    fits = len(shape) <= len(target_shape) and all(
        w == 1 or _same_shape((w,), (s,))
        for w, s in zip(shape[::-1], target_shape[::-1], strict=False)
    )
    if not fits:
        raise ValueError(
            f"{name} must broadcast to input's shape {target_shape!r}; got {name}.shape={shape!r}"
        )
    return weight if weight.dtype == input.dtype else xp.astype(weight, input.dtype)


def values_are_concrete(xp: Any, x: Any) -> bool:
    """Whether ``x``'s values can be read now, cheaply: the data-dependent checks need them.

    False for a JAX tracer (under ``jax.jit``, ``jax.grad``, ``jax.vmap``), a lazy array
    (dask), and a tensor under ``torch.compile`` or a ``torch.func`` transform (``vmap``,
    ``grad``, ...); True for NumPy, array-api-strict, eager PyTorch and eager JAX arrays.
    """
    if array_api_compat.is_numpy_namespace(xp) or array_api_compat.is_array_api_strict_namespace(
        xp
    ):
        return True
    if array_api_compat.is_torch_namespace(xp):
        import torch

        if torch.compiler.is_compiling():
            return False
        functorch = getattr(torch._C, "_functorch", None)
        return not (functorch is not None and functorch.is_functorch_wrapped_tensor(x))
    if array_api_compat.is_jax_namespace(xp):
        jax = sys.modules["jax"]  # imported already: x is a JAX array
        return not isinstance(x, jax.core.Tracer)
    return not array_api_compat.is_lazy_array(x)


def _min_max(xp: Any, x: Any) -> tuple[float, float]:
    """The smallest and largest values of a non-empty array (NaN if it holds one)."""
    if array_api_compat.is_torch_namespace(xp):
        low, high = x.aminmax()  # one pass
        return low.item(), high.item()
    return float(xp.min(x)), float(xp.max(x))


def _first(xp: Any, x: Any, bad: Any) -> tuple[tuple[int, ...], Any]:
    """The index (a tuple) and value of the first element of ``x`` where ``bad`` holds."""
    if x.ndim == 0:  # nonzero() refuses 0-d arrays
        return (), x
    position = tuple(int(i[0]) for i in xp.nonzero(bad))
    return position, x[position]


def check_class_indices(
    xp: Any, target: Any, num_classes: int, ignore_index: int | None = None
) -> None:
    """ValueError naming the first class index outside [0, C) that is not ``ignore_index``.

    The check reads the values, so it is skipped where they cannot be read
    (:func:`values_are_concrete`).
    """
    if math.prod(target.shape) == 0 or not values_are_concrete(xp, target):
        return
    low, high = _min_max(xp, target)
    if low >= 0 and high < num_classes:
        return
    bad = (target < 0) | (target >= num_classes)
    if ignore_index is not None:
        bad = bad & (target != ignore_index)
    if not bool(xp.any(bad)):
        return
    position, value = _first(xp, target, bad)
    allowed = f"[0, {num_classes}) for input with {num_classes} classes"
    if ignore_index is not None:
        allowed += f", or ignore_index={ignore_index}"
    raise ValueError(
        f"target holds class index {int(value)} at position {position}; class indices must "
        f"be in {allowed}"
    )


def check_probabilities(xp: Any, name: str, x: Any, *, allow_nan: bool) -> None:
    """ValueError naming the first value of ``x`` outside [0, 1] (or NaN, unless allowed).

    Skipped where the values cannot be read (:func:`values_are_concrete`).
    """
    if math.prod(x.shape) == 0 or not values_are_concrete(xp, x):
        return
    low, high = _min_max(xp, x)
    if low >= 0 and high <= 1:  # False if there is a NaN
        return
    bad = (x < 0) | (x > 1)
    if not allow_nan:
        bad = bad | xp.isnan(x)
    if not bool(xp.any(bad)):
        return
    position, value = _first(xp, x, bad)
    allowed = "in [0, 1]" if allow_nan else "in [0, 1] (NaN is not a probability)"
    raise ValueError(
        f"{name} must hold probabilities {allowed}; got {float(value):.8g} at position {position}"
    )


def check_option(name: str, value: Any, allowed: tuple[Any, ...]) -> Any:
    """Return the entry of ``allowed`` equal to ``value`` (never a boolean), else ValueError."""
    if isinstance(value, (str, numbers.Real)) and not isinstance(value, bool):
        for option in allowed:
            if value == option:
                return option
    names = ", ".join(repr(a) for a in allowed)
    raise ValueError(f"{name} must be one of {names}; got {value!r}")


def check_real(name: str, value: Any, low: float, high: float, *, allowed: str) -> float:
    """Return ``value`` as a float if it is a real number in [low, high]; ``allowed`` says so.

    Booleans, strings and complex numbers raise TypeError; NaN and values outside, ValueError.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be {allowed}; got {value!r}")
    number = float(value)
    if not low <= number <= high:  # also refuses NaN
        raise ValueError(f"{name} must be {allowed}; got {value!r}")
    return number


def check_integer(name: str, value: Any) -> int:
    """Return ``value`` as an int if it is an integer (not a boolean), else TypeError."""
    if type(value) is int:
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer; got {value!r}")
    return int(value)


def check_bool(name: str, value: Any) -> bool:
    """Return ``value`` if it is a boolean (Python or NumPy), else TypeError."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False; got {value!r}")
    return bool(value)
