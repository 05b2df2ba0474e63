"""The numpy kernels of `std.attention`.

A hidden sequence is an element of rank 2 (T × d); any axes in front are batch axes. Error codes
are listed in `catdsl.std.kernels`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from catdsl.errors import CatRuntimeError
from catdsl.semantics.kernel import (
    Cotangents,
    Forward,
    Kernel,
    element_shape,
    rows,
    unbroadcast,
)
from catdsl.std.kernels import (
    Add,
    Affine,
    Softmax,
    affine_apply,
    affine_forward,
    affine_vjp,
    element_count,
    finite_real,
    positive_int,
)

MASKED_SCORE = -1e6
"""The finite score a blocked attention cell gets: its softmax weight is ~0."""


def transpose(x: np.ndarray) -> np.ndarray:
    """Swap the last two axes (the matrix transpose of every batch element)."""
    return np.swapaxes(x, -1, -2)


class LayerNorm(Kernel):
    """`layer_norm`: per row (x − μ)/sqrt(σ² + ε) ⊙ scale + shift, with the biased variance σ²."""

    name = "layer_norm"
    n_in = 3
    differentiable = (True, True, True)

    def __init__(self, in_ranks: tuple[int, ...] = (), *, eps: float) -> None:
        super().__init__(in_ranks)
        self.eps = finite_real(self.name, "eps", eps)
        if self.eps <= 0:
            raise CatRuntimeError(
                "R0404", f"normalization epsilon must be positive, found {self.eps}"
            )

    def forward(self, x: np.ndarray, scale: np.ndarray, shift: np.ndarray) -> Forward:
        width = x.shape[-1:] if x.ndim else None
        if scale.shape != width or shift.shape != width:
            raise CatRuntimeError(
                "R0304",
                f"shape mismatch in layer norm parameters: input {x.shape}, "
                f"scale {scale.shape}, shift {shift.shape}",
            )
        element_count(self.name, x, 1)
        return self.trusted_forward(x, scale, shift)

    def trusted_forward(self, x: np.ndarray, scale: np.ndarray, shift: np.ndarray) -> Forward:
        centred = x - x.mean(axis=-1, keepdims=True)
        inv_std = 1 / np.sqrt((centred * centred).mean(axis=-1, keepdims=True) + self.eps)
        normed = np.multiply(centred, inv_std, out=centred)  # this call's own array
        out = normed * scale
        return (add_into(out, shift),), (normed, inv_std, scale)

    def vjp(self, residual: Any, dy: np.ndarray) -> Cotangents:
        normed, inv_std, scale = residual
        width = normed.shape[-1]
        d_scale = rows(dy * normed).sum(axis=0)
        dn = dy * scale
        if not dn.dtype == normed.dtype == inv_std.dtype:  # mixed precisions: promote as written
            dx = (inv_std / width) * (
                width * dn
                - dn.sum(axis=-1, keepdims=True)
                - normed * (dn * normed).sum(axis=-1, keepdims=True)
            )
            return dx, d_scale, rows(dy).sum(axis=0)
        # the same operations in the same order, in the arrays this call made
        dx = width * dn
        dx -= dn.sum(axis=-1, keepdims=True)
        dn *= normed
        projected = np.multiply(normed, dn.sum(axis=-1, keepdims=True), out=dn)
        dx -= projected
        dx *= inv_std / width
        return dx, d_scale, rows(dy).sum(axis=0)


def add_into(fresh: np.ndarray, other: np.ndarray) -> np.ndarray:
    """fresh + other, written over `fresh` (an array the caller has just made and owns) when
    the sum has its shape and dtype, else a new array."""
    if (
        type(other) is not np.ndarray
        or other.dtype != fresh.dtype
        or other.ndim > fresh.ndim
        or fresh.shape[fresh.ndim - other.ndim :] != other.shape
    ):
        return fresh + other
    return np.add(fresh, other, out=fresh)


def same_head_dims(query: int, key: int) -> None:
    """R0303 unless a query and a key have the same head dim (the scores pair them)."""
    if query != key:
        raise CatRuntimeError(
            "R0303",
            f"shape mismatch in scaled dot-product attention scores: head dims differ "
            f"(query {query}, key {key})",
        )


class Scores(Kernel):
    """`scores`: scaled dot products Q·Kᵀ/sqrt(k) of query rows (L × k) with key rows (S × k)."""

    name = "scores"
    n_in = 2
    differentiable = (True, True)

    def forward(self, query: np.ndarray, key: np.ndarray) -> Forward:
        element_shape(self.name, query, 2)
        element_shape(self.name, key, 2)
        same_head_dims(query.shape[-1], key.shape[-1])
        factor = 1 / math.sqrt(query.shape[-1])
        return (query @ transpose(key) * factor,), (query, key, factor)

    def vjp(self, residual: Any, dy: np.ndarray) -> Cotangents:
        query, key, factor = residual
        d_query = dy @ key * factor
        d_key = transpose(dy) @ query * factor
        return unbroadcast(d_query, query.shape), unbroadcast(d_key, key.shape)


class MaskScores(Kernel):
    """`mask_scores`: scores where the mask is true, −1e6 where it blocks (true = may attend)."""

    name = "mask_scores"
    n_in = 2
    differentiable = (True, False)

    def forward(self, scores: np.ndarray, mask: np.ndarray) -> Forward:
        mask = np.asarray(mask).astype(bool, copy=False)
        if element_shape(self.name, mask, 2) != element_shape(self.name, scores, 2):
            raise CatRuntimeError(
                "R0303",
                f"shape mismatch in masked attention scores: scores {scores.shape[-2:]}, "
                f"mask {mask.shape[-2:]}",
            )
        if not mask.any(axis=-1).all():
            raise CatRuntimeError(
                "R0403",
                "attention mask row allows no keys",
                help="every query row needs at least one `true` cell",
            )
        return (np.where(mask, scores, MASKED_SCORE),), (scores.shape, mask)

    def vjp(self, residual: Any, dy: np.ndarray) -> Cotangents:
        shape, mask = residual
        return unbroadcast(np.where(mask, dy, 0), shape), None


class RowSoftmax(Softmax):
    """`row_softmax`: attention weights, the softmax of each score row."""

    name = "row_softmax"


class Mix(Kernel):
    """`mix`: weighted value mixing A·V, output row i = Σ_j A[i][j] · v_j."""

    name = "mix"
    n_in = 2
    differentiable = (True, True)

    def forward(self, weights: np.ndarray, values: np.ndarray) -> Forward:
        element_shape(self.name, weights, 2)
        element_shape(self.name, values, 2)
        if weights.shape[-1] != values.shape[-2]:
            raise CatRuntimeError(
                "R0303",
                f"shape mismatch in weighted value mixing: weights have {weights.shape[-1]} "
                f"columns but there are {values.shape[-2]} value rows",
            )
        return (weights @ values,), (weights, values)

    def vjp(self, residual: Any, dy: np.ndarray) -> Cotangents:
        weights, values = residual
        d_weights = dy @ transpose(values)
        d_values = transpose(weights) @ dy
        return unbroadcast(d_weights, weights.shape), unbroadcast(d_values, values.shape)


class ConcatHeads(Kernel):
    """`concat_heads(n)`: the n head outputs side by side, in head order, on the last axis."""

    name = "concat_heads"

    def __init__(self, in_ranks: tuple[int, ...] = (), *, n: int) -> None:
        super().__init__(in_ranks)
        self.n_in = positive_int(self.name, "n", n)
        self.differentiable = (True,) * self.n_in

    def forward(self, *heads: np.ndarray) -> Forward:
        if len({head.shape[:-1] for head in heads}) != 1:
            shapes = ", ".join(str(head.shape) for head in heads)
            raise CatRuntimeError(
                "R0303", f"shape mismatch in attention head outputs: heads of shapes {shapes}"
            )
        widths = [head.shape[-1] for head in heads]
        return (np.concatenate(heads, axis=-1),), widths

    def vjp(self, residual: Any, dy: np.ndarray) -> Cotangents:
        return tuple(np.split(dy, np.cumsum(residual)[:-1], axis=-1))


class Residual(Add):
    """`residual`: the elementwise sum of a sequence and a sublayer's output of the same shape."""

    name = "residual"
    label = "residual connection"


