"""Type aliases used in the companion's signatures.

Both are :data:`typing.Any` to a type checker (no single type covers NumPy, PyTorch, JAX,
dask and every other array-API library); the names tell a reader what a function takes.
"""

from __future__ import annotations

from typing import Any, TypeAlias

Array: TypeAlias = Any
"""An array of any array-API library (NumPy, PyTorch, JAX, dask, array-api-strict, ...)."""

ArrayLike: TypeAlias = Any
"""An :data:`Array`, a Python number or a (nested) list of numbers."""
