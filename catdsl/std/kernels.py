"""The numpy kernels of `std.ml`: each a forward pass and its vector-Jacobian product.

Inputs come in the order: the morphism's domain wires, then parameters as in the call, e.g.
`affine(W, b)` takes (x, W, b). Leading axes beyond an input's element rank are batch axes;
parameters are never batched and their gradients sum over every batch row. Outputs keep the
floating dtype of the inputs (float32 in, float32 out).

Runtime error codes raised by the kernels (here and in `catdsl.std.attention_kernels`):

| code  | raised when |
| ----- | ----------- |
| R0201 | a token index is out of range (`lookup`) |
| R0202 | a target index is out of range (`nll`, `cross_entropy`) |
| R0203 | an index array does not hold integers |
| R0301 | a linear layer's input, weight and bias do not fit (`affine`, `linear`, `dot`, |
|       | `ffn`, `readout`) |
| R0302 | elementwise operands differ in shape (`add`, `mul`, `mse`, `residual`) |
| R0303 | attention operands do not fit (`scores`, `mask_scores`, `mix`, `concat_heads`) |
| R0304 | layer-norm parameters do not fit the hidden width |
| R0305 | a positional table is too short or of the wrong width |
| R0306 | an input has fewer axes than its element rank |
| R0401 | an input is empty (empty logits, a sequence shorter than the window) |
| R0402 | logits are not finite, so softmax has no valid distribution |
| R0403 | an attention mask row allows no keys |
| R0404 | a static argument is invalid (unknown name, bad value) |
"""

from __future__ import annotations

import functools
import math
import operator
from collections.abc import Callable
from typing import Any

import numpy as np

from catdsl.errors import CatRuntimeError
from catdsl.semantics.kernel import (
    Cotangents,
    Forward,
    Kernel,
    element_shape,
    lift_rank,
    rows,
    unbroadcast,
)
from catdsl.std.rowwise import rows_times

PROBABILITY_FLOOR = 1e-9
"""`nll` clamps p[t] from below at this value (the course's −ln(max(p[t], 1e-9)))."""


# ---------------------------------------------------------------------------------------------
# Checks shared by the kernels
# ---------------------------------------------------------------------------------------------


def positive_int(kernel: str, key: str, value: object) -> int:
    """Validate a static count such as `windows(k)`: a positive integer."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise CatRuntimeError(
            "R0404", f"`{kernel}` needs a positive integer `{key}`, found {value!r}"
        )
    return int(value)


def finite_real(kernel: str, key: str, value: object) -> float:
    """Validate a static real such as `scale(c)`: a finite number."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.number):
        raise CatRuntimeError("R0404", f"`{kernel}` needs a real `{key}`, found {value!r}")
    if not math.isfinite(float(value)):
        raise CatRuntimeError("R0404", f"`{kernel}` needs a finite `{key}`, found {value!r}")
    return float(value)


def check_indices(indices: np.ndarray, limit: int, kind: str, code: str) -> np.ndarray:
    """Return `indices` as an integer array, raising if one lies outside 0..limit−1."""
    indices = np.asarray(indices)
    if indices.dtype.kind not in "iu":
        raise CatRuntimeError(
            "R0203", f"{kind} indices must be integers, found dtype {indices.dtype}"
        )
    bad = (indices < 0) | (indices >= limit)
    if bad.any():
        index = int(indices[bad].flat[0])
        raise CatRuntimeError(
            code,
            f"{kind} index {index} out of range (limit {limit})",
            help=f"valid {kind} indices are 0 to {limit - 1}" if limit else "the table is empty",
        )
    return indices


def check_same_elements(label: str, a: np.ndarray, b: np.ndarray, rank: int) -> None:
    """Raise unless `a` and `b` have the same element shape (their last `rank` axes)."""
    shape_a, shape_b = element_shape(label, a, rank), element_shape(label, b, rank)
    if shape_a != shape_b:
        raise CatRuntimeError("R0302", f"shape mismatch in {label}: {shape_a} and {shape_b} differ")


