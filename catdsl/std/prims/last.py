"""`last` of `std.lists`: the last element of a list, `none` for the empty list.

Like `first`, `last : List[a] -> Option[a]` is natural in `a`; its VJP puts the element's
cotangent back at the last position.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from catdsl.semantics.kernel import Cotangents, Forward, Kernel
from catdsl.std.prims import _lists
from catdsl.std.signatures import list_to_option
from catdsl.typesys.primitives import PrimSpec


class Last(Kernel):
    """`last`: element n−1 of the list, or None when it is empty."""

    name = "last"

    def forward(self, *columns: np.ndarray) -> Forward:
        return _lists.pick(self.name, self.in_ranks, columns, lambda n: n - 1)

    def vjp(self, residual: Any, dy: Any) -> Cotangents:
        return _lists.pull(residual, dy)


SPEC = PrimSpec(
    "last",
    "std.lists",
    (),
    (),
    list_to_option,
    "the last element, or `none` for `[]`",
    kernel=Last,
)
