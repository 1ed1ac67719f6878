"""The classification losses against ``torch.nn.functional``, torchvision and scikit-learn.

Every loss (with the arguments that change its code path: weights, ``pos_weight``,
``ignore_index``, label smoothing, probability targets, extra axes, one sample) x reduction x
dtype x array library, on moderate logits, on logits of +-1e4 with targets exactly 0 and 1,
and on NaN and +-inf. On tensors both the public function (PyTorch's kernel after the checks)
and the ``*_reference`` formula are checked, gradients included; the analytic derivatives are
checked against autograd; the focal loss against a transcription of torchvision's.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import ATOL, BACKEND_DTYPES, BACKENDS, RTOL, asarray, dtype_name, to_numpy
from sklearn.metrics import log_loss

import companion

N, C = 8, 5
REDUCTIONS = ("none", "mean", "sum")
# Where the data holds +-1e4, NaN or +-inf (flat positions in the (N, C) logits).
EXTREME = {3: 1e4, 7: -1e4, 12: 1e4, 18: -1e4, 26: 1e4, 31: -1e4}
NONFINITE = {2: math.nan, 9: math.inf, 21: -math.inf, 33: math.inf}


def torchvision_sigmoid_focal_loss(inputs, targets, alpha=0.25, gamma=2.0, reduction="none"):
    """``torchvision.ops.sigmoid_focal_loss``, transcribed from torchvision/ops/focal_loss.py
    (pytorch/vision, BSD-3-Clause; torchvision cannot be installed beside torch 2.13 here)."""
    p = torch.sigmoid(inputs)
    ce_loss = F.binary_cross_entropy_with_logits(inputs, targets, reduction="none")
    p_t = p * targets + (1 - p) * (1 - targets)
    loss = ce_loss * ((1 - p_t) ** gamma)
    if alpha >= 0:
        alpha_t = alpha * targets + (1 - alpha) * (1 - targets)
        loss = alpha_t * loss
    if reduction == "mean":
        loss = loss.mean()
    elif reduction == "sum":
        loss = loss.sum()
    return loss


def logits(rng: np.random.Generator, shape: tuple[int, ...], kind: str) -> np.ndarray:
    """Logits in [-4, 4], with +-1e4 or NaN and +-inf at fixed places for those kinds."""
    x = rng.uniform(-4, 4, size=shape)
    flat = x.reshape(-1)
    for position, value in {"extreme": EXTREME, "nonfinite": NONFINITE}.get(kind, {}).items():
        flat[position % flat.size] = value
    return x


def binary_targets(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Mostly exactly 0 or 1, some soft."""
    t = rng.integers(0, 2, size=shape).astype(np.float64)
    t.reshape(-1)[::4] = rng.uniform(0, 1, size=t.reshape(-1)[::4].shape)
    return t


def probabilities(rng: np.random.Generator, shape: tuple[int, ...], axis: int = 1) -> np.ndarray:
    q = rng.uniform(0, 1, size=shape) ** 3  # uneven
    return q / q.sum(axis=axis, keepdims=True)


@dataclass
class Case:
    """One call pattern of one loss: how to make its data and PyTorch's expected result."""

    name: str
    make: Callable[[np.random.Generator, str], tuple[dict, dict]]
    kinds: tuple[str, ...] = ("moderate", "extreme", "nonfinite")
    reductions: tuple[str, ...] = ("none", "mean", "sum")
    # differentiable arguments (float, and PyTorch differentiates them)
    grad_args: tuple[str, ...] = ("input",)
    expected: Callable | None = None  # default: torch.nn.functional's namesake
    # the focal loss's gradient at an infinite logit is inf * 0 in both formulas: not compared
    grad_at_inf: bool = True
    params: dict = field(default_factory=dict)


def bce_data(rng, kind):
    p = rng.uniform(0, 1, size=(N, C))
    p.reshape(-1)[[0, 5, 11]] = [0.0, 1.0, 0.0]  # exact 0 and 1: logs clamped at -100
    p.reshape(-1)[[1, 6]] = [1e-6, 1 - 1e-6]
    t = binary_targets(rng, (N, C))
    t.reshape(-1)[[0, 5, 11]] = [1.0, 0.0, 0.0]
    return {"input": p, "target": t}, {}


