"""`sinusoidal`, fixed sinusoidal positions of `std.attention`: y[t] = x[t] + PE[t] for a
sequence of any length T, with PE[t, 2i] = sin(t / 10000^(2i/d)) and
PE[t, 2i + 1] = cos(t / 10000^(2i/d)) (the original Transformer's encoding; an odd last
column is a sine). It has no params, so nothing trains it; `positional(P)` adds a given or
learnable table instead.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import numpy as np

from catdsl.semantics.kernel import Cotangents, Forward, Kernel, element_shape
from catdsl.typesys.primitives import FreshVars, PrimSig, PrimSpec
from catdsl.typesys.types import Carrier, Prod, Shape

BASE = 10000.0


@functools.lru_cache(maxsize=32)
def table(length: int, width: int) -> np.ndarray:
    """The T × d encoding (cached, read-only)."""
    positions = np.arange(length, dtype=np.float64)[:, None]
    pairs = np.arange(0, width, 2, dtype=np.float64)
    angles = positions / BASE ** (pairs / width)
    encoding = np.empty((length, width))
    encoding[:, 0::2] = np.sin(angles)
    encoding[:, 1::2] = np.cos(angles[:, : width // 2])
    encoding.flags.writeable = False
    return encoding


class Sinusoidal(Kernel):
    """`sinusoidal`: x plus the encoding of its length and width; the VJP passes dy through."""

    name = "sinusoidal"

    def forward(self, x: np.ndarray) -> Forward:
        length, width = element_shape(self.name, x, 2)
        return (x + table(length, width).astype(x.dtype, copy=False),), None

    def vjp(self, residual: Any, dy: np.ndarray) -> Cotangents:
        return (dy,)


def signature(_static: Mapping[str, object]) -> PrimSig:
    """`Real[*s, T, d] -> Real[*s, T, d]`."""
    v = FreshVars()
    x = Carrier("Real", Shape((v.T, v.d), v.rest()))
    return PrimSig((), Prod((x,)), Prod((x,)))


SPEC = PrimSpec(
    "sinusoidal",
    "std.attention",
    (),
    (),
    signature,
    "add the fixed sinusoidal positions of any length",
    kernel=Sinusoidal,
)
