"""`allow_to_block`, the explicit polarity conversion of `std.attention` in the other direction:
an allow-mask (true = may attend) becomes the block-mask (true = blocked, as PyTorch's
`nn.MultiheadAttention` takes it) that blocks the same cells.
"""

from __future__ import annotations

from collections.abc import Mapping

from catdsl.std.prims.block_to_allow import BlockToAllow, flip_signature
from catdsl.typesys.primitives import PrimSig, PrimSpec


class AllowToBlock(BlockToAllow):
    """`allow_to_block`: every cell negated; an allow-mask row with no `true` is refused."""

    name = "allow_to_block"
    to_allow = False


def signature(_static: Mapping[str, object]) -> PrimSig:
    """`AllowMask[*s, n] -> BlockMask[*s, n]`."""
    return flip_signature("AllowMask", "BlockMask")


SPEC = PrimSpec(
    "allow_to_block",
    "std.attention",
    (),
    (),
    signature,
    "the block-mask blocking the same cells as an allow-mask",
    kernel=AllowToBlock,
)
