"""`rms_norm(scale, eps)` of `std.ml`: root-mean-square normalisation of the last axis,
x / √(mean(x²) + ε) ⊙ scale (as PyTorch's `F.rms_norm` with a weight).

Unlike `layer_norm` it neither centres nor shifts: one `scale : Real[d]` param, no bias. `eps`
(static, default 1e-5, like `layer_norm`'s) must be > 0 (E0360). With n = x·r, r the inverse
root mean square and ḡ the cotangent, the VJP is r·(ḡ⊙scale − n·mean(ḡ⊙scale⊙n)) for x and
the sum over batch rows of ḡ⊙n for the scale. A scale whose width differs from the input's is
R0304, as for `layer_norm`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from catdsl.errors import CatRuntimeError
from catdsl.semantics.kernel import Cotangents, Forward, Kernel, rows
from catdsl.std import statics
from catdsl.std.kernels import element_count
from catdsl.std.signatures import rms_norm
from catdsl.typesys.primitives import PrimSpec

VALIDATE = statics.real("eps", 0, open_low=True)


class RmsNorm(Kernel):
    """`rms_norm(scale, eps)`: per row x·r ⊙ scale with r = 1/√(mean(x²) + ε)."""

    name = "rms_norm"
    n_in = 2
    differentiable = (True, True)

    def __init__(self, in_ranks: tuple[int, ...] = (), *, eps: float) -> None:
        super().__init__(in_ranks)
        statics.enforce(self.name, VALIDATE, eps=eps)
        self.eps = float(eps)

    def forward(self, x: np.ndarray, scale: np.ndarray) -> Forward:
        x = np.asarray(x)
        if x.ndim == 0 or scale.shape != x.shape[-1:]:
            raise CatRuntimeError(
                "R0304",
                f"shape mismatch in rms norm: input {x.shape}, scale {scale.shape}",
                help="the scale has one entry per entry of the input's last axis",
            )
        element_count(self.name, x, 1)
        inv_rms = 1 / np.sqrt((x * x).mean(axis=-1, keepdims=True) + self.eps)
        normed = x * inv_rms
        return (normed * scale,), (normed, inv_rms, scale)

    def vjp(self, residual: Any, dy: np.ndarray) -> Cotangents:
        normed, inv_rms, scale = residual
        dn = dy * scale
        dx = inv_rms * (dn - normed * (dn * normed).mean(axis=-1, keepdims=True))
        return dx, rows(dy * normed).sum(axis=0)


SPEC = PrimSpec(
    "rms_norm",
    "std.ml",
    ("scale",),
    ("eps",),
    rms_norm,
    "`x / √(mean(x²) + eps) ⊙ scale` over the last axis",
    defaults={"eps": 1e-5},
    kernel=RmsNorm,
    validate=VALIDATE,
)