def bce_weight_data(rng, kind):
    data, _ = bce_data(rng, kind)
    return {**data, "weight": rng.uniform(0.5, 2, size=(C,))}, {}


def bce_logits_data(rng, kind):
    return {"input": logits(rng, (N, C), kind), "target": binary_targets(rng, (N, C))}, {}


def bce_logits_weights_data(rng, kind):
    data, _ = bce_logits_data(rng, kind)
    weights = {"weight": rng.uniform(0.5, 2, size=(N, 1)), "pos_weight": rng.uniform(1, 4, (C,))}
    return {**data, **weights}, {}


def class_indices(rng, shape, dropped=(), ignore_index=-100):
    y = rng.integers(0, C, size=shape)
    y.reshape(-1)[list(dropped)] = ignore_index
    return y


def ce_data(rng, kind):
    return {"input": logits(rng, (N, C), kind), "target": class_indices(rng, (N,))}, {}


def ce_weight_ignore_data(rng, kind):
    x = logits(rng, (N, C), kind)
    y = class_indices(rng, (N,), dropped=[1, 6])
    return {"input": x, "target": y, "weight": rng.uniform(0.5, 2, size=(C,))}, {}


def ce_ignore_in_range_data(rng, kind):
    """ignore_index is a real class (2): its targets are dropped, the others count."""
    x = logits(rng, (N, C), kind)
    y = np.array([2, 0, 2, 1, 3, 4, 2, 1])
    return {"input": x, "target": y}, {"ignore_index": 2}


def ce_smoothing_data(rng, kind):
    data, _ = ce_weight_ignore_data(rng, kind)
    return data, {"label_smoothing": 0.2}


def ce_probabilities_data(rng, kind):
    x = logits(rng, (N, C), kind)
    q = probabilities(rng, (N, C))
    q[0, :2] = [1.0, 0.0]
    q[0, 2:] = 0.0  # one-hot row
    return {"input": x, "target": q, "weight": rng.uniform(0.5, 2, size=(C,))}, {
        "label_smoothing": 0.1
    }


def ce_kdim_data(rng, kind):
    x = logits(rng, (2, C, 3, 2), kind)
    y = class_indices(rng, (2, 3, 2), dropped=[4])
    return {"input": x, "target": y, "weight": rng.uniform(0.5, 2, size=(C,))}, {
        "label_smoothing": 0.05
    }


def ce_one_sample_data(rng, kind):
    x = logits(rng, (C,), kind) if kind != "nonfinite" else np.array([0.0, math.inf, 1, 2, 3])
    return {"input": x, "target": np.array(3)}, {}


def ce_one_sample_probabilities_data(rng, kind):
    return {"input": logits(rng, (C,), kind), "target": probabilities(rng, (C,), axis=0)}, {}


def log_softmax(x: np.ndarray, axis: int = 1) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return torch.log_softmax(torch.from_numpy(x), dim=axis).numpy()


def nll_data(rng, kind):
    x = log_softmax(logits(rng, (N, C), kind))
    y = class_indices(rng, (N,), dropped=[3])
    return {"input": x, "target": y, "weight": rng.uniform(0.5, 2, size=(C,))}, {}


def nll_kdim_data(rng, kind):
    x = log_softmax(logits(rng, (2, C, 2, 3), kind))
    return {"input": x, "target": class_indices(rng, (2, 2, 3), dropped=[0, 7])}, {}


def kl_data(rng, kind):
    x = log_softmax(logits(rng, (N, C), kind))
    t = probabilities(rng, (N, C))
    t[1, :] = [0.0, 0.5, 0.0, 0.5, 0.0]  # 0 log 0 = 0
    return {"input": x, "target": t}, {}


def kl_log_target_data(rng, kind):
    x = log_softmax(logits(rng, (N, C), kind))
    return {"input": x, "target": log_softmax(logits(rng, (N, C), "moderate"))}, {
        "log_target": True
    }


def focal_data(alpha, gamma):
    def make(rng, kind):
        return {"input": logits(rng, (N, C), kind), "target": binary_targets(rng, (N, C))}, {
            "alpha": alpha,
            "gamma": gamma,
        }

    return make


