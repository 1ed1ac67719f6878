"""The companion under PyTorch's transformations: ``torch.vmap`` (every function, and
``vmap(grad(...))`` for per-sample gradients) and ``torch.compile(fullgraph=True)`` with a
Python number or list as one argument. Forward- and reverse-mode derivatives are in
``test_losses_autodiff``.

``torch.compile`` costs seconds per function on a small machine, so it is checked on a few
representative calls: a public loss (PyTorch's kernel), a reference formula and an analytic
gradient, with Python numbers, lists and integers, and with a changing beta/delta.
"""

from __future__ import annotations

import pytest
import torch

import companion

NAMES = ("l1_loss", "mse_loss", "smooth_l1_loss", "huber_loss")
PARAMETERS = {"smooth_l1_loss": [{"beta": 0.0}, {"beta": 1.5}], "huber_loss": [{"delta": 1.5}]}
CASES = [
    (getattr(companion, f"{name}{suffix}"), params)
    for name in NAMES
    for params in PARAMETERS.get(name, [{}])
    for suffix in ("", "_reference", "_grad")
]
CASES.append((companion.rmse, {}))
CASES += [(fn, {"tau": 0.3}) for fn in (companion.pinball_loss, companion.pinball_loss_grad)]


def case_id(case) -> str:
    if isinstance(case, dict):
        return "-".join(f"{k}={v}" for k, v in case.items()) or "default"
    return case.__name__


def data() -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(5)
    x = torch.randn(4, 6, generator=generator) * 3
    x[0, :3] = torch.tensor([0.0, 1.5, -1.5])  # exactly 0 and at the kink
    return x, torch.randn(4, 6, generator=generator)


@pytest.mark.parametrize(("fn", "params"), CASES, ids=case_id)
def test_vmap_equals_row_by_row(fn, params):
    x, y = data()
    batched = torch.vmap(lambda a, b: fn(a, b, **params))(x, y)
    rows = torch.stack([fn(x[i], y[i], **params) for i in range(len(x))])
    torch.testing.assert_close(batched, rows, rtol=1e-6, atol=0)


@pytest.mark.parametrize(("fn", "params"), [c for c in CASES if "_grad" not in c[0].__name__])
def test_per_sample_gradients_with_vmap_of_grad(fn, params):
    """``vmap(grad(loss))``, the torch.func recipe for per-sample gradients, equals autograd
    row by row."""
    x, y = data()
    per_sample = torch.vmap(torch.func.grad(lambda a, b: fn(a, b, **params)))(x, y)
    for i in range(len(x)):
        row = x[i].clone().requires_grad_(True)
        fn(row, y[i], **params).backward()
        torch.testing.assert_close(per_sample[i], row.grad, rtol=1e-6, atol=0)


# Dynamo traces through functools caches (array-api-compat's and the companion's dtype checks)
# and says so; the results are checked below.
@pytest.mark.filterwarnings("ignore:Dynamo detected a call to a `functools.lru_cache`")
@pytest.mark.filterwarnings("ignore:`torch.jit.script:DeprecationWarning")  # inside PyTorch
def test_compile_fullgraph_with_python_numbers_and_lists():
    """One compiled function per code path, each with a number, a list and integers as one
    argument; the results equal the uncompiled ones. A changing delta (a dynamic float on the
    second call) compiles too."""
    scalar, vector = torch.tensor(2.5), torch.tensor([0.5, -3.0, 2.0])
    calls = [
        (companion.huber_loss, (scalar, 0.5), {}),
        (companion.huber_loss, (vector, [0, 1, 2]), {"delta": 2.0}),
        (companion.huber_loss, ([1.0, 2.0, 0.0], vector), {"delta": 3.0}),
        (companion.smooth_l1_loss_reference, (vector, [1, 1, 1]), {"beta": 0.5}),
        (companion.l1_loss_grad, (vector, [1, -3, 2]), {}),
    ]
    compiled = {fn: torch.compile(fn, fullgraph=True) for fn, _, _ in calls}
    for fn, args, kwargs in calls:
        torch.testing.assert_close(compiled[fn](*args, **kwargs), fn(*args, **kwargs))
