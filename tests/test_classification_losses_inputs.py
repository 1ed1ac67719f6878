"""What the classification losses accept, what they refuse, and what they never do.

Every error path has a ``pytest.raises(..., match=...)`` test, on every array library where
the data can differ; every accepted kind of input (integer class indices of any width, Python
lists, weights as lists) has its result checked.
"""

from __future__ import annotations

import math
import re

import array_api_strict
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import BACKENDS, dtype_name, to_numpy

import companion

BINARY = [
    companion.binary_cross_entropy,
    companion.binary_cross_entropy_reference,
    companion.binary_cross_entropy_with_logits,
    companion.binary_cross_entropy_with_logits_reference,
    companion.binary_cross_entropy_with_logits_grad,
    companion.sigmoid_focal_loss,
]
WITH_LOGITS = BINARY[2:]
CLASS_INDEX = [  # take class indices (and only they, for the last four)
    companion.cross_entropy,
    companion.cross_entropy_reference,
    companion.cross_entropy_grad,
    companion.nll_loss,
    companion.nll_loss_reference,
    companion.multi_margin_loss,
    companion.multi_margin_loss_reference,
]
CROSS_ENTROPY = CLASS_INDEX[:3]
INDEX_ONLY = CLASS_INDEX[3:]
WITH_CLASS_WEIGHT = CLASS_INDEX
WITH_IGNORE_INDEX = CLASS_INDEX[:5]
KL = [companion.kl_div, companion.kl_div_reference]
ALL = BINARY + CLASS_INDEX + KL


def fn_id(fn) -> str:
    return fn.__name__


def valid_args(fn, xp=np):
    """A valid (input, target) for ``fn``, of ``xp``'s library."""
    if fn in BINARY:
        return xp.asarray([[0.2, 0.7], [0.9, 0.4]]), xp.asarray([[0.0, 1.0], [1.0, 0.5]])
    if fn in KL:
        return xp.asarray([[-0.5, -1.0]]), xp.asarray([[0.4, 0.6]])
    return xp.asarray([[0.2, 0.7, -1.0], [0.9, 0.4, 2.0]]), xp.asarray([2, 0])


# --------------------------------------------------------------------------- reduction


@pytest.mark.parametrize("reduction", ["avg", "MEAN", "", None, 1, "elementwise_mean"])
@pytest.mark.parametrize("fn", ALL, ids=fn_id)
def test_unknown_reduction_names_value_and_allowed_ones(fn, reduction):
    allowed = "'none', 'batchmean', 'sum', 'mean'" if fn in KL else "'none', 'mean', 'sum'"
    message = f"reduction must be one of {allowed}; got {reduction!r}"
    with pytest.raises(ValueError, match=re.escape(message)):
        fn(*valid_args(fn), reduction=reduction)


@pytest.mark.parametrize("fn", [f for f in ALL if f not in KL], ids=fn_id)
def test_batchmean_belongs_to_kl_div_only(fn):
    with pytest.raises(ValueError, match="reduction must be one of 'none', 'mean', 'sum'"):
        fn(*valid_args(fn), reduction="batchmean")


# --------------------------------------------------------------------------- class indices


@pytest.mark.parametrize("fn", CLASS_INDEX, ids=fn_id)
def test_class_index_out_of_range_is_a_value_error_naming_it(xp, fn):
    """Never an IndexError (PyTorch on the CPU) or a device-side assert (on a GPU)."""
    x = xp.asarray([[0.2, 0.7, -1.0], [0.9, 0.4, 2.0], [0.0, 0.0, 0.0]])
    for target, value, position in (([0, 3, 1], 3, (1,)), ([0, 2, -1], -1, (2,))):
        message = (
            f"target holds class index {value} at position {position}; class indices must be "
            "in [0, 3) for input with 3 classes"
        )
        with pytest.raises(ValueError, match=re.escape(message)):
            fn(x, xp.asarray(target))