def margin_data(rng, kind):
    return {"input": logits(rng, (N, C), kind), "target": class_indices(rng, (N,))}, {}


def margin_p2_data(rng, kind):
    data, _ = margin_data(rng, kind)
    x = data["input"]
    x[0, :] = x[0, 2] - 0.5  # z = 0 exactly for every other class: no gradient there
    data["target"][0] = 2
    return {**data, "weight": rng.uniform(0.5, 2, size=(C,))}, {"p": 2, "margin": 0.5}


def margin_one_sample_data(rng, kind):
    return {"input": logits(rng, (C,), kind), "target": np.array(1)}, {}


def focal_expected(data, params, reduction):
    """torchvision's formula evaluated in float64 and rounded once.

    The companion computes the focal loss without the cancellations of torchvision's
    float32 formula (a documented difference, see ``test_focal_keeps_its_digits``); for
    logits in [-4, 4] and +-1e4, float64 keeps the digits of torchvision's. One more
    documented difference: a logit of -inf for a positive target costs inf, not NaN.
    """
    x, t = data["input"], data["target"]
    loss = torchvision_sigmoid_focal_loss(x.double(), t.double(), reduction="none", **params)
    loss = torch.where((x == -math.inf) & (t > 0), math.inf, loss).to(x.dtype)
    return {"none": loss, "mean": loss.mean(), "sum": loss.sum()}[reduction]


KINDS = ("moderate", "extreme", "nonfinite")
CASES = {
    "bce": Case("binary_cross_entropy", bce_data, kinds=("probs",), grad_args=("input", "target")),
    "bce_weight": Case("binary_cross_entropy", bce_weight_data, kinds=("probs",)),
    "bce_logits": Case(
        "binary_cross_entropy_with_logits", bce_logits_data, grad_args=("input", "target")
    ),
    "bce_logits_weights": Case(
        "binary_cross_entropy_with_logits", bce_logits_weights_data, grad_args=("input", "target")
    ),
    "ce": Case("cross_entropy", ce_data),
    "ce_weight_ignore": Case("cross_entropy", ce_weight_ignore_data),
    "ce_ignore_in_range": Case("cross_entropy", ce_ignore_in_range_data),
    "ce_smoothing": Case("cross_entropy", ce_smoothing_data),
    "ce_probabilities": Case("cross_entropy", ce_probabilities_data, grad_args=("input", "target")),
    "ce_kdim": Case("cross_entropy", ce_kdim_data),
    "ce_one_sample": Case("cross_entropy", ce_one_sample_data),
    "ce_one_sample_probabilities": Case(
        "cross_entropy", ce_one_sample_probabilities_data, kinds=("moderate", "extreme")
    ),
    "nll": Case("nll_loss", nll_data),
    "nll_kdim": Case("nll_loss", nll_kdim_data),
    # The target gradient at t = 0 is a documented difference (PyTorch: NaN).
    "kl": Case("kl_div", kl_data, reductions=("none", "mean", "sum", "batchmean")),
    "kl_log_target": Case(
        "kl_div",
        kl_log_target_data,
        reductions=("none", "mean", "sum", "batchmean"),
        grad_args=("input", "target"),
    ),
    "focal": Case(
        "sigmoid_focal_loss",
        focal_data(0.25, 2.0),
        grad_args=("input", "target"),
        expected=focal_expected,
        grad_at_inf=False,
    ),
    "focal_gamma0_no_alpha": Case(
        "sigmoid_focal_loss", focal_data(-1.0, 0.0), expected=focal_expected, grad_at_inf=False
    ),
    "focal_gamma1.5": Case(
        "sigmoid_focal_loss", focal_data(0.75, 1.5), expected=focal_expected, grad_at_inf=False
    ),
    "margin": Case("multi_margin_loss", margin_data),
    "margin_p2_weight": Case("multi_margin_loss", margin_p2_data),
    "margin_one_sample": Case("multi_margin_loss", margin_one_sample_data),
}
CASE_KINDS = [(case, kind) for case in CASES for kind in CASES[case].kinds]
IDS = [f"{c}-{k}" for c, k in CASE_KINDS]


