"""Run-time invariants of objects, checked where a value enters an object.

`make_check(atom, subject, span)` builds, once at compile time, a function that validates a
value of `atom`: array kind and dtype, shape against the declared dims (a free dim binds on
first use in a run and must agree afterwards), finiteness, `Simplex` rows summing to 1,
`Index` entries in range, and the object's `where` predicates. What is checked for each carrier
kind is its entry in `ENTRY_CHECKS`; each one-word `where` flag is checked by `FLAG_CHECKS`.
Leading axes beyond the declared element are batch axes (the List functor) and are allowed.
A violation raises CatRuntimeError:

| code  | raised when |
| ----- | ----------- |
| R0410 | a shape does not match the object's dims |
| R0411 | a `Simplex` value is negative or its last axis does not sum to 1 (within 1e-4) |
| R0412 | an `Index` / `Nat` entry is out of range |
| R0413 | a real value entering an object is NaN or infinite |
| R0414 | a `where` predicate of the object does not hold |
| R0415 | a box produced a NaN or infinity inside a run (checked mode) |
| R0416 | a value is not of the carrier's kind (not an array, wrong dtype, missing field) |
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any, cast

import numpy as np

from catdsl.errors import CatRuntimeError, Span
from catdsl.semantics.values import element_atoms, split_components, width
from catdsl.typesys.carriers import DtypeClass
from catdsl.typesys.dims import Dim
from catdsl.typesys.types import (
    Atom,
    Carrier,
    Obj,
    Predicate,
    Prod,
    Record,
    carrier_of,
    component_names,
    element_rank,
)

SIMPLEX_TOLERANCE = 1e-4

Env = dict[str, int]
Problem = tuple[str, str] | None
Checker = Callable[[object, Env], Problem]
Check = Callable[[object, Env], None]
ContentCheck = Callable[[Carrier, np.ndarray, Env], Problem]
"""A check of an array's entries, once its dtype and shape are right."""

_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": np.isclose,
    "!=": lambda a, b: ~np.isclose(a, b),
}


CheckerMemo = dict[int, tuple[Atom, Checker | None]]
"""`make_check`'s checkers by the atom object they were built for (kept with it, so its id is
not taken by another atom while the memo lives)."""


def make_check(
    atom: Atom, subject: str, span: Span | None = None, memo: CheckerMemo | None = None
) -> Check | None:
    """A validator of values entering `atom`, or None when the atom has nothing to check.

    `subject` says where the value comes from (e.g. "the output of `Softmax`"). A `memo`
    shares one checker among the checks of one atom object (a checker keeps no state): a
    plan's thousand params of two types build two.
    """
    checker = _checker(atom, 0) if memo is None else memo_checker(atom, memo)
    if checker is None:
        return None

    def check(value: object, env: Env) -> None:
        problem = checker(value, env)
        if problem is not None:
            raise entry_error(problem, subject, atom, span)

    return check


def memo_checker(atom: Atom, memo: CheckerMemo) -> Checker | None:
    """The checker of values entering `atom` (None: nothing to check), one per atom object
    of `memo`. A plan calls it with its own subject for each of its sources (`Plan`'s entry
    checks), without a closure per source."""
    known = memo.get(id(atom))
    if known is None:
        known = memo[id(atom)] = (atom, _checker(atom, 0))
    return known[1]


def entry_error(
    problem: tuple[str, str], subject: str, atom: Atom, span: Span | None
) -> CatRuntimeError:
    """The error of a value from `subject` that a checker of `atom` refused for `problem`."""
    code, reason = problem
    return CatRuntimeError(code, f"{subject} is not a valid `{atom}`: {reason}", span)


LAYOUT_KINDS = frozenset({"Real", "Bool", "Int", "Symbol"})
"""Carrier kinds whose entry check is the value's kind, dtype and shape (and, for reals, that
every entry is finite): nothing a validated layout and the floating-point flags leave open."""


def layout_only(atom: Atom) -> bool:
    """Whether entering `atom` checks only what a run on an already validated layout, watched by
    the floating-point flags, guarantees: arrays of `LAYOUT_KINDS`, records and products of
    them, no `where` predicate (a plain call then skips the check, see `plan.Plan.execute`)."""
    if isinstance(atom, Record):
        return all(layout_only(a) for _, a in atom.fields)
    if isinstance(atom, Obj) and atom.where:
        return False
    carrier = carrier_of(atom)
    if isinstance(carrier, Prod):
        return all(layout_only(a) for a in carrier.atoms)
    return isinstance(carrier, Carrier) and carrier.kind in LAYOUT_KINDS


