"""The torch rules of the std.ml primitives: each primitive's forward pass as torch operations,
computed as its numpy kernel computes it (same formulas, same max shift, the same 1e-9 floor in
`nll`), so float64 results agree to rounding, and refusing the same operands with the same codes.

A rule is `rule(in_ranks, **static)` returning a function from tensors to a tuple of tensors (see
`semantics.torch_backend`); `TORCH_RULES` is the table the torch backend is given. Importing this
module imports torch: the front end imports it only when the torch backend is asked for.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from catdsl.errors import CatRuntimeError
from catdsl.semantics.torch_backend import TorchFn, TorchRule
from catdsl.std.kernels import PROBABILITY_FLOOR, finite_real, positive_int

Tensor = torch.Tensor
Ranks = tuple[int, ...]


# ---------------------------------------------------------------- checks (the kernels' codes)


def check_indices(indices: Tensor, limit: int, kind: str, code: str) -> Tensor:
    """`indices` if they are integers in 0..limit−1 (R0203 for non-integers, else `code`)."""
    if indices.is_floating_point() or indices.dtype == torch.bool or indices.is_complex():
        raise CatRuntimeError(
            "R0203", f"{kind} indices must be integers, found dtype {_numpy_name(indices)}"
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


def _numpy_name(x: Tensor) -> str:
    """A tensor's dtype as numpy names it (`float64`), for the kernels' wording."""
    return str(x.dtype).removeprefix("torch.")


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


def shifted_logits(kernel: str, logits: Tensor) -> tuple[Tensor, Tensor]:
    """Logits minus their row maximum and the log of their sum of exponentials (kept axis);
    R0401 when empty, R0402 when that sum is not finite."""
    check_logits(kernel, logits)
    shifted = logits - logits.amax(dim=-1, keepdim=True)
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


# ---------------------------------------------------------------- the rules


def lookup(in_ranks: Ranks) -> TorchFn:
    """`lookup(E)`: the rows E[t] (R0201 for a token outside the table)."""

    def run(tokens: Tensor, table: Tensor) -> tuple[Tensor, ...]:
        check_indices(tokens, table.shape[0], "token", "R0201")
        return (table[tokens.long()],)

    return run


def affine(in_ranks: Ranks) -> TorchFn:
    """`affine(W, b)`: x·W + b on the last axis."""

    def run(x: Tensor, weight: Tensor, bias: Tensor) -> tuple[Tensor, ...]:
        check_linear("linear layer", x, weight, bias)
        return (x @ weight + bias,)

    return run


def linear(in_ranks: Ranks) -> TorchFn:
    """`linear(W)`: x·W on the last axis."""

    def run(x: Tensor, weight: Tensor) -> tuple[Tensor, ...]:
        check_linear("linear layer", x, weight, None)
        return (x @ weight,)

    return run


def dot(in_ranks: Ranks) -> TorchFn:
    """`dot(v)`: x·v over the last axis."""

    def run(x: Tensor, vector: Tensor) -> tuple[Tensor, ...]:
        if vector.ndim != 1 or x.ndim == 0 or x.shape[-1] != vector.shape[0]:
            raise CatRuntimeError(
                "R0301",
                f"shape mismatch in dot product: {tuple(x.shape)} and {tuple(vector.shape)}",
            )
        return (x @ vector,)

    return run


def scale(in_ranks: Ranks, *, c: float) -> TorchFn:
    """`scale(c)`: multiplication by the constant c."""
    factor = finite_real("scale", "c", c)
    return lambda x: (x * factor,)


def binary(op: Callable[[Tensor, Tensor], Tensor]) -> TorchRule:
    """An elementwise rule: equal element ranks must agree in shape; a lower-rank operand is
    broadcast over the other's element axes."""

    def rule(in_ranks: Ranks) -> TorchFn:
        def run(a: Tensor, b: Tensor) -> tuple[Tensor, ...]:
            rank_a, rank_b = in_ranks or (a.ndim, b.ndim)
            if rank_a == rank_b:
                check_same_elements("elementwise operation", a, b, rank_a)
                return (op(a, b),)
            top = max(rank_a, rank_b)
            return (op(lift(a, rank_a, top), lift(b, rank_b, top)),)

        return run

    return rule