class FeedForward(Kernel):
    """`ffn`: the position-wise feed-forward net relu(x·W1 + b1)·W2 + b2."""

    name = "ffn"
    n_in = 5
    differentiable = (True,) * 5
    label = "position-wise feed-forward"

    def forward(
        self, x: np.ndarray, w1: np.ndarray, b1: np.ndarray, w2: np.ndarray, b2: np.ndarray
    ) -> Forward:
        hidden = relu_in_place(affine_forward(f"{self.label} first layer", x, w1, b1))
        out = affine_forward(f"{self.label} second layer", hidden, w2, b2)
        return (out,), (x, w1, w2, hidden)

    def trusted_forward(
        self, x: np.ndarray, w1: np.ndarray, b1: np.ndarray, w2: np.ndarray, b2: np.ndarray
    ) -> Forward:
        hidden = relu_in_place(affine_apply(x, w1, b1))
        return (affine_apply(hidden, w2, b2),), (x, w1, w2, hidden)

    def vjp(self, residual: Any, dy: np.ndarray) -> Cotangents:
        x, w1, w2, hidden = residual
        d_hidden, d_w2, d_b2 = affine_vjp(hidden, w2, dy)
        # relu(pre) > 0 exactly where pre > 0 (NaN included): where(pre > 0, ḡ, 0)
        d_x, d_w1, d_b1 = affine_vjp(x, w1, pass_where_positive(d_hidden, hidden))
        return d_x, d_w1, d_b1, d_w2, d_b2


