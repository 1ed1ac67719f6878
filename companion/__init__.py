"""Regression loss functions that work on NumPy arrays, PyTorch tensors and any array-API library."""

__version__ = "0.1.0"