def nonfinite_error(label: str, value: object, span: Span | None) -> CatRuntimeError:
    """The error for a box whose output holds a NaN or an infinity."""
    what = "NaN" if _any_nan(value) else "an infinite value"
    return CatRuntimeError(
        "R0415",
        f"`{label}` produced {what}",
        span,
        help="this is the first box of the run whose output is not finite",
    )


def _any_nan(value: object) -> bool:
    if isinstance(value, tuple):
        return any(_any_nan(v) for v in value)
    if isinstance(value, dict):
        return any(_any_nan(v) for v in value.values())
    return isinstance(value, np.ndarray | np.generic) and bool(np.isnan(value).any())


# ---------------------------------------------------------------- building checkers


def _checker(atom: Atom, lead: int) -> Checker | None:
    """The checker of one atom whose values carry at least `lead` leading (list) axes."""
    if isinstance(atom, Record):
        return _record_checker(atom, lead)
    carrier = carrier_of(atom)
    if isinstance(carrier, Prod):
        inner = _product_checker(carrier.atoms, lead)
    elif isinstance(carrier, Carrier):
        inner = _carrier_checker(carrier, lead)
    else:
        return None
    where = _where_checker(atom) if isinstance(atom, Obj) and atom.where else None
    return _both(inner, where)


def _both(first: Checker | None, second: Checker | None) -> Checker | None:
    if first is None or second is None:
        return first or second
    return lambda value, env: first(value, env) or second(value, env)


def _carrier_checker(carrier: Carrier, lead: int) -> Checker | None:
    return ENTRY_CHECKS[carrier.kind](carrier, lead)


def _option_checker(carrier: Carrier, lead: int) -> Checker | None:
    """An option: nothing, or a value of its element."""
    inner = _product_checker(element_atoms(carrier), lead)
    if inner is None:
        return None
    return lambda value, env: None if value is None else inner(value, env)


def _record_checker(record: Record, lead: int) -> Checker | None:
    fields = [(name, _checker(atom, lead)) for name, atom in record.fields]

    def check(value: object, env: Env) -> Problem:
        if not isinstance(value, dict):
            return "R0416", f"expected a record of {len(fields)} fields, found {_kind(value)}"
        for name, checker in fields:
            if name not in value:
                return "R0416", f"the field `{name}` is missing"
            problem = checker(value[name], env) if checker else None
            if problem is not None:
                return problem[0], f"field `{name}`: {problem[1]}"
        return None

    return check


def _product_checker(atoms: tuple[Atom, ...], lead: int) -> Checker | None:
    """Components of a product value (a flat tuple), each checked as its atom."""
    checkers = [_checker(a, lead) for a in atoms]
    if not any(checkers):
        return None
    total = sum(width(a) for a in atoms)

    def check(value: object, env: Env) -> Problem:
        flat = (value,) if total == 1 else value
        if not isinstance(flat, tuple) or len(flat) != total:
            return "R0416", f"expected {total} components, found {_kind(value)}"
        for part, checker in zip(split_components(flat, atoms), checkers, strict=True):
            problem = checker(part, env) if checker else None
            if problem is not None:
                return problem
        return None

    return check


def _list_checker(carrier: Carrier, lead: int) -> Checker | None:
    """A list: its elements' components with one more leading axis, of one common length."""
    atoms = element_atoms(carrier)
    inner = _product_checker(atoms, lead + 1)
    total = sum(width(a) for a in atoms)
    ranks = [1 + r for r in _component_ranks(atoms)]

    def check(value: object, env: Env) -> Problem:
        flat = (value,) if total == 1 else value
        if isinstance(flat, tuple) and len(flat) == total > 1:
            lengths = {
                np.shape(c)[np.ndim(c) - r]
                for c, r in zip(flat, ranks, strict=True)
                if np.ndim(c) >= r
            }
            if len(lengths) > 1:
                return "R0410", f"the components have different lengths {sorted(lengths)}"
        return inner(value, env) if inner else None

    return check


def _array(*contents: ContentCheck) -> Callable[[Carrier, int], Checker]:
    """The entry check of an array kind: dtype, axes and shape, then `contents` in order."""

    def build(carrier: Carrier, lead: int) -> Checker:
        return _array_checker(carrier, lead, contents)

    return build


