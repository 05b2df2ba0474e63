"""The loss and normalisation kernels against PyTorch, forward and gradients, in float64."""

from __future__ import annotations

import numpy as np
import pytest

from catdsl.std.library import make_kernel

torch = pytest.importorskip("torch")
F = torch.nn.functional

pytestmark = pytest.mark.torch

BATCHES = [(), (3,), (2, 3)]
TOL = {"rtol": 1e-9, "atol": 1e-9}


def forward_and_grads(name, static, in_ranks, inputs, dy):
    """Our outputs and input cotangents for a single-output kernel and cotangent dy."""
    kernel = make_kernel(name, static, in_ranks)
    (out,), residual = kernel.forward(*inputs)
    return out, kernel.vjp(residual, dy)


def torch_vjp(fn, inputs, dy):
    """PyTorch's output and gradients of ⟨dy, fn(inputs)⟩ for the float inputs."""
    leaves = [torch.tensor(x, requires_grad=np.issubdtype(x.dtype, np.floating)) for x in inputs]
    out = fn(*leaves)
    (out * torch.tensor(dy)).sum().backward()
    grads = [leaf.grad.numpy() if leaf.requires_grad else None for leaf in leaves]
    return out.detach().numpy(), grads


def assert_match(ours, theirs):
    out, grads = ours
    t_out, t_grads = theirs
    np.testing.assert_allclose(out, t_out, **TOL)
    for grad, t_grad in zip(grads, t_grads, strict=True):
        if t_grad is None:
            assert grad is None
        else:
            np.testing.assert_allclose(grad, t_grad, **TOL)


@pytest.fixture
def rng():
    return np.random.default_rng(7)


@pytest.mark.parametrize("batch", BATCHES)
def test_softmax(rng, batch):
    z, dy = 3 * rng.normal(size=(*batch, 5)), rng.normal(size=(*batch, 5))
    ours = forward_and_grads("softmax", {}, (1,), [z], dy)
    assert_match(ours, torch_vjp(lambda t: F.softmax(t, dim=-1), [z], dy))


@pytest.mark.parametrize("batch", BATCHES)
def test_log_softmax(rng, batch):
    z, dy = 3 * rng.normal(size=(*batch, 5)), rng.normal(size=(*batch, 5))
    ours = forward_and_grads("log_softmax", {}, (1,), [z], dy)
    assert_match(ours, torch_vjp(lambda t: F.log_softmax(t, dim=-1), [z], dy))


def flat_loss(fn):
    """Apply a PyTorch loss of (N, C) × (N,) to any batch shape, reduction none."""
    return lambda x, t: fn(x.reshape(-1, x.shape[-1]), t.reshape(-1)).reshape(t.shape)


@pytest.mark.parametrize("batch", BATCHES)
def test_cross_entropy(rng, batch):
    z, t = 3 * rng.normal(size=(*batch, 5)), rng.integers(0, 5, batch)
    dy = rng.normal(size=batch)
    ours = forward_and_grads("cross_entropy", {}, (1, 0), [z, t], dy)
    loss = flat_loss(lambda x, y: F.cross_entropy(x, y, reduction="none"))
    assert_match(ours, torch_vjp(loss, [z, t], dy))


@pytest.mark.parametrize("batch", BATCHES)
def test_nll_on_probabilities(rng, batch):
    e = np.exp(rng.normal(size=(*batch, 5)))
    p, t = e / e.sum(axis=-1, keepdims=True), rng.integers(0, 5, batch)
    dy = rng.normal(size=batch)
    ours = forward_and_grads("nll", {}, (1, 0), [p, t], dy)
    # torch's nll_loss takes log-probabilities: feed it log p.
    loss = flat_loss(lambda x, y: F.nll_loss(torch.log(x), y, reduction="none"))
    assert_match(ours, torch_vjp(loss, [p, t], dy))


@pytest.mark.parametrize("batch", BATCHES)
def test_layer_norm(rng, batch):
    x, dy = rng.normal(size=(*batch, 4, 6)), rng.normal(size=(*batch, 4, 6))
    scale, shift = rng.normal(size=6), rng.normal(size=6)
    ours = forward_and_grads("layer_norm", {"eps": 1e-5}, (2, 1, 1), [x, scale, shift], dy)

    def norm(h, w, b):
        return F.layer_norm(h, (6,), weight=w, bias=b, eps=1e-5)

    assert_match(ours, torch_vjp(norm, [x, scale, shift], dy))


def test_masked_attention_chain_matches_scaled_dot_product_attention(rng):
    q, k, v = (rng.normal(size=(2, 3, 4)) for _ in range(3))
    mask = np.tril(np.ones((3, 3), dtype=bool))
    d_out = rng.normal(size=(2, 3, 4))
    chain = [
        make_kernel(name, {}, (2, 2)) for name in ("scores", "mask_scores", "row_softmax", "mix")
    ]
    scores, r_scores = chain[0].forward(q, k)
    masked, r_masked = chain[1].forward(*scores, mask)
    weights, r_weights = chain[2].forward(*masked)
    out, r_mix = chain[3].forward(*weights, v)
    d_weights, d_v = chain[3].vjp(r_mix, d_out)
    (d_masked,) = chain[2].vjp(r_weights, d_weights)
    d_scores, _ = chain[1].vjp(r_masked, d_masked)
    d_q, d_k = chain[0].vjp(r_scores, d_scores)

    def attention(tq, tk, tv):
        return F.scaled_dot_product_attention(tq, tk, tv, attn_mask=torch.tensor(mask))

    t_out, t_grads = torch_vjp(attention, [q, k, v], d_out)
    np.testing.assert_allclose(out[0], t_out, **TOL)
    for grad, t_grad in zip((d_q, d_k, d_v), t_grads, strict=True):
        np.testing.assert_allclose(grad, t_grad, **TOL)