def make_case(case: str, kind: str) -> tuple[dict, dict]:
    rng = np.random.default_rng(sum(map(ord, case + kind)))
    return CASES[case].make(rng, kind)


def to_torch(
    value: np.ndarray, dtype: str, grad: bool = False, compute: str | None = None
) -> torch.Tensor:
    """``value`` as a tensor of ``dtype`` (then cast to ``compute``, if given); integer
    arrays (class indices) as int64."""
    if np.issubdtype(value.dtype, np.integer):
        return torch.from_numpy(value.copy())
    tensor = torch.tensor(value, dtype=getattr(torch, dtype))
    return tensor.to(getattr(torch, compute or dtype)).requires_grad_(grad)


def upstream(loss: torch.Tensor) -> torch.Tensor:
    """A fixed, non-uniform upstream gradient for 'none' (so each element counts), else 1."""
    weights = torch.linspace(0.5, 1.5, max(loss.numel(), 1), dtype=loss.dtype)
    return weights[: loss.numel()].reshape(loss.shape)


def torch_result(case: str, data: dict, params: dict, reduction: str, dtype: str):
    """PyTorch's loss on the data cast to ``dtype``, and the gradients of ``grad_args``.

    For float16 they are PyTorch's float32 results rounded to float16: the companion computes
    float16 in float32 and rounds once, where PyTorch's CPU kernels round every step of a
    composite loss to float16 or have no float16 kernel (documented; see
    ``test_float16_is_computed_in_float32``).
    """
    spec = CASES[case]
    compute = "float32" if dtype == "float16" else dtype
    tensors = {
        k: to_torch(v, dtype, grad=k in spec.grad_args, compute=compute) for k, v in data.items()
    }
    if spec.expected is not None:
        loss = spec.expected(tensors, params, reduction)
    elif spec.name == "kl_div":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # 'mean' is not the KL divergence
            loss = F.kl_div(tensors["input"], tensors["target"], reduction=reduction, **params)
    else:
        loss = getattr(F, spec.name)(**tensors, reduction=reduction, **params)
    loss.backward(upstream(loss))
    grads = {k: tensors[k].grad for k in spec.grad_args}
    return loss.detach().to(getattr(torch, dtype)), grads


def assert_close(actual, expected, dtype: str, atol: float | None = None, err_msg="") -> None:
    np.testing.assert_allclose(
        to_numpy(actual).astype(np.float64),
        to_numpy(expected).astype(np.float64),
        rtol=RTOL[dtype],
        atol=ATOL[dtype] if atol is None else atol,
        equal_nan=True,
        err_msg=err_msg,
    )


def grad_atol(expected: torch.Tensor, dtype: str) -> float:
    """Gradients through a softmax or sigmoid, such as p - 1 for p near 1, are differences of
    numbers near 1: both PyTorch and the formula lose the digits below the largest element's
    rounding (a few ulps of it), so the absolute tolerance scales with that element."""
    finite = expected[torch.isfinite(expected)]
    scale = float(finite.abs().max()) if finite.numel() else 0.0
    return max(ATOL[dtype], 8 * float(torch.finfo(getattr(torch, dtype)).eps) * scale)


def call(fn, arrays: dict, params: dict, reduction: str):
    return fn(arrays.pop("input"), arrays.pop("target"), reduction=reduction, **arrays, **params)


# ---------------------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
@pytest.mark.parametrize(("case", "kind"), CASE_KINDS, ids=IDS)
@pytest.mark.parametrize(("backend", "dtype"), [bd for bd in BACKEND_DTYPES if bd[0] != "torch"])
def test_value_and_dtype_match_torch(backend, dtype, case, kind):
    """NumPy and array-api-strict, every reduction; tensors are checked with their gradients
    below."""
    xp = BACKENDS[backend]
    data, params = make_case(case, kind)
    for reduction in CASES[case].reductions:
        arrays = {
            k: xp.asarray(v.tolist()) if v.dtype.kind == "i" else asarray(xp, v, dtype)
            for k, v in data.items()
        }
        result = call(getattr(companion, CASES[case].name), arrays, params, reduction)
        expected, _ = torch_result(case, data, params, reduction, dtype)
        assert dtype_name(result) == dtype, reduction
        assert tuple(result.shape) == tuple(expected.shape), reduction
        assert_close(result, expected, dtype, err_msg=reduction)


