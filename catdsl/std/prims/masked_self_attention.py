"""`masked_self_attention(Wq, bq, Wk, bk, Wv, bv)`, the masked form of `self_attention` in
`std.attention`: H self-attention heads of one sequence with an allow-mask (true = may attend)
applied in every head after scoring and before the softmax (blocked scores become −1e6 and get
no gradient).

The mask is the second input wire, `Real[*s, T, d] * AllowMask[T, T]`, usually a port:
`morphism Attend[mask: CausalMask] : Hidden -> MultiHeadOutput = masked_self_attention(...)`;
closing the port over a named mask (`Attend[M]`) gives the context-fixed
`Hidden -> MultiHeadOutput`. A block-mask is a type error here (convert it with `block_to_allow`).
"""

from __future__ import annotations

from collections.abc import Mapping

from catdsl.std.prims.self_attention import MultiHead, head_params
from catdsl.typesys.primitives import FreshVars, PrimSig, PrimSpec
from catdsl.typesys.types import Carrier, Prod, Shape


class MaskedHeads(MultiHead):
    """`masked_self_attention`: the `self_attention` kernel with the allow-mask as its second,
    constant input."""

    name = "masked_self_attention"
    masked = True
    n_in = 8
    differentiable = (True, False, *(True,) * 6)


def signature(_static: Mapping[str, object]) -> PrimSig:
    """`Real[*s, T, d] * AllowMask[T, T] -> Real[*s, T, H * e]`."""
    v = FreshVars()
    hidden = Carrier("Real", Shape((v.T, v.d), v.rest()))
    mask = Carrier("AllowMask", Shape((v.T, v.T)))
    out = Carrier("Real", Shape((v.T, v.H * v.e), v.rest()))
    return PrimSig(head_params(v), Prod((hidden, mask)), Prod((out,)))


SPEC = PrimSpec(
    "masked_self_attention",
    "std.attention",
    ("Wq", "bq", "Wk", "bk", "Wv", "bv"),
    (),
    signature,
    "`self_attention` with an allow-mask applied in every head before the softmax",
    kernel=MaskedHeads,
)