def reduction(name: str, average: bool) -> TorchRule:
    """`sum` / `mean` over each element's entries."""

    def rule(in_ranks: Ranks) -> TorchFn:
        def run(x: Tensor) -> tuple[Tensor, ...]:
            rank = in_ranks[0] if in_ranks else x.ndim
            shape = element_shape(name, x, rank)
            total = sum_elements(x, rank)
            if not average:
                return (total,)
            count = math.prod(shape)
            if count == 0:
                raise CatRuntimeError(
                    "R0401", f"`{name}` of an empty array (shape {tuple(x.shape)})"
                )
            return (total / count,)

        return run

    return rule


def unary(op: Callable[[Tensor], Tensor]) -> TorchRule:
    """An elementwise rule of one operand."""

    def rule(in_ranks: Ranks) -> TorchFn:
        return lambda x: (op(x),)

    return rule


def _sigmoid(x: Tensor) -> Tensor:
    """1 / (1 + e^−x) from e^−|x|, as the numpy kernel computes it."""
    e = (-x.abs()).exp()
    return torch.where(x >= 0, 1 / (1 + e), e / (1 + e))


def softmax(in_ranks: Ranks) -> TorchFn:
    """`softmax`: the max-shifted softmax of the last axis."""

    def run(logits: Tensor) -> tuple[Tensor, ...]:
        shifted, log_total = shifted_logits("softmax", logits)
        return ((shifted - log_total).exp(),)

    return run


def log_softmax(in_ranks: Ranks) -> TorchFn:
    """`log_softmax`: logits minus their log-sum-exp."""

    def run(logits: Tensor) -> tuple[Tensor, ...]:
        shifted, log_total = shifted_logits("log_softmax", logits)
        return (shifted - log_total,)

    return run


def nll(in_ranks: Ranks) -> TorchFn:
    """`nll`: −ln(max(p[t], 1e-9))."""

    def run(probs: Tensor, target: Tensor) -> tuple[Tensor, ...]:
        check_logits("nll", probs)
        check_indices(target, probs.shape[-1], "target", "R0202")
        return (-picked(probs, target.long()).clamp_min(PROBABILITY_FLOOR).log(),)

    return run


def cross_entropy(in_ranks: Ranks) -> TorchFn:
    """`cross_entropy`: lse(z) − z[t] from the shifted logits."""

    def run(logits: Tensor, target: Tensor) -> tuple[Tensor, ...]:
        shifted, log_total = shifted_logits("cross_entropy", logits)
        check_indices(target, logits.shape[-1], "target", "R0202")
        return (log_total[..., 0] - picked(shifted, target.long()),)

    return run


def mse(in_ranks: Ranks) -> TorchFn:
    """`mse`: the mean over the element axes of (prediction − target)²."""

    def run(prediction: Tensor, target: Tensor) -> tuple[Tensor, ...]:
        rank = in_ranks[0] if in_ranks else prediction.ndim
        check_same_elements("mean squared error", prediction, target, rank)
        diff = prediction - target
        count = math.prod(element_shape("mse", diff, rank))
        if count == 0:
            raise CatRuntimeError("R0401", f"`mse` of an empty array (shape {tuple(diff.shape)})")
        return (sum_elements(diff * diff, rank) / count,)

    return run


def windows(in_ranks: Ranks, *, k: int) -> TorchFn:
    """`windows(k)`: the k shifted views of a sequence (output j holds items j … N−k+j)."""
    size = positive_int("windows", "k", k)

    def run(seq: Tensor) -> tuple[Tensor, ...]:
        rank = max(in_ranks[0] if in_ranks else seq.ndim, 1)
        element_shape("windows", seq, rank)
        axis = seq.ndim - rank
        length = seq.shape[axis]
        if length < size:
            raise CatRuntimeError(
                "R0401", f"dataset windowing requires at least {size} tokens, found {length}"
            )
        count = length - size + 1
        return tuple(seq.narrow(axis, j, count) for j in range(size))

    return run


TORCH_RULES: dict[str, TorchRule] = {
    "lookup": lookup,
    "affine": affine,
    "linear": linear,
    "dot": dot,
    "scale": scale,
    "add": binary(torch.add),
    "mul": binary(torch.mul),
    "sum": reduction("sum", average=False),
    "mean": reduction("mean", average=True),
    "relu": unary(lambda x: x.clamp_min(0)),
    "tanh": unary(torch.tanh),
    "sigmoid": unary(_sigmoid),
    "softmax": softmax,
    "log_softmax": log_softmax,
    "nll": nll,
    "cross_entropy": cross_entropy,
    "mse": mse,
    "windows": windows,
}
"""The torch rules by primitive name (std.ml's primitives so far; others are R0810)."""
