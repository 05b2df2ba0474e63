"""The torch rules of std.ml's numeric primitives, and the pieces std.attention's rules reuse.

Each rule computes what its numpy kernel computes (the same formulas, the same max shift, the
same 1e-9 floor in `nll`), so float64 results agree to rounding; it refuses the operands the
kernel refuses with the same codes and words; and its autograd gradient is the kernel's VJP
(where autograd would derive another derivative from the formula — at a kink such as relu's 0,
or a closed form the kernel writes out — the rule is a `with_vjp` function with the kernel's
VJP). Rules validate their static arguments by building the numpy kernel, which refuses bad
ones (R0404), and reuse its helpers (dropout's mask) so the two backends cannot drift apart.

A rule is `rule(in_ranks, **static)` returning a function from tensors to a tuple of tensors (see
`semantics.torch_backend`). The rules live in three tables by concern: std.ml's here,
std.attention's in `torch_attention_rules`, the discrete ones (logic, comparisons, lists,
evaluation metrics) in `torch_discrete_rules`; `torch_library.TORCH_RULES` joins them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch

from catdsl.errors import CatRuntimeError
from catdsl.semantics.kernel import EVALUATION, Mode
from catdsl.semantics.torch_backend import TorchFn, TorchRule
from catdsl.std.kernels import PROBABILITY_FLOOR, finite_real, positive_int
from catdsl.std.prims.arith import CeilDiv, Sub
from catdsl.std.prims.clip import Clip
from catdsl.std.prims.concatenate import Concat, check_axis, shape_error
from catdsl.std.prims.dropout import Dropout
from catdsl.std.prims.log import Log
from catdsl.std.prims.rms_norm import RmsNorm
from catdsl.std.prims.split import Split
from catdsl.std.prims.sqrt import Sqrt
from catdsl.std.prims.transpose import Transpose
from catdsl.std.torch_checks import (
    Ranks,
    Tensor,
    check_indices,
    check_linear,
    check_logits,
    check_same_elements,
    element_count,
    element_shape,
    ghost,
    lift,
    numpy_dtype,
    picked,
    refuse_as_numpy,
    shifted_logits,
    sum_elements,
    with_vjp,
)

# ---------------------------------------------------------------- indexing and linear maps


def lookup(in_ranks: Ranks) -> TorchFn:
    """`lookup(E)`: the rows E[t] (R0201 for a token outside the table)."""

    def run(tokens: Tensor, table: Tensor) -> tuple[Tensor, ...]:
        check_indices(tokens, table.shape[0], "token", "R0201")
        return (table[tokens.long()],)

    return run


def affine_rule(label: str) -> TorchRule:
    """`affine(W, b)` (and `readout`, named `label` in shape errors): x·W + b on the last axis."""

    def rule(in_ranks: Ranks) -> TorchFn:
        def run(x: Tensor, weight: Tensor, bias: Tensor) -> tuple[Tensor, ...]:
            check_linear(label, x, weight, bias)
            return (x @ weight + bias,)

        return run

    return rule


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


def matmul(in_ranks: Ranks) -> TorchFn:
    """`matmul`: a @ b over the last two axes, leading axes broadcast (R0434 when they do not
    fit)."""

    def run(a: Tensor, b: Tensor) -> tuple[Tensor, ...]:
        check_axis("matmul", ghost(a), -2)
        check_axis("matmul", ghost(b), -2)
        shape_a, shape_b = tuple(a.shape), tuple(b.shape)
        if a.shape[-1] != b.shape[-2]:
            raise shape_error(
                "matmul", f"{shape_a} @ {shape_b}: {a.shape[-1]} columns, {b.shape[-2]} rows"
            )
        try:
            torch.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        except RuntimeError:
            raise shape_error(
                "matmul", f"the batch axes of {shape_a} and {shape_b} do not broadcast"
            ) from None
        return (a @ b,)

    return run


# ---------------------------------------------------------------- elementwise maps


def binary(op: Callable[[Tensor, Tensor], Tensor], label: str = "elementwise operation"):
    """An elementwise rule: equal element ranks must agree in shape (R0302, naming `label`); a
    lower-rank operand is broadcast over the other's element axes."""

    def rule(in_ranks: Ranks) -> TorchFn:
        def run(a: Tensor, b: Tensor) -> tuple[Tensor, ...]:
            return (op(*aligned(in_ranks, a, b, label)),)

        return run

    return rule


