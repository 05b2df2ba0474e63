"""`self_attention(Wq, bq, Wk, bk, Wv, bv)`, multi-head self-attention of `std.attention` with
the head count H as a dim: every head's params declared once, stacked on a leading head axis.

Per head h, on the hidden sequence X (T × d): Q = X·Wq[h] + bq[h], K = X·Wk[h] + bk[h],
V = X·Wv[h] + bv[h], A = rowsoftmax(Q·Kᵀ/√k), O_h = A·V. The output is the heads' outputs
side by side in head order, T × (H·e), so its width is `H * e` symbolically: declaring it as a
`Real[T, D]` object checks H·e = D at compile time. All heads run in one batched computation
(the kernel `MultiHead` below; `masked_self_attention` subclasses it); single-head attention
is H = 1.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from catdsl.errors import CatRuntimeError
from catdsl.semantics.invariants import closed_mask_row
from catdsl.semantics.kernel import Cotangents, Forward, Kernel, element_shape
from catdsl.std.attention_kernels import MASKED_SCORE, transpose
from catdsl.typesys.dims import Dim
from catdsl.typesys.primitives import FreshVars, PrimSig, PrimSpec
from catdsl.typesys.types import Carrier, Prod, Shape


class MultiHead(Kernel):
    """`self_attention`: H self-attention heads of one hidden sequence, computed as
    one family, then concatenated in head order.

    The per-head params are stacked on a leading head axis: Wq, Wk (H × d × k), Wv (H × d × e)
    and their biases (H × k, H × e). The three projections of every head are one matrix product
    with the (d × H·(2k + e)) matrix of all of them, and scores, softmax and mixing run on a
    head axis (no loop over heads). Output row i is the concatenation of every head's row i,
    so the width is H·e. With `masked` (the subclass of `masked_self_attention`) an allow-mask
    (true = may attend, T × T) is the second input; blocked scores become −1e6 before the
    softmax, as in `mask_scores`, and get no gradient.

    The key bias bk is left out of the scores, and its cotangent is exact zeros. Score (i, j)
    is q_i·(x_j·Wk + bk)/√k, whose bias part q_i·bk/√k is the same for every key j of row i,
    and a softmax row does not change when a constant is added to it: the weights, the output
    and every other gradient are those of the scores without bk, and the true gradient of bk
    is zero. Computed with bk, it comes out as rounding noise (~1e-17) that an optimizer
    dividing by a running norm (Adam) would blow up into steps of its learning rate. Masking
    keeps this exact: a blocked cell's weight exp(−1e6 − max) is 0 in float64 with or without
    the constant (for any score above −1e6 + 745), so only allowed cells share the row constant.
    """

    name = "self_attention"
    label = "multi-head attention"
    masked = False
    n_in = 7
    differentiable: tuple[bool, ...] = (True,) * 7

    def _split(self, xs: tuple) -> tuple[np.ndarray, np.ndarray | None, tuple]:
        if self.masked:
            return xs[0], xs[1], xs[2:]
        return xs[0], None, xs[1:]

    def _check(self, x: np.ndarray, mask: np.ndarray | None, params: tuple) -> None:
        """Raise R0303 unless the params stack H heads over the hidden width and the mask is
        T × T with every row allowing a key."""
        length, width = element_shape(self.label, x, 2)
        wq, bq, wk, bk, wv, bv = params
        heads = wq.shape[0] if wq.ndim == 3 else None
        ok = (
            heads is not None
            and wq.shape[1] == width
            and wk.shape == wq.shape
            and wv.ndim == 3
            and wv.shape[:2] == wq.shape[:2]
            and bq.shape == (heads, wq.shape[2])
            and bk.shape == bq.shape
            and bv.shape == (heads, wv.shape[2])
        )
        if not ok:
            shapes = ", ".join(str(p.shape) for p in params)
            raise CatRuntimeError(
                "R0303",
                f"shape mismatch in {self.label}: hidden width {width}, params "
                f"Wq, bq, Wk, bk, Wv, bv of shapes {shapes}",
                help="stack the heads on the first axis: Wq, Wk : [H, d, k], Wv : [H, d, e], "
                "bq, bk : [H, k], bv : [H, e]",
            )
        if mask is not None:
            if element_shape(self.label, mask, 2) != (length, length):
                raise CatRuntimeError(
                    "R0303",
                    f"shape mismatch in masked attention scores: sequence of length {length}, "
                    f"mask {mask.shape[-2:]}",
                )
            row = closed_mask_row(mask, blocked_when=False)
            if row is not None:
                raise CatRuntimeError(
                    "R0403",
                    f"attention mask {row} allows no keys",
                    help="every query row needs at least one `true` cell",
                )

    def forward(self, *xs: np.ndarray) -> Forward:
        x, mask, params = self._split(xs)
        if mask is not None:
            mask = np.asarray(mask).astype(bool, copy=False)
        self._check(x, mask, params)
        return self._run(x, mask, params)

    def trusted_forward(self, *xs: np.ndarray) -> Forward:
        x, mask, params = self._split(xs)
        return self._run(x, mask, params)

    def _run(self, x: np.ndarray, mask: np.ndarray | None, params: tuple) -> Forward:
        wq, bq, wk, bk, wv, bv = params
        heads, width, k = wq.shape
        e = wv.shape[2]
        lead, length = x.shape[:-2], x.shape[-2]
        # all projections of all heads in one product: column block h holds [q_h | k_h | v_h]
        w_all = np.concatenate((wq, wk, wv), axis=2).transpose(1, 0, 2).reshape(width, -1)
        # the key bias adds a row constant to the scores: no effect on the weights (see above)
        b_all = np.concatenate((bq, np.zeros_like(bk), bv), axis=1).reshape(-1)
        flat = x.reshape(-1, width)
        proj = flat @ w_all
        proj += b_all
        roles = np.moveaxis(proj.reshape(*lead, length, heads, 2 * k + e), -2, -3)
        q, key, v = roles[..., :k], roles[..., k : 2 * k], roles[..., 2 * k :]
        factor = 1 / math.sqrt(k)
        scores = q @ transpose(key)
        scores *= factor
        blocked = None if mask is None else ~mask[..., None, :, :]
        if blocked is not None:
            np.copyto(scores, MASKED_SCORE, where=blocked)
        top = scores.max(axis=-1, keepdims=True)
        scores -= top
        if blocked is None:
            weights = np.exp(scores, out=scores)
        else:  # exp of the allowed cells only; a blocked cell's exp(−1e6 − top) is per row
            weights = np.exp(scores, out=scores, where=~blocked)
            np.copyto(weights, np.exp(MASKED_SCORE - top), where=blocked)
        weights /= weights.sum(axis=-1, keepdims=True)
        # every head's mixing written straight into its columns of the output
        out = np.empty((*lead, length, heads, e), dtype=np.result_type(weights, v))
        np.matmul(weights, v, out=np.moveaxis(out, -2, -3))
        out = out.reshape(*lead, length, heads * e)
        dims = (heads, width, k, e)
        residual = (flat, w_all, q, key, v, weights, blocked, factor, x.shape, dims)
        return (out,), residual

    def vjp_for(self, needed: tuple[bool, ...]) -> Callable[..., Cotangents]:
        return self.vjp if needed[0] else self.param_vjp

    def param_vjp(self, residual: Any, dy: np.ndarray) -> Cotangents:
        """The VJP without the sequence's cotangent (attention on data, the first layer)."""
        return self.vjp(residual, dy, with_input=False)

    def vjp(self, residual: Any, dy: np.ndarray, with_input: bool = True) -> Cotangents:
        flat, w_all, q, key, v, weights, blocked, factor, x_shape, dims = residual
        heads, width, k, e = dims
        lead, length = x_shape[:-2], x_shape[-2]
        d_mixed = np.moveaxis(dy.reshape(*lead, length, heads, e), -2, -3)
        d_weights = d_mixed @ transpose(v)
        # the cotangent of every role, written straight into the layout of the projection
        d_proj = np.empty((*lead, length, heads, 2 * k + e), dtype=d_weights.dtype)
        d_roles = np.moveaxis(d_proj, -2, -3)
        np.matmul(transpose(weights), d_mixed, out=d_roles[..., 2 * k :])
        d_scores = d_weights
        d_scores -= (d_weights * weights).sum(axis=-1, keepdims=True)
        d_scores *= weights
        if blocked is not None:  # a blocked score is the constant −1e6: no gradient
            np.copyto(d_scores, 0, where=blocked)
        d_scores *= factor
        np.matmul(d_scores, key, out=d_roles[..., :k])
        np.matmul(transpose(d_scores), q, out=d_roles[..., k : 2 * k])
        d_proj = d_proj.reshape(flat.shape[0], -1)
        d_x = (d_proj @ w_all.T).reshape(x_shape) if with_input else None
        d_w = (flat.T @ d_proj).reshape(width, heads, -1).transpose(1, 0, 2)
        d_b = d_proj.sum(axis=0).reshape(heads, -1)
        grads = (
            d_w[..., :k],
            d_b[:, :k],
            d_w[..., k : 2 * k],
            np.zeros_like(d_b[:, k : 2 * k]),  # bk does not move the weights (see the class)
            d_w[..., 2 * k :],
            d_b[:, 2 * k :],
        )
        return (d_x, None, *grads) if self.masked else (d_x, *grads)


def head_params(v: FreshVars) -> tuple[Carrier, ...]:
    """Wq, bq, Wk, bk, Wv, bv over H heads of query/key width k and value width e."""

    def real(*dims: Dim) -> Carrier:
        return Carrier("Real", Shape(dims))

    return (
        real(v.H, v.d, v.k),
        real(v.H, v.k),
        real(v.H, v.d, v.k),
        real(v.H, v.k),
        real(v.H, v.d, v.e),
        real(v.H, v.e),
    )


def signature(_static: Mapping[str, object]) -> PrimSig:
    """`Real[*s, T, d] -> Real[*s, T, H * e]`."""
    v = FreshVars()
    hidden = Carrier("Real", Shape((v.T, v.d), v.rest()))
    out = Carrier("Real", Shape((v.T, v.H * v.e), v.rest()))
    return PrimSig(head_params(v), Prod((hidden,)), Prod((out,)))


SPEC = PrimSpec(
    "self_attention",
    "std.attention",
    ("Wq", "bq", "Wk", "bk", "Wv", "bv"),
    (),
    signature,
    "H self-attention heads at once, concatenated (width `H * e`)",
    kernel=MultiHead,
)
