"""Shared fixtures and helpers for the companion's loss tests.

The ``xp`` fixture runs a test once per array library: NumPy and PyTorch (through
``array_api_compat``) and ``array_api_strict``, the standard's reference implementation,
which refuses anything outside the standard.
"""

from __future__ import annotations

from typing import Any

import array_api_compat
import array_api_compat.numpy
import array_api_compat.torch
import array_api_strict
import numpy as np
import pytest
import torch

BACKENDS = {
    "numpy": array_api_compat.numpy,
    "torch": array_api_compat.torch,
    "array_api_strict": array_api_strict,
}

# Floating dtypes each library supports (the array API has no float16).
DTYPES = {
    "numpy": ("float16", "float32", "float64"),
    "torch": ("float16", "float32", "float64"),
    "array_api_strict": ("float32", "float64"),
}

BACKEND_DTYPES = [(b, d) for b, dtypes in DTYPES.items() for d in dtypes]

# Relative tolerances against PyTorch: a few ulps for float32/float64; float16 allows for
# PyTorch computing in float32 internally and rounding once, while a chain of float16
# operations rounds at each step.
RTOL = {"float16": 1e-2, "float32": 1e-6, "float64": 1e-13}
# Absolute tolerance for float16 subnormals (below 6.1e-5 the spacing is a fixed 6e-8).
ATOL = {"float16": 1e-6, "float32": 0.0, "float64": 0.0}


@pytest.fixture(params=list(BACKENDS))
def xp(request: pytest.FixtureRequest) -> Any:
    """One array namespace per library."""
    return BACKENDS[request.param]


def asarray(xp: Any, values: Any, dtype: str) -> Any:
    """``values`` (a NumPy array or nested list) as an array of ``xp`` with ``dtype``."""
    return xp.asarray(np.asarray(values, dtype=dtype).tolist(), dtype=getattr(xp, dtype))


def to_numpy(x: Any) -> np.ndarray:
    """Any library's array (or NumPy scalar) as a NumPy array with the same dtype."""
    if array_api_compat.is_torch_array(x):
        return x.detach().cpu().numpy()
    if array_api_compat.is_numpy_array(x):
        return np.asarray(x)
    return np.from_dlpack(x)


def dtype_name(x: Any) -> str:
    """The dtype of ``x`` as a NumPy-style name such as ``'float32'``."""
    return to_numpy(x).dtype.name


# The tests use tiny tensors: one intra-op thread is faster for them, and on a busy machine
# PyTorch's thread pool makes every operation wait for the other core (measured with two
# threads under load: about 16 ms per cross_entropy call on an (8, 5) tensor, 3 us with one).
torch.set_num_threads(1)
