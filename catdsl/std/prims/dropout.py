"""`dropout(p, seed)` of `std.ml`: in a training step each entry is zeroed with probability p
and the others scaled by 1/(1 − p); everywhere else (running, `MeanLoss`, laws, gradcheck) it
is the identity.

The run tells the kernel which it is (`Kernel.uses_mode`, see `semantics.kernel.Mode`): a
training step's loss runs in training mode with the step's number in the run, counted from 1
(a resumed loop goes on from the step it resumed at). The mask is drawn from numpy's PCG64
generator seeded with (seed, step), so it is reproducible from the seed and the step, is
different at every step, and covers the whole batch at once (each example its own entries).
Two dropouts with the same seed draw the same mask for values of one shape: give each its own.
`p` lies in [0, 1) and `seed` is a whole number from 0 to 2^32 − 1 (E0360). The VJP multiplies
the cotangent by the same mask (inverted dropout, as PyTorch's `F.dropout`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from catdsl.semantics.kernel import Cotangents, Forward, Kernel, Mode
from catdsl.std import statics
from catdsl.std.signatures import elementwise
from catdsl.typesys.primitives import PrimSpec

MAX_SEED = 2**32 - 1

VALIDATE = statics.every(
    statics.real("p", 0, 1, open_high=True),
    statics.required("seed", "dropout(p = 0.1, seed = 7)"),
    statics.whole("seed", 0, MAX_SEED),
)


class Dropout(Kernel):
    """`dropout(p, seed)`: the identity, or in a training step x ⊙ mask with the mask of
    (seed, step): 0 with probability p, else 1/(1 − p)."""

    name = "dropout"
    uses_mode = True

    def __init__(self, in_ranks: tuple[int, ...] = (), *, p: float, seed: int) -> None:
        super().__init__(in_ranks)
        statics.enforce(self.name, VALIDATE, p=p, seed=seed)
        self.p, self.seed = float(p), int(seed)

    def mask(self, shape: tuple[int, ...], step: int, dtype: np.dtype) -> np.ndarray:
        """The mask of training step `step`: 0 or 1/(1 − p) per entry, in `dtype`."""
        kept = np.random.default_rng([self.seed, step]).random(shape) >= self.p
        return kept.astype(dtype) / np.asarray(1 - self.p, dtype=dtype)

    def forward(self, x: np.ndarray) -> Forward:
        return (x,), None

    def forward_in(self, mode: Mode, x: np.ndarray) -> Forward:
        if not mode.training or self.p == 0:
            return self.forward(x)
        x = np.asarray(x)
        mask = self.mask(x.shape, mode.step, x.dtype)
        return (x * mask,), mask

    def vjp(self, residual: Any, dy: np.ndarray) -> Cotangents:
        return (dy if residual is None else dy * residual,)


SPEC = PrimSpec(
    "dropout",
    "std.ml",
    (),
    ("p", "seed"),
    elementwise,
    "in a training step, entries zeroed with probability p and the rest scaled by 1/(1 − p); "
    "else the identity",
    defaults={"p": 0.5},
    kernel=Dropout,
    validate=VALIDATE,
)
