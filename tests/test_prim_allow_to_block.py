"""`allow_to_block` (catdsl/std/prims/allow_to_block.py): an allow-mask to the block-mask that
PyTorch's `nn.MultiheadAttention` takes, blocking the same cells."""

from __future__ import annotations

import numpy as np
import pytest

import catdsl
from catdsl.std.library import make_kernel


def test_the_two_conversions_are_inverse():
    allow = np.array([[True, False, True], [True, True, False]])
    (block,) = make_kernel("allow_to_block", {}, (2,))(allow)
    np.testing.assert_array_equal(block, ~allow)
    (back,) = make_kernel("block_to_allow", {}, (2,))(block)
    np.testing.assert_array_equal(back, allow)


def test_an_allow_row_with_nothing_allowed_is_refused():
    with pytest.raises(catdsl.CatRuntimeError) as info:
        make_kernel("allow_to_block", {}, (2,))(np.array([[True, False], [False, False]]))
    assert info.value.diagnostic.code == "R0403" and "row 1 allows no keys" in str(info.value)


@pytest.mark.torch
def test_the_block_mask_means_what_torch_multihead_attention_means():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    allow = np.tri(4, dtype=bool)
    (block,) = make_kernel("allow_to_block", {}, (2,))(allow)
    q, k, v = (torch.randn(1, 4, 3, dtype=torch.float64) for _ in range(3))
    mha = torch.nn.MultiheadAttention(3, 1, batch_first=True, dtype=torch.float64, bias=False)
    with torch.no_grad():
        mha.in_proj_weight.copy_(torch.cat([torch.eye(3)] * 3))
        mha.out_proj.weight.copy_(torch.eye(3))
    via_block = mha(q, k, v, attn_mask=torch.tensor(block), need_weights=False)[0]
    via_allow = F.scaled_dot_product_attention(q, k, v, attn_mask=torch.tensor(allow))
    np.testing.assert_allclose(via_block.detach().numpy(), via_allow.numpy(), rtol=0, atol=1e-14)
