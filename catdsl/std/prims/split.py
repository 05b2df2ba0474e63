"""`split(at, axis)` of `std.ml`: an array cut in two along one axis, after its first `at`
entries, the inverse of `concatenate`.

`Real[*s, t, u…] -> Real[*s, at, u…] * Real[*s, t − at, u…]`: the widths are checked
symbolically (a `Real[6]` split at 2 gives a `Real[2]` and a `Real[4]`). `at` is a whole number
≥ 1 (E0360) that must leave at least one entry for the second part (R0434 at run time when it
does not); `axis` counts from the end (−1, the default, is the last). Cut in more parts by
splitting again. The VJP joins the two cotangents.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from catdsl.semantics.kernel import Cotangents, Forward, Kernel
from catdsl.std import statics
from catdsl.std.prims.concatenate import check_axis, shape_error
from catdsl.std.signatures import split_axis
from catdsl.typesys.primitives import PrimSpec

VALIDATE = statics.every(
    statics.required("at", "split(at = 2)"), statics.whole("at", 1), statics.axis("axis")
)


class Split(Kernel):
    """`split(at, axis)`: the first `at` entries along `axis`, and the rest."""

    name = "split"
    n_out = 2

    def __init__(self, in_ranks: tuple[int, ...] = (), *, at: int, axis: int) -> None:
        super().__init__(in_ranks)
        statics.enforce(self.name, VALIDATE, at=at, axis=axis)
        self.at, self.axis = int(at), int(axis)

    def forward(self, x: np.ndarray) -> Forward:
        x = np.asarray(x)
        check_axis(self.name, x, self.axis)
        if x.shape[self.axis] <= self.at:
            raise shape_error(
                self.name,
                f"`split(at = {self.at})` needs more than {self.at} entries on axis "
                f"{self.axis}, found shape {x.shape}",
            )
        first, rest = np.split(x, [self.at], axis=self.axis)
        return (first, rest), None

    def vjp(self, residual: Any, d_first: np.ndarray, d_rest: np.ndarray) -> Cotangents:
        return (np.concatenate([d_first, d_rest], axis=self.axis),)


SPEC = PrimSpec(
    "split",
    "std.ml",
    (),
    ("at", "axis"),
    split_axis,
    "the first `at` entries along `axis` (from the end), and the rest",
    defaults={"axis": -1},
    kernel=Split,
    validate=VALIDATE,
    axis_names=("axis",),
)