def check_linear(label: str, x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None) -> None:
    """Raise unless x·W (+ b) is defined: W a matrix, rows(W) = width(x), len(b) = cols(W)."""
    if weight.ndim != 2:
        raise CatRuntimeError(
            "R0301", f"shape mismatch in {label}: weight must be a matrix, found {weight.shape}"
        )
    width = x.shape[-1] if x.ndim else None
    if width != weight.shape[0]:
        raise CatRuntimeError(
            "R0301",
            f"shape mismatch in {label}: expected input of width {weight.shape[0]}, "
            f"found shape {x.shape}",
        )
    if bias is not None and bias.shape != weight.shape[1:]:
        raise CatRuntimeError(
            "R0301",
            f"shape mismatch in {label}: weight has {weight.shape[1]} columns "
            f"but bias has shape {bias.shape}",
        )


def check_logits(kernel: str, logits: np.ndarray) -> None:
    """Raise on an empty last axis: a distribution needs at least one class."""
    if logits.ndim == 0 or logits.shape[-1] == 0:
        raise CatRuntimeError(
            "R0401", f"`{kernel}` got an empty input: no classes in shape {logits.shape}"
        )


def element_count(kernel: str, x: np.ndarray, rank: int) -> int:
    """The number of entries in one element of `x`; averaging over none is an error."""
    count = math.prod(element_shape(kernel, x, rank))
    if count == 0:
        raise CatRuntimeError("R0401", f"`{kernel}` of an empty array (shape {x.shape})")
    return count


# ---------------------------------------------------------------------------------------------
# Numeric building blocks (shared with the attention kernels)
# ---------------------------------------------------------------------------------------------