def test_the_error_replaces_pytorchs_index_error():
    with pytest.raises(IndexError, match="out of bounds"):
        F.cross_entropy(torch.zeros(2, 3), torch.tensor([0, 3]))
    with pytest.raises(ValueError, match="class index 3 at position"):
        companion.cross_entropy(torch.zeros(2, 3), torch.tensor([0, 3]))


KERNEL_CALLS = [  # (loss, input shape, target, keyword arguments, bad index, its position)
    (companion.cross_entropy, (3,), 5, {}, 5, ()),
    (companion.nll_loss, (3,), -1, {"weight": [1.0, 2.0, 3.0]}, -1, ()),
    (
        companion.cross_entropy,
        (2, 3, 2, 2),
        [[[0, 1], [2, 0]], [[1, 9], [-2, 0]]],
        {},
        9,
        (1, 0, 1),
    ),
    (companion.nll_loss, (2, 3, 2), [[0, -100], [-7, 3]], {"reduction": "none"}, -7, (1, 0)),
    (companion.cross_entropy, (4, 3), [0, 1, 2, 3], {"label_smoothing": 0.1}, 3, (3,)),
    (
        companion.cross_entropy,
        (4, 3),
        [0, -5, 2, 3],
        {"label_smoothing": 0.1, "weight": [1.0, 2.0, 3.0], "reduction": "sum"},
        -5,
        (1,),
    ),
    (companion.multi_margin_loss, (3,), 3, {"p": 2}, 3, ()),
    (companion.multi_margin_loss, (3, 3), [2, 0, -100], {"weight": [1.0, 2.0, 3.0]}, -100, (2,)),
]


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
@pytest.mark.parametrize(
    ("fn", "shape", "target", "kwargs", "value", "position"),
    KERNEL_CALLS,
    ids=lambda v: getattr(v, "__name__", None),
)
def test_the_first_bad_index_is_named_on_every_path(
    fn, shape, target, kwargs, value, position, dtype
):
    """On CPU tensors PyTorch's kernel finds a bad index (IndexError or RuntimeError) and the
    companion names the first one; float16 runs the formula, checked before."""
    x = torch.zeros(shape, dtype=getattr(torch, dtype), requires_grad=True)
    message = f"target holds class index {value} at position {position}; class indices must be"
    with pytest.raises(ValueError, match=re.escape(message)):
        fn(x, torch.tensor(target), **kwargs)


def test_valid_class_indices_on_cpu_tensors_are_left_to_pytorchs_kernel(monkeypatch):
    """The companion's range check reads every index: on the CPU kernels, which check the range
    themselves, it runs only once the kernel has failed; on float16 tensors (the formula) and
    for the reference formulas it runs first."""
    calls = []
    monkeypatch.setattr(
        "companion.losses.classification.check_class_indices", lambda *a: calls.append(a)
    )
    x, y = torch.zeros(4, 3), torch.tensor([0, 1, 2, 1])
    for fn in (companion.cross_entropy, companion.nll_loss, companion.multi_margin_loss):
        fn(x, y)
        fn(x, y, reduction="none")
    assert calls == []
    companion.cross_entropy(x.half(), y)
    companion.nll_loss_reference(x, y)
    companion.multi_margin_loss_reference(x, y)
    assert len(calls) == 3


def test_other_kernel_errors_pass_through(monkeypatch):
    """An error of PyTorch's kernel with every class index in range is raised as it is."""

    def fail(*args, **kwargs):
        raise IndexError("an error that is not about the targets")

    monkeypatch.setattr(torch.nn.functional, "nll_loss", fail)
    with pytest.raises(IndexError, match="an error that is not about the targets"):
        companion.nll_loss(torch.zeros(2, 3), torch.tensor([0, 2]))


