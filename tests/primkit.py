"""What the tests of the primitives in catdsl/std/prims share: building a kernel, comparing its
forward pass and VJP with PyTorch's, and expecting a run-time error by code."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence

import numpy as np
import pytest

from catdsl.errors import CatRuntimeError
from catdsl.semantics.kernel import Kernel
from catdsl.std.library import make_kernel

TORCH_TOLERANCE = {"rtol": 1e-12, "atol": 1e-13}
"""Agreement with PyTorch in float64: the same formula up to rounding."""


def kernel(name: str, ranks: tuple[int, ...] = (1,), **static: object) -> Kernel:
    """The kernel of `name` with the spec's defaults for the static values not given."""
    return make_kernel(name, static, ranks)


def matches_torch(
    k: Kernel,
    inputs: Sequence[np.ndarray],
    torch_fn: Callable[..., object],
    seed: int = 7,
    tolerance: Mapping[str, float] = TORCH_TOLERANCE,
) -> None:
    """Assert the kernel's outputs and input cotangents equal PyTorch's for a random output
    cotangent, in float64; inputs that are not floating get no gradient on either side."""
    torch = pytest.importorskip("torch")
    outs, residual = k.forward(*inputs)
    rng = np.random.default_rng(seed)
    dys = [rng.normal(size=np.shape(y)) for y in outs]
    dxs = k.vjp(residual, *dys)
    leaves = [
        torch.tensor(x, requires_grad=bool(np.issubdtype(np.asarray(x).dtype, np.floating)))
        for x in inputs
    ]
    theirs = torch_fn(*leaves)
    theirs = tuple(theirs) if isinstance(theirs, tuple | list) else (theirs,)
    assert len(theirs) == len(outs)
    total = sum((t * torch.tensor(dy)).sum() for t, dy in zip(theirs, dys, strict=True))
    total.backward()
    for y, t in zip(outs, theirs, strict=True):
        np.testing.assert_allclose(y, t.detach().numpy(), **tolerance)
    for i, (x, dx, leaf) in enumerate(zip(inputs, dxs, leaves, strict=True)):
        if leaf.requires_grad and k.differentiable[i]:
            want = leaf.grad.numpy() if leaf.grad is not None else np.zeros_like(x)
            np.testing.assert_allclose(dx, want, **tolerance)


@contextlib.contextmanager
def raises(code: str, *words: str) -> Iterator[pytest.ExceptionInfo]:
    """Expect a CatRuntimeError with `code` whose message contains every word."""
    with pytest.raises(CatRuntimeError) as info:
        yield info
    diagnostic = info.value.diagnostic
    assert diagnostic.code == code, diagnostic
    for word in words:
        assert word in diagnostic.message, diagnostic.message
