"""Where the front ends get their backend, and the kernel table it is given.

The table is derived from the standard library's primitive specs (each carries its numpy
kernel); another backend's table is swapped in here and nowhere else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import DTypeLike

if TYPE_CHECKING:
    from catdsl.semantics.kernel import KernelTable
    from catdsl.semantics.numpy_backend import NumpyBackend


def kernel_table() -> KernelTable:
    """The numpy kernel factories by primitive name."""
    from catdsl.std.library import KERNELS

    return KERNELS


def default_backend(dtype: DTypeLike = np.float64) -> NumpyBackend:
    """The numpy backend for values of `dtype`, with the standard kernels."""
    from catdsl.semantics.numpy_backend import NumpyBackend

    return NumpyBackend(kernel_table(), dtype)
