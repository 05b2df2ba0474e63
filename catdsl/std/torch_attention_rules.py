"""The torch rules of the std.attention primitives: each computes what its numpy kernel
(`std.attention_kernels`, `std.prims`) computes, refuses what it refuses with the same codes
and words, and has its VJP as autograd gradient (see `torch_rules`). Importing this module
imports torch.
"""

from __future__ import annotations

import math

import torch

from catdsl.errors import CatRuntimeError
from catdsl.semantics.torch_backend import TorchFn, TorchRule
from catdsl.std.attention_kernels import (
    MASKED_SCORE,
    ConcatHeads,
    LayerNorm,
    Positional,
    same_head_dims,
)
from catdsl.std.prims.allow_to_block import AllowToBlock
from catdsl.std.prims.block_to_allow import BlockToAllow
from catdsl.std.prims.causal_mask import Causal
from catdsl.std.prims.masked_self_attention import MaskedHeads
from catdsl.std.prims.self_attention import MultiHead
from catdsl.std.prims.sinusoidal import table as sinusoidal_table
from catdsl.std.torch_checks import (
    Ranks,
    Tensor,
    check_linear,
    element_count,
    element_shape,
    ghost,
    host,
    numpy_dtype,
    refuse_as_numpy,
)
from catdsl.std.torch_rules import affine_rule, binary, relu, softmax_rule


def layer_norm(in_ranks: Ranks, *, eps: float) -> TorchFn:
    """`layer_norm`: per row (x − μ)/sqrt(σ² + ε) ⊙ scale + shift, σ² the biased variance."""
    kernel = LayerNorm(in_ranks, eps=eps)

    def run(x: Tensor, scale: Tensor, shift: Tensor) -> tuple[Tensor, ...]:
        width = tuple(x.shape[-1:]) if x.ndim else None
        if tuple(scale.shape) != width or tuple(shift.shape) != width:
            raise refuse_as_numpy(kernel, ghost(x), ghost(scale), ghost(shift))
        element_count(kernel.name, x, 1)
        centred = x - x.mean(dim=-1, keepdim=True)
        inv_std = 1 / torch.sqrt((centred * centred).mean(dim=-1, keepdim=True) + kernel.eps)
        return (centred * inv_std * scale + shift,)

    return run


def scores(in_ranks: Ranks) -> TorchFn:
    """`scores`: Q·Kᵀ/sqrt(k) (R0303 when the head dims differ)."""

    def run(query: Tensor, key: Tensor) -> tuple[Tensor, ...]:
        element_shape("scores", query, 2)
        element_shape("scores", key, 2)
        same_head_dims(query.shape[-1], key.shape[-1])
        factor = 1 / math.sqrt(query.shape[-1])
        return (query @ key.transpose(-1, -2) * factor,)

    return run


def mask_scores(in_ranks: Ranks) -> TorchFn:
    """`mask_scores`: scores where the allow-mask is true, −1e6 where it blocks (no gradient
    there); R0303 for a mask of another shape, R0403 for a row that allows no keys."""

    def run(values: Tensor, mask: Tensor) -> tuple[Tensor, ...]:
        mask = mask.bool()
        if element_shape("mask_scores", mask, 2) != element_shape("mask_scores", values, 2):
            raise CatRuntimeError(
                "R0303",
                f"shape mismatch in masked attention scores: scores {tuple(values.shape[-2:])}, "
                f"mask {tuple(mask.shape[-2:])}",
            )
        if not bool(mask.any(dim=-1).all()):
            raise CatRuntimeError(
                "R0403",
                "attention mask row allows no keys",
                help="every query row needs at least one `true` cell",
            )
        return (torch.where(mask, values, MASKED_SCORE),)

    return run


