"""catdsl: typed machine-learning pipelines written as category theory writes them.

`catdsl.load(path)` / `catdsl.loads(text)` parse and check a program and return a `Program`;
`program[name]` is a typed morphism you can call on numpy values. Both raise `CatError`
carrying every diagnostic when the program has errors. `catdsl.PrimitiveSet` registers
primitives from Python (`plugins=[...]`), and `catdsl.check_primitive` checks one's VJP.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from catdsl.errors import CatError, CatRuntimeError, Diagnostic, Span

if TYPE_CHECKING:
    import os
    from collections.abc import Iterable

    from catdsl.frontend.api import Program
    from catdsl.frontend.primitive_check import check_primitive
    from catdsl.std.plugins import PrimitiveSet
    from catdsl.typesys.primitives import PluginSpec

__all__ = [
    "CatError",
    "CatRuntimeError",
    "Diagnostic",
    "PrimitiveSet",
    "Program",
    "Span",
    "check_primitive",
    "load",
    "loads",
]
__version__ = "0.1.0"


def load(
    path: str,
    dtype: str = "float64",
    allow_read: Iterable[str | os.PathLike[str]] = (),
    plugins: Iterable[PrimitiveSet | PluginSpec] = (),
    backend: str = "numpy",
    device: str = "cpu",
) -> Program:
    """Read, parse and check a `.cat` file; values are computed in `dtype`. Its imports and
    `load`s are read from its directory, or from the directories of `allow_read`
    (docs/security.md); `import plugin.NAME` finds NAME among `plugins`, then among installed
    packages (docs/extending.md). `backend="torch"` runs it on PyTorch on `device`
    (docs/backends.md)."""
    from catdsl.frontend.api import load_program
    from catdsl.frontend.backends import named_backend

    engine = named_backend(backend, dtype, device)
    return load_program(path, dtype, engine, allow_read=allow_read, plugins=plugins)


def loads(
    text: str,
    file: str = "<string>",
    dtype: str = "float64",
    allow_read: Iterable[str | os.PathLike[str]] = (),
    plugins: Iterable[PrimitiveSet | PluginSpec] = (),
    backend: str = "numpy",
    device: str = "cpu",
) -> Program:
    """Parse and check program text; `file` names it in diagnostics, and its directory (the
    working directory for "<string>") is where imports and `load`s are read from, besides the
    directories of `allow_read`; plugins are found as `load` finds them; `backend` and
    `device` as for `load`."""
    from catdsl.frontend.api import loads_program
    from catdsl.frontend.backends import named_backend

    engine = named_backend(backend, dtype, device)
    return loads_program(text, file, dtype, engine, allow_read=allow_read, plugins=plugins)


def __getattr__(name: str) -> object:
    """`PrimitiveSet` and `check_primitive`, imported on first use (they need numpy, which
    `import catdsl` alone does not load)."""
    if name == "PrimitiveSet":
        from catdsl.std.plugins import PrimitiveSet

        return PrimitiveSet
    if name == "check_primitive":
        from catdsl.frontend.primitive_check import check_primitive

        return check_primitive
    raise AttributeError(f"module 'catdsl' has no attribute {name!r}")
