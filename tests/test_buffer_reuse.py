"""Kernels that write into their own fresh arrays: the same bits as the expressions written out,
and nothing handed out, read or kept is ever written.

The rule (docs/performance.md, "The Transformer block against PyTorch"): a kernel call owns
an array it made itself until it returns it, and may overwrite it in place; it never writes
into its inputs, the params or its residual (a tape can be pulled back more than once), and the
update writes only into the step lr·g it made. These tests keep references to everything a
training step returns and everything a kernel reads, and check none of it changes.
"""

from __future__ import annotations

from itertools import product

import numpy as np
import pytest

import catdsl
from catdsl.semantics.kernel import rows
from catdsl.semantics.loop import LoopHooks
from catdsl.semantics.training import initial_state, run_steps
from catdsl.std.attention_kernels import FeedForward, LayerNorm, add_into, pass_where_positive
from catdsl.std.optim import descend, sgd_update
from catdsl.std.prims.masked_self_attention import MaskedHeads

SEQUENCES = [(2, 3), (4, 8), (1, 5)]  # (sequences, length): odd lengths too


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal bit for bit (so −0.0 differs from +0.0, and NaN equals the same NaN)."""
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


def frozen(*arrays: np.ndarray) -> list[np.ndarray]:
    return [np.array(a, copy=True) for a in arrays]


def unchanged(arrays: tuple, copies: list) -> bool:
    return all(same_bits(a, c) for a, c in zip(arrays, copies, strict=True))


@pytest.mark.parametrize("lead", SEQUENCES)
def test_layer_norm_is_the_written_out_expression(lead: tuple) -> None:
    rng = np.random.default_rng(1)
    x, dy = rng.standard_normal((*lead, 6)), rng.standard_normal((*lead, 6))
    scale, shift = rng.standard_normal(6), rng.standard_normal(6)
    kernel = LayerNorm(eps=1e-5)
    inputs = (x, scale, shift, dy)
    before = frozen(*inputs)
    (y,), residual = kernel.trusted_forward(x, scale, shift)
    centred = x - x.mean(axis=-1, keepdims=True)
    inv_std = 1 / np.sqrt((centred * centred).mean(axis=-1, keepdims=True) + 1e-5)
    normed = centred * inv_std
    assert same_bits(y, normed * scale + shift)
    kept = frozen(*residual)
    dn = dy * scale
    dx = (inv_std / 6) * (
        6 * dn - dn.sum(axis=-1, keepdims=True) - normed * (dn * normed).sum(axis=-1, keepdims=True)
    )
    expected = (dx, rows(dy * normed).sum(axis=0), rows(dy).sum(axis=0))
    for _ in range(2):  # the tape read twice gives the same cotangents
        got = kernel.vjp(residual, dy)
        assert all(same_bits(g, e) for g, e in zip(got, expected, strict=True))
    assert unchanged(inputs, before) and unchanged(residual, kept)


@pytest.mark.parametrize("lead", SEQUENCES)
def test_ffn_is_the_written_out_expression(lead: tuple) -> None:
    rng = np.random.default_rng(2)
    x = rng.standard_normal((*lead, 5))
    w1, b1 = rng.standard_normal((5, 7)), rng.standard_normal(7)
    w2, b2 = rng.standard_normal((7, 5)), rng.standard_normal(5)
    dy = rng.standard_normal((*lead, 5))
    inputs = (x, w1, b1, w2, b2, dy)
    before = frozen(*inputs)
    kernel = FeedForward()
    (y,), residual = kernel.trusted_forward(x, w1, b1, w2, b2)
    pre = x @ w1 + b1
    hidden = np.maximum(pre, 0)
    assert same_bits(y, hidden @ w2 + b2)
    kept = frozen(*residual)
    d_pre = np.where(pre > 0, dy @ w2.T, 0)
    expected = (
        d_pre @ w1.T,
        rows(x).T @ rows(d_pre),
        rows(d_pre).sum(axis=0),
        rows(hidden).T @ rows(dy),
        rows(dy).sum(axis=0),
    )
    for _ in range(2):
        got = kernel.vjp(residual, dy)
        assert all(same_bits(g, e) for g, e in zip(got, expected, strict=True))
    assert unchanged(inputs, before) and unchanged(residual, kept)


def test_pass_where_positive_has_the_bits_of_where() -> None:  # small: where; large: bitwise
    rng = np.random.default_rng(3)
    for dtype, shape in product((np.float64, np.float32, np.float16), ((6, 9), (64, 80))):
        grad = rng.standard_normal(shape).astype(dtype)
        gate = rng.standard_normal(shape).astype(dtype)
        grad[0, :4] = [np.inf, -np.inf, np.nan, -0.0]
        gate[0, :4] = -1.0  # blocked: where gives +0.0 even for inf and NaN
        grad[1, :3] = [np.nan, -0.0, np.inf]
        gate[1, :3] = 1.0  # passed through as they are
        gate[2, 0], gate[2, 1] = np.nan, -0.0  # not positive: blocked
        expected = np.where(gate > 0, grad, 0)
        assert same_bits(pass_where_positive(grad.copy(), gate), expected)


def test_add_into_writes_only_when_the_sum_fits() -> None:
    fresh = np.ones((2, 3))
    assert add_into(fresh, np.arange(3.0)) is fresh
    assert same_bits(fresh, np.ones((2, 3)) + np.arange(3.0))
    small = np.ones((1, 3))
    wide = add_into(small, np.ones((4, 3)))  # broadcasting grows it: a new array
    assert wide.shape == (4, 3) and same_bits(small, np.ones((1, 3)))
    narrow = np.ones(3, dtype=np.float32)
    promoted = add_into(narrow, np.ones(3))  # float64 shift: promoted, as `+` would
    assert promoted.dtype == np.float64 and same_bits(narrow, np.ones(3, dtype=np.float32))


def test_descend_is_theta_minus_lr_g_in_one_new_array() -> None:
    rng = np.random.default_rng(4)
    theta, grad = rng.standard_normal((64, 80)), rng.standard_normal((64, 80))
    before = frozen(theta, grad)
    new = descend(theta, 0.1, grad)
    assert same_bits(new, theta - 0.1 * grad)
    assert not np.shares_memory(new, theta) and not np.shares_memory(new, grad)
    assert unchanged((theta, grad), before)
    for theta, grad in [
        (np.float64(2.0), np.float64(0.5)),  # scalars
        (np.ones(3, dtype=np.float32), np.ones(3)),  # a float64 gradient promotes
        (np.ones(3), np.ones(1)),  # a broadcast gradient
        (np.ones((64, 80)), np.ones(80)),
        (np.ones((64, 80), dtype=np.float32), np.ones((64, 80))),
    ]:
        assert same_bits(descend(theta, 0.1, grad), theta - 0.1 * grad)


def test_heads_write_their_mixing_into_the_output_columns() -> None:
    rng = np.random.default_rng(5)
    heads, width, k = 3, 6, 2
    x = rng.standard_normal((2, 5, width))
    mask = np.tri(5, dtype=bool)
    params = [rng.standard_normal(s) for s in [(heads, width, k), (heads, k)] * 3]
    (out,), residual = MaskedHeads().trusted_forward(x, mask, *params)
    weights, v = residual[5], residual[4]
    assert same_bits(out, np.moveaxis(weights @ v, -3, -2).reshape(2, 5, heads * k))


STEP = """
import std.ml
import std.attention
dim T
object Hidden : Real[T, 8]
object Mask : AllowMask[T, T]
object Heads : Real[T, 2 * 4]
object Logits : Real[T, 5]
object Targets : Index[T, 5]
object Loss : Real
param Wq : Real[2, 8, 4] = normal(0, 0.3, seed = 1)
param bq : Real[2, 4] = zeros
param Wk : Real[2, 8, 4] = normal(0, 0.3, seed = 2)
param bk : Real[2, 4] = zeros
param Wv : Real[2, 8, 4] = normal(0, 0.3, seed = 3)
param bv : Real[2, 4] = zeros
param g1 : Real[8] = ones
param s1 : Real[8] = zeros
param W1 : Real[8, 16] = normal(0, 0.3, seed = 5)
param b1 : Real[16] = zeros
param W2 : Real[16, 8] = normal(0, 0.3, seed = 6)
param b2 : Real[8] = zeros
param Wr : Real[8, 5] = normal(0, 0.3, seed = 7)
param br : Real[5] = zeros
morphism Attend : Hidden * Mask -> Heads = masked_self_attention(Wq, bq, Wk, bk, Wv, bv)
morphism Norm : Hidden -> Hidden = layer_norm(g1, s1)
morphism FeedForward : Hidden -> Hidden = ffn(W1, b1, W2, b2)
morphism Readout : Hidden -> Logits = readout(Wr, br)
morphism CrossEntropy : Logits * Targets -> Loss = cross_entropy >> mean
morphism Residual : Hidden * Heads -> Hidden = residual
morphism HiddenResidual : Hidden * Hidden -> Hidden = residual
let loss(x: Hidden, m: Mask, t: Targets) -> Loss = {
    n = Norm(Residual(x, Attend(x, m)))
    return CrossEntropy(Readout(HiddenResidual(n, FeedForward(n))), t)
}
data examples : List[Hidden * Mask * Targets] = load("data.npz")
let step = TrainStep(loss, examples, lr = 0.1)
"""


@pytest.mark.parametrize("length", [3, 4])
def test_nothing_a_step_hands_out_is_written_later(tmp_path, length: int) -> None:
    rng = np.random.default_rng(6)
    x = rng.standard_normal((4, length, 8))
    mask = np.broadcast_to(np.tri(length, dtype=bool), (4, length, length)).copy()
    targets = rng.integers(0, 5, (4, length))
    np.savez(tmp_path / "data.npz", x=x, mask=mask, targets=targets)
    (tmp_path / "block.cat").write_text(STEP)
    program = catdsl.load(str(tmp_path / "block.cat"))
    plan = program["step"].plan
    state = initial_state(program["step"].diagram, program.params)
    data = frozen(x, mask, targets)
    handed: list[dict] = [state[0]]
    copies = [{k: np.array(v, copy=True) for k, v in state[0].items()}]
    for _ in range(4):
        state = run_steps(plan, state, 1, params=program.params, hooks=LoopHooks(progress=False))
        handed.append(state[0])
        copies.append({k: np.array(v, copy=True) for k, v in state[0].items()})
    for params, copy in zip(handed, copies, strict=True):  # every state is as handed out
        assert all(same_bits(params[k], copy[k]) for k in copy)
    arrays = [a for params in handed[1:] for a in params.values()]
    for i, a in enumerate(arrays):  # each returned param is its own array
        assert not any(np.shares_memory(a, b) for b in arrays[i + 1 :])
        assert not any(np.shares_memory(a, b) for b in handed[0].values())
    assert unchanged((x, mask, targets), data)
    # the same four steps from the start again: the same bits (no state kept between steps)
    again = initial_state(program["step"].diagram, program.params)
    again = run_steps(plan, again, 4, params=program.params, hooks=LoopHooks(progress=False))
    assert all(same_bits(again[0][k], copies[-1][k]) for k in copies[-1])


def test_sgd_update_returns_new_arrays_only() -> None:
    params = {"a": np.ones((2, 2)), "b": np.zeros(3)}
    grads = {"a": np.full((2, 2), 0.5), "b": np.ones(3)}
    kept = {k: v.copy() for k, v in {**params, **{f"g{k}": g for k, g in grads.items()}}.items()}
    new = sgd_update(params, grads, 0.1)
    for name, value in new.items():
        assert same_bits(value, params[name] - 0.1 * grads[name])
        assert not np.shares_memory(value, params[name])
        assert not np.shares_memory(value, grads[name])
    assert all(same_bits(params[k], kept[k]) for k in params)
    assert all(same_bits(grads[k], kept[f"g{k}"]) for k in grads)