@pytest.mark.parametrize("fn", WITH_IGNORE_INDEX, ids=fn_id)
def test_class_index_error_names_ignore_index_and_the_position_in_extra_axes(fn):
    x = np.zeros((2, 3, 2, 2))
    y = np.zeros((2, 2, 2), dtype=np.int64)
    y[1, 0, 1] = 7
    message = (
        "target holds class index 7 at position (1, 0, 1); class indices must be in [0, 3) "
        "for input with 3 classes, or ignore_index=-100"
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        fn(x, y)
    fn(x, y, ignore_index=7)  # a dropped target may be anything


@pytest.mark.parametrize("fn", WITH_IGNORE_INDEX, ids=fn_id)
def test_ignore_index_must_be_an_integer(fn):
    for value in (1.0, True, "1", None):
        with pytest.raises(
            TypeError, match=re.escape(f"ignore_index must be an integer; got {value!r}")
        ):
            fn(*valid_args(fn), ignore_index=value)
    fn(*valid_args(fn), ignore_index=np.int64(1))


@pytest.mark.parametrize("fn", CROSS_ENTROPY, ids=fn_id)
def test_ignore_index_with_probability_targets(fn):
    """As PyTorch: ignore_index >= 0 is refused for probability targets (ValueError here)."""
    x, q = np.zeros((2, 3)), np.full((2, 3), 1 / 3)
    with pytest.raises(
        ValueError, match=r"ignore_index applies to class indices only.*got ignore_index=1"
    ):
        fn(x, q, ignore_index=1)
    with pytest.raises(RuntimeError, match="ignore_index is not supported"):
        F.cross_entropy(torch.zeros(2, 3), torch.full((2, 3), 1 / 3), ignore_index=1)


@pytest.mark.parametrize("fn", CLASS_INDEX, ids=fn_id)
def test_floating_class_indices_are_a_type_error(xp, fn):
    x = xp.asarray([[0.2, 0.7, -1.0], [0.9, 0.4, 2.0]])
    with pytest.raises(TypeError, match="class indices in target must be integers; got dtype"):
        fn(x, xp.asarray([2.0, 0.0]))


@pytest.mark.parametrize("fn", INDEX_ONLY, ids=fn_id)
def test_losses_without_probability_targets_refuse_floats_of_inputs_shape(fn):
    with pytest.raises(TypeError, match="class indices in target must be integers"):
        fn(np.zeros((2, 3)), np.full((2, 3), 1 / 3))


@pytest.mark.parametrize("fn", CLASS_INDEX, ids=fn_id)
def test_boolean_and_complex_targets_are_type_errors(xp, fn):
    x = xp.asarray([[0.2, 0.7, -1.0], [0.9, 0.4, 2.0]])
    with pytest.raises(TypeError, match=r"target must hold integer class indices.*not booleans"):
        fn(x, xp.asarray([True, False]))
    with pytest.raises(TypeError, match=r"target must hold real numbers, not complex numbers"):
        fn(x, [1j, 2])


@pytest.mark.parametrize("dtype", ["int8", "int16", "int32", "uint8", "int64"])
@pytest.mark.parametrize("fn", CLASS_INDEX, ids=fn_id)
def test_every_integer_dtype_is_a_class_index(xp, fn, dtype):
    """PyTorch takes int64 and uint8 only; the companion takes every integer dtype."""
    x = xp.asarray([[0.2, 0.7, -1.0], [0.9, 0.4, 2.0]])
    result = fn(x, xp.asarray([2, 0], dtype=getattr(xp, dtype)))
    expected = fn(x, xp.asarray([2, 0], dtype=xp.int64))
    np.testing.assert_array_equal(to_numpy(result), to_numpy(expected))
    if dtype == "int32":
        with pytest.raises(RuntimeError, match="expected target dtype to be Long or Byte"):
            F.cross_entropy(torch.zeros(2, 3), torch.tensor([2, 0], dtype=torch.int32))


# --------------------------------------------------------------------------- shapes


@pytest.mark.parametrize("fn", CLASS_INDEX + KL, ids=fn_id)
def test_batch_size_mismatch_names_both(xp, fn):
    x = xp.zeros((3, 4))
    target = xp.zeros((2, 4)) if fn in KL else xp.asarray([0, 1])
    message = (
        "input and target must have the same batch size N (axis 0); got 3 (input.shape=(3, 4)) "
        "and 2 (target.shape="
        if fn not in KL
        else "input.shape=(3, 4) and target.shape=(2, 4)"
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        fn(x, target)


@pytest.mark.parametrize("fn", CROSS_ENTROPY, ids=fn_id)
def test_probability_targets_of_another_shape(xp, fn):
    """Floats of neither input's shape nor its shape without the class axis."""
    message = (
        "target must hold class indices of shape (2,) (input's shape without the class axis 1) "
        "or class probabilities of input's shape (2, 3); got target.shape=(2, 4)"
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        fn(xp.zeros((2, 3)), xp.zeros((2, 4)))


@pytest.mark.parametrize("fn", CLASS_INDEX, ids=fn_id)
def test_integer_targets_of_the_wrong_shape(fn):
    """One-hot integers are not class indices; the message says what would be."""
    with pytest.raises(ValueError, match=re.escape("target must hold class indices of shape (2,)")):
        fn(np.zeros((2, 3)), np.eye(3, dtype=np.int64)[[0, 1]])
    with pytest.raises(ValueError, match=re.escape("got target.shape=(1,) for input.shape=(3,)")):
        fn(np.zeros(3), np.array([1]))  # PyTorch accepts (1,) for one sample
    fn(np.zeros(3), np.array(1))


@pytest.mark.parametrize("shape", [(), (2, 0), (0,)])
@pytest.mark.parametrize("fn", CLASS_INDEX, ids=fn_id)
def test_input_needs_a_class_axis_with_a_class(fn, shape):
    message = (
        "input must have a class axis with at least one class, shape (C,), (N, C) or "
        f"(N, C, d1, ..., dk); got input.shape={shape!r}"
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        fn(np.zeros(shape), np.zeros(shape[:1], dtype=np.int64))


@pytest.mark.parametrize(
    "fn", [companion.multi_margin_loss, companion.multi_margin_loss_reference], ids=fn_id
)
def test_multi_margin_takes_one_or_two_axes(fn):
    with pytest.raises(
        ValueError,
        match=re.escape(
            "multi_margin_loss takes input of shape (C,) or (N, C); got input.shape=(2, 3, 4)"
        ),
    ):
        fn(np.zeros((2, 3, 4)), np.zeros((2, 4), dtype=np.int64))


@pytest.mark.parametrize("fn", BINARY + KL, ids=fn_id)
def test_elementwise_losses_need_equal_shapes(xp, fn):
    message = "input.shape=(3, 1) and target.shape=(3,)"
    with pytest.raises(ValueError, match=re.escape(message)):
        fn(xp.zeros((3, 1)), xp.zeros((3,)))


# --------------------------------------------------------------------------- weights


@pytest.mark.parametrize("fn", WITH_CLASS_WEIGHT, ids=fn_id)
def test_class_weight_of_the_wrong_length(xp, fn):
    x, y = valid_args(fn, xp)
    message = (
        "weight must hold one weight per class, shape (3,) for input.shape=(2, 3); "
        "got weight.shape=(2,)"
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        fn(x, y, weight=xp.asarray([1.0, 2.0]))
    with pytest.raises(ValueError, match=re.escape("got weight.shape=(1, 3)")):
        fn(x, y, weight=xp.ones((1, 3)))


@pytest.mark.parametrize("fn", WITH_CLASS_WEIGHT, ids=fn_id)
def test_class_weight_as_a_list_or_of_another_dtype(xp, fn):
    """PyTorch requires a weight tensor of input's dtype; a list or another dtype is cast."""
    x, y = valid_args(fn, xp)
    expected = fn(x, y, weight=xp.asarray([1.0, 2.0, 0.5], dtype=x.dtype))
    for weight in ([1, 2, 0.5], xp.asarray([1.0, 2.0, 0.5], dtype=xp.float32)):
        result = fn(x, y, weight=weight)
        assert dtype_name(result) == dtype_name(expected)
        np.testing.assert_allclose(to_numpy(result), to_numpy(expected), rtol=1e-7)


BINARY_WEIGHTS = [(fn, "weight") for fn in BINARY[:5]] + [(fn, "pos_weight") for fn in BINARY[2:5]]


@pytest.mark.parametrize(
    ("fn", "name"), BINARY_WEIGHTS, ids=[f"{f.__name__}-{n}" for f, n in BINARY_WEIGHTS]
)
def test_binary_weights_must_broadcast_to_the_input(xp, fn, name):
    x, t = xp.zeros((2, 3)), xp.zeros((2, 3))
    for shape in [(2,), (4, 2, 3), (3, 3)]:
        message = f"{name} must broadcast to input's shape (2, 3); got {name}.shape={shape!r}"
        with pytest.raises(ValueError, match=re.escape(message)):
            fn(x, t, **{name: xp.ones(shape)})
    fn(x, t, **{name: xp.ones((3,))})
    fn(x, t, **{name: xp.ones((2, 1))})


@pytest.mark.parametrize("fn", WITH_CLASS_WEIGHT + BINARY[:5], ids=fn_id)
def test_weight_of_another_library_or_kind_is_a_type_error(fn):
    x, y = valid_args(fn, torch)
    num = x.shape[-1]
    with pytest.raises(TypeError, match="input and weight must come from the same array library"):
        fn(x, y, weight=np.ones(num))
    with pytest.raises(TypeError, match="weight must hold real numbers, not booleans"):
        fn(x, y, weight=[True] * num)
    with pytest.raises(TypeError, match="weight must be an array or a real number, not a string"):
        fn(x, y, weight="ones")


# --------------------------------------------------------------------------- probabilities


@pytest.mark.parametrize("fn", BINARY[:2], ids=fn_id)
def test_binary_cross_entropy_needs_probabilities(xp, fn):
    """PyTorch raises RuntimeError for both, NaN included; the companion, ValueError."""
    good = xp.asarray([0.5, 0.5, 0.5])
    for bad, value, position in (([0.2, 1.5, 0.3], 1.5, (1,)), ([0.2, 0.3, -0.1], -0.1, (2,))):
        for name in ("input", "target"):
            args = {"input": good, "target": good, name: xp.asarray(bad)}
            message = (
                f"{name} must hold probabilities in [0, 1] (NaN is not a probability); "
                f"got {value!r} at position {position}"
            )
            with pytest.raises(ValueError, match=re.escape(message)):
                fn(**args)
    with pytest.raises(ValueError, match=re.escape("got nan at position (0,)")):
        fn(xp.asarray([math.nan, 0.5, 0.5]), good)
    with pytest.raises(RuntimeError, match="all elements of input should be between 0 and 1"):
        F.binary_cross_entropy(torch.tensor([math.nan]), torch.tensor([0.5]))


@pytest.mark.parametrize("fn", WITH_LOGITS, ids=fn_id)
def test_logit_losses_need_targets_in_the_unit_interval(xp, fn):
    """PyTorch computes a loss unbounded below for these; a NaN target gives NaN in both."""
    x = xp.asarray([0.0, 1.0, -1.0])
    for bad, value in (([0.0, 255.0, 1.0], "255"), ([0.0, -1.5, 1.0], "-1.5")):
        message = f"target must hold probabilities in [0, 1]; got {value} at position (1,)"
        with pytest.raises(ValueError, match=re.escape(message)):
            fn(x, xp.asarray(bad))
    result = fn(x, xp.asarray([0.0, math.nan, 1.0]), reduction="none")
    assert np.isnan(to_numpy(result)[1]) and not np.isnan(to_numpy(result)[[0, 2]]).any()
    assert F.binary_cross_entropy_with_logits(torch.tensor([1.0]), torch.tensor([255.0])) < 0


# --------------------------------------------------------------------------- parameters


@pytest.mark.parametrize("value", [-0.1, 1.5, math.nan, math.inf])
@pytest.mark.parametrize("fn", CROSS_ENTROPY, ids=fn_id)
def test_label_smoothing_outside_the_unit_interval(fn, value):
    """PyTorch raises RuntimeError above 1 and silently ignores a negative value."""
    message = f"label_smoothing must be a real number in [0, 1]; got {value!r}"
    with pytest.raises(ValueError, match=re.escape(message)):
        fn(*valid_args(fn), label_smoothing=value)
    with pytest.raises(TypeError, match="label_smoothing must be a real number in"):
        fn(*valid_args(fn), label_smoothing="0.1")
    if value == -0.1:
        x, y = torch.tensor([[0.2, 0.7, -1.0]]), torch.tensor([2])
        assert F.cross_entropy(x, y, label_smoothing=-0.1) == F.cross_entropy(x, y)


def test_focal_gamma_and_alpha():
    x, t = np.zeros(2), np.array([0.0, 1.0])
    for gamma in (-1.0, math.nan, math.inf):
        with pytest.raises(
            ValueError, match=re.escape(f"gamma must be a finite real number >= 0; got {gamma!r}")
        ):
            companion.sigmoid_focal_loss(x, t, gamma=gamma)
    for alpha in (1.5, math.nan):
        message = (
            "alpha must be a real number in [0, 1], or negative for no class weighting; "
            f"got {alpha!r}"
        )
        with pytest.raises(ValueError, match=re.escape(message)):
            companion.sigmoid_focal_loss(x, t, alpha=alpha)
    with pytest.raises(TypeError, match="alpha must be a real number"):
        companion.sigmoid_focal_loss(x, t, alpha=None)
    no_alpha = companion.sigmoid_focal_loss(x, t, alpha=-1)
    np.testing.assert_array_equal(companion.sigmoid_focal_loss(x, t, alpha=-0.5), no_alpha)


@pytest.mark.parametrize(
    "fn", [companion.multi_margin_loss, companion.multi_margin_loss_reference], ids=fn_id
)
def test_multi_margin_p_and_margin(fn):
    x, y = valid_args(fn)
    for p in (3, 0, 1.5, True, "1", None):
        with pytest.raises(ValueError, match=re.escape(f"p must be one of 1, 2; got {p!r}")):
            fn(x, y, p=p)
    assert fn(x, y, p=2.0) == fn(x, y, p=2)
    for margin in (-1.0, math.nan, math.inf):
        with pytest.raises(
            ValueError, match=re.escape(f"margin must be a finite real number >= 0; got {margin!r}")
        ):
            fn(x, y, margin=margin)


@pytest.mark.parametrize("fn", KL, ids=fn_id)
def test_log_target_must_be_a_boolean(fn):
    for value in ("yes", 1, None):
        with pytest.raises(
            TypeError, match=re.escape(f"log_target must be True or False; got {value!r}")
        ):
            fn(*valid_args(fn), log_target=value)
    fn(*valid_args(fn), log_target=np.bool_(False))


# --------------------------------------------------------------------------- types

MIXED_LIBRARIES = [
    (np.ones((2, 3)), torch.tensor([0, 1])),
    (torch.ones((2, 3)), np.array([0, 1])),
    (array_api_strict.ones((2, 3)), np.array([0, 1])),
]


@pytest.mark.parametrize(("input", "target"), MIXED_LIBRARIES)
@pytest.mark.parametrize("fn", CLASS_INDEX, ids=fn_id)
def test_mixing_array_libraries_is_a_type_error(fn, input, target):
    with pytest.raises(TypeError, match="input and target must come from the same array library"):
        fn(input, target)


@pytest.mark.parametrize("fn", BINARY + KL, ids=fn_id)
def test_mixing_array_libraries_in_elementwise_losses(fn):
    with pytest.raises(TypeError, match="input and target must come from the same array library"):
        fn(np.full(2, 0.5), torch.full((2,), 0.5))


@pytest.mark.parametrize("fn", ALL, ids=fn_id)
def test_strings_booleans_and_complex_inputs_are_type_errors(fn):
    x, y = valid_args(fn)
    with pytest.raises(TypeError, match="not a string"):
        fn("abc", y)
    with pytest.raises(TypeError, match="not booleans"):
        fn(np.ones(x.shape, dtype=bool), y)
    with pytest.raises(TypeError, match="not complex numbers"):
        fn(x + 0j, y)


# --------------------------------------------------------------------------- accepted input


@pytest.mark.parametrize("fn", ALL, ids=fn_id)
def test_array_api_2022_12_gives_the_same_results(fn):
    """API 2022.12 lacks minimum, maximum, take_along_axis and __array_namespace_info__; the
    formulas use where, and zeros and asarray for the default dtypes, with identical results
    (for Python-list and integer arguments too)."""
    input, target = valid_args(fn)
    input, target = input.tolist(), target.tolist()
    weight = [1.0, 2.0, 0.5] if fn in WITH_CLASS_WEIGHT else None
    kwargs = {} if weight is None else {"weight": array_api_strict.asarray(weight)}
    results = []
    for version in ("2022.12", "2023.12", None):  # None: array-api-strict's default, the newest
        with array_api_strict.ArrayAPIStrictFlags(api_version=version):
            for reduction in ("none", "sum"):
                x, t = array_api_strict.asarray(input), array_api_strict.asarray(target)
                results.append(fn(x, t, reduction=reduction, **kwargs))
                results.append(fn(x, target, reduction=reduction))  # a list target
    results = [to_numpy(r) for r in results]
    for old, new in zip(results[:4], results[-4:], strict=True):
        np.testing.assert_array_equal(old, new)
    for middle, new in zip(results[4:8], results[-4:], strict=True):
        np.testing.assert_array_equal(middle, new)


def test_python_lists_are_numpy_arrays():
    x, y = [[2.0, 0.0, -1.0], [0.5, 0.5, 3.0]], [0, 1]
    result = companion.cross_entropy(x, y, reduction="none")
    assert isinstance(result, np.ndarray) and result.dtype == np.float64
    by_hand = np.log(np.exp(x).sum(axis=1)) - np.array(x)[[0, 1], y]
    np.testing.assert_allclose(result, by_hand, rtol=1e-14)
    np.testing.assert_allclose(
        companion.cross_entropy(x, [[1.0, 0, 0], [0, 1, 0]], reduction="none"), result
    )
    np.testing.assert_allclose(companion.cross_entropy(np.array(x), y), result.mean())
    assert float(companion.binary_cross_entropy_with_logits(0, 1)) == pytest.approx(math.log(2))


def test_a_list_target_takes_the_inputs_library():
    x = torch.tensor([[2.0, 0.0, -1.0]], dtype=torch.float64)
    assert companion.cross_entropy(x, [0]).dtype == torch.float64
    assert companion.binary_cross_entropy_with_logits(x, [[1.0, 0.0, 1.0]]).dtype == torch.float64


def test_integer_logits_become_the_default_float(xp):
    backend = next(name for name, namespace in BACKENDS.items() if namespace is xp)
    result = companion.cross_entropy(xp.asarray([[2, 0, -1]]), xp.asarray([0]))
    assert dtype_name(result) == {"torch": "float32"}.get(backend, "float64")


# --------------------------------------------------------------------------- no mutation


@pytest.mark.parametrize("fn", ALL, ids=fn_id)
def test_inputs_are_never_modified(xp, fn):
    input, target = valid_args(fn, xp)
    before = to_numpy(input).copy(), to_numpy(target).copy()
    weight = None
    if fn in WITH_CLASS_WEIGHT:
        weight = xp.asarray([1.0, 2.0, 0.5])
        fn(input, target, weight=weight, reduction="none")
    else:
        fn(input, target, reduction="none")
    np.testing.assert_array_equal(to_numpy(input), before[0])
    np.testing.assert_array_equal(to_numpy(target), before[1])
    if weight is not None:
        np.testing.assert_array_equal(to_numpy(weight), [1.0, 2.0, 0.5])


@pytest.mark.parametrize("fn", ALL, ids=fn_id)
def test_tensors_are_not_touched_in_place(fn):
    """A tensor's version counter moves on every in-place operation, even a no-op one."""
    input, target = valid_args(fn, torch)
    input = input.clone().requires_grad_(True)
    versions = input._version, target._version
    fn(input, target)
    assert (input._version, target._version) == versions and input.grad is None
