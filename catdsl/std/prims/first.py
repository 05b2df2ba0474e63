"""`first` of `std.lists`: the first element of a list, `none` for the empty list.

`first : List[a] -> Option[a]` is the natural transformation `List ⇒ Option`: it never looks
at the elements, so `List(f) >> first == first >> Option(f)` for every f. Its VJP puts the
cotangent of the element back at position 0 (nothing flows back from `none`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from catdsl.semantics.kernel import Cotangents, Forward, Kernel
from catdsl.std.prims import _lists
from catdsl.std.signatures import list_to_option
from catdsl.typesys.primitives import PrimSpec


class First(Kernel):
    """`first`: element 0 of the list (one array, or one per component), or None."""

    name = "first"

    def forward(self, *columns: np.ndarray) -> Forward:
        return _lists.pick(self.name, self.in_ranks, columns, lambda n: 0)

    def vjp(self, residual: Any, dy: Any) -> Cotangents:
        return _lists.pull(residual, dy)


SPEC = PrimSpec(
    "first",
    "std.lists",
    (),
    (),
    list_to_option,
    "the first element, or `none` for `[]`",
    kernel=First,
)