def aligned(in_ranks: Ranks, a: Tensor, b: Tensor, label: str) -> tuple[Tensor, Tensor]:
    """The operands of an elementwise rule, checked and lined up for broadcasting."""
    rank_a, rank_b = in_ranks or (a.ndim, b.ndim)
    if rank_a == rank_b:
        check_same_elements(label, a, b, rank_a)
        return a, b
    top = max(rank_a, rank_b)
    return lift(a, rank_a, top), lift(b, rank_b, top)


def sub(in_ranks: Ranks, *, kind: str = "Real") -> TorchFn:
    """`sub`: a − b; below zero on `Nat` is the kernel's R0421."""
    kernel = Sub(in_ranks, kind=kind)

    def run(a: Tensor, b: Tensor) -> tuple[Tensor, ...]:
        out = torch.sub(*aligned(in_ranks, a, b, kernel.label))
        if kind == "Nat" and out.numel() and bool((out < 0).any()):
            raise refuse_as_numpy(kernel, a, b)
        return (out,)

    return run


def choice(first: Callable[[Tensor, Tensor], Tensor], label: str) -> TorchRule:
    """`min` / `max`: the first operand where `first(a, b)` (a ≤ b, a ≥ b), else the second;
    the cotangent goes to the operand chosen, the first on a tie."""

    def rule(in_ranks: Ranks, *, kind: str = "Real") -> TorchFn:
        def run(a: Tensor, b: Tensor) -> tuple[Tensor, ...]:
            la, lb = aligned(in_ranks, a, b, label)
            return (torch.where(first(la, lb), la, lb),)

        return run

    return rule


def ceil_div(in_ranks: Ranks, *, kind: str = "Nat") -> TorchFn:
    """`ceil_div`: ⌈a / b⌉ of whole numbers, exactly; a zero divisor is the kernel's R0422."""
    kernel = CeilDiv(in_ranks, kind=kind)

    def run(a: Tensor, b: Tensor) -> tuple[Tensor, ...]:
        la, lb = aligned(in_ranks, a, b, kernel.label)
        if lb.numel() and bool((lb == 0).any()):
            raise refuse_as_numpy(kernel, a, b)
        return (-torch.floor_divide(-la, lb),)

    return run


def unary(op: Callable[[Tensor], Tensor]) -> TorchRule:
    """An elementwise rule of one operand."""

    def rule(in_ranks: Ranks) -> TorchFn:
        return lambda x: (op(x),)

    return rule


def relu(x: Tensor) -> Tensor:
    """max(0, x), NaN kept; the cotangent passes where x > 0 only (none at 0, as numpy's)."""
    return torch.where(x <= 0, torch.zeros((), dtype=x.dtype, device=x.device), x)


def _logistic(x: Tensor) -> Tensor:
    """1 / (1 + e^−x) from e^−|x|, as the numpy kernels compute it."""
    e = (-x.abs()).exp()
    return torch.where(x >= 0, 1 / (1 + e), e / (1 + e))


def _sigmoid_forward(x: Tensor) -> tuple[Tensor, Tensor]:
    y = _logistic(x)
    return y, y


_sigmoid = with_vjp(_sigmoid_forward, lambda y, dy: dy * y * (1 - y))


def _silu_forward(x: Tensor) -> tuple[Tensor, Any]:
    sig = _logistic(x)
    return x * sig, (x, sig)


def _silu_backward(saved: Any, dy: Tensor) -> Tensor:
    x, sig = saved
    return dy * (sig * (1 + x * (1 - sig)))


_silu = with_vjp(_silu_forward, _silu_backward)


def _softplus_forward(x: Tensor) -> tuple[Tensor, Tensor]:
    return x.clamp_min(0) + torch.log1p((-x.abs()).exp()), x


_softplus = with_vjp(_softplus_forward, lambda x, dy: dy * _logistic(x))

_INV_SQRT2 = 1 / math.sqrt(2)
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)


def _gelu_forward(x: Tensor) -> tuple[Tensor, Any]:
    cdf = 0.5 * (1 + torch.special.erf(x * _INV_SQRT2))
    return x * cdf, (x, cdf)


