"""What the companion's losses accept, what they refuse, and what they never do.

Every error path has a ``pytest.raises(..., match=...)`` test; every accepted kind of input
(integers, Python numbers and lists, mixed float dtypes) has its result checked.
"""

from __future__ import annotations

import math
import re

import array_api_strict
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import BACKENDS, asarray, dtype_name, to_numpy

import companion

NAMES = ("l1_loss", "mse_loss", "smooth_l1_loss", "huber_loss")
# Every function that takes ``reduction``: public loss, reference formula, analytic gradient.
WITH_REDUCTION = [getattr(companion, f"{n}{s}") for n in NAMES for s in ("", "_reference", "_grad")]
ALL_FUNCTIONS = [*WITH_REDUCTION, companion.rmse]
SMOOTH_L1 = [companion.smooth_l1_loss, companion.smooth_l1_loss_reference]
SMOOTH_L1 += [companion.smooth_l1_loss_grad]
HUBER = [companion.huber_loss, companion.huber_loss_reference, companion.huber_loss_grad]

DEFAULT_FLOAT = {"numpy": "float64", "torch": "float32", "array_api_strict": "float64"}


def fn_id(fn) -> str:
    return fn.__name__


# --------------------------------------------------------------------------- reduction


@pytest.mark.parametrize("reduction", ["avg", "MEAN", "", None, 1, "elementwise_mean"])
@pytest.mark.parametrize("fn", WITH_REDUCTION, ids=fn_id)
def test_unknown_reduction_names_value_and_allowed_ones(fn, reduction):
    message = f"reduction must be one of 'none', 'mean', 'sum'; got {reduction!r}"
    with pytest.raises(ValueError, match=re.escape(message)):
        fn(np.ones(3), np.zeros(3), reduction)


# --------------------------------------------------------------------------- shapes


@pytest.mark.parametrize(
    ("input_shape", "target_shape"), [((3, 1), (3,)), ((3,), (3, 1)), ((2,), (3,)), ((), (1,))]
)
@pytest.mark.parametrize("fn", ALL_FUNCTIONS, ids=fn_id)
def test_unequal_shapes_name_both_shapes(xp, fn, input_shape, target_shape):
    message = f"input.shape={input_shape!r} and target.shape={target_shape!r}"
    with pytest.raises(ValueError, match=re.escape(message)):
        fn(xp.ones(input_shape), xp.zeros(target_shape))


def test_shape_mismatch_torch_would_broadcast():
    """The case PyTorch only warns about: (3, 1) against (3,) becomes a 3 x 3 mean."""
    x = torch.tensor([[1.0], [2.0], [3.0]])
    y = torch.tensor([1.0, 2.0, 3.0])
    with pytest.warns(UserWarning, match="different to the input size"):
        assert F.l1_loss(x, y).item() == pytest.approx(8 / 9)
    with pytest.raises(ValueError, match=r"input\.shape=\(3, 1\) and target\.shape=\(3,\)"):
        companion.l1_loss(x, y)


# --------------------------------------------------------------------------- beta and delta


@pytest.mark.parametrize("beta", [-1.0, -1e-300, math.nan, math.inf, -math.inf, np.float32("nan")])
@pytest.mark.parametrize("fn", SMOOTH_L1, ids=fn_id)
def test_bad_beta_raises_value_error(fn, beta):
    message = f"beta must be a finite real number >= 0; got {beta!r}"
    with pytest.raises(ValueError, match=re.escape(message)):
        fn(np.ones(3), np.zeros(3), beta=beta)


@pytest.mark.parametrize("delta", [0.0, 0, -1.0, math.nan, math.inf, -math.inf])
@pytest.mark.parametrize("fn", HUBER, ids=fn_id)
def test_bad_delta_raises_value_error(fn, delta):
    message = f"delta must be a finite real number > 0; got {delta!r}"
    with pytest.raises(ValueError, match=re.escape(message)):
        fn(np.ones(3), np.zeros(3), delta=delta)


@pytest.mark.parametrize("value", ["1.0", True, None, 1j, np.array([1.0])])
@pytest.mark.parametrize("fn", SMOOTH_L1 + HUBER, ids=fn_id)
def test_beta_or_delta_of_wrong_type_raises_type_error(fn, value):
    name = "beta" if "smooth" in fn.__name__ else "delta"
    with pytest.raises(TypeError, match=rf"^{name} must be a finite real number"):
        fn(np.ones(3), np.zeros(3), **{name: value})


