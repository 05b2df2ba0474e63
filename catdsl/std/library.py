"""The standard library's primitives: one `PrimSpec` each, the single source every phase reads.

A spec holds the primitive's module, arguments and defaults, its generic signature (built in
`catdsl.std.signatures`), its documentation and its numpy reference kernel (`catdsl.std.kernels`,
`catdsl.std.attention_kernels`). Primitives added later live one file each in
`catdsl.std.prims`, which this table picks up. The loader hands `PRIMITIVES` to the checker and
the front end hands `KERNELS` to the numpy backend; nothing below `std` imports this module.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Mapping

from catdsl.semantics.kernel import Kernel, build_kernel
from catdsl.std import prims, statics
from catdsl.std import signatures as sig
from catdsl.std.attention_kernels import (
    ConcatHeads,
    FeedForward,
    LayerNorm,
    MaskScores,
    Mix,
    Positional,
    Readout,
    Residual,
    RowSoftmax,
    Scores,
)
from catdsl.std.kernels import (
    Add,
    Affine,
    CrossEntropy,
    Dot,
    Linear,
    LogSoftmax,
    Lookup,
    Mean,
    Mse,
    Mul,
    Nll,
    Relu,
    Scale,
    Sigmoid,
    Softmax,
    Sum,
    Tanh,
    Windows,
)
from catdsl.typesys.primitives import PrimSpec

ML, ATT = "std.ml", "std.attention"

_CORE = [
    PrimSpec(
        "lookup", ML, ("table",), (), sig.lookup, "row `table[t]` of each index t", kernel=Lookup
    ),
    PrimSpec("affine", ML, ("W", "b"), (), sig.affine, "`x·W + b`", kernel=Affine),
    PrimSpec(
        "linear", ML, ("W",), (), sig.linear, "`x·W`; exact on `Int` (no gradient)", kernel=Linear
    ),
    PrimSpec(
        "add",
        ML,
        (),
        (),
        sig.numeric_binary,
        "elementwise sum (of reals or whole numbers)",
        kernel=Add,
    ),
    PrimSpec(
        "mul",
        ML,
        (),
        (),
        sig.numeric_binary,
        "elementwise product (of reals or whole numbers)",
        kernel=Mul,
    ),
    PrimSpec(
        "scale",
        ML,
        (),
        ("c",),
        sig.elementwise,
        "`c·x`, a constant multiple",
        defaults={"c": 1.0},
        kernel=Scale,
    ),
    PrimSpec("dot", ML, ("v",), (), sig.dot, "inner product with v", kernel=Dot),
    PrimSpec("sum", ML, (), (), sig.reduce, "sum of all entries of each element", kernel=Sum),
    PrimSpec("mean", ML, (), (), sig.reduce, "mean of all entries of each element", kernel=Mean),
    PrimSpec("relu", ML, (), (), sig.elementwise, "`max(0, x)`", kernel=Relu),
    PrimSpec("tanh", ML, (), (), sig.elementwise, "hyperbolic tangent", kernel=Tanh),
    PrimSpec("sigmoid", ML, (), (), sig.elementwise, "logistic function", kernel=Sigmoid),
    PrimSpec(
        "softmax", ML, (), (), sig.softmax, "max-shifted softmax of the last axis", kernel=Softmax
    ),
    PrimSpec(
        "log_softmax", ML, (), (), sig.log_softmax, "log-softmax (log-sum-exp)", kernel=LogSoftmax
    ),
    PrimSpec("nll", ML, (), (), sig.nll, "`−log(max(p[t], 1e-9))`", kernel=Nll),
    PrimSpec(
        "cross_entropy",
        ML,
        (),
        (),
        sig.cross_entropy,
        "softmax + nll, fused, on logits",
        kernel=CrossEntropy,
    ),
    PrimSpec("mse", ML, (), (), sig.mse, "mean squared error", kernel=Mse),
    PrimSpec(
        "windows",
        ML,
        (),
        ("k",),
        sig.windows,
        "the overlapping windows of k items",
        defaults={"k": 2},
        count="k",
        kernel=Windows,
    ),
    PrimSpec(
        "layer_norm",
        ATT,
        ("scale", "shift"),
        ("eps",),
        sig.layer_norm,
        "layer norm of the last axis, biased variance",
        defaults={"eps": 1e-5},
        kernel=LayerNorm,
        validate=statics.real("eps", 0, open_low=True),
        also=(ML,),
    ),
    PrimSpec("scores", ATT, (), (), sig.scores, "`Q·Kᵀ / sqrt(k)`", kernel=Scores),
    PrimSpec(
        "mask_scores", ATT, (), (), sig.mask_scores, "blocked scores become −1e6", kernel=MaskScores
    ),
    PrimSpec(
        "row_softmax", ATT, (), (), sig.softmax, "softmax of each score row", kernel=RowSoftmax
    ),
    PrimSpec("mix", ATT, (), (), sig.mix, "weights · values", kernel=Mix),
    PrimSpec(
        "concat_heads",
        ATT,
        (),
        ("n",),
        sig.concat,
        "concatenate heads' columns",
        defaults={"n": 2},
        count="n",
        kernel=ConcatHeads,
    ),
    PrimSpec("residual", ATT, (), (), sig.binary, "residual sum", kernel=Residual),
    PrimSpec(
        "ffn",
        ATT,
        ("W1", "b1", "W2", "b2"),
        (),
        sig.ffn,
        "`relu(x·W1 + b1)·W2 + b2`",
        kernel=FeedForward,
    ),
    PrimSpec(
        "positional",
        ATT,
        ("table",),
        (),
        sig.positional,
        "add a positional table",
        kernel=Positional,
    ),
    PrimSpec(
        "readout",
        ATT,
        ("W", "b"),
        (),
        sig.affine,
        "the Transformer readout `x·W + b`",
        kernel=Readout,
    ),
]


def _added_primitives() -> list[PrimSpec]:
    """The `SPEC` of every module in `catdsl.std.prims` (or the `SPECS` of a module holding a
    small family of primitives), in module-name order; a module whose name starts with `_`
    holds what several primitives share, not a primitive."""
    found: list[PrimSpec] = []
    for info in sorted(pkgutil.iter_modules(prims.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{prims.__name__}.{info.name}")
        found.extend(module.SPECS if hasattr(module, "SPECS") else [module.SPEC])
    return found


def _table(specs: list[PrimSpec]) -> dict[str, PrimSpec]:
    table: dict[str, PrimSpec] = {}
    for spec in specs:
        if spec.name in table:
            raise ValueError(f"the primitive `{spec.name}` is defined twice")
        if spec.kernel is None:
            raise ValueError(f"the primitive `{spec.name}` has no kernel")
        table[spec.name] = spec
    return table


PRIMITIVES: dict[str, PrimSpec] = _table([*_CORE, *_added_primitives()])
"""Every standard-library primitive, by name."""

KERNELS: dict[str, Callable[..., Kernel]] = {
    name: spec.kernel for name, spec in PRIMITIVES.items() if spec.kernel is not None
}
"""Primitive name -> numpy kernel factory, called as `factory(in_ranks, **static)`."""


def make_kernel(name: str, static: Mapping[str, object], in_ranks: tuple[int, ...]) -> Kernel:
    """The numpy kernel of the primitive `name` (tests and benchmarks build kernels alone), its
    spec's defaults filled in as the checker fills them; a name with no kernel is a KeyError."""
    if name not in KERNELS:
        raise KeyError(f"no kernel named `{name}`")
    static = {**PRIMITIVES[name].defaults, **static}
    return build_kernel(KERNELS[name], name, static, in_ranks)