def _gelu_backward(saved: Any, dy: Tensor) -> Tensor:
    x, cdf = saved
    return dy * (cdf + x * (_INV_SQRT_2PI * torch.exp(-0.5 * x * x)))


_gelu = with_vjp(_gelu_forward, _gelu_backward)

_TANH_C = math.sqrt(2 / math.pi)
_TANH_K = 0.044715


def _gelu_tanh_forward(x: Tensor) -> tuple[Tensor, Any]:
    t = torch.tanh(_TANH_C * (x + _TANH_K * x * x * x))
    return 0.5 * x * (1 + t), (x, t)


def _gelu_tanh_backward(saved: Any, dy: Tensor) -> Tensor:
    x, t = saved
    du = _TANH_C * (1 + 3 * _TANH_K * x * x)
    return dy * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du)


_gelu_tanh = with_vjp(_gelu_tanh_forward, _gelu_tanh_backward)


def positive_only(op: Callable[[Tensor], Tensor], kernel: Callable[[], Any]) -> TorchRule:
    """`log` / `sqrt`: `op` of positive entries; an entry ≤ 0 is the kernel's R0430."""

    def rule(in_ranks: Ranks) -> TorchFn:
        def run(x: Tensor) -> tuple[Tensor, ...]:
            if bool((x <= 0).any()):
                raise refuse_as_numpy(kernel(), x)
            return (op(x),)

        return run

    return rule


def clip(in_ranks: Ranks, *, lo: float, hi: float) -> TorchFn:
    """`clip(lo, hi)`: x clamped to [lo, hi]; the cotangent passes where lo ≤ x ≤ hi."""
    kernel = Clip(in_ranks, lo=lo, hi=hi)
    return lambda x: (torch.clamp(x, kernel.lo, kernel.hi),)


class _Dropout:
    """`dropout(p, seed)`: the identity, or in a training step x ⊙ mask with the numpy kernel's
    own mask of (seed, step) (drawn by numpy's generator, so both backends drop the same
    entries). The backend passes the run's `Mode` to a function that sets `uses_mode`."""

    uses_mode = True

    def __init__(self, kernel: Dropout) -> None:
        self.kernel = kernel

    def __call__(self, x: Tensor, mode: Mode = EVALUATION) -> tuple[Tensor, ...]:
        if not mode.training or self.kernel.p == 0:
            return (x,)
        mask = self.kernel.mask(tuple(x.shape), mode.step, numpy_dtype(x))
        return (x * torch.from_numpy(mask).to(x.device),)


def dropout(in_ranks: Ranks, *, p: float, seed: int) -> TorchFn:
    """`dropout(p, seed)` (see `_Dropout`)."""
    return _Dropout(Dropout(in_ranks, p=p, seed=seed))


# ---------------------------------------------------------------- axes


def transpose(in_ranks: Ranks, *, a: int, b: int) -> TorchFn:
    """`transpose(a, b)`: the axes a and b (from the end) swapped."""
    kernel = Transpose(in_ranks, a=a, b=b)

    def run(x: Tensor) -> tuple[Tensor, ...]:
        check_axis(kernel.name, ghost(x), min(kernel.a, kernel.b))
        return (x.transpose(kernel.a, kernel.b),)

    return run


def concatenate(in_ranks: Ranks, *, n: int, axis: int) -> TorchFn:
    """`concatenate(n, axis)`: the inputs joined along `axis` (R0434 when they differ off it)."""
    kernel = Concat(in_ranks, n=n, axis=axis)

    def run(*xs: Tensor) -> tuple[Tensor, ...]:
        for x in xs:
            check_axis(kernel.name, ghost(x), kernel.axis)
        shapes = [tuple(x.shape) for x in xs]
        others = {s[: len(s) + kernel.axis] + s[len(s) + kernel.axis + 1 :] for s in shapes}
        if len({len(s) for s in shapes}) != 1 or len(others) != 1:
            listed = ", ".join(str(s) for s in shapes)
            raise shape_error(kernel.name, f"inputs of shapes {listed} differ off axis {axis}")
        return (torch.cat(xs, dim=kernel.axis),)

    return run


