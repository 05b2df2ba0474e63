"""`self_attention` and `masked_self_attention` (catdsl/std/prims/self_attention.py and
masked_self_attention.py): multi-head self-attention with the head count as a dim. Values and
every gradient against central differences and against PyTorch (`nn.MultiheadAttention`,
`scaled_dot_product_attention`)."""

from __future__ import annotations

import numpy as np
import pytest
from attention_kit import MASKED_RANKS, RANKS, params, reference
from gradkit import check_vjp

import catdsl
from catdsl.std.library import PRIMITIVES, make_kernel

PROGRAM = """
import std.attention
dim T
dim D = 4
dim H = 2
dim K = 2
object Hidden : Real[T, D]
object MultiHeadOutput : Real[T, D]
object Causal : AllowMask[T, T]
param Wq : Real[H, D, K] = course_init(seed = 1, scale = 0.5)
param bq : Real[H, K] = zeros
param Wk : Real[H, D, K] = course_init(seed = 2, scale = 0.5)
param bk : Real[H, K] = zeros
param Wv : Real[H, D, K] = course_init(seed = 3, scale = 0.5)
param bv : Real[H, K] = zeros
morphism Heads : Hidden -> MultiHeadOutput = self_attention(Wq, bq, Wk, bk, Wv, bv)
morphism Masked : Hidden * Causal -> MultiHeadOutput = masked_self_attention(Wq, bq, Wk, bk, Wv, bv)
morphism MaskOf : Hidden -> Causal = causal_mask
let self_causal(x: Hidden) -> MultiHeadOutput = { m = MaskOf(x); return Masked(x, m) }
"""


def test_the_signature_has_the_head_count_as_a_dim():
    sig = PRIMITIVES["self_attention"].build({})
    assert str(sig.cod).endswith(f"{sig.params[0].shape.dims[0]} * {sig.params[4].shape.dims[2]}]")
    assert [p.rank for p in sig.params] == [3, 2, 3, 2, 3, 2]


def test_the_concatenation_width_is_checked_symbolically():
    catdsl.loads(PROGRAM)
    with pytest.raises(catdsl.CatError) as info:
        catdsl.loads(PROGRAM.replace("dim K = 2", "dim K = 3"))
    assert info.value.diagnostics[0].code == "E0205"
    assert "Real[T, 6]" in info.value.diagnostics[0].message


@pytest.mark.parametrize("lead", [(), (3,)])
def test_values_equal_the_heads_one_by_one(lead):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(*lead, 5, 4))
    ps = params(3, 4, 2, 3)
    (out,) = make_kernel("self_attention", {}, RANKS)(x, *ps)
    np.testing.assert_allclose(out, reference(x, None, *ps), rtol=1e-13, atol=1e-14)
    mask = np.tri(5, dtype=bool)
    (masked,) = make_kernel("masked_self_attention", {}, MASKED_RANKS)(x, mask, *ps)
    np.testing.assert_allclose(masked, reference(x, mask, *ps), rtol=1e-13, atol=1e-14)


def test_a_program_runs_causal_self_attention_for_any_length():
    program = catdsl.loads(PROGRAM)
    ps = [program.params[n] for n in ("Wq", "bq", "Wk", "bk", "Wv", "bv")]
    for length in (1, 3, 6):
        x = np.random.default_rng(length).normal(size=(length, 4))
        want = reference(x, np.tri(length, dtype=bool), *ps)
        np.testing.assert_allclose(program["self_causal"](x), want, rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize("lead", [(), (2,)])
def test_the_vjp_matches_central_differences(lead):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(*lead, 3, 4))
    check_vjp(make_kernel("self_attention", {}, RANKS), [x, *params(2, 4, 2, 3, seed=3)])
    mask = np.array([[True, False, True], [True, True, False], [False, False, True]])
    masked = make_kernel("masked_self_attention", {}, MASKED_RANKS)
    check_vjp(masked, [x, mask, *params(2, 4, 2, 3)])


def test_params_of_the_wrong_shapes_are_refused():
    ps = params(2, 4, 2, 2)
    ps[1] = np.zeros((3, 2))
    with pytest.raises(catdsl.CatRuntimeError) as info:
        make_kernel("self_attention", {}, RANKS)(np.zeros((3, 4)), *ps)
    assert info.value.diagnostic.code == "R0303"


# ------------------------------------------------------------------ PyTorch


def _ours(x, mask, ps, wo, bo, dy):
    """Our heads then the output projection: the output, d x, the six head grads, d Wo, d bo."""
    name, ranks = ("self_attention", RANKS)
    if mask is not None:
        name, ranks = "masked_self_attention", MASKED_RANKS
    kernel = make_kernel(name, {}, ranks)
    inputs = [x, *([] if mask is None else [mask]), *ps]
    (concat,), residual = kernel.forward(*inputs)
    out = concat @ wo + bo
    grads = kernel.vjp(residual, dy @ wo.T)
    d_heads = [g for g in grads[1:] if g is not None]
    d_wo = concat.reshape(-1, wo.shape[0]).T @ dy.reshape(-1, wo.shape[1])
    return out, grads[0], d_heads, d_wo, dy.reshape(-1, wo.shape[1]).sum(axis=0)


