"""What the torch-rule tests share: a rule and its numpy kernel run on the same operands, and
their outputs and gradients (autograd against the kernel's VJP) compared."""

from __future__ import annotations

from typing import Any

import numpy as np

from catdsl.semantics.kernel import Mode
from catdsl.semantics.torch_backend import to_numpy
from catdsl.std.library import PRIMITIVES, make_kernel

TOL = {"rtol": 1e-12, "atol": 1e-12}


def assert_same(ours: Any, theirs: Any) -> None:
    """Equal structure, shapes and dtypes, and values to 1e-12 (exactly for non-floats)."""
    if isinstance(ours, tuple | list):
        assert isinstance(theirs, tuple | list) and len(ours) == len(theirs)
        for a, b in zip(ours, theirs, strict=True):
            assert_same(a, b)
        return
    if ours is None:
        assert theirs is None
        return
    if np.asarray(ours).dtype.kind in "USO":
        assert isinstance(theirs, np.ndarray | np.generic)  # symbols stay numpy
    a, b = np.asarray(ours), np.asarray(theirs)
    assert a.shape == b.shape, (a.shape, b.shape)
    assert a.dtype == b.dtype, (a.dtype, b.dtype)
    if a.dtype.kind == "f":
        np.testing.assert_allclose(b, a, **TOL)
    else:
        np.testing.assert_array_equal(b, a)


def torch_rule(name: str, static: dict, ranks: tuple[int, ...]) -> Any:
    """The bound torch rule of `name`, its spec's defaults filled in (as `make_kernel` does)."""
    from catdsl.std.torch_library import TORCH_RULES

    return TORCH_RULES[name](ranks, **{**PRIMITIVES[name].defaults, **static})


def is_real(y: Any) -> bool:
    """Whether an output is one real array (cotangents are drawn for those)."""
    return y is not None and not isinstance(y, tuple) and np.asarray(y).dtype.kind == "f"


def tensor(x: Any) -> Any:
    """An operand as the torch backend holds it: a tensor (a float one tracking its gradient),
    or a numpy array of symbols, which have no tensor form."""
    import torch

    array = np.asarray(x)
    if array.dtype.kind in "USO":
        return array
    return torch.tensor(array, requires_grad=array.dtype.kind == "f")


def compare(
    name: str,
    static: dict,
    ranks: tuple[int, ...],
    inputs: tuple[np.ndarray, ...],
    seed: int = 0,
    mode: Mode | None = None,
) -> None:
    """The rule's outputs equal the kernel's, and the gradient autograd gives for random output
    cotangents equals the kernel's VJP (a float input the VJP gives None or exact zeros gets no
    gradient or a zero one)."""
    import torch

    kernel = make_kernel(name, static, ranks)
    if mode is None:
        outs, residual = kernel.forward(*inputs)
    else:
        outs, residual = kernel.forward_in(mode, *inputs)
    leaves = [tensor(x) for x in inputs]
    fn = torch_rule(name, static, ranks)
    got = fn(*leaves) if mode is None else fn(*leaves, mode=mode)
    assert_same(tuple(outs), tuple(to_numpy(y) for y in got))
    rng = np.random.default_rng(seed)
    cotangents = [rng.normal(size=np.shape(y)) if is_real(y) else None for y in outs]
    wanted = [(y, dy) for y, dy in zip(got, cotangents, strict=True) if dy is not None]
    wanted = [(y, dy) for y, dy in wanted if isinstance(y, torch.Tensor)]
    if not wanted or not any(
        isinstance(leaf, torch.Tensor) and leaf.requires_grad for leaf in leaves
    ):
        return
    expected = kernel.vjp(residual, *(dy if dy is not None else None for dy in cotangents))
    terms = [(y * torch.tensor(dy)).sum() for y, dy in wanted if y.requires_grad]
    if terms:
        torch.stack(terms).sum().backward()
    for leaf, grad in zip(leaves, expected, strict=True):
        if not (isinstance(leaf, torch.Tensor) and leaf.requires_grad):
            continue
        if grad is None or not np.any(grad):  # nothing flows (exact zeros, or an empty list's)
            assert leaf.grad is None or not bool(leaf.grad.any()), f"{name}: a gradient flows"
            continue
        assert leaf.grad is not None, f"{name}: no gradient reaches an input the VJP reaches"
        np.testing.assert_allclose(leaf.grad.numpy(), np.asarray(grad), **TOL)
