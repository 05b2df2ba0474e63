"""Where the front ends get their backend, and the kernel table it is given.

The table comes from the standard library's kernels for now; a table derived from the
primitives' specs, or another backend's, is swapped in here and nowhere else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import DTypeLike

if TYPE_CHECKING:
    from catdsl.diagram.ir import Diagram
    from catdsl.semantics.numpy_backend import KernelTable, NumpyBackend
    from catdsl.semantics.plan import Plan


def kernel_table() -> KernelTable:
    """The numpy kernel factories by primitive name."""
    from catdsl.std.kernels import KERNELS

    return KERNELS


def default_backend(dtype: DTypeLike = np.float64) -> NumpyBackend:
    """The numpy backend for values of `dtype`, with the standard kernels."""
    from catdsl.semantics.numpy_backend import NumpyBackend

    return NumpyBackend(kernel_table(), dtype)


def compile_diagram(diagram: Diagram, dtype: DTypeLike = np.float64) -> Plan:
    """`diagram` compiled by the default backend (for tests and benchmarks)."""
    return default_backend(dtype).compile(diagram)
