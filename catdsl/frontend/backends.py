"""Where the front ends get their backend, and the kernel table it is given.

The table is derived from the standard library's primitive specs (each carries its numpy
kernel), plus the kernels of the plugins a program imports; another backend's table is
swapped in here and nowhere else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import DTypeLike

if TYPE_CHECKING:
    from catdsl.semantics.backend import Backend
    from catdsl.semantics.kernel import KernelTable
    from catdsl.semantics.numpy_backend import NumpyBackend


def kernel_table(extra: KernelTable | None = None) -> KernelTable:
    """The numpy kernel factories by primitive name: the standard ones and `extra` (those of
    the plugins a program imports)."""
    from catdsl.std.library import KERNELS

    return {**KERNELS, **extra} if extra else KERNELS


def default_backend(
    dtype: DTypeLike = np.float64, extra: KernelTable | None = None
) -> NumpyBackend:
    """The numpy backend for values of `dtype`, with the standard kernels and `extra`."""
    from catdsl.semantics.numpy_backend import NumpyBackend

    return NumpyBackend(kernel_table(extra), dtype)


BACKENDS = ("numpy", "torch")
"""The backends a program can be run on, by the name `--backend` and `backend=` take."""


def named_backend(
    name: str, dtype: DTypeLike = np.float64, device: str = "cpu"
) -> Backend[Any] | None:
    """The backend called `name` on `device` (None for numpy: the program makes its default,
    with its plugins' kernels). An unknown name, or numpy off the CPU, is a `ValueError`; torch
    without PyTorch installed is an `ImportError` saying what to install."""
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r}: choose one of {', '.join(BACKENDS)}")
    if name == "numpy":
        if device != "cpu":
            raise ValueError(f"the numpy backend runs on the CPU only, not on {device!r}")
        return None
    from catdsl.semantics.torch_backend import TorchBackend, import_torch

    import_torch()  # a clear ImportError before the rules module imports torch
    from catdsl.std.torch_library import TORCH_RULES

    return TorchBackend(TORCH_RULES, dtype, device)