def split(in_ranks: Ranks, *, at: int, axis: int) -> TorchFn:
    """`split(at, axis)`: the first `at` entries along `axis`, and the rest."""
    kernel = Split(in_ranks, at=at, axis=axis)

    def run(x: Tensor) -> tuple[Tensor, ...]:
        check_axis(kernel.name, ghost(x), kernel.axis)
        if x.shape[kernel.axis] <= kernel.at:
            raise refuse_as_numpy(kernel, ghost(x))
        size = x.shape[kernel.axis]
        first, rest = torch.split(x, [kernel.at, size - kernel.at], dim=kernel.axis)
        return (first, rest)

    return run


# ---------------------------------------------------------------- reductions


def reduction(name: str, average: bool) -> TorchRule:
    """`sum` / `mean` over each element's entries."""

    def rule(in_ranks: Ranks) -> TorchFn:
        def run(x: Tensor) -> tuple[Tensor, ...]:
            rank = in_ranks[0] if in_ranks else x.ndim
            element_shape(name, x, rank)
            total = sum_elements(x, rank)
            if not average:
                return (total,)
            return (total / element_count(name, x, rank),)

        return run

    return rule


def rms_norm(in_ranks: Ranks, *, eps: float) -> TorchFn:
    """`rms_norm(scale, eps)`: per row x / √(mean(x²) + ε) ⊙ scale (R0304 for a scale of
    another width)."""
    kernel = RmsNorm(in_ranks, eps=eps)

    def run(x: Tensor, weight: Tensor) -> tuple[Tensor, ...]:
        if x.ndim == 0 or tuple(weight.shape) != tuple(x.shape[-1:]):
            raise refuse_as_numpy(kernel, ghost(x), ghost(weight))
        element_count(kernel.name, x, 1)
        inv_rms = 1 / torch.sqrt((x * x).mean(dim=-1, keepdim=True) + kernel.eps)
        return (x * inv_rms * weight,)

    return run


# ---------------------------------------------------------------- distributions and losses


def softmax_rule(name: str) -> TorchRule:
    """`softmax` (and `row_softmax`, named `name` in errors): the max-shifted softmax of the
    last axis."""

    def rule(in_ranks: Ranks) -> TorchFn:
        def run(logits: Tensor) -> tuple[Tensor, ...]:
            shifted, log_total = shifted_logits(name, logits)
            return ((shifted - log_total).exp(),)

        return run

    return rule


def log_softmax(in_ranks: Ranks) -> TorchFn:
    """`log_softmax`: logits minus their log-sum-exp."""

    def run(logits: Tensor) -> tuple[Tensor, ...]:
        shifted, log_total = shifted_logits("log_softmax", logits)
        return (shifted - log_total,)

    return run


def nll(in_ranks: Ranks) -> TorchFn:
    """`nll`: −ln(max(p[t], 1e-9)); no cotangent where the floor binds (clamp's gradient)."""

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
        count = element_count("mse", diff, rank)
        return (sum_elements(diff * diff, rank) / count,)

    return run


# ---------------------------------------------------------------- sequences


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


ML_RULES: dict[str, TorchRule] = {
    "lookup": lookup,
    "affine": affine_rule("linear layer"),
    "linear": linear,
    "dot": dot,
    "scale": scale,
    "matmul": matmul,
    "add": binary(torch.add),
    "mul": binary(torch.mul),
    "sub": sub,
    "min": choice(torch.le, "elementwise operation"),
    "max": choice(torch.ge, "elementwise operation"),
    "ceil_div": ceil_div,
    "sum": reduction("sum", average=False),
    "mean": reduction("mean", average=True),
    "relu": unary(relu),
    "tanh": unary(torch.tanh),
    "sigmoid": unary(_sigmoid),
    "silu": unary(_silu),
    "softplus": unary(_softplus),
    "gelu": unary(_gelu),
    "gelu_tanh": unary(_gelu_tanh),
    "exp": unary(torch.exp),
    "log": positive_only(torch.log, lambda: Log()),
    "sqrt": positive_only(torch.sqrt, lambda: Sqrt()),
    "clip": clip,
    "dropout": dropout,
    "transpose": transpose,
    "concatenate": concatenate,
    "split": split,
    "rms_norm": rms_norm,
    "softmax": softmax_rule("softmax"),
    "log_softmax": log_softmax,
    "nll": nll,
    "cross_entropy": cross_entropy,
    "mse": mse,
    "windows": windows,
}
"""The torch rules of std.ml's numeric primitives, by name."""
