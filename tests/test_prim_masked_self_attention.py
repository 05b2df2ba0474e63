"""`masked_self_attention` (catdsl/std/prims/masked_self_attention.py): `self_attention` with an
allow-mask applied in every head before the softmax. Its values and gradients (masked cells get
none) against PyTorch's `scaled_dot_product_attention`, whose boolean mask has the same polarity."""

from __future__ import annotations

import numpy as np
import pytest
from attention_kit import MASKED_RANKS, params

import catdsl
from catdsl.std.library import PRIMITIVES, make_kernel


def test_the_mask_is_an_allow_mask_wire_after_the_sequence():
    sig = PRIMITIVES["masked_self_attention"].build({})
    assert [a.kind for a in sig.dom.atoms] == ["Real", "AllowMask"]


def test_masked_scores_get_no_gradient():
    rng = np.random.default_rng(7)
    x = rng.normal(size=(3, 4))
    kernel = make_kernel("masked_self_attention", {}, MASKED_RANKS)
    ps = params(2, 4, 2, 2)
    mask = np.tri(3, dtype=bool)
    (_, residual) = kernel.forward(x, mask, *ps)
    # the future of query 0 cannot change its output: move key rows 1 and 2 only
    moved = x.copy()
    moved[1:] += 5.0
    (a,) = kernel(x, mask, *ps)
    (b,) = kernel(moved, mask, *ps)
    np.testing.assert_array_equal(a[0], b[0])
    dy = np.zeros((3, 4))
    dy[0] = 1.0
    d_x = kernel.vjp(residual, dy)[0]
    assert not d_x[1:].any()


def test_a_mask_that_does_not_fit_or_closes_a_row_is_refused():
    x = np.zeros((3, 4))
    kernel = make_kernel("masked_self_attention", {}, MASKED_RANKS)
    with pytest.raises(catdsl.CatRuntimeError) as info:
        kernel(x, np.ones((2, 2), dtype=bool), *params(2, 4, 2, 2))
    assert info.value.diagnostic.code == "R0303"
    closed = np.tri(3, dtype=bool)
    closed[2] = False
    with pytest.raises(catdsl.CatRuntimeError) as info:
        kernel(x, closed, *params(2, 4, 2, 2))
    assert info.value.diagnostic.code == "R0403" and "row 2" in info.value.diagnostic.message


@pytest.mark.torch
def test_agrees_with_torch_sdpa_and_an_allow_mask():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    width, heads, k, e, length = 4, 2, 3, 2, 4
    rng = np.random.default_rng(5)
    x = rng.normal(size=(2, length, width))
    ps = params(heads, width, k, e, seed=6)
    allow = np.array([[1, 0, 1, 0], [1, 1, 0, 0], [0, 0, 1, 1], [1, 1, 1, 1]], dtype=bool)
    dy = rng.normal(size=(2, length, heads * e))
    kernel = make_kernel("masked_self_attention", {}, MASKED_RANKS)
    (out,), residual = kernel.forward(x, allow, *ps)
    grads = kernel.vjp(residual, dy)
    tx = torch.tensor(x, requires_grad=True)
    tps = [torch.tensor(p, requires_grad=True) for p in ps]
    roles = [torch.einsum("btd,hdk->bhtk", tx, tps[i]) + tps[i + 1][:, None] for i in (0, 2, 4)]
    ty = F.scaled_dot_product_attention(*roles, attn_mask=torch.tensor(allow))
    ty = ty.transpose(1, 2).reshape(2, length, heads * e)
    ty.backward(torch.tensor(dy))
    tol = {"rtol": 1e-10, "atol": 1e-10}
    np.testing.assert_allclose(out, ty.detach().numpy(), **tol)
    np.testing.assert_allclose(grads[0], tx.grad.numpy(), **tol)
    assert grads[1] is None
    for ours, theirs in zip(grads[2:], tps, strict=True):
        np.testing.assert_allclose(ours, theirs.grad.numpy(), **tol)
