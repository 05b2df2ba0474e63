"""What the torch rules share: the kernels' checks on tensors (same codes, same words), and the
pieces that make a rule's autograd gradient the numpy kernel's VJP.

Shape checks reuse the numpy kernels' own checks on a *ghost* of each tensor (a numpy array of
its shape and dtype that holds no data), so a refusal is worded exactly as on numpy. A refusal
that depends on the values (an index out of range, an entry outside a domain) is detected in
torch and then reported by running the numpy kernel on host copies of the operands, which
raises its own error. Importing this module imports torch.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from catdsl.errors import CatRuntimeError
from catdsl.semantics.kernel import Kernel

Tensor = torch.Tensor
Ranks = tuple[int, ...]

_NUMPY_DTYPES = {
    torch.float64: np.float64,
    torch.float32: np.float32,
    torch.float16: np.float16,
    torch.int64: np.int64,
    torch.int32: np.int32,
    torch.int16: np.int16,
    torch.int8: np.int8,
    torch.uint8: np.uint8,
    torch.bool: np.bool_,
}


def numpy_dtype(x: Tensor) -> np.dtype:
    """The numpy dtype of a tensor's dtype."""
    return np.dtype(_NUMPY_DTYPES.get(x.dtype, np.float64))


def ghost(x: Any) -> np.ndarray:
    """A numpy array with the shape and dtype of `x` and no data of its own (for shape checks)."""
    if not isinstance(x, Tensor):
        return np.asarray(x)
    return np.broadcast_to(np.zeros((), numpy_dtype(x)), tuple(x.shape))


def host(x: Any) -> Any:
    """`x` as numpy (a tensor copied to the host; anything else as it is)."""
    return x.detach().cpu().numpy() if isinstance(x, Tensor) else x


def refuse_as_numpy(kernel: Kernel, *xs: Any) -> CatRuntimeError:
    """The numpy kernel's own error for operands a rule found it refuses (raised by running the
    kernel on host copies of them)."""
    try:
        kernel.forward(*(host(x) for x in xs))
    except CatRuntimeError as exc:
        return exc
    raise AssertionError(f"the numpy kernel `{kernel.name}` accepted what its torch rule refused")


def check_indices(indices: Tensor, limit: int, kind: str, code: str) -> Tensor:
    """`indices` if they are integers in 0..limit−1 (R0203 for non-integers, else `code`)."""
    if indices.is_floating_point() or indices.dtype == torch.bool or indices.is_complex():
        raise CatRuntimeError(
            "R0203", f"{kind} indices must be integers, found dtype {numpy_dtype(indices)}"
        )
    bad = (indices < 0) | (indices >= limit)
    if bool(bad.any()):
        index = int(indices[bad].reshape(-1)[0])
        raise CatRuntimeError(
            code,
            f"{kind} index {index} out of range (limit {limit})",
            help=f"valid {kind} indices are 0 to {limit - 1}" if limit else "the table is empty",
        )
    return indices


def element_shape(kernel: str, x: Tensor, rank: int) -> tuple[int, ...]:
    """The last `rank` axes of `x` (R0306 when it has fewer)."""
    if x.ndim < rank:
        raise CatRuntimeError(
            "R0306",
            f"`{kernel}` expects an input of rank {rank} or more, found shape {tuple(x.shape)}",
        )
    return tuple(x.shape[x.ndim - rank :])


def check_same_elements(label: str, a: Tensor, b: Tensor, rank: int) -> None:
    """R0302 unless `a` and `b` have the same element shape."""
    shape_a, shape_b = element_shape(label, a, rank), element_shape(label, b, rank)
    if shape_a != shape_b:
        raise CatRuntimeError("R0302", f"shape mismatch in {label}: {shape_a} and {shape_b} differ")


def check_linear(label: str, x: Tensor, weight: Tensor, bias: Tensor | None) -> None:
    """R0301 unless x·W (+ b) is defined."""
    if weight.ndim != 2:
        raise CatRuntimeError(
            "R0301",
            f"shape mismatch in {label}: weight must be a matrix, found {tuple(weight.shape)}",
        )
    if (x.shape[-1] if x.ndim else None) != weight.shape[0]:
        raise CatRuntimeError(
            "R0301",
            f"shape mismatch in {label}: expected input of width {weight.shape[0]}, "
            f"found shape {tuple(x.shape)}",
        )
    if bias is not None and tuple(bias.shape) != tuple(weight.shape[1:]):
        raise CatRuntimeError(
            "R0301",
            f"shape mismatch in {label}: weight has {weight.shape[1]} columns "
            f"but bias has shape {tuple(bias.shape)}",
        )


def check_logits(kernel: str, logits: Tensor) -> None:
    """R0401 for an empty last axis."""
    if logits.ndim == 0 or logits.shape[-1] == 0:
        raise CatRuntimeError(
            "R0401", f"`{kernel}` got an empty input: no classes in shape {tuple(logits.shape)}"
        )


def element_count(kernel: str, x: Tensor, rank: int) -> int:
    """The number of entries of one element of `x` (R0401 when there are none)."""
    count = math.prod(element_shape(kernel, x, rank))
    if count == 0:
        raise CatRuntimeError("R0401", f"`{kernel}` of an empty array (shape {tuple(x.shape)})")
    return count


def shifted_logits(kernel: str, logits: Tensor) -> tuple[Tensor, Tensor]:
    """Logits minus their row maximum and the log of their sum of exponentials (kept axis);
    R0401 when empty, R0402 when that sum is not finite. The maximum is held constant for
    autograd: the results do not depend on the shift, so the gradient is the kernels' closed
    form without the shift's cancelling terms."""
    check_logits(kernel, logits)
    shifted = logits - logits.amax(dim=-1, keepdim=True).detach()  # a constant: no cotangent
    total = shifted.exp().sum(dim=-1, keepdim=True)
    if not bool(total.isfinite().all()):
        raise CatRuntimeError(
            "R0402", f"`{kernel}` got non-finite logits: the sum of exponentials is not finite"
        )
    return shifted, total.log()


def picked(values: Tensor, target: Tensor) -> Tensor:
    """values[..., t] per batch position, batch axes broadcast."""
    lead = torch.broadcast_shapes(values.shape[:-1], target.shape)
    wide = values.expand(*lead, values.shape[-1])
    return wide.gather(-1, target.expand(lead).unsqueeze(-1)).squeeze(-1)


def sum_elements(x: Tensor, rank: int) -> Tensor:
    """The sum over the last `rank` axes."""
    return x.sum(dim=tuple(range(x.ndim - rank, x.ndim))) if rank else x


def lift(x: Tensor, rank: int, target: int) -> Tensor:
    """Unit axes appended so an element of rank `rank` lines up with rank `target`."""
    return x.reshape(*x.shape, *(1,) * (target - rank))


def with_vjp(
    forward: Callable[..., tuple[Tensor, Any]], backward: Callable[..., Any]
) -> Callable[..., Tensor]:
    """A differentiable function whose gradient is a given VJP: `forward(*xs)` returns the
    output and what `backward(saved, dy)` needs; `backward` returns one cotangent per input
    (None where none flows). For primitives whose numpy VJP is not what autograd would derive
    from the forward formula (a derivative chosen at a kink, a closed form)."""

    class _Function(torch.autograd.Function):
        @staticmethod
        def forward(ctx: Any, *xs: Tensor) -> Tensor:
            y, ctx.saved = forward(*xs)
            return y

        @staticmethod
        def backward(ctx: Any, dy: Tensor) -> Any:
            return backward(ctx.saved, dy)

    return _Function.apply
