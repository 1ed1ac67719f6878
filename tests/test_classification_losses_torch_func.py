"""The classification losses under PyTorch's transformations: ``torch.vmap`` over independent
problems, ``vmap(grad(...))`` for per-sample gradients, and ``torch.compile(fullgraph=True)``
with a Python list as one argument. The value checks cannot read traced values; the formulas
then give NaN for an out-of-range class index.

``torch.compile`` costs about a second per function on a small machine, so it is checked on a
few representative calls: PyTorch's kernels behind the public losses, a reference formula, an
analytic derivative, and the focal loss (a formula on tensors too).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from classification_cases import CASES, GRAD_CASES

import companion

# PyTorch has no batching rule for kl_div and multi_margin_loss: vmap loops over the batch.
pytestmark = pytest.mark.filterwarnings("ignore:There is a performance drop:UserWarning")

ALL = CASES + GRAD_CASES


def on_torch(value):
    return torch.from_numpy(value) if isinstance(value, np.ndarray) else value


def case_id(value) -> str:
    return value if isinstance(value, str) else repr(value)


@pytest.mark.parametrize("case", ALL, ids=case_id)
def test_vmap_over_problems_equals_problem_by_problem(case):
    x, y = on_torch(case.input), on_torch(case.target)
    kwargs = {k: on_torch(v) for k, v in case.kwargs.items()}
    batched = torch.vmap(lambda a, b: case.fn(a, b, **kwargs))(x, y)
    one_by_one = torch.stack([case.fn(x[r], y[r], **kwargs) for r in range(len(x))])
    torch.testing.assert_close(batched, one_by_one, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_per_sample_gradients_with_vmap_of_grad(case):
    """``vmap(grad(loss))`` over the samples of one problem (each sample a problem of its own:
    (C,) logits with a 0-d class index, or one row of elementwise losses) equals autograd
    sample by sample."""
    x, y = on_torch(case.input[0]), on_torch(case.target[0])
    kwargs = {k: on_torch(v) for k, v in case.kwargs.items()}
    if x.ndim > 2:  # one sample of (N, C, d) is (C, d), which takes no index: skip the axis
        x, y = x[..., 0], y[..., 0]
    per_sample = torch.vmap(torch.func.grad(lambda a, b: case.fn(a, b, **kwargs).sum()))(x, y)
    for i in range(len(x)):
        row = x[i].clone().requires_grad_(True)
        case.fn(row, y[i], **kwargs).sum().backward()
        torch.testing.assert_close(per_sample[i], row.grad, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize(
    "fn",
    [companion.cross_entropy_reference, companion.nll_loss_reference, companion.cross_entropy_grad],
    ids=lambda fn: fn.__name__,
)
def test_formulas_give_nan_for_an_unchecked_class_index(fn):
    """Under ``vmap`` the indices are traced; the formulas mark an index out of range with NaN
    instead of taking the class it wraps to (a negative index counts from the end)."""
    x = torch.tensor([[[2.0, -1.0, 0.5], [0.0, 3.0, -2.0]]])
    y = torch.tensor([[0, -1]])
    result = torch.vmap(lambda a, b: fn(a, b, reduction="none"))(x, y)[0]
    assert torch.isnan(result[1]).all() and torch.isfinite(result[0]).all()


# Dynamo traces through functools caches (array-api-compat's and the companion's dtype checks)
# and says so; the results are checked below.
@pytest.mark.filterwarnings("ignore:Dynamo detected a call to a `functools.lru_cache`")
@pytest.mark.filterwarnings("ignore:`torch.jit.script:DeprecationWarning")  # inside PyTorch
def test_compile_fullgraph_with_python_lists():
    """The argument checks are pure Python (no NumPy on lists), so Dynamo traces them whole;
    the value checks are skipped while compiling. Results equal the uncompiled ones."""
    x = torch.tensor([[2.0, -1.0, 0.5], [0.0, 3.0, -2.0]])
    calls = [
        (companion.cross_entropy, (x, [2, 1]), {"weight": [1.0, 2.0, 0.5]}),
        (companion.nll_loss, ([[-0.5, -1.0, -2.0], [-3.0, -0.1, -4.0]], torch.tensor([2, 1])), {}),
        (companion.cross_entropy_reference, (x, [2, -100]), {"label_smoothing": 0.1}),
        (companion.cross_entropy_grad, (x, [[0.2, 0.3, 0.5], [1, 0, 0]]), {}),
        (companion.binary_cross_entropy_with_logits, (x, [[1, 0, 1], [0, 0.5, 1]]), {}),
        (companion.sigmoid_focal_loss, (x, [[1.0, 0, 1], [0, 0, 1]]), {"reduction": "mean"}),
        (companion.multi_margin_loss, (x, [2, 1]), {"p": 2}),
    ]
    compiled = {fn: torch.compile(fn, fullgraph=True) for fn, _, _ in calls}
    for fn, args, kwargs in calls:
        torch.testing.assert_close(compiled[fn](*args, **kwargs), fn(*args, **kwargs))