def shift_logits(logits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Logits shifted by their row maximum (so no exponential overflows) and the sums of
    their exponentials over the last axis (kept)."""
    shifted = logits - np.maximum.reduce(logits, axis=-1, keepdims=True)
    return shifted, np.add.reduce(np.exp(shifted), axis=-1, keepdims=True)


def checked_shift_logits(kernel: str, logits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`shift_logits` of logits checked non-empty, with a finite sum of exponentials."""
    check_logits(kernel, logits)
    with np.errstate(invalid="ignore"):  # +inf logits give nan here; reported just below
        shifted, total = shift_logits(logits)
    if not np.isfinite(total).all():
        raise CatRuntimeError(
            "R0402",
            f"`{kernel}` got non-finite logits: the sum of exponentials is not finite",
        )
    return shifted, total


def normalise_shifted(shifted: np.ndarray, log_total: np.ndarray) -> np.ndarray:
    """The softmax exp(shifted − log Σ exp), computed in place in `shifted`, a fresh array."""
    shifted -= log_total
    return np.exp(shifted, out=shifted)


def softmax_vjp(probs: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """Cotangent of the logits: p ⊙ (ḡ − Σ ḡ ⊙ p) per row."""
    return probs * (dy - np.add.reduce(dy * probs, axis=-1, keepdims=True))


def affine_forward(
    label: str, x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None
) -> np.ndarray:
    """x·W (+ b) on the last axis of x, after checking the shapes fit."""
    check_linear(label, x, weight, bias)
    return affine_apply(x, weight, bias)


def affine_apply(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None) -> np.ndarray:
    """x·W (+ b) on the last axis of x; the bias is added in place into the fresh product."""
    y = rows_times(x, weight)
    if bias is None:
        return y
    if bias.dtype == y.dtype:
        y += bias  # y is the product's own fresh array, already of the broadcast shape
        return y
    return y + bias


def affine_vjp(
    x: np.ndarray, weight: np.ndarray, dy: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cotangents (dx, dW, db) of y = x·W + b: dW sums the outer products over every batch row."""
    return rows_times(dy, weight.T), *affine_param_vjp(x, dy)


def affine_param_vjp(x: np.ndarray, dy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cotangents (dW, db) of y = x·W + b alone, for a reverse pass that does not need dx."""
    flat_x, flat_dy = (x, dy) if x.ndim == 2 else (rows(x), rows(dy))
    return flat_x.T @ flat_dy, np.add.reduce(flat_dy, axis=0)


@functools.lru_cache(maxsize=16)
def row_starts(shape: tuple[int, ...]) -> np.ndarray:
    """The flat position of each last-axis row's first entry in an array of `shape` (cached,
    read-only)."""
    starts = np.arange(0, math.prod(shape), shape[-1]).reshape(shape[:-1])
    starts.flags.writeable = False
    return starts


def last_axis_positions(values: np.ndarray, indices: np.ndarray) -> np.ndarray | None:
    """Flat positions of values[..., t] when the indices (an integer array, checked in range)
    have the batch shape of the values, so `values.take` gathers them and `.put` scatters
    without broadcasting; else None."""
    if values.shape[:-1] != indices.shape:
        return None
    return np.add(row_starts(values.shape), indices, dtype=np.intp, casting="unsafe")


def gather_last(values: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """values[..., t] for each batch position, broadcasting the batch axes of both."""
    lead = np.broadcast_shapes(values.shape[:-1], indices.shape)
    picked = np.broadcast_to(values, lead + values.shape[-1:])
    return np.take_along_axis(picked, np.broadcast_to(indices, lead)[..., None], axis=-1)[..., 0]


def scatter_last(values: np.ndarray, indices: np.ndarray, width: int) -> np.ndarray:
    """The inverse of `gather_last`: a zero array of last axis `width` with values at t."""
    out = np.zeros((*values.shape, width), dtype=values.dtype)
    np.put_along_axis(out, np.broadcast_to(indices, values.shape)[..., None], values[..., None], -1)
    return out


def gather_picked(values: np.ndarray, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """values[..., t] and their flat positions in `values` (None when the batch axes of the
    two broadcast, where the slower `gather_last` does the work)."""
    positions = last_axis_positions(values, indices)
    if positions is None:
        return gather_last(values, indices), None
    return values.take(positions), positions


def scatter_picked(
    local: np.ndarray, positions: np.ndarray | None, indices: np.ndarray, shape: tuple[int, ...]
) -> np.ndarray:
    """The cotangent of `values` (of `shape`) from the cotangent `local` of what
    `gather_picked` picked: `local` where they were, zero elsewhere."""
    if positions is None:
        return unbroadcast(scatter_last(local, indices, shape[-1]), shape)
    out = np.zeros(shape, dtype=local.dtype)
    out.put(positions, local)
    return out


def sum_elements(x: np.ndarray, rank: int) -> np.ndarray:
    """Sum over the last `rank` axes (the element axes)."""
    return x.sum(axis=tuple(range(x.ndim - rank, x.ndim)))


def spread_elements(dy: np.ndarray, shape: tuple[int, ...], rank: int) -> np.ndarray:
    """Broadcast a per-element cotangent back over the `rank` element axes of `shape`."""
    return np.broadcast_to(lift_rank(dy, 0, rank), shape)


# ---------------------------------------------------------------------------------------------
# Indexing: lookup
# ---------------------------------------------------------------------------------------------

SMALL_SCATTER = 256
"""Below this many cotangent entries `np.add.at` is the fastest scatter; above, `np.bincount`."""


def scatter_rows(
    indices: np.ndarray, rows_: np.ndarray, shape: tuple[int, ...], dtype: np.dtype
) -> np.ndarray:
    """A zero array of `shape` with each row of `rows_` added at its index (repeats add up):
    `np.add.at`, computed by `np.bincount` for larger inputs. Both add the rows of one index
    in the order they come, so float64 results are the same to the bit."""
    if rows_.size < SMALL_SCATTER:
        grad = np.zeros(shape, dtype=dtype)
        np.add.at(grad, indices, rows_)
        return grad
    width = math.prod(shape[1:])
    flat = np.multiply(np.ravel(indices), width)[:, None] + np.arange(width)
    weights = np.broadcast_to(rows_, (*np.shape(indices), *shape[1:])).reshape(-1)
    sums = np.bincount(flat.reshape(-1), weights=weights, minlength=math.prod(shape))
    return sums.reshape(shape).astype(dtype, copy=False)


class Lookup(Kernel):
    """`lookup(E)`: the rows E[t]; the table's gradient scatter-adds each cotangent row at t."""

    name = "lookup"
    n_in = 2
    differentiable = (False, True)

    def forward(self, tokens: np.ndarray, table: np.ndarray) -> Forward:
        return self.trusted_forward(check_indices(tokens, table.shape[0], "token", "R0201"), table)

    def trusted_forward(self, tokens: np.ndarray, table: np.ndarray) -> Forward:
        return (table.take(tokens, axis=0),), (tokens, table.shape, table.dtype)

    def vjp(self, residual: Any, dy: np.ndarray) -> Cotangents:
        tokens, shape, dtype = residual
        return None, scatter_rows(tokens, dy, shape, dtype)


# ---------------------------------------------------------------------------------------------
# Linear maps: affine, linear, dot, scale
# ---------------------------------------------------------------------------------------------


class Affine(Kernel):
    """`affine(W, b)`: y = x·W + b on the last axis; `label` names the layer in shape errors."""

    name = "affine"
    label = "linear layer"
    n_in = 3
    differentiable = (True, True, True)
    trusted_run = staticmethod(affine_apply)

    def forward(self, x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> Forward:
        check_linear(self.label, x, weight, bias)
        return self.trusted_forward(x, weight, bias)

    def trusted_forward(self, x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> Forward:
        return (affine_apply(x, weight, bias),), (x, weight)

    def vjp(self, residual: Any, dy: np.ndarray) -> Cotangents:
        x, weight = residual
        return affine_vjp(x, weight, dy)

    def vjp_for(self, needed: tuple[bool, ...]) -> Callable[..., Cotangents]:
        return self.vjp if needed[0] else self.param_vjp

    def param_vjp(self, residual: Any, dy: np.ndarray) -> Cotangents:
        """The VJP without the input's cotangent (a first layer fed by data)."""
        return None, *affine_param_vjp(residual[0], dy)


class Linear(Kernel):
    """`linear(W)`: y = x·W on the last axis, an affine map without bias."""

    name = "linear"
    n_in = 2
    differentiable = (True, True)
    trusted_run = operator.matmul

    def forward(self, x: np.ndarray, weight: np.ndarray) -> Forward:
        check_linear("linear layer", x, weight, None)
        return self.trusted_forward(x, weight)

    def trusted_forward(self, x: np.ndarray, weight: np.ndarray) -> Forward:
        return (x @ weight,), (x, weight)

    def vjp(self, residual: Any, dy: np.ndarray) -> Cotangents:
        x, weight = residual
        return dy @ weight.T, affine_param_vjp(x, dy)[0]


class Dot(Kernel):
    """`dot(v)`: x·v over the last axis, one real per batch element."""

    name = "dot"
    n_in = 2
    differentiable = (True, True)

    def forward(self, x: np.ndarray, vector: np.ndarray) -> Forward:
        if vector.ndim != 1 or x.ndim == 0 or x.shape[-1] != vector.shape[0]:
            raise CatRuntimeError(
                "R0301", f"shape mismatch in dot product: {x.shape} and {vector.shape}"
            )
        return (x @ vector,), (x, vector)

    def vjp(self, residual: Any, dy: np.ndarray) -> Cotangents:
        x, vector = residual
        return dy[..., None] * vector, rows(x).T @ dy.reshape(-1)


class Scale(Kernel):
    """`scale(c)`: multiplication by the constant c."""

    name = "scale"

    def __init__(self, in_ranks: tuple[int, ...] = (), *, c: float) -> None:
        super().__init__(in_ranks)
        self.c = finite_real(self.name, "c", c)

    def forward(self, x: np.ndarray) -> Forward:
        return (x * self.c,), None

    def vjp(self, residual: Any, dy: np.ndarray) -> Cotangents:
        return (dy * self.c,)


# ---------------------------------------------------------------------------------------------
# Elementwise binary maps: add, mul
# ---------------------------------------------------------------------------------------------


class Binary(Kernel):
    """Elementwise binary kernels: operands of equal element rank must agree in element shape;
    a lower-rank operand is broadcast over the other's element axes."""

    n_in = 2
    differentiable = (True, True)
    label = "elementwise operation"

    def aligned(self, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Check the element shapes and line the element axes of a and b up for broadcasting."""
        rank_a, rank_b = self.in_ranks or (a.ndim, b.ndim)
        if rank_a == rank_b:
            check_same_elements(self.label, a, b, rank_a)
        return self.lifted(a, b)

    def lifted(self, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Line the element axes of a and b up for broadcasting (no checks)."""
        rank_a, rank_b = self.in_ranks or (a.ndim, b.ndim)
        if rank_a == rank_b:
            return a, b
        top = max(rank_a, rank_b)
        return lift_rank(a, rank_a, top), lift_rank(b, rank_b, top)

    def reduce(self, grad: np.ndarray, x: np.ndarray, lifted: np.ndarray) -> np.ndarray:
        """Bring a cotangent of the aligned operand back to the shape of the original one."""
        return unbroadcast(grad, lifted.shape).reshape(x.shape)


class Add(Binary):
    """`add`: elementwise a + b; the cotangent is copied to both summands."""

    name = "add"

    def forward(self, a: np.ndarray, b: np.ndarray) -> Forward:
        la, lb = self.aligned(a, b)
        return (la + lb,), (a, b, la, lb)

    def trusted_forward(self, a: np.ndarray, b: np.ndarray) -> Forward:
        la, lb = self.lifted(a, b)
        return (la + lb,), (a, b, la, lb)

    def vjp(self, residual: Any, dy: np.ndarray) -> Cotangents:
        a, b, la, lb = residual
        return self.reduce(dy, a, la), self.reduce(dy, b, lb)


class Mul(Binary):
    """`mul`: elementwise a · b; ∂/∂a = ḡ · b and ∂/∂b = ḡ · a (the course's chain-rule node)."""

    name = "mul"

    def forward(self, a: np.ndarray, b: np.ndarray) -> Forward:
        la, lb = self.aligned(a, b)
        return (la * lb,), (a, b, la, lb)

    def trusted_forward(self, a: np.ndarray, b: np.ndarray) -> Forward:
        la, lb = self.lifted(a, b)
        return (la * lb,), (a, b, la, lb)

    def vjp(self, residual: Any, dy: np.ndarray) -> Cotangents:
        a, b, la, lb = residual
        return self.reduce(dy * lb, a, la), self.reduce(dy * la, b, lb)


# ---------------------------------------------------------------------------------------------
# Reductions: sum, mean
# ---------------------------------------------------------------------------------------------


class Sum(Kernel):
    """`sum`: the sum of each element's entries (over its last in_ranks[0] axes)."""

    name = "sum"

    def rank(self, x: np.ndarray) -> int:
        """The element rank of the input, checked against the array."""
        rank = self.in_ranks[0] if self.in_ranks else x.ndim
        element_shape(self.name, x, rank)
        return rank

    def forward(self, x: np.ndarray) -> Forward:
        rank = self.rank(x)
        return (sum_elements(x, rank),), (x.shape, rank)

    def vjp(self, residual: Any, dy: np.ndarray) -> Cotangents:
        shape, rank = residual
        return (spread_elements(dy, shape, rank),)


class Mean(Sum):
    """`mean`: the mean of each element's entries (over its last in_ranks[0] axes)."""

    name = "mean"

    def forward(self, x: np.ndarray) -> Forward:
        rank = self.rank(x)
        count = element_count(self.name, x, rank)
        return (sum_elements(x, rank) / count,), (x.shape, rank, count)

    def vjp(self, residual: Any, dy: np.ndarray) -> Cotangents:
        shape, rank, count = residual
        return (spread_elements(dy / count, shape, rank),)


# ---------------------------------------------------------------------------------------------
# Elementwise unary maps: relu, tanh, sigmoid
# ---------------------------------------------------------------------------------------------


def relu_value(x: np.ndarray) -> np.ndarray:
    """max(0, x), entry by entry."""
    return np.maximum(x, 0)


class Relu(Kernel):
    """`relu`: max(0, x); the cotangent passes where x > 0."""

    name = "relu"
    trusted_run = staticmethod(relu_value)
    validates = False

    def forward(self, x: np.ndarray) -> Forward:
        return (relu_value(x),), x > 0

    def vjp(self, residual: Any, dy: np.ndarray) -> Cotangents:
        return (np.where(residual, dy, 0),)


class Tanh(Kernel):
    """`tanh`: the hyperbolic tangent; its derivative is 1 − y²."""

    name = "tanh"
    trusted_run = np.tanh
    validates = False

    def forward(self, x: np.ndarray) -> Forward:
        y = np.tanh(x)
        return (y,), y

    def vjp(self, residual: Any, dy: np.ndarray) -> Cotangents:
        return (dy * (1 - residual * residual),)  # numpy reuses the temporaries of large arrays


class Sigmoid(Kernel):
    """`sigmoid`: 1 / (1 + e^−x), computed from e^−|x| so no exponential overflows."""

    name = "sigmoid"

    def forward(self, x: np.ndarray) -> Forward:
        e = np.exp(-np.abs(x))
        y = np.where(x >= 0, 1 / (1 + e), e / (1 + e))
        return (y,), y

    def vjp(self, residual: Any, dy: np.ndarray) -> Cotangents:
        return (dy * residual * (1 - residual),)


# ---------------------------------------------------------------------------------------------
# Distributions and losses: softmax, log_softmax, nll, cross_entropy, mse
# ---------------------------------------------------------------------------------------------


class Softmax(Kernel):
    """`softmax`: the max-shifted softmax of the last axis."""

    name = "softmax"

    def forward(self, logits: np.ndarray) -> Forward:
        shifted, total = checked_shift_logits(self.name, logits)
        probs = normalise_shifted(shifted, np.log(total))
        return (probs,), probs

    def trusted_forward(self, logits: np.ndarray) -> Forward:
        shifted, total = shift_logits(logits)
        probs = normalise_shifted(shifted, np.log(total))
        return (probs,), probs

    def vjp(self, residual: Any, dy: np.ndarray) -> Cotangents:
        return (softmax_vjp(residual, dy),)


class LogSoftmax(Kernel):
    """`log_softmax`: logits minus their log-sum-exp over the last axis."""

    name = "log_softmax"

    def forward(self, logits: np.ndarray) -> Forward:
        shifted, total = checked_shift_logits(self.name, logits)
        shifted -= np.log(total)  # the shifted logits are a fresh array
        return (shifted,), shifted

    def trusted_forward(self, logits: np.ndarray) -> Forward:
        shifted, total = shift_logits(logits)
        shifted -= np.log(total)
        return (shifted,), shifted

    def vjp(self, residual: Any, dy: np.ndarray) -> Cotangents:
        return (dy - np.exp(residual) * dy.sum(axis=-1, keepdims=True),)


class Nll(Kernel):
    """`nll`: −ln(max(p[t], 1e-9)); the gradient is −ḡ/p[t] at t and 0 where the clamp binds."""

    name = "nll"
    n_in = 2
    differentiable = (True, False)
    floor = PROBABILITY_FLOOR

    def forward(self, probs: np.ndarray, target: np.ndarray) -> Forward:
        check_logits(self.name, probs)
        target = check_indices(target, probs.shape[-1], "target", "R0202")
        return self.trusted_forward(probs, target)

    def trusted_forward(self, probs: np.ndarray, target: np.ndarray) -> Forward:
        picked, positions = gather_picked(probs, target)
        loss = -np.log(np.maximum(picked, PROBABILITY_FLOOR))
        return (loss,), (probs.shape, target, positions, picked)

    def hidden_infinities(self, residual: Any) -> int:
        """How many losses of the pass recorded in `residual` stand for −ln 0 = ∞: targets whose
        probability is 0 (underflowed) or not a probability, which the floor shows as the
        finite −ln(1e-9) with a zero gradient. Training reads it (a provenance hook) so that a
        loss stuck at the floor is reported as the infinity it hides."""
        picked = residual[3]
        return int(np.size(picked) - np.count_nonzero(picked > 0))

    def vjp(self, residual: Any, dy: np.ndarray) -> Cotangents:
        shape, target, positions, picked = residual
        unclamped = picked >= PROBABILITY_FLOOR
        local = np.zeros(np.shape(picked), dtype=picked.dtype)
        np.divide(-dy, picked, out=local, where=unclamped)
        return scatter_picked(local, positions, target, shape), None


class CrossEntropy(Kernel):
    """`cross_entropy`: fused softmax + nll on logits, lse(z) − z[t]; its gradient is p − onehot."""

    name = "cross_entropy"
    n_in = 2
    differentiable = (True, False)

    def forward(self, logits: np.ndarray, target: np.ndarray) -> Forward:
        checked = checked_shift_logits(self.name, logits)
        target = check_indices(target, logits.shape[-1], "target", "R0202")
        return self.loss(logits.shape, target, *checked)

    def trusted_forward(self, logits: np.ndarray, target: np.ndarray) -> Forward:
        return self.loss(logits.shape, target, *shift_logits(logits))

    @staticmethod
    def loss(
        shape: tuple[int, ...],
        target: np.ndarray,
        shifted: np.ndarray,
        total: np.ndarray,
    ) -> Forward:
        """lse(z) − z[t] from the shifted logits; the residual keeps the softmax p."""
        picked, positions = gather_picked(shifted, target)
        log_total = np.log(total)
        loss = log_total[..., 0] - picked
        return (loss,), (shape, target, positions, normalise_shifted(shifted, log_total))

    def vjp(self, residual: Any, dy: np.ndarray) -> Cotangents:
        shape, target, positions, probs = residual
        if positions is None or dy.dtype != probs.dtype:
            onehot = scatter_last(np.ones_like(dy), target, shape[-1])
            return unbroadcast(dy[..., None] * (probs - onehot), shape), None
        grad = probs.copy()  # p − onehot, then scaled by ḡ per row, in one fresh array
        grad.reshape(-1)[positions] -= 1
        grad *= dy[..., None]
        return grad, None


class Mse(Kernel):
    """`mse`: the mean over the element axes of (prediction − target)²."""

    name = "mse"
    n_in = 2
    differentiable = (True, True)

    def forward(self, prediction: np.ndarray, target: np.ndarray) -> Forward:
        rank = self.in_ranks[0] if self.in_ranks else prediction.ndim
        check_same_elements("mean squared error", prediction, target, rank)
        diff = prediction - target
        count = element_count(self.name, diff, rank)
        loss = sum_elements(diff * diff, rank) / count
        return (loss,), (prediction.shape, target.shape, diff, rank, count)

    def vjp(self, residual: Any, dy: np.ndarray) -> Cotangents:
        shape_p, shape_t, diff, rank, count = residual
        grad = lift_rank(dy, 0, rank) * diff * (2 / count)
        return unbroadcast(grad, shape_p), unbroadcast(-grad, shape_t)


# ---------------------------------------------------------------------------------------------
# Sequences: windows
# ---------------------------------------------------------------------------------------------


class Windows(Kernel):
    """`windows(k)`: the k shifted views of a sequence; output j holds items j … N−k+j.

    in_ranks[0] is the rank of the whole sequence (its item axis plus an item's own axes).
    """

    name = "windows"

    def __init__(self, in_ranks: tuple[int, ...] = (), *, k: int) -> None:
        super().__init__(in_ranks)
        self.k = positive_int(self.name, "k", k)
        self.n_out = self.k

    def forward(self, seq: np.ndarray) -> Forward:
        axis = self.sequence_axis(seq)
        length = seq.shape[axis]
        if length < self.k:
            raise CatRuntimeError(
                "R0401",
                f"dataset windowing requires at least {self.k} tokens, found {length}",
            )
        count = length - self.k + 1
        outs = tuple(self.window(seq, axis, j, count) for j in range(self.k))
        return outs, (seq.shape, seq.dtype, axis, count)

    def vjp(self, residual: Any, *dys: np.ndarray) -> Cotangents:
        shape, dtype, axis, count = residual
        if not np.issubdtype(dtype, np.floating):
            return (None,)
        grad = np.zeros(shape, dtype=dtype)
        for j, dy in enumerate(dys):
            self.window(grad, axis, j, count)[...] += dy
        return (grad,)

    def sequence_axis(self, seq: np.ndarray) -> int:
        """The axis that indexes the items of the sequence: the first axis of the element."""
        rank = max(self.in_ranks[0] if self.in_ranks else seq.ndim, 1)
        element_shape(self.name, seq, rank)
        return seq.ndim - rank

    @staticmethod
    def window(seq: np.ndarray, axis: int, start: int, count: int) -> np.ndarray:
        """The view of `count` items of `seq` starting at `start` along `axis`."""
        index = (slice(None),) * axis + (slice(start, start + count),)
        return seq[index]