def _array_checker(carrier: Carrier, lead: int, contents: tuple[ContentCheck, ...]) -> Checker:
    dims, rank = carrier.shape.dims, carrier.rank
    accepted, entries = _DTYPES[carrier.spec.dtype]
    sizes = tuple(d.value for d in dims)
    fixed = None if None in sizes else sizes  # every dim a number: nothing to bind or show
    least = rank + lead

    def check(value: object, env: Env) -> Problem:
        if (  # the common case, an array of the right kind and shape: only its contents
            fixed is not None
            and type(value) is np.ndarray
            and value.dtype.kind in accepted
            and value.ndim >= least
            and value.shape[value.ndim - rank :] == fixed
        ):
            for content in contents:
                found = content(carrier, value, env)
                if found is not None:
                    return found
            return None
        if isinstance(value, int | float | bool):
            value = np.asarray(value)
        if not isinstance(value, np.ndarray | np.generic):
            return "R0416", f"expected an array, found {_kind(value)}"
        problem: Problem = None
        if value.dtype.kind not in accepted:
            problem = "R0416", f"expected {entries}, found dtype {value.dtype}"
        if problem is None and value.ndim < rank + lead:
            axes = rank + lead
            problem = "R0410", f"expected {axes} axes or more, found shape {value.shape}"
        if problem is None:
            problem = _shape_problem(dims, value.shape[value.ndim - rank :], env)
        for content in contents:
            # a numpy scalar answers everything asked of it here as a 0-d array would
            problem = problem or content(carrier, cast(np.ndarray, value), env)
        return problem

    return check


_DTYPES = {
    DtypeClass.REAL: ("fiu", "real numbers"),
    DtypeClass.INTEGER: ("iu", "integers"),
    DtypeClass.BOOLEAN: ("b", "booleans"),
    DtypeClass.SYMBOL: ("U", "symbols (strings)"),
}
"""The numpy dtype kinds an array of each class of entries accepts, and how they are named."""


def _shape_problem(dims: tuple[Dim, ...], actual: tuple[int, ...], env: Env) -> Problem:
    """Compare trailing axes with the declared dims, binding free dims on first use."""
    for dim, size in zip(dims, actual, strict=True):
        expected = evaluate(dim, env)
        if expected is None:
            symbol = _lone_symbol(dim)
            if symbol is not None:
                env[symbol] = size
        elif expected != size:
            names = ", ".join(str(d) for d in dims)
            values = ", ".join(_shown(d, env) for d in dims)
            found = ", ".join(str(n) for n in actual)
            note = _binding_note(dims, env)
            return "R0410", f"expected shape [{names}] = [{values}], found [{found}]{note}"
    return None


_all = np.logical_and.reduce
"""`a.all()` without the Python frame `ndarray.all` goes through (every call checks its
inputs and params with it)."""


def _finite(_carrier: Carrier, value: np.ndarray, _env: Env) -> Problem:
    """Real entries are neither NaN nor infinite."""
    if value.dtype.kind == "f" and not _all(np.isfinite(value), axis=None):
        what = "NaN" if np.isnan(value).any() else "an infinite entry"
        return "R0413", f"it holds {what}"
    return None


def _distribution(_carrier: Carrier, value: np.ndarray, _env: Env) -> Problem:
    """Nonnegative entries whose last axis sums to 1."""
    if value.ndim == 0:
        return "R0411", "a distribution needs an axis of probabilities"
    if (value < 0).any():
        return "R0411", f"it has a negative probability {value.min():.6g}"
    sums = value.sum(axis=-1)
    worst = np.abs(sums - 1).max() if sums.size else 0.0
    if worst > SIMPLEX_TOLERANCE:
        off = sums.flat[int(np.abs(sums - 1).argmax())]
        return "R0411", f"its last axis sums to {off:.6g} (must be 1 within {SIMPLEX_TOLERANCE})"
    return None


def _natural(_carrier: Carrier, value: np.ndarray, _env: Env) -> Problem:
    """No entry is negative."""
    if value.size:
        low = int(value.min())
        if low < 0:
            return "R0412", f"the entry {low} is negative"
    return None


def _below_bound(carrier: Carrier, value: np.ndarray, env: Env) -> Problem:
    """Every entry is below the carrier's bound, once the bound's dims are known."""
    if value.size and carrier.bound is not None:
        bound = evaluate(carrier.bound, env)
        high = int(value.max())
        if bound is not None and high >= bound:
            return "R0412", f"the index {high} is out of range (limit {carrier.bound} = {bound})"
    return None


