"""Gradient checks shared by the kernel tests: a kernel's VJP against central differences."""

from __future__ import annotations

import numpy as np

from catdsl.semantics.kernel import Kernel


def numeric_vjp(kernel: Kernel, inputs: list[np.ndarray], dys: list[np.ndarray], eps=1e-6):
    """Central differences of ⟨dy, f(x)⟩ with respect to each floating, differentiable input.

    Outputs are subtracted before pairing, so large constant outputs (−1e6 masks) cancel exactly.
    """

    def central(up: list[np.ndarray], down: list[np.ndarray]) -> float:
        pairs = zip(dys, kernel.forward_only(*up), kernel.forward_only(*down), strict=True)
        return sum(float(np.sum(dy * (y_up - y_down))) for dy, y_up, y_down in pairs) / (2 * eps)

    grads = []
    for i, x in enumerate(inputs):
        if not kernel.differentiable[i] or not np.issubdtype(x.dtype, np.floating):
            grads.append(None)
            continue
        grad = np.zeros_like(x)
        for idx in np.ndindex(x.shape):
            up, down = list(inputs), list(inputs)
            up[i], down[i] = x.copy(), x.copy()
            up[i][idx] += eps
            down[i][idx] -= eps
            grad[idx] = central(up, down)
        grads.append(grad)
    return grads


def check_vjp(kernel: Kernel, inputs: list[np.ndarray], seed: int = 0) -> None:
    """Assert the kernel's VJP equals central differences for a random cotangent."""
    rng = np.random.default_rng(seed)
    outs, residual = kernel.forward(*inputs)
    assert len(outs) == kernel.n_out
    dys = [rng.normal(size=np.shape(y)) for y in outs]
    analytic = kernel.vjp(residual, *dys)
    assert len(analytic) == kernel.n_in == len(inputs)
    for x, got, want in zip(inputs, analytic, numeric_vjp(kernel, inputs, dys), strict=True):
        if want is None:
            assert got is None or not np.issubdtype(x.dtype, np.floating)
            continue
        assert np.shape(got) == x.shape
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
