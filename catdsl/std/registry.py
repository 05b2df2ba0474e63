"""The standard library's kernel table: primitive name -> numpy kernel factory.

The numpy backend receives this table from the front end; nothing below `std` imports it.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

from catdsl.errors import CatRuntimeError
from catdsl.semantics.kernel import Kernel
from catdsl.std.attention_kernels import ATTENTION_KERNELS
from catdsl.std.kernels import ML_KERNELS

KERNELS: dict[str, Callable[..., Kernel]] = {
    kernel.name: kernel for kernel in (*ML_KERNELS, *ATTENTION_KERNELS)
}
"""Kernel name -> factory, called as `factory(in_ranks, **static)`."""


def make_kernel(name: str, static: dict[str, object], in_ranks: tuple[int, ...]) -> Kernel:
    """Build the kernel `name` for one box; raises KeyError for a name with no kernel."""
    if name not in KERNELS:
        raise KeyError(f"no kernel named `{name}`")
    factory = KERNELS[name]
    try:
        inspect.signature(factory).bind(tuple(in_ranks), **static)
    except TypeError as exc:
        raise CatRuntimeError("R0404", f"bad static arguments for `{name}`: {exc}") from None
    return factory(tuple(in_ranks), **static)