def closed_mask_row(mask: np.ndarray, blocked_when: bool) -> str | None:
    """Where the first row (last axis) of `mask` leaves no key open, every cell equal to
    `blocked_when` ("row 1", "row 0 of element (2,)"); None when every row has an open key."""
    if mask.ndim == 0 or not mask.shape[-1]:
        return None
    open_keys = (mask != blocked_when).any(axis=-1)
    if open_keys.all():
        return None
    bad = np.unravel_index(int(np.flatnonzero(~open_keys)[0]), open_keys.shape)
    return f"row {bad[-1]}" + (f" of element {tuple(map(int, bad[:-1]))}" if len(bad) > 1 else "")


def _mask_rows(blocked_when: bool) -> ContentCheck:
    """Every row of a mask leaves a key open: an allow-mask (`blocked_when` False) has a `true`
    in each row, a block-mask (True) a `false`; the first bad row is named."""
    polarity = "blocks every key" if blocked_when else "allows no keys"

    def check(_carrier: Carrier, value: np.ndarray, _env: Env) -> Problem:
        row = closed_mask_row(value, blocked_when)
        return None if row is None else ("R0403", f"attention mask {row} {polarity}")

    return check


ENTRY_CHECKS: dict[str, Callable[[Carrier, int], Checker | None]] = {
    "Real": _array(_finite),
    "Index": _array(_natural, _below_bound),
    "Simplex": _array(_finite, _distribution),
    "Bool": _array(),
    "AllowMask": _array(_mask_rows(blocked_when=False)),
    "BlockMask": _array(_mask_rows(blocked_when=True)),
    "Nat": _array(_natural),
    "Int": _array(),
    "Symbol": _array(),
    "List": _list_checker,
    "Option": _option_checker,
}
"""The run-time check of a value entering each carrier kind, built from the carrier and the
number of leading (list) axes its values carry; None when there is nothing to check."""


# ---------------------------------------------------------------- `where` predicates


def _where_checker(obj: Obj) -> Checker:
    ranks = _component_ranks((obj,)) if width(obj) > 1 else [element_rank(obj)]
    predicates = obj.where
    columns = _columns(obj)

    def check(value: object, env: Env) -> Problem:
        parts = value if isinstance(value, tuple) else (value,)
        arrays = [np.asarray(p) for p in parts]
        for predicate in predicates:
            if _names_components(predicate, columns):
                failure = _between(predicate, arrays, columns)
            else:
                failure = _failure(predicate, arrays, ranks, env)
            if failure is not None:
                return "R0414", f"the invariant `{predicate}` does not hold{failure}"
        return None

    return check


def _columns(obj: Obj) -> dict[str, int]:
    """Where each component a `where` clause may name (`Start`, `End`) is among the arrays of
    a value of an object over a product."""
    carrier = obj.carrier
    if not isinstance(carrier, Prod):
        return {}
    starts, at = [], 0
    for atom in carrier.atoms:
        starts.append(at)
        at += width(atom)
    return {name: starts[i] for name, i in component_names(carrier).items()}


def _names_components(predicate: Predicate, columns: dict[str, int]) -> bool:
    return predicate.op is not None and (predicate.left in columns or predicate.right in columns)


def _between(predicate: Predicate, arrays: list, columns: dict[str, int]) -> str | None:
    """None when a comparison of components (`Start <= End`) holds for every value (a list
    of them compares entry by entry), else the components of the first that breaks it."""
    sides = [
        arrays[columns[s]] if isinstance(s, str) else s for s in (predicate.left, predicate.right)
    ]
    holds = np.asarray(_COMPARE[str(predicate.op)](*sides))
    if holds.all():
        return None
    first = np.unravel_index(int(np.argmin(holds)), holds.shape) if holds.ndim else ()
    named = [s for s in (predicate.left, predicate.right) if isinstance(s, str)]
    shown = ", ".join(f"{n} = {np.asarray(arrays[columns[n]])[first]:.6g}" for n in named)
    return f" (found {shown})"