def mix(in_ranks: Ranks) -> TorchFn:
    """`mix`: the weighted value mixing A·V."""

    def run(weights: Tensor, values: Tensor) -> tuple[Tensor, ...]:
        element_shape("mix", weights, 2)
        element_shape("mix", values, 2)
        if weights.shape[-1] != values.shape[-2]:
            raise CatRuntimeError(
                "R0303",
                f"shape mismatch in weighted value mixing: weights have {weights.shape[-1]} "
                f"columns but there are {values.shape[-2]} value rows",
            )
        return (weights @ values,)

    return run


def concat_heads(in_ranks: Ranks, *, n: int) -> TorchFn:
    """`concat_heads(n)`: the n head outputs side by side on the last axis."""
    kernel = ConcatHeads(in_ranks, n=n)

    def run(*heads: Tensor) -> tuple[Tensor, ...]:
        if len({tuple(head.shape[:-1]) for head in heads}) != 1:
            raise refuse_as_numpy(kernel, *(ghost(head) for head in heads))
        return (torch.cat(heads, dim=-1),)

    return run


def ffn(in_ranks: Ranks) -> TorchFn:
    """`ffn`: relu(x·W1 + b1)·W2 + b2."""
    label = "position-wise feed-forward"

    def run(x: Tensor, w1: Tensor, b1: Tensor, w2: Tensor, b2: Tensor) -> tuple[Tensor, ...]:
        check_linear(f"{label} first layer", x, w1, b1)
        hidden = relu(x @ w1 + b1)
        check_linear(f"{label} second layer", hidden, w2, b2)
        return (hidden @ w2 + b2,)

    return run


def positional(in_ranks: Ranks) -> TorchFn:
    """`positional`: x plus the first T rows of the table (R0305 when it does not fit)."""
    kernel = Positional(in_ranks)

    def run(x: Tensor, table: Tensor) -> tuple[Tensor, ...]:
        length, width = element_shape(kernel.name, x, 2)
        if table.ndim != 2 or length > table.shape[0] or width != table.shape[1]:
            raise refuse_as_numpy(kernel, ghost(x), ghost(table))
        return (x + table[:length],)

    return run


def sinusoidal(in_ranks: Ranks) -> TorchFn:
    """`sinusoidal`: x plus the numpy kernel's own fixed encoding of its length and width."""

    def run(x: Tensor) -> tuple[Tensor, ...]:
        length, width = element_shape("sinusoidal", x, 2)
        encoding = sinusoidal_table(length, width).astype(numpy_dtype(x))
        return (x + torch.from_numpy(encoding).to(x.device),)

    return run


def causal_mask(in_ranks: Ranks) -> TorchFn:
    """`causal_mask`: the T × T lower-triangular allow-mask of a sequence of length T."""
    kernel = Causal(in_ranks)

    def run(x: Tensor) -> tuple[Tensor, ...]:
        length, _width = element_shape(kernel.name, x, 2)
        return (torch.ones(length, length, dtype=torch.bool, device=x.device).tril(),)

    return run


def flip_mask(kind: type[BlockToAllow]) -> TorchRule:
    """`block_to_allow` / `allow_to_block`: every cell negated; a row that would leave no key
    open is the kernel's R0403, naming the row."""

    def rule(in_ranks: Ranks) -> TorchFn:
        kernel = kind(in_ranks)

        def run(mask: Tensor) -> tuple[Tensor, ...]:
            mask = mask.bool()
            if mask.ndim and mask.shape[-1]:
                open_keys = (mask != kernel.to_allow).any(dim=-1)
                if not bool(open_keys.all()):
                    raise refuse_as_numpy(kernel, mask)
            return (~mask,)

        return run

    return rule