def test_beta_and_delta_accept_integers_and_numpy_scalars():
    x, y = np.array([0.5, 3.0]), np.zeros(2)
    assert companion.smooth_l1_loss(x, y, beta=2) == companion.smooth_l1_loss(x, y, beta=2.0)
    assert companion.huber_loss(x, y, delta=np.float32(2)) == companion.huber_loss(x, y, delta=2.0)


# --------------------------------------------------------------------------- types


MIXED_LIBRARIES = [
    (np.ones(3), torch.ones(3)),
    (torch.ones(3), np.ones(3)),
    (torch.ones(3), array_api_strict.ones(3)),
    (array_api_strict.ones(3), np.ones(3)),
]


@pytest.mark.parametrize(("input", "target"), MIXED_LIBRARIES)
@pytest.mark.parametrize("fn", ALL_FUNCTIONS, ids=fn_id)
def test_mixing_array_libraries_raises_type_error(fn, input, target):
    with pytest.raises(TypeError, match="input and target must come from the same array library"):
        fn(input, target)


STRINGS = [("a", 1.0), (1.0, "abc"), (["a", "b"], np.ones(2)), (np.ones(2), ["1", "2"])]
STRINGS += [(np.array(["a", "b"]), np.ones(2)), (b"ab", np.ones(2))]


@pytest.mark.parametrize(("input", "target"), STRINGS)
@pytest.mark.parametrize("fn", ALL_FUNCTIONS, ids=fn_id)
def test_strings_raise_type_error(fn, input, target):
    with pytest.raises(TypeError, match=r"must (be an array or a real number|hold real numbers)"):
        fn(input, target)


BOOLEANS = [
    (True, 1.0),
    (1.0, False),
    ([True, False], [1.0, 0.0]),
    (np.array([True, False]), np.ones(2)),
    (torch.ones(2), torch.tensor([True, False])),
    (array_api_strict.asarray([True, False]), array_api_strict.ones(2)),
    (torch.ones(2), [True, False]),
]


@pytest.mark.parametrize(("input", "target"), BOOLEANS)
@pytest.mark.parametrize("fn", ALL_FUNCTIONS, ids=fn_id)
def test_booleans_raise_type_error(fn, input, target):
    with pytest.raises(TypeError, match="not booleans"):
        fn(input, target)


COMPLEX = [
    (1j, 1.0),
    ([1.0, 2j], [0.0, 0.0]),
    (np.array([1j, 2.0]), np.ones(2)),
    (torch.ones(2), torch.tensor([1j, 2.0])),
    (
        array_api_strict.asarray([1j, 2.0]),
        array_api_strict.ones(2, dtype=array_api_strict.complex128),
    ),
    (np.ones(2), [1j, 1.0]),
]


@pytest.mark.parametrize(("input", "target"), COMPLEX)
@pytest.mark.parametrize("fn", ALL_FUNCTIONS, ids=fn_id)
def test_complex_numbers_raise_type_error(fn, input, target):
    with pytest.raises(TypeError, match="not complex numbers"):
        fn(input, target)


def test_object_arrays_raise_type_error():
    with pytest.raises(TypeError, match="input must hold real numbers; got dtype object"):
        companion.l1_loss(np.array([1.0, None]), np.ones(2))
    with pytest.raises(
        TypeError, match=r"target must hold real numbers, not NoneType; got \[1.0, None\]"
    ):
        companion.l1_loss(np.ones(2), [1.0, None])


# --------------------------------------------------------------------------- promotion


@pytest.mark.parametrize("fn", ALL_FUNCTIONS, ids=fn_id)
def test_integers_become_the_librarys_default_float(xp, fn):
    backend = next(name for name, namespace in BACKENDS.items() if namespace is xp)
    default = DEFAULT_FLOAT[backend]
    ints = xp.asarray([3, -1, 0, 7]), xp.asarray([1, 1, 0, -2])
    floats = asarray(xp, [3, -1, 0, 7], default), asarray(xp, [1, 1, 0, -2], default)
    result = fn(*ints)
    assert dtype_name(result) == default
    np.testing.assert_array_equal(to_numpy(result), to_numpy(fn(*floats)))


