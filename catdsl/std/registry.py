"""Building one numpy kernel from the standard library's table, its static arguments checked."""

from __future__ import annotations

import inspect

from catdsl.errors import CatRuntimeError
from catdsl.semantics.kernel import Kernel
from catdsl.std.library import KERNELS


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