def _failure(predicate: Predicate, arrays: list, ranks: list[int], env: Env) -> str | None:
    """None when the predicate holds on every component, else a short witness."""
    for array, rank in zip(arrays, ranks, strict=False):
        if predicate.op is None:
            ok = FLAG_CHECKS[str(predicate.left)](array, rank)
            left = None
        elif predicate.op == "in":
            outside = ~np.isin(array, np.asarray(predicate.members))
            if outside.any():
                found = array[outside].flat[0]
                return f" (found {found!r})" if isinstance(found, str) else f" (found {found})"
            continue
        else:
            left = _quantity(predicate.left, array, rank, env)
            right = _quantity(predicate.right, array, rank, env)
            if left is None or right is None:
                continue
            ok = bool(np.all(_COMPARE[predicate.op](left, right)))
        if not ok:
            return _witness(predicate, left)
    return None


FLAG_CHECKS: dict[str, Callable[[np.ndarray, int], bool]] = {
    "finite": lambda array, _rank: array.dtype.kind != "f" or bool(np.isfinite(array).all()),
    "nonempty": lambda array, rank: array.size > 0 and _length(array, rank) > 0,
    "positive": lambda array, _rank: bool((array > 0).all()),
    "nonnegative": lambda array, _rank: bool((array >= 0).all()),
    "nonblank": lambda array, _rank: all(str(s).strip() for s in array.flat),
}
"""Whether a component (an array of elements of the given rank) satisfies each one-word
invariant; keyed by the names the checker admits (`catdsl.typesys.objects.FLAGS`)."""


def _quantity(term: str | float | None, array: np.ndarray, rank: int, env: Env) -> object:
    """The value of one side of a comparison: a number, `value`, `len`, `sum` or a dim."""
    if term is None or isinstance(term, int | float):
        return term
    if term == "value":
        return array
    if term == "len":
        return _length(array, rank)
    if term == "sum":
        return array.sum(axis=tuple(range(array.ndim - rank, array.ndim)))
    return env.get(term)


def _length(array: np.ndarray, rank: int) -> int:
    """The length of the first element axis (1 for a scalar element)."""
    return int(array.shape[array.ndim - rank]) if rank and array.ndim >= rank else 1


def _witness(predicate: Predicate, left: object) -> str:
    if isinstance(left, np.ndarray) and predicate.op is not None and left.size:
        fails = ~np.asarray(_COMPARE[predicate.op](left, _num(predicate.right)))
        if fails.shape == left.shape and fails.any():
            return f" (found {left[fails].flat[0]:.6g})"
    if isinstance(left, int | float | np.number):
        return f" (found {left:.6g})"
    return ""


def _num(term: str | float | None) -> object:
    return term if isinstance(term, int | float) else np.nan


# ---------------------------------------------------------------- dims and helpers


def evaluate(dim: Dim, env: Env) -> int | None:
    """The integer a dim denotes under the bindings of this run, or None if a name is free."""
    value = dim.value
    if value is not None:
        return value
    total = 0
    for mono, coef in dim.terms:
        term = coef
        for name in mono:
            if name not in env:
                return None
            term *= env[name]
        total += term
    return total


def _lone_symbol(dim: Dim) -> str | None:
    if len(dim.terms) == 1:
        mono, coef = dim.terms[0]
        if coef == 1 and len(mono) == 1 and not mono[0].startswith("?"):
            return mono[0]
    return None


def _shown(dim: Dim, env: Env) -> str:
    value = evaluate(dim, env)
    return str(value) if value is not None else str(dim)


def _binding_note(dims: tuple[Dim, ...], env: Env) -> str:
    bound = sorted({s for d in dims if d.value is None for s in d.symbols() if s in env})
    if not bound:
        return ""
    return " (" + ", ".join(f"`{s}` = {env[s]} from an earlier value" for s in bound) + ")"


def _component_ranks(atoms: tuple[Atom, ...]) -> list[int]:
    """The element rank of each array component of a value of these atoms, in order."""
    ranks: list[int] = []
    for atom in atoms:
        carrier = carrier_of(atom)
        if isinstance(carrier, Prod):
            ranks.extend(_component_ranks(carrier.atoms))
        elif isinstance(carrier, Carrier) and carrier.kind == "List" and width(atom) > 1:
            ranks.extend(1 + r for r in _component_ranks(element_atoms(carrier)))
        else:
            ranks.append(element_rank(atom))
    return ranks


def _kind(value: object) -> str:
    if isinstance(value, tuple):
        return f"a tuple of {len(value)}"
    return f"a value of type `{type(value).__name__}`"