@pytest.mark.parametrize("fn", ALL_FUNCTIONS, ids=fn_id)
def test_integer_input_with_float32_target(xp, fn):
    backend = next(name for name, namespace in BACKENDS.items() if namespace is xp)
    result = fn(xp.asarray([3, -1]), asarray(xp, [1.5, 1.0], "float32"))
    # NumPy and array-api-strict default to float64, so float32 is promoted to it.
    expected_dtype = "float32" if backend == "torch" else "float64"
    assert dtype_name(result) == expected_dtype


def test_python_numbers_and_lists_become_numpy_float64():
    result = companion.l1_loss(3, 1)
    assert isinstance(result, np.floating | np.ndarray) and dtype_name(result) == "float64"
    assert float(result) == 2.0
    result = companion.mse_loss([1, 2, 4], [1.0, 0.0, 1.0], reduction="none")
    assert isinstance(result, np.ndarray) and result.dtype == np.float64
    np.testing.assert_array_equal(result, [0.0, 4.0, 9.0])
    assert float(companion.rmse([[3.0], [0.0]], [[0.0], [4.0]])) == pytest.approx(12.5**0.5)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("fn", ALL_FUNCTIONS, ids=fn_id)
def test_python_list_takes_the_other_arguments_library_and_dtype(xp, fn, dtype):
    array = asarray(xp, [0.5, 3.0], dtype)
    for result in (fn(array, [1, 0.25]), fn([1, 0.25], array)):
        assert dtype_name(result) == dtype
        assert type(result) is type(fn(array, array)) or np.isscalar(result)
        expected = fn(array, asarray(xp, [1.0, 0.25], dtype))
        np.testing.assert_allclose(np.abs(to_numpy(result)), np.abs(to_numpy(expected)))


def test_python_scalar_with_a_0d_tensor():
    result = companion.huber_loss(torch.tensor(3.0, dtype=torch.float64), 0)
    assert result.dtype == torch.float64 and result.item() == 2.5


@pytest.mark.parametrize("name", NAMES)
def test_mixed_float_dtypes_are_promoted(xp, name):
    x32, y64 = asarray(xp, [0.5, 3.0, -2.0], "float32"), asarray(xp, [0.0, 1.0, 0.0], "float64")
    result = getattr(companion, name)(x32, y64, reduction="none")
    assert dtype_name(result) == "float64"
    xt, yt = torch.tensor([0.5, 3.0, -2.0], dtype=torch.float32), torch.tensor([0.0, 1.0, 0.0])
    expected = getattr(F, name)(xt.double(), yt.double(), reduction="none")
    np.testing.assert_allclose(to_numpy(result), expected.numpy(), rtol=1e-15)


def test_torch_huber_keeps_the_input_dtype_where_the_companion_promotes():
    """Documented difference: PyTorch's huber_loss alone returns input's dtype."""
    x, y = torch.ones(2, dtype=torch.float32), torch.zeros(2, dtype=torch.float64)
    assert F.huber_loss(x, y).dtype == torch.float32
    assert F.smooth_l1_loss(x, y).dtype == torch.float64
    assert companion.huber_loss(x, y).dtype == torch.float64


def test_mixed_dtypes_gradient_flows_back_in_the_input_dtype():
    x = torch.tensor([0.5, 3.0], dtype=torch.float32, requires_grad=True)
    companion.huber_loss(x, torch.zeros(2, dtype=torch.float64)).backward()
    assert x.grad.dtype == torch.float32
    torch.testing.assert_close(x.grad, torch.tensor([0.25, 0.5]))


# --------------------------------------------------------------------------- no mutation


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("fn", WITH_REDUCTION, ids=fn_id)
def test_inputs_are_never_modified(xp, fn, reduction):
    values = [[0.5, -3.0, 2.0], [1e-3, 4.0, -7.5]]
    input, target = asarray(xp, values, "float32"), asarray(xp, np.zeros((2, 3)), "float32")
    fn(input, target, reduction)
    np.testing.assert_array_equal(to_numpy(input), np.asarray(values, dtype=np.float32))
    np.testing.assert_array_equal(to_numpy(target), np.zeros((2, 3), dtype=np.float32))


