"""`block_to_allow`, the explicit polarity conversion of `std.attention`: a block-mask (true =
blocked, PyTorch's `nn.MultiheadAttention` and `nn.Transformer` convention) becomes the
allow-mask (true = may attend, the course's and SDPA's convention) that blocks the same cells.

A row the block-mask blocks entirely would be an allow-mask row that allows no keys: the
conversion refuses it (R0403), naming the row.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from catdsl.errors import CatRuntimeError
from catdsl.semantics.invariants import closed_mask_row
from catdsl.semantics.kernel import Cotangents, Forward, Kernel
from catdsl.typesys.primitives import FreshVars, PrimSig, PrimSpec
from catdsl.typesys.types import Carrier, Prod, Shape


class BlockToAllow(Kernel):
    """`block_to_allow`: the mask of the other polarity, blocking the same cells (every cell
    negated). A row that would leave no key open is refused here, where the mask is built,
    naming the row; `allow_to_block` is the same kernel in the other direction."""

    name = "block_to_allow"
    to_allow = True
    differentiable = (False,)

    def forward(self, mask: np.ndarray) -> Forward:
        mask = np.asarray(mask).astype(bool, copy=False)
        row = closed_mask_row(mask, blocked_when=self.to_allow)
        if row is not None:
            what = "blocks every key" if self.to_allow else "allows no keys"
            raise CatRuntimeError(
                "R0403",
                f"attention mask {row} {what}: `{self.name}` cannot build a mask from it",
                help="every query row needs at least one key it may attend to",
            )
        return (~mask,), None

    def vjp(self, residual: Any, dy: np.ndarray) -> Cotangents:
        return (None,)


def flip_signature(source: str, target: str) -> PrimSig:
    """`source[*s, n] -> target[*s, n]` for the two mask kinds."""
    v = FreshVars()
    shape = Shape((v.n,), v.rest())
    return PrimSig((), Prod((Carrier(source, shape),)), Prod((Carrier(target, shape),)))


def signature(_static: Mapping[str, object]) -> PrimSig:
    """`BlockMask[*s, n] -> AllowMask[*s, n]`."""
    return flip_signature("BlockMask", "AllowMask")


SPEC = PrimSpec(
    "block_to_allow",
    "std.attention",
    (),
    (),
    signature,
    "the allow-mask blocking the same cells as a block-mask",
    kernel=BlockToAllow,
)
