"""The error raised when a module of the companion needs an optional dependency that is absent."""

from __future__ import annotations

DISTRIBUTION = "loss-functions-companion"


def missing_extra(error: ModuleNotFoundError, extra: str, feature: str) -> ImportError:
    """An :class:`ImportError` that names the extra to install for ``feature``.

    Use it where an optional dependency is imported, so that the message says what to do
    instead of only "No module named ...", and chain the original error::

        try:
            import torch
        except ModuleNotFoundError as error:
            raise missing_extra(error, "torch", "companion.training") from error

    Parameters
    ----------
    error : ModuleNotFoundError
        The error the failed import raised; its ``name`` is the module that is missing.
    extra : str
        The extra of the distribution that installs it, such as ``"torch"``.
    feature : str
        What needs it, such as ``"companion.training"``.

    Examples
    --------
    >>> error = ModuleNotFoundError("No module named 'torch'", name="torch")
    >>> print(missing_extra(error, "torch", "companion.training"))  # doctest: +NORMALIZE_WHITESPACE
    companion.training needs torch, which is not installed:
    pip install "loss-functions-companion[torch]"
    """
    missing = (error.name or extra).split(".")[0]
    return ImportError(
        f'{feature} needs {missing}, which is not installed: pip install "{DISTRIBUTION}[{extra}]"',
        name=missing,
    )