@pytest.mark.parametrize(("case", "kind"), CASE_KINDS, ids=IDS)
@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_tensor_value_and_autograd_match_torch(dtype, case, kind):
    """On tensors, for every reduction, the value, dtype, shape and the gradients (of the
    input, and of float targets) equal PyTorch's, through PyTorch's kernel (the public loss)
    and through the formula (``*_reference``); and the two paths equal each other."""
    spec = CASES[case]
    data, params = make_case(case, kind)
    names = [spec.name]
    if spec.name != "sigmoid_focal_loss":  # PyTorch has no kernel for it: one implementation
        names.append(f"{spec.name}_reference")
    for reduction in spec.reductions:
        expected, grads = torch_result(case, data, params, reduction, dtype)
        results = []
        for name in names:
            tensors = {k: to_torch(v, dtype, grad=k in spec.grad_args) for k, v in data.items()}
            loss = call(getattr(companion, name), dict(tensors), params, reduction)
            loss.backward(upstream(loss))
            assert loss.dtype == expected.dtype and loss.shape == expected.shape, name
            assert_close(loss.detach(), expected, dtype, err_msg=f"{name} {reduction}")
            for arg, expected_grad in grads.items():
                expected_grad = expected_grad.to(getattr(torch, dtype))
                formula = name.endswith("_reference") or dtype == "float16"
                if formula and spec.name == "binary_cross_entropy":
                    expected_grad = clamped_bce_grad(data, expected_grad, reduction, arg)
                grad = tensors[arg].grad
                if not spec.grad_at_inf:
                    infinite = torch.from_numpy(np.isinf(data["input"]))
                    grad, expected_grad = (
                        g.masked_fill(infinite, 0) for g in (grad, expected_grad)
                    )
                assert grad.dtype == expected_grad.dtype
                atol = grad_atol(expected_grad, dtype)
                assert_close(grad, expected_grad, dtype, atol, f"{name} {reduction} {arg}")
            results.append([loss.detach()] + [tensors[arg].grad for arg in grads])
        if len(results) == 2 and dtype != "float16":  # float16 runs the formula on both
            # (binary_cross_entropy's gradients at p = 0 or 1 differ, as documented)
            pairs = list(zip(*results, strict=True))
            for fast, formula in pairs[:1] if spec.name == "binary_cross_entropy" else pairs:
                assert_close(fast, formula, dtype, grad_atol(fast, dtype), "fast vs formula")


def clamped_bce_grad(data: dict, expected: torch.Tensor, reduction: str, arg: str) -> torch.Tensor:
    """Documented difference of ``binary_cross_entropy``'s formula (the reference, and the
    loss on float16 tensors): at an input p of exactly 0 or 1 its gradients are those of
    the clamped formula. For the input: (1 - t) at 0 and -t at 1, where PyTorch's backward
    divides by max(p (1 - p), 1e-12); for the target: the clamped logs, 100 at 0 and -100
    at 1, where PyTorch's are +-inf."""
    # the data as the loss saw it (1 - 1e-6 is 1 in float16)
    p, t = (torch.from_numpy(data[k]).to(expected.dtype).double() for k in ("input", "target"))
    edge = (p == 0) | (p == 1)
    theirs = expected[edge].double()
    if arg == "input":
        assert torch.all((theirs == 0) | (theirs.abs() > 1e6))  # 1e12 (p - t), or inf
        ours = torch.where(p == 0, 1 - t, -t)
    else:
        assert torch.all(torch.isinf(theirs))
        ours = torch.where(p == 0, 100.0, -100.0).double()
    ours = ours * upstream(ours if reduction == "none" else torch.zeros((), dtype=p.dtype))
    if reduction == "mean":
        ours = ours / p.numel()
    if "weight" in data:
        ours = ours * torch.from_numpy(data["weight"]).to(expected.dtype).double()
    return torch.where(edge, ours.to(expected.dtype), expected)


# --------------------------------------------------------------------------- derivatives

