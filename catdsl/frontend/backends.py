"""Where the front ends get their backend, and the kernel table it is given.

The table is derived from the standard library's primitive specs (each carries its numpy
kernel), plus the kernels of the plugins a program imports; another backend's table is
swapped in here and nowhere else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import DTypeLike

if TYPE_CHECKING:
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
