"""`catdsl.check_primitive`: a registered primitive's VJP against central differences.

The primitive runs alone, through the kernel the backend would bind, on random inputs of its
signature: every axis name gets its own small size (so a transposed axis shows), a variadic
prefix `*s` the batch `(2, 3)`. The objective is `Σ c · f(x)` for a fixed random cotangent c,
so every output coordinate counts, as in `catdsl gradcheck`; each real input is checked
coordinate by coordinate. Outputs must have the shapes the signature gives them. The report
says, per input, the largest error, and whether the primitive passes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from catdsl.errors import CatRuntimeError
from catdsl.frontend.sampling import Sampler
from catdsl.std.plugins import PluginKernel, Primitive
from catdsl.std.signature_text import SignatureText
from catdsl.typesys.dims import Dim
from catdsl.typesys.types import Carrier, Shape

ABS_TOLERANCE = 1e-7
REL_TOLERANCE = 1e-5
BATCH = (2, 3)


@dataclass(frozen=True)
class InputRow:
    """One input's check: the largest absolute and relative error over its coordinates."""

    name: str
    shape: tuple[int, ...]
    max_abs_error: float
    max_rel_error: float

    @property
    def ok(self) -> bool:
        return self.max_abs_error <= ABS_TOLERANCE or self.max_rel_error <= REL_TOLERANCE


@dataclass(frozen=True)
class PrimitiveReport:
    """What `check_primitive` found: a row per real input, and the problems that stopped
    or failed the check (an exception, a wrong shape), in words."""

    name: str
    rows: tuple[InputRow, ...]
    problems: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.problems and all(r.ok for r in self.rows)

    def __str__(self) -> str:
        lines = [f"check_primitive {self.name}: {'ok' if self.ok else 'FAILED'}"]
        for r in self.rows:
            mark = "ok  " if r.ok else "FAIL"
            lines.append(
                f"  {mark} {r.name:<12} shape {r.shape!s:<10} max abs error {r.max_abs_error:.1e}"
                f"  max relative error {r.max_rel_error:.1e}"
            )
        lines += [f"  FAIL {problem}" for problem in self.problems]
        return "\n".join(lines)


def check_primitive(
    prim: Primitive,
    *,
    sizes: Mapping[str, int] | None = None,
    static: Mapping[str, object] | None = None,
    seed: int = 0,
    eps: float = 1e-6,
) -> PrimitiveReport:
    """Check `prim`'s VJP against central differences of its forward function (float64), on
    random inputs whose axes have `sizes` (by the names of the signature; 2, 3, 4, ... by
    default); `static` overrides its constant arguments."""
    rng = np.random.default_rng(seed)
    signature = prim.signature
    shapes = _shapes(signature, dict(sizes or {}))
    names = [f"input {k + 1}" for k in range(len(signature.dom))] + [
        f"param {p}" for p in prim.param_names
    ]
    xs = [
        _sample(w.kind, shape, bound, rng)
        for w, (shape, bound) in zip(signature.inputs, shapes.inputs, strict=True)
    ]
    kernel = PluginKernel(
        prim, tuple(len(w.axes) for w in signature.inputs), {**prim.static, **(static or {})}
    )
    try:
        outs, residual = kernel.forward(*xs)
    except CatRuntimeError as err:
        return PrimitiveReport(prim.name, (), (err.diagnostic.message,))
    problems = [
        f"output {k + 1} has shape {np.shape(y)}, the signature gives {want}"
        for k, (y, want) in enumerate(zip(outs, shapes.outputs, strict=True))
        if not _fits(np.shape(y), want)
    ]
    if problems:
        return PrimitiveReport(prim.name, (), tuple(problems))
    cots = [rng.standard_normal(np.shape(y)) for y in outs]
    try:
        grads = kernel.vjp(residual, *cots)
    except CatRuntimeError as err:
        return PrimitiveReport(prim.name, (), (err.diagnostic.message,))

    def objective(inputs: list[np.ndarray]) -> float:
        values = kernel.forward(*inputs)[0]
        return float(sum(np.sum(c * y) for c, y in zip(cots, values, strict=True)))

    rows = []
    for k, (x, flag) in enumerate(zip(xs, kernel.differentiable, strict=True)):
        if not flag:
            continue
        numeric = np.zeros(x.shape)
        for i in np.ndindex(x.shape):
            up, down = x.copy(), x.copy()
            up[i] += eps
            down[i] -= eps
            plus = objective([*xs[:k], up, *xs[k + 1 :]])
            minus = objective([*xs[:k], down, *xs[k + 1 :]])
            numeric[i] = (plus - minus) / (2 * eps)
        pulled = grads[k]
        analytic = np.zeros(x.shape) if pulled is None else np.asarray(pulled)
        error = np.abs(analytic - numeric)
        scale = np.maximum(np.abs(numeric), np.abs(analytic))
        rel = np.where(scale > 0, error / np.where(scale > 0, scale, 1.0), 0.0)
        rows.append(
            InputRow(names[k], x.shape, float(error.max(initial=0.0)), float(rel.max(initial=0.0)))
        )
    return PrimitiveReport(prim.name, tuple(rows))


@dataclass(frozen=True)
class _Shapes:
    """Concrete shapes (and bounds) for the inputs; the outputs' shapes, None for an axis only
    the outputs name."""

    inputs: list[tuple[tuple[int, ...], int | None]]
    outputs: list[tuple[int | None, ...]]


def _shapes(signature: SignatureText, sizes: dict[str, int]) -> _Shapes:
    known: dict[str, int] = dict(sizes)
    fresh = (n for n in range(2, 1000) if n not in sizes.values())

    def size(axis: str | int) -> int:
        """An input's axis: a number, a size given, or the next size not given."""
        if isinstance(axis, str) and axis not in known:
            known[axis] = next(fresh)
        return axis if isinstance(axis, int) else known[axis]

    inputs = []
    for w in signature.inputs:
        shape = (*(BATCH if w.rest else ()), *(size(a) for a in w.axes))
        inputs.append((shape, size(w.bound) if w.bound is not None else None))
    outputs = [  # an axis that only the outputs name has no size to check against
        (*(BATCH if w.rest else ()), *(a if isinstance(a, int) else known.get(a) for a in w.axes))
        for w in signature.cod
    ]
    return _Shapes(inputs, outputs)


def _fits(shape: tuple[int, ...], want: tuple[int | None, ...]) -> bool:
    return len(shape) == len(want) and all(
        w is None or s == w for s, w in zip(shape, want, strict=True)
    )


def _sample(kind: str, shape: tuple[int, ...], bound: int | None, rng: np.random.Generator):
    """A random input of the kind and shape, drawn as `laws` and `gradcheck` draw one (the
    kind's entry of `sampling.SAMPLERS`): whole numbers for `Int`, valid masks for `AllowMask`
    and `BlockMask`, labels for `Symbol`."""
    dims = Shape(tuple(Dim.const(n) for n in shape))
    carrier = Carrier(kind, dims, Dim.const(bound) if bound is not None else None)
    return Sampler(rng, {}).carrier(carrier)