GRAD_CASES = [
    (case, kind)
    for case, kind in CASE_KINDS
    if CASES[case].name in ("binary_cross_entropy_with_logits", "cross_entropy")
]


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
@pytest.mark.parametrize(("case", "kind"), GRAD_CASES, ids=[f"{c}-{k}" for c, k in GRAD_CASES])
@pytest.mark.parametrize(("backend", "dtype"), BACKEND_DTYPES)
def test_analytic_grad_matches_torch_autograd(backend, dtype, case, kind):
    """``*_grad`` equals PyTorch's autograd of the loss (of its sum for 'none'), for every
    reduction, weight, ignore_index, smoothing and target kind, at +-1e4, NaN and inf."""
    xp = BACKENDS[backend]
    spec = CASES[case]
    data, params = make_case(case, kind)
    compute = "float32" if dtype == "float16" else dtype
    for reduction in spec.reductions:
        arrays = {
            k: xp.asarray(v.tolist()) if v.dtype.kind == "i" else asarray(xp, v, dtype)
            for k, v in data.items()
        }
        grad = call(getattr(companion, f"{spec.name}_grad"), arrays, params, reduction)
        tensors = {
            k: to_torch(v, dtype, grad=k == "input", compute=compute) for k, v in data.items()
        }
        getattr(F, spec.name)(**tensors, reduction=reduction, **params).sum().backward()
        expected = tensors["input"].grad.to(getattr(torch, dtype))
        assert dtype_name(grad) == dtype and tuple(grad.shape) == data["input"].shape
        assert_close(grad, expected, dtype, grad_atol(expected, dtype), reduction)


def test_grads_are_the_textbook_formulas():
    """sigma(x) - t and softmax(x) - one_hot(y): the derivatives the book derives."""
    x = np.array([[2.0, -1.0, 0.5], [0.0, 3.0, -2.0]])
    y = np.array([2, 1])
    softmax = np.exp(x) / np.exp(x).sum(axis=1, keepdims=True)
    expected = softmax - np.eye(3)[y]
    np.testing.assert_allclose(companion.cross_entropy_grad(x, y, reduction="sum"), expected)
    t = np.array([[1.0, 0.0, 0.3], [0.0, 1.0, 1.0]])
    sigmoid = 1 / (1 + np.exp(-x))
    np.testing.assert_allclose(
        companion.binary_cross_entropy_with_logits_grad(x, t, reduction="sum"), sigmoid - t
    )


# --------------------------------------------------------------------------- empty input

EMPTY_CALLS = {
    "binary_cross_entropy": lambda xp: (xp.zeros((0, 3)), xp.zeros((0, 3))),
    "binary_cross_entropy_with_logits": lambda xp: (xp.zeros((0, 3)), xp.zeros((0, 3))),
    "cross_entropy": lambda xp: (xp.zeros((0, 3)), xp.zeros((0,), dtype=xp.int64)),
    "nll_loss": lambda xp: (xp.zeros((0, 3, 2)), xp.zeros((0, 2), dtype=xp.int64)),
    "kl_div": lambda xp: (xp.zeros((0, 3)), xp.zeros((0, 3))),
    "sigmoid_focal_loss": lambda xp: (xp.zeros((0,)), xp.zeros((0,))),
    "multi_margin_loss": lambda xp: (xp.zeros((0, 3)), xp.zeros((0,), dtype=xp.int64)),
}


@pytest.mark.parametrize("name", list(EMPTY_CALLS))
@pytest.mark.parametrize("backend", list(BACKENDS))
def test_empty_batch(backend, name):
    """'mean' (and 'batchmean') of nothing is NaN and 'sum' is 0, like PyTorch, silently; for
    ``multi_margin_loss`` too, whose PyTorch CPU kernel returns uninitialised memory for
    both."""
    xp = BACKENDS[backend]
    input, target = EMPTY_CALLS[name](xp)
    fn = getattr(companion, name)
    reductions = ("none", "mean", "sum", "batchmean") if name == "kl_div" else REDUCTIONS
    for reduction in reductions:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            result = fn(input, target, reduction=reduction)
        if reduction == "none":
            assert math.prod(result.shape) == 0
        else:
            assert result.shape == ()
            assert (np.isnan if reduction != "sum" else lambda v: v == 0)(float(result))


