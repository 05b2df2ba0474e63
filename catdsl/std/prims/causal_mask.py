"""`causal_mask`, the length-generic causal mask of `std.attention`: the lower-triangular allow-mask
(true = may attend) of a sequence of any length T, query i reading keys 0..i.

It takes the sequence itself and reads only its length, so one declaration serves every T:
`morphism Mask : Hidden -> CausalMask = causal_mask` with `object CausalMask : AllowMask[T, T]`.
Every row allows at least its own position, so the mask it builds is always valid.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from catdsl.semantics.kernel import Cotangents, Forward, Kernel, element_shape
from catdsl.typesys.primitives import FreshVars, PrimSig, PrimSpec
from catdsl.typesys.types import Carrier, Prod, Shape


class Causal(Kernel):
    """`causal_mask`: the lower-triangular allow-mask (T × T, true = may attend) of a sequence of
    any length T: query i may read keys 0..i. It reads only the sequence's length."""

    name = "causal_mask"
    differentiable = (False,)

    def forward(self, x: np.ndarray) -> Forward:
        (length, _width) = element_shape(self.name, x, 2)
        return (np.tri(length, dtype=bool),), None

    def vjp(self, residual: Any, dy: np.ndarray) -> Cotangents:
        return (None,)


def signature(_static: Mapping[str, object]) -> PrimSig:
    """`Real[*s, T, d] -> AllowMask[T, T]`."""
    v = FreshVars()
    hidden = Carrier("Real", Shape((v.T, v.d), v.rest()))
    return PrimSig((), Prod((hidden,)), Prod((Carrier("AllowMask", Shape((v.T, v.T))),)))


SPEC = PrimSpec(
    "causal_mask",
    "std.attention",
    (),
    (),
    signature,
    "the T × T lower-triangular allow-mask of a sequence of any length T",
    kernel=Causal,
)