@pytest.mark.parametrize("fn", ALL_FUNCTIONS, ids=fn_id)
def test_tensors_are_not_touched_in_place(fn):
    """A tensor's version counter moves on every in-place operation, even a no-op one."""
    input = torch.tensor([0.5, -3.0, 2.0], requires_grad=True)
    target = torch.tensor([1, 2, 3])
    versions = input._version, target._version
    fn(input, target)
    assert (input._version, target._version) == versions
    assert target.dtype == torch.int64 and input.grad is None


def test_integer_numpy_input_is_not_converted_in_place():
    ints = np.array([3, -1, 0])
    companion.mse_loss(ints, np.zeros(3))
    assert ints.dtype == np.int64 and ints.tolist() == [3, -1, 0]


# --------------------------------------------------------------------------- beta = 0


def test_beta_zero_is_l1_in_value_and_gradient():
    x = np.array([-2.0, -1e-9, 0.0, 1e-9, 0.5, 4.0])
    y = np.zeros_like(x)
    for reduction in ("none", "mean", "sum"):
        np.testing.assert_array_equal(
            companion.smooth_l1_loss(x, y, reduction, beta=0.0), companion.l1_loss(x, y, reduction)
        )
        np.testing.assert_array_equal(
            companion.smooth_l1_loss_grad(x, y, reduction, beta=0.0),
            companion.l1_loss_grad(x, y, reduction),
        )
    expected = torch.tensor([-1.0, -1, 0, 1, 1, 1], dtype=torch.float64) / 6
    for loss in (
        lambda a, b: companion.smooth_l1_loss(a, b, beta=0.0),
        lambda a, b: companion.smooth_l1_loss_reference(a, b, beta=0.0),
        companion.l1_loss,
    ):
        xt = torch.tensor(x, requires_grad=True)
        loss(xt, torch.tensor(y)).backward()
        torch.testing.assert_close(xt.grad, expected, rtol=0, atol=0)


def test_l1_grad_at_nan_is_nan_where_torch_autograd_gives_zero():
    """Documented difference: torch.sign(nan) is 0, the array API's sign(nan) is NaN."""
    x = torch.tensor([math.nan, 1.0], requires_grad=True)
    F.l1_loss(x, torch.zeros(2), reduction="sum").backward()
    assert x.grad.tolist() == [0.0, 1.0]
    grad = companion.l1_loss_grad(np.array([math.nan, 1.0]), np.zeros(2), reduction="sum")
    assert np.isnan(grad[0]) and grad[1] == 1.0


# --------------------------------------------------------------------------- array API versions


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("fn", ALL_FUNCTIONS, ids=fn_id)
def test_array_api_2022_12_gives_the_same_results(fn, reduction):
    """API 2022.12 lacks minimum, maximum, clip and __array_namespace_info__; the formulas use
    where and zeros there, with identical results (NaN, inf and integers included)."""
    x = [[0.0, 1.0, -1.0, 2.5, math.inf, math.nan], [0.25, -1e-3, 7.0, -math.inf, 1.0, 3.0]]
    y = [[0.0, 0.0, 0.0, 1.0, 1.0, 0.0], [1, 0, 2, 0, -math.inf, math.nan]]
    arguments = {} if fn is companion.rmse else {"reduction": reduction}
    results = []
    for version in ("2022.12", None):  # None: array-api-strict's default, the newest
        with array_api_strict.ArrayAPIStrictFlags(api_version=version):
            assert array_api_strict.__array_api_version__ >= "2022.12"
            results.append(
                fn(array_api_strict.asarray(x), array_api_strict.asarray(y), **arguments)
            )
            results.append(fn(array_api_strict.asarray([[3, -1]]), [[1, 1]], **arguments))
    old_float, old_int, new_float, new_int = map(to_numpy, results)
    np.testing.assert_array_equal(old_float, new_float)
    np.testing.assert_array_equal(old_int, new_int)
    assert old_int.dtype == np.float64


def test_an_older_array_api_is_refused_naming_the_minimum(monkeypatch):
    monkeypatch.setattr(array_api_strict, "__array_api_version__", "2021.12", raising=False)
    monkeypatch.setattr("companion.losses._validation._NAMESPACES", {})
    message = (
        "implements the array API standard 2022.12 or later; array_api_strict implements 2021.12"
    )
    with pytest.raises(TypeError, match=re.escape(message)):
        companion.l1_loss(array_api_strict.ones(2), array_api_strict.zeros(2))