def relu_in_place(pre: np.ndarray) -> np.ndarray:
    """max(pre, 0) written over `pre`, an array the caller has just made and owns."""
    return np.maximum(pre, 0, out=pre)


BIT_WIDTHS = {np.dtype(np.float64): np.uint64, np.dtype(np.float32): np.uint32}
BITWISE_FROM = 4096
"""Fewer entries than this: one `where` (one call) beats the four calls of the bitwise way."""


def pass_where_positive(grad: np.ndarray, gate: np.ndarray) -> np.ndarray:
    """where(gate > 0, grad, 0), written over `grad` (an array the caller has just made and
    owns) when it is large: its bits ANDed with all ones where the gate is positive and all
    zeros (+0.0) elsewhere, which gives where's bits (NaN and ±inf included) without a branch
    per entry — a ReLU's on/off pattern is random, and a masked copy mispredicts on it (4×
    slower)."""
    unsigned = BIT_WIDTHS.get(grad.dtype)
    if unsigned is None or grad.shape != gate.shape or grad.size < BITWISE_FROM:
        return np.where(gate > 0, grad, 0)
    keep = np.greater(gate, 0).astype(unsigned)
    np.negative(keep, out=keep)  # 1 → all ones, 0 → 0
    bits = grad.view(unsigned)
    np.bitwise_and(bits, keep, out=bits)
    return grad


class Positional(Kernel):
    """`positional`: y[i] = x[i] + P[i] for the first T rows of a given table P (maxT × d)."""

    name = "positional"
    n_in = 2
    differentiable = (True, True)

    def forward(self, x: np.ndarray, table: np.ndarray) -> Forward:
        length, width = element_shape(self.name, x, 2)
        if table.ndim != 2 or length > table.shape[0] or width != table.shape[1]:
            raise CatRuntimeError(
                "R0305",
                f"shape mismatch in positional encoding: sequence {x.shape[-2:]} "
                f"does not fit the table {table.shape}",
                help="the table needs at least T rows and the sequence's width",
            )
        return (x + table[:length],), (table.shape, table.dtype, length)

    def vjp(self, residual: Any, dy: np.ndarray) -> Cotangents:
        shape, dtype, length = residual
        d_table = np.zeros(shape, dtype=dtype)
        d_table[:length] = rows(dy, 2).sum(axis=0)
        return dy, d_table


class Readout(Affine):
    """`readout`: the transformer readout, per row x·W_r + b_r (sequence logits)."""

    name = "readout"
    label = "transformer readout"