def heads_rule(kind: type[MultiHead]) -> TorchRule:
    """`self_attention` / `masked_self_attention`: H heads in one batched computation, as the
    numpy kernel runs them (all projections in one product, blocked scores −1e6 before the
    max-shifted softmax), outputs side by side in head order."""

    def rule(in_ranks: Ranks) -> TorchFn:
        kernel = kind(in_ranks)

        def run(*xs: Tensor) -> tuple[Tensor, ...]:
            x, mask, params = (
                (xs[0], xs[1].bool(), xs[2:]) if kind.masked else (xs[0], None, xs[1:])
            )
            if not fits(x, mask, params):
                shown = None if mask is None else host(mask)
                raise refuse_as_numpy(
                    kernel,
                    ghost(x),
                    *(() if shown is None else (shown,)),
                    *(ghost(p) for p in params),
                )
            return (attend(x, mask, params),)

        return run

    return rule


def fits(x: Tensor, mask: Tensor | None, params: tuple[Tensor, ...]) -> bool:
    """Whether the numpy kernel accepts these operands: the params stack H heads over the
    hidden width, and the mask is T × T with a key open in every row."""
    if x.ndim < 2:
        return False
    length, width = x.shape[-2:]
    wq, bq, wk, bk, wv, bv = params
    if wq.ndim != 3 or wv.ndim != 3:
        return False
    heads = wq.shape[0]
    ok = (
        wq.shape[1] == width
        and wk.shape == wq.shape
        and wv.shape[:2] == wq.shape[:2]
        and tuple(bq.shape) == (heads, wq.shape[2])
        and bk.shape == bq.shape
        and tuple(bv.shape) == (heads, wv.shape[2])
    )
    if not ok or mask is None:
        return ok
    if mask.ndim < 2 or tuple(mask.shape[-2:]) != (length, length):
        return False
    return not length or bool(mask.any(dim=-1).all())


def attend(x: Tensor, mask: Tensor | None, params: tuple[Tensor, ...]) -> Tensor:
    """The heads' outputs side by side (T × H·e) of checked operands. The key bias is left out
    of the scores, as the numpy kernel leaves it out: it adds the same constant to every score
    of a row, which the softmax ignores, so bk gets no gradient (zeros) rather than noise."""
    wq, bq, wk, bk, wv, bv = params
    heads, width, k = wq.shape
    e = wv.shape[2]
    lead, length = tuple(x.shape[:-2]), x.shape[-2]
    w_all = torch.cat((wq, wk, wv), dim=2).permute(1, 0, 2).reshape(width, -1)
    b_all = torch.cat((bq, torch.zeros_like(bk), bv), dim=1).reshape(-1)
    proj = x.reshape(-1, width) @ w_all + b_all
    roles = proj.reshape(*lead, length, heads, 2 * k + e).movedim(-2, -3)
    q, key, v = roles[..., :k], roles[..., k : 2 * k], roles[..., 2 * k :]
    logits = q @ key.transpose(-1, -2) * (1 / math.sqrt(k))
    if mask is not None:
        logits = torch.where(mask.unsqueeze(-3), logits, MASKED_SCORE)
    shifted = logits - logits.amax(dim=-1, keepdim=True).detach()
    weights = shifted.exp()
    weights = weights / weights.sum(dim=-1, keepdim=True)
    mixed = weights @ v
    return mixed.movedim(-3, -2).reshape(*lead, length, heads * e)


ATTENTION_RULES: dict[str, TorchRule] = {
    "layer_norm": layer_norm,
    "scores": scores,
    "mask_scores": mask_scores,
    "row_softmax": softmax_rule("row_softmax"),
    "mix": mix,
    "concat_heads": concat_heads,
    "residual": binary(torch.add, "residual connection"),
    "ffn": ffn,
    "positional": positional,
    "readout": affine_rule("transformer readout"),
    "sinusoidal": sinusoidal,
    "causal_mask": causal_mask,
    "block_to_allow": flip_mask(BlockToAllow),
    "allow_to_block": flip_mask(AllowToBlock),
    "self_attention": heads_rule(MultiHead),
    "masked_self_attention": heads_rule(MaskedHeads),
}
"""The torch rules of std.attention's primitives, by name."""