def test_every_target_dropped_gives_nan_mean_like_torch(xp):
    x = xp.asarray([[1.0, 2.0], [0.5, -1.0]])
    y = xp.asarray([-100, -100])
    calls = [
        lambda r: companion.cross_entropy(x, y, reduction=r),
        lambda r: companion.cross_entropy_reference(x, y, reduction=r, label_smoothing=0.1),
        lambda r: companion.nll_loss(x, y, reduction=r),
        lambda r: companion.nll_loss_reference(x, y, reduction=r),
    ]
    for loss in calls:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert np.isnan(float(loss("mean"))) and float(loss("sum")) == 0.0
    assert torch.isnan(F.cross_entropy(torch.ones(2, 2), torch.tensor([-100, -100])))


# --------------------------------------------------------------------------- focal loss


def test_focal_matches_the_torchvision_transcription():
    """In float64, on logits in [-6, 6], the companion's focal loss and its gradient equal
    torchvision's formula to 1e-12, for every alpha, gamma and reduction (beyond that,
    torchvision's 1 - p_t loses more than 1e-12 of its digits to cancellation)."""
    rng = np.random.default_rng(7)
    x_np = rng.uniform(-6, 6, size=(6, 4))
    t_np = binary_targets(rng, (6, 4))
    for alpha, gamma in [(0.25, 2.0), (-1.0, 0.0), (0.75, 0.5), (0.5, 3.0)]:
        for reduction in REDUCTIONS:
            grads = []
            for fn in (companion.sigmoid_focal_loss, torchvision_sigmoid_focal_loss):
                x = torch.tensor(x_np, requires_grad=True)
                loss = fn(x, torch.tensor(t_np), alpha=alpha, gamma=gamma, reduction=reduction)
                loss.backward(upstream(loss))
                grads.append((loss.detach(), x.grad))
            for ours, theirs in zip(*grads, strict=True):
                torch.testing.assert_close(ours, theirs, rtol=1e-12, atol=0)


def test_focal_keeps_its_digits():
    """Documented difference: torchvision's float32 loss of a confident right answer is
    PyTorch's cross-entropy, which cancels for t = 0 (0 from x = -15), times 1 - p_t formed
    by subtraction (0 from x = 17 for t = 1), so it is exactly 0 there and a few percent
    off before; the companion's stays within float32 precision of the float64 value."""
    x = torch.tensor([-12.0, -16.0, 12.0, 18.0])
    t = torch.tensor([0.0, 0.0, 1.0, 1.0])
    exact = torchvision_sigmoid_focal_loss(x.double(), t.double())  # float64 keeps them here
    theirs = torchvision_sigmoid_focal_loss(x, t)
    assert torch.all(exact > 0) and theirs[1] == 0 and theirs[3] == 0
    assert torch.all((theirs[[0, 2]] / exact[[0, 2]] - 1).abs() > 5e-3)
    for ours in (
        companion.sigmoid_focal_loss(x, t).double(),
        torch.from_numpy(companion.sigmoid_focal_loss(x.numpy(), t.numpy())).double(),
    ):
        torch.testing.assert_close(ours, exact, rtol=1e-6, atol=0)


# --------------------------------------------------------------------------- documented limits


def test_float16_is_computed_in_float32():
    """Documented difference: PyTorch's float16 CPU kernels round every step of a composite
    loss; the companion computes float16 in float32 and rounds once."""
    x = torch.tensor([-5.0, -7.0], dtype=torch.float16)
    t = torch.zeros(2, dtype=torch.float16)
    theirs = F.binary_cross_entropy_with_logits(x, t, reduction="none")
    exact = F.binary_cross_entropy_with_logits(x.float(), t.float(), reduction="none")
    ours = companion.binary_cross_entropy_with_logits(x, t, reduction="none")
    assert theirs[0] / exact[0] > 1.15 and theirs[1] == 0  # 16% too large, then 0
    torch.testing.assert_close(ours, exact.half(), rtol=0, atol=0)
    logits = torch.tensor([[1e4, -1e4, -1e4, -1e4, -1e4]])
    y = torch.tensor([0])
    assert torch.isinf(F.cross_entropy(logits.half(), y, label_smoothing=0.1))
    ours = companion.cross_entropy(logits.half(), y, label_smoothing=0.1)
    assert ours.dtype == torch.float16 and ours.item() == 1600.0
    assert F.cross_entropy(logits, y, label_smoothing=0.1).item() == 1600.0


