"""Argument checks shared by the chapter helpers (the losses have their own validation)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

import numpy as np


def check_count(name: str, value: Any, minimum: int = 1) -> None:
    """Raise ``ValueError`` unless ``value`` is an integer (not a bool) ``>= minimum``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")


def check_schedule(lr: Any, steps: Any, name: str = "steps") -> None:
    """Raise ``ValueError`` unless the learning rate ``lr`` is > 0 and the number of ``steps``
    (called ``name``) an integer ``>= 0``."""
    if not lr > 0:
        raise ValueError(f"lr must be > 0, got {lr!r}")
    check_count(name, steps, minimum=0)


def check_seeds(seeds: Any) -> list[int]:
    """``seeds`` as a non-empty list of integers ``>= 0``, one per run."""
    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, Iterable):
        raise TypeError(f"seeds must be a sequence of integers, one per run, got {seeds!r}")
    values = list(seeds)
    if not values:
        raise ValueError("seeds must name at least one seed, got an empty sequence")
    for seed in values:
        check_count("every seed", seed, minimum=0)
    return [int(seed) for seed in values]


def as_seeds(seeds: Any) -> np.ndarray:
    """``seeds`` as a 1-D integer array: an int ``k`` means the seeds ``0, ..., k - 1``."""
    if np.ndim(seeds) == 0:
        check_count("seeds", seeds, 1)
        seeds = np.arange(seeds)
    seeds = np.asarray(seeds)
    if seeds.size == 0 or seeds.ndim != 1 or not np.issubdtype(seeds.dtype, np.integer):
        raise ValueError(f"seeds must be a positive int or a 1-D array of ints, got {seeds!r}")
    return cast(np.ndarray, seeds)
