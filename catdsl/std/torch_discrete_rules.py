"""The torch rules of the discrete primitives: the truth values and comparisons of std.logic,
`sub`'s whole-number siblings aside (they are in `torch_rules`), the list primitives of
std.lists, and the evaluation metrics of std.ml (argmax, accuracy, top_k_accuracy, confusion).

Each computes what its numpy kernel computes (ties in `argmax` and `top_k_accuracy` go to the
lower position, as there) and refuses what it refuses with the same codes and words (see
`torch_checks`). Symbols have no tensor form, so a `Symbol` value stays a numpy array on the
torch backend: a list or comparison rule given one runs its numpy kernel on host copies of its
operands and hands back tensors for the numeric results (no gradient flows through such a call;
a symbol carries none). Importing this module imports torch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, cast

import numpy as np
import torch

from catdsl.semantics.kernel import Kernel
from catdsl.semantics.torch_backend import TorchFn, TorchRule
from catdsl.std.prims import _lists
from catdsl.std.prims.accuracy import check_counted, check_pairs
from catdsl.std.prims.argmax import Argmax, check_scores
from catdsl.std.prims.at import At
from catdsl.std.prims.column import Column
from catdsl.std.prims.compare import Eq, Ge, Gt, Join, Le, Lt, Meet
from catdsl.std.prims.concat import Concat
from catdsl.std.prims.confusion import Confusion
from catdsl.std.prims.first import First
from catdsl.std.prims.last import Last
from catdsl.std.prims.length import Length
from catdsl.std.prims.logic import All, And, Any_, Implies, Not, Or
from catdsl.std.prims.rel_compose import RelCompose
from catdsl.std.prims.select import Select
from catdsl.std.prims.top_k_accuracy import TopKAccuracy
from catdsl.std.prims.zip import Zip
from catdsl.std.torch_checks import (
    Ranks,
    Tensor,
    check_indices,
    check_logits,
    ghost,
    host,
    refuse_as_numpy,
)

# ---------------------------------------------------------------- symbols: the numpy kernel


def on_host(xs: Sequence[Any]) -> bool:
    """Whether an operand is a numpy array (a `Symbol` value, which has no tensor form)."""
    return any(isinstance(x, np.ndarray) for x in xs)


def device_of(xs: Sequence[Any]) -> torch.device:
    """The device of the tensor operands (the CPU when there are none)."""
    return next((x.device for x in xs if isinstance(x, Tensor)), torch.device("cpu"))


def to_device(value: Any, device: torch.device) -> Any:
    """A numpy result as tensors on `device`; symbols (strings) stay numpy, None and tuples
    keep their form."""
    if isinstance(value, tuple):
        return tuple(to_device(v, device) for v in value)
    if isinstance(value, np.ndarray | np.generic) and np.asarray(value).dtype.kind not in "USO":
        return torch.as_tensor(np.array(value), device=device)
    return value


def numpy_call(kernel: Kernel, xs: Sequence[Any]) -> tuple[Any, ...]:
    """The numpy kernel on host copies of the operands, its results back as tensors."""
    outs = kernel.forward_only(*(host(x) for x in xs))
    device = device_of(xs)
    return tuple(to_device(y, device) for y in outs)


def with_symbols(kernel: Kernel, run: Callable[..., tuple[Any, ...]]) -> TorchFn:
    """`run` on tensors; the numpy kernel when an operand is a symbol array."""

    def call(*xs: Any) -> tuple[Any, ...]:
        return numpy_call(kernel, xs) if on_host(xs) else run(*xs)

    return call


# ---------------------------------------------------------------- std.logic


def logic(op: Callable[..., Tensor], kind: type[Kernel]) -> TorchRule:
    """`and`, `or`, `not`, `implies`: `op` of the operands as truth values."""

    def rule(in_ranks: Ranks) -> TorchFn:
        return with_symbols(kind(in_ranks), lambda *xs: (op(*(x.bool() for x in xs)),))

    return rule


def quantifier(op: Callable[[Tensor], Tensor], kind: type[Kernel]) -> TorchRule:
    """`all` / `any` along the list axis (the last)."""

    def rule(in_ranks: Ranks) -> TorchFn:
        return with_symbols(kind(in_ranks), lambda x: (op(x.bool()),))

    return rule


def compare(op: Callable[[Tensor, Tensor], Tensor], kind: type[Kernel]) -> TorchRule:
    """`le`, `lt`, `ge`, `gt`, `eq`: a truth value per entry (symbols compared in numpy)."""

    def rule(in_ranks: Ranks) -> TorchFn:
        return with_symbols(kind(in_ranks), lambda a, b: (op(a, b),))

    return rule


def rel_compose(in_ranks: Ranks) -> TorchFn:
    """`rel_compose`: (R ; S)[i, j] = any over l of R[i, l] and S[l, j], counted through an
    integer product as the kernel counts (exact); shapes refused as by the kernel."""
    kernel = RelCompose(in_ranks)

    def run(r: Tensor, s: Tensor) -> tuple[Tensor, ...]:
        if r.ndim < 2 or s.ndim < 2 or r.shape[-1] != s.shape[-2] or not _broadcast(r, s):
            raise refuse_as_numpy(kernel, ghost(r), ghost(s))
        return (torch.matmul(r.to(torch.int64), s.to(torch.int64)) > 0,)

    return run


def _broadcast(r: Tensor, s: Tensor) -> bool:
    """Whether the batch axes of two matrices broadcast."""
    try:
        torch.broadcast_shapes(r.shape[:-2], s.shape[:-2])
    except RuntimeError:
        return False
    return True


def lattice(first: Callable[[Tensor, Tensor], Tensor], kind: type[Kernel]) -> TorchRule:
    """`join` / `meet`: the first operand where `first(a, b)`, else the second; a real one
    passes its cotangent to the operand chosen (the first on a tie)."""

    def rule(in_ranks: Ranks) -> TorchFn:
        return with_symbols(kind(in_ranks), lambda a, b: (torch.where(first(a, b), a, b),))

    return rule


# ---------------------------------------------------------------- std.lists


def list_axis(in_ranks: Ranks, columns: Sequence[Tensor]) -> int:
    """The list axis of a list given as its columns (R0306 as the kernels raise it)."""
    return _lists.list_axis([ghost(c) for c in columns], in_ranks[0] if in_ranks else 1)


def pick(kind: type[Kernel], index_of: Callable[[int], int]) -> TorchRule:
    """`first` / `last`: the element at `index_of(n)` (one tensor, or one per component), or
    None for the empty list (R0420 for a batch of empty lists)."""

    def rule(in_ranks: Ranks) -> TorchFn:
        kernel = kind(in_ranks)

        def run(*columns: Tensor) -> tuple[Any, ...]:
            axis = list_axis(in_ranks, columns)
            n = columns[0].shape[axis]
            if n == 0:
                _lists.unbatched(kernel.name, [ghost(c) for c in columns], axis)
                return (None,)
            parts = tuple(c.select(axis, index_of(n)) for c in columns)
            return (parts[0] if len(parts) == 1 else parts,)

        return with_symbols(kernel, run)

    return rule


def length(in_ranks: Ranks) -> TorchFn:
    """`length`: the size of the list axis, one 64-bit count per batched list."""

    def run(*columns: Tensor) -> tuple[Tensor, ...]:
        axis = list_axis(in_ranks, columns)
        lead = tuple(columns[0].shape[:axis])
        n = columns[0].shape[axis]
        return (torch.full(lead, n, dtype=torch.int64, device=columns[0].device),)

    return with_symbols(Length(in_ranks), run)


def zip_lists(in_ranks: Ranks) -> TorchFn:
    """`zip`: every column of both lists cut to the shorter length."""

    def run(*columns: Tensor) -> tuple[Tensor, ...]:
        axis = 0 if len(columns) > 2 else list_axis(in_ranks, columns[:1])
        n = min(c.shape[axis] for c in columns)
        return tuple(c.narrow(axis, 0, n) for c in columns)

    return with_symbols(Zip(in_ranks), run)


def concat(in_ranks: Ranks) -> TorchFn:
    """`concat`: each column of the first list joined with its partner of the second along
    the list axis (an empty list whose element sizes were unknown takes the other's)."""

    def run(*columns: Tensor) -> tuple[Tensor, ...]:
        half = len(columns) // 2
        left, right = columns[:half], columns[half:]
        axis = list_axis(in_ranks, left)
        outs = []
        for a, b in zip(left, right, strict=True):
            if _off_axis(a, axis) != _off_axis(b, axis):
                a, b = _fit_empty(a, b, axis)
            dtype = torch.result_type(a, b)
            outs.append(torch.cat([a.to(dtype), b.to(dtype)], dim=axis))
        return tuple(outs)

    return with_symbols(Concat(in_ranks), run)


def _off_axis(x: Tensor, axis: int) -> tuple[int, ...]:
    return tuple(x.shape[:axis]) + tuple(x.shape[axis + 1 :])


def _fit_empty(a: Tensor, b: Tensor, axis: int) -> tuple[Tensor, Tensor]:
    """An empty list takes the other list's element sizes."""
    if a.shape[axis] == 0:
        return b.new_zeros(_emptied(b, axis), dtype=a.dtype), b
    if b.shape[axis] == 0:
        return a, a.new_zeros(_emptied(a, axis), dtype=b.dtype)
    return a, b


def _emptied(x: Tensor, axis: int) -> list[int]:
    shape = list(x.shape)
    shape[axis] = 0
    return shape


def select(in_ranks: Ranks) -> TorchFn:
    """`select`: the elements whose flag is true, in order (R0424 when the flags do not fit or
    the lists of a batch would keep different numbers of elements)."""
    kernel = Select(in_ranks)

    def run(*xs: Tensor) -> tuple[Tensor, ...]:
        *columns, flags = xs
        axis = list_axis(in_ranks, columns)
        n = columns[0].shape[axis]
        if flags.shape[-1] != n:
            raise refuse_as_numpy(kernel, *(ghost(c) for c in columns), ghost(flags))
        if n == 0:
            return tuple(columns)
        masks = flags.bool().reshape(-1, n)
        counts = masks.sum(dim=1)
        if masks.shape[0] and bool((counts != counts[0]).any()):
            raise refuse_as_numpy(kernel, *columns, flags)
        keep = int(counts[0]) if masks.shape[0] else 0
        return tuple(_kept(c, masks, axis, keep) for c in columns)

    return with_symbols(kernel, run)


def _kept(column: Tensor, masks: Tensor, axis: int, keep: int) -> Tensor:
    """The kept elements of one column: its list axis cut to the flagged positions."""
    batch, rest = tuple(column.shape[:axis]), tuple(column.shape[axis + 1 :])
    rows = column.reshape(-1, *column.shape[axis:])
    if not rows.shape[0]:
        return column.new_zeros((*batch, keep, *rest))
    picked = [row[mask] for row, mask in zip(rows, masks, strict=True)]
    return torch.stack(picked).reshape(*batch, keep, *rest)


def at(in_ranks: Ranks) -> TorchFn:
    """`at(table)`: table[i] for every position i (R0423 for a position outside the table)."""
    kernel = At(in_ranks)

    def run(i: Tensor, table: Tensor) -> tuple[Tensor, ...]:
        n = table.shape[0]
        if i.numel() and (int(i.min()) < 0 or int(i.max()) >= n):
            raise refuse_as_numpy(kernel, i, ghost(table))
        return (table[i.long()],)

    return with_symbols(kernel, run)


def column(in_ranks: Ranks) -> TorchFn:
    """`column(keys, values)`: the value on the first row whose key is the input. The rows are
    found by the numpy kernel on host copies of the keys (discrete, symbols possibly; R0440 and
    R0441 are its own), then taken from the values' tensor, so a real column's gradient is
    autograd's scatter of each row's cotangent, as the kernel's VJP adds them."""
    kernel = Column(in_ranks)

    def run(key: Any, keys: Any, values: Any) -> tuple[Any, ...]:
        (taken,), residual = kernel.forward(host(key), host(keys), ghost(values))
        rows = cast(tuple, residual)[0]
        if not isinstance(values, Tensor):
            return (taken,)
        return (values[torch.as_tensor(rows, device=values.device)],)

    return run


def fold(in_ranks: Ranks) -> TorchFn:
    """`fold(op, unit)`: `op` applied along the list axis from `unit`'s value (broadcast over
    a batch of lists), each application a run of `op`'s plan on tensors, so autograd goes back
    through all of them as the kernel's VJP does; `unit` gets no gradient (it has no params)."""

    def run(op: Any, unit: Any, *columns: Any) -> tuple[Any, ...]:
        axis = _lists.list_axis([ghost(c) for c in columns], in_ranks[0] if in_ranks else 1)
        batch = tuple(columns[0].shape[:axis])
        device = device_of(columns)
        acc = tuple(_broadcast_to(u, batch, device) for u in unit.run())
        for i in range(int(columns[0].shape[axis])):
            acc = op.run(*acc, *(_take(c, i, axis) for c in columns))
        return acc

    return run


def _broadcast_to(value: Any, batch: tuple[int, ...], device: torch.device) -> Any:
    """`value` repeated over the leading axes `batch`: a tensor (a plain number, as a whole
    number unit of no fixed kind is, made one), or a numpy array of symbols."""
    array = value if isinstance(value, Tensor) else np.asarray(value)
    if isinstance(array, np.ndarray) and array.dtype.kind in "biuf":
        array = torch.as_tensor(array, device=device)
    if isinstance(array, Tensor):
        return array.broadcast_to((*batch, *array.shape))
    return np.broadcast_to(array, batch + array.shape)


def _take(column: Any, i: int, axis: int) -> Any:
    """The element at position `i` of the list axis of one column."""
    return column.select(axis, i) if isinstance(column, Tensor) else np.take(column, i, axis=axis)


# ---------------------------------------------------------------- evaluation metrics


def _scores_checked(kernel: Kernel, scores: Tensor) -> None:
    """R0401 for scores without classes, R0433 (the kernel's words) for NaN scores."""
    check_logits(kernel.name, scores)
    if bool(scores.isnan().any()):
        check_scores(kernel.name, host(scores))


def argmax(in_ranks: Ranks) -> TorchFn:
    """`argmax`: the position of the largest score of the last axis, the first on ties."""
    kernel = Argmax(in_ranks)

    def run(scores: Tensor) -> tuple[Tensor, ...]:
        _scores_checked(kernel, scores)
        return (scores.argmax(dim=-1).to(torch.int64),)

    return run


def accuracy(in_ranks: Ranks) -> TorchFn:
    """`accuracy`: the fraction of predictions equal to their labels (a float64 real)."""

    def run(predictions: Tensor, labels: Tensor) -> tuple[Tensor, ...]:
        check_pairs("accuracy", ghost(predictions), ghost(labels))
        check_counted("accuracy", predictions.numel())
        hits = (predictions == labels).sum().to(torch.float64)
        return (hits / predictions.numel(),)

    return run


def top_k_accuracy(in_ranks: Ranks, *, k: int) -> TorchFn:
    """`top_k_accuracy(k)`: the fraction of labels with fewer than k classes ranked above them
    (by score, then by position, as `argmax` breaks ties)."""
    kernel = TopKAccuracy(in_ranks, k=k)

    def run(scores: Tensor, labels: Tensor) -> tuple[Tensor, ...]:
        _scores_checked(kernel, scores)
        classes = scores.shape[-1]
        if scores.ndim < 2 or scores.shape[:-1] != labels.shape or kernel.k > classes:
            raise refuse_as_numpy(kernel, ghost(scores), ghost(labels))
        check_indices(labels, classes, "label", "R0431")
        check_counted(kernel.name, labels.numel())
        index = labels.long().unsqueeze(-1)
        picked = scores.gather(-1, index)
        above = (scores > picked).sum(dim=-1)
        positions = torch.arange(classes, device=scores.device)
        tied_before = ((scores == picked) & (positions < index)).sum(dim=-1)
        hits = ((above + tied_before) < kernel.k).sum().to(torch.float64)
        return (hits / labels.numel(),)

    return run


def confusion(in_ranks: Ranks, *, classes: int) -> TorchFn:
    """`confusion(classes)`: counts of (label, prediction) pairs, rows the labels (float64)."""
    kernel = Confusion(in_ranks, classes=classes)

    def run(predictions: Tensor, labels: Tensor) -> tuple[Tensor, ...]:
        check_pairs(kernel.name, ghost(predictions), ghost(labels))
        n = kernel.classes
        check_indices(predictions, n, "prediction", "R0431")
        check_indices(labels, n, "label", "R0431")
        pairs = labels.reshape(-1).long() * n + predictions.reshape(-1).long()
        counts = torch.bincount(pairs, minlength=n * n).reshape(n, n)
        return (counts.to(torch.float64),)

    return run


DISCRETE_RULES: dict[str, TorchRule] = {
    "and": logic(torch.logical_and, And),
    "or": logic(torch.logical_or, Or),
    "not": logic(torch.logical_not, Not),
    "implies": logic(lambda a, b: torch.logical_or(torch.logical_not(a), b), Implies),
    "all": quantifier(lambda x: x.all(dim=-1), All),
    "any": quantifier(lambda x: x.any(dim=-1), Any_),
    "le": compare(torch.le, Le),
    "lt": compare(torch.lt, Lt),
    "ge": compare(torch.ge, Ge),
    "gt": compare(torch.gt, Gt),
    "eq": compare(torch.eq, Eq),
    "rel_compose": rel_compose,
    "join": lattice(torch.ge, Join),
    "meet": lattice(torch.le, Meet),
    "first": pick(First, lambda n: 0),
    "last": pick(Last, lambda n: n - 1),
    "length": length,
    "zip": zip_lists,
    "concat": concat,
    "select": select,
    "at": at,
    "column": column,
    "fold": fold,
    "argmax": argmax,
    "accuracy": accuracy,
    "top_k_accuracy": top_k_accuracy,
    "confusion": confusion,
}
"""The torch rules of the discrete primitives, by name."""