def test_bce_with_logits_keeps_pytorchs_cancellation():
    """Documented limit shared with PyTorch: (1 - t) x - log sigma(x) cancels for t = 0 and
    x << 0. In float32 the loss at x = -12 is 5.7e-6 (exact: 6.1e-6), and 0 from x = -15;
    the gradient sigma(x) - t keeps its digits."""
    x = np.array([-12.0, -15.0], dtype=np.float32)
    t = np.zeros(2, dtype=np.float32)
    exact = np.log1p(np.exp(x.astype(np.float64)))
    for loss in (
        companion.binary_cross_entropy_with_logits(x, t, reduction="none"),
        companion.binary_cross_entropy_with_logits(
            torch.from_numpy(x), torch.from_numpy(t), reduction="none"
        ).numpy(),
    ):
        assert abs(loss[0] / exact[0] - 1) > 0.05 and loss[1] == 0
    grad = companion.binary_cross_entropy_with_logits_grad(x, t, reduction="none")
    np.testing.assert_allclose(grad, 1 / (1 + np.exp(-x.astype(np.float64))), rtol=1e-6)


# --------------------------------------------------------------------------- scikit-learn


def test_binary_cross_entropy_equals_sklearn_log_loss():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, size=200)
    p = rng.uniform(0.01, 0.99, size=200)
    w = rng.uniform(0.5, 2.0, size=200)
    np.testing.assert_allclose(companion.binary_cross_entropy(p, y), log_loss(y, p), rtol=1e-14)
    weighted = companion.binary_cross_entropy(p, y, weight=w, reduction="sum") / w.sum()
    np.testing.assert_allclose(weighted, log_loss(y, p, sample_weight=w), rtol=1e-14)
    x = rng.normal(size=200) * 4
    np.testing.assert_allclose(
        companion.binary_cross_entropy_with_logits(x, y),
        log_loss(y, 1 / (1 + np.exp(-x))),
        rtol=1e-12,
    )


def test_cross_entropy_equals_sklearn_log_loss():
    rng = np.random.default_rng(4)
    logits_ = rng.normal(size=(300, 5)) * 3
    y = rng.integers(0, 5, size=300)
    probs = np.exp(logits_) / np.exp(logits_).sum(axis=1, keepdims=True)
    expected = log_loss(y, probs, labels=range(5))
    np.testing.assert_allclose(companion.cross_entropy(logits_, y), expected, rtol=1e-12)
    np.testing.assert_allclose(companion.nll_loss(np.log(probs), y), expected, rtol=1e-12)
    one_hot = np.eye(5)[y]
    np.testing.assert_allclose(companion.cross_entropy(logits_, one_hot), expected, rtol=1e-12)


# --------------------------------------------------------------------------- transforms


def test_torch_func_transforms_skip_the_value_checks():
    """Under torch.func.grad and vmap the values cannot be read (the range checks are
    skipped, as documented) and the losses still give autograd's results."""
    x = torch.tensor([[2.0, -1.0, 0.5], [0.0, 3.0, -2.0]])
    y = torch.tensor([2, 1])
    grad = torch.func.grad(lambda z: companion.cross_entropy(z, y))(x)
    torch.testing.assert_close(
        grad, torch.from_numpy(companion.cross_entropy_grad(x.numpy(), y.numpy()))
    )
    per_sample = torch.vmap(lambda z, c: companion.cross_entropy(z, c))(x, y)
    torch.testing.assert_close(per_sample, F.cross_entropy(x, y, reduction="none"))
    t = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 1.0]])
    per_row = torch.vmap(lambda z, c: companion.binary_cross_entropy_with_logits(z, c))(x, t)
    torch.testing.assert_close(
        per_row, F.binary_cross_entropy_with_logits(x, t, reduction="none").mean(1)
    )