@pytest.mark.torch
@pytest.mark.parametrize("masked", [False, True])
def test_agrees_with_torch_multihead_attention(masked):
    torch = pytest.importorskip("torch")
    width, heads, k, length, batch = 6, 3, 2, 5, 2
    torch.manual_seed(0)
    mha = torch.nn.MultiheadAttention(width, heads, batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        mha.in_proj_bias.normal_()
        mha.out_proj.bias.normal_()
    rng = np.random.default_rng(4)
    x = rng.normal(size=(batch, length, width))
    dy = rng.normal(size=(batch, length, width))
    allow = np.tri(length, dtype=bool) if masked else None
    tx = torch.tensor(x, requires_grad=True)
    block = None if allow is None else torch.tensor(~allow)  # the module's polarity: true = blocked
    (ty, _) = mha(tx, tx, tx, attn_mask=block, need_weights=False)
    ty.backward(torch.tensor(dy))
    w_in = mha.in_proj_weight.detach().numpy()
    b_in = mha.in_proj_bias.detach().numpy()

    def per_head(matrix, role):
        rows = matrix[role * width : (role + 1) * width]
        return np.stack([rows[h * k : (h + 1) * k].T for h in range(heads)])

    def per_bias(vector, role):
        return vector[role * width : (role + 1) * width].reshape(heads, k)

    ps = []
    for role in range(3):
        ps += [per_head(w_in, role), per_bias(b_in, role)]
    wo = mha.out_proj.weight.detach().numpy().T
    bo = mha.out_proj.bias.detach().numpy()
    out, dx, d_heads, d_wo, d_bo = _ours(x, allow, ps, wo, bo, dy)
    tol = {"rtol": 1e-10, "atol": 1e-10}
    np.testing.assert_allclose(out, ty.detach().numpy(), **tol)
    np.testing.assert_allclose(dx, tx.grad.numpy(), **tol)
    g_in, gb_in = mha.in_proj_weight.grad.numpy(), mha.in_proj_bias.grad.numpy()
    for role in range(3):
        np.testing.assert_allclose(d_heads[2 * role], per_head(g_in, role), **tol)
        np.testing.assert_allclose(d_heads[2 * role + 1], per_bias(gb_in, role), **tol)
    np.testing.assert_allclose(d_wo, mha.out_proj.weight.grad.numpy().T, **tol)
    np.testing.assert_allclose(d_bo, mha.out_proj.bias.grad.numpy(), **tol)


def test_the_params_only_vjp_skips_the_sequence_and_agrees():
    rng = np.random.default_rng(8)
    x = rng.normal(size=(2, 3, 4))
    kernel = make_kernel("self_attention", {}, RANKS)
    (out,), residual = kernel.forward(x, *params(2, 4, 2, 2))
    dy = rng.normal(size=out.shape)
    full = kernel.vjp(residual, dy)
    partial = kernel.vjp_for((False,) + (True,) * 6)(residual, dy)
    assert partial[0] is None
    for a, b in zip(full[1:], partial[1:], strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("masked", [False, True])
def test_the_key_bias_gets_exactly_zero_cotangent(masked):
    """bk adds q_i·bk/√k to every score of row i; the softmax ignores a row constant, so the
    output does not depend on bk and its cotangent is exact zeros (not rounding noise)."""
    rng = np.random.default_rng(12)
    x = rng.normal(size=(2, 5, 4))
    name, ranks = ("masked_self_attention", MASKED_RANKS) if masked else ("self_attention", RANKS)
    mask = [np.tri(5, dtype=bool)] if masked else []
    kernel = make_kernel(name, {}, ranks)
    ps = params(2, 4, 3, 2, seed=5)
    (out,), residual = kernel.forward(x, *mask, *ps)
    np.testing.assert_allclose(out, reference(x, *(mask or [None]), *ps), rtol=1e-12, atol=1e-12)
    moved = [*ps[:3], ps[3] + rng.normal(size=ps[3].shape) * 10, *ps[4:]]
    (out_moved,), _ = kernel.forward(x, *mask, *moved)
    np.testing.assert_array_equal(out_moved, out)
    grads = kernel.vjp(residual, rng.normal(size=out.shape))
    d_bk = grads[len(mask) + 4]
    assert d_bk.shape == ps[3].shape and not np.any(d_bk)
    check_vjp(kernel, [x, *mask, *ps])


@pytest.mark.torch
@pytest.mark.parametrize("masked", [False, True])
def test_the_key_bias_gets_no_gradient_on_torch(masked):
    torch = pytest.importorskip("torch")
    from catdsl.std.torch_library import TORCH_RULES

    rng = np.random.default_rng(13)
    name, ranks = ("masked_self_attention", MASKED_RANKS) if masked else ("self_attention", RANKS)
    mask = [torch.tensor(np.tri(5, dtype=bool))] if masked else []
    x = torch.tensor(rng.normal(size=(2, 5, 4)), requires_grad=True)
    ps = [torch.tensor(p, requires_grad=True) for p in params(2, 4, 3, 2, seed=6)]
    (out,) = TORCH_RULES[name](ranks)(x, *mask, *ps)
    out.backward(torch.tensor(rng.normal(size=tuple(out.shape))))
    assert ps[3].grad is None or not bool(ps[3].grad.any())
    assert all(p.grad is not None and bool(p.grad.any()) for i, p in enumerate(ps) if i != 3)
