"""Random values of an object, respecting its carrier and invariants.

Laws and gradient checks need inputs: real arrays from a normal distribution, valid
distributions for `Simplex`, in-range indices for `Index`, short lists for `List`, and the
program's parameters (slightly perturbed) for `Params(f)` records.

A sampler draws one *case* of the containers. `Case.EMPTY` gives every list its shortest
length (0, or what the object's `len` invariant allows) and every option `none`; `Case.ONE`
gives lists of one element and present options; `Case.VARIED` gives lists of 0 to
`MAX_LIST_LENGTH` elements and `none` one time in four; `Case.PRESENT` (the default, what a
gradient check needs to have something to differentiate) lists of 1 to `MAX_LIST_LENGTH`
elements and present options. `case_of(i)` is the case of the i-th sample of a law, so a law
is always tried on `none` and the empty list first.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum

import numpy as np

from catdsl.errors import CatRuntimeError
from catdsl.typesys.dims import Dim
from catdsl.typesys.limits import human_bytes, memory_budget, nbytes
from catdsl.typesys.messages import big_number, dim_bindings
from catdsl.typesys.types import Atom, Carrier, Obj, Prod, Record, TVar, component_names

FREE_DIM_SIZE = 3
MAX_LIST_LENGTH = 5


class Case(Enum):
    """Which lengths of lists and which options a sampler draws."""

    EMPTY = "empty"
    ONE = "one"
    VARIED = "varied"
    PRESENT = "present"


def case_of(sample: int) -> Case:
    """The case of a law's `sample`-th input: nothing, then one element, then varied."""
    return (Case.EMPTY, Case.ONE)[sample] if sample < 2 else Case.VARIED


class Sampler:
    """Draws values; free dims get one size per sampler so shapes agree across wires."""

    def __init__(
        self, rng: np.random.Generator, params: dict[str, np.ndarray], case: Case = Case.PRESENT
    ):
        self.rng = rng
        self.params = params
        self.case = case
        self.free: dict[str, int] = {}
        self.varies = False
        """Whether a list or an option was drawn: its case (how long, whether present) matters."""

    def list_length(self, shortest: int = 0) -> int:
        """The length of a list of this sampler's case, at least `shortest`."""
        self.varies = True
        if self.case is Case.EMPTY:
            return shortest
        if self.case is Case.ONE:
            return max(shortest, 1)
        low = shortest if self.case is Case.VARIED else max(shortest, 1)
        return int(self.rng.integers(low, max(low, MAX_LIST_LENGTH) + 1))

    def present(self, lead: tuple[int, ...]) -> bool:
        """Whether an option holds a value (always inside a list: it has no `none` there)."""
        self.varies = True
        if lead or self.case in (Case.ONE, Case.PRESENT):
            return True
        return self.case is Case.VARIED and self.rng.random() >= 0.25

    def size(self, dim: Dim) -> int:
        if dim.value is not None:
            return dim.value
        env = {}
        for name in dim.symbols():
            env[name] = Dim.const(self.free.setdefault(name, FREE_DIM_SIZE))
        value = dim.substitute(env).value
        return max(int(value or FREE_DIM_SIZE), 1)

    def prod(self, p: Prod) -> tuple:
        return tuple(self.atom(a) for a in p.atoms)

    def atom(self, atom: Atom, lead: tuple[int, ...] = ()) -> object:
        if isinstance(atom, Obj):
            carrier = atom.carrier
            if isinstance(carrier, Carrier) and carrier.kind == "List":
                return _respect(_list(self, carrier, lead, shortest(atom)), atom)
            members = next((p.members for p in atom.where if p.op == "in"), None)
            if members:  # a set given by a data point: one of its entries
                return np.asarray(members)[self.rng.integers(0, len(members), size=lead)]
            value = self._carrier_or_prod(carrier, lead)
            return _respect(value, atom)
        if isinstance(atom, Carrier):
            return self.carrier(atom, lead)
        if isinstance(atom, Record):
            return self.record(atom)
        if isinstance(atom, TVar):
            return self.rng.normal(size=lead)
        raise TypeError(f"cannot sample {atom!r}")

    def _carrier_or_prod(self, carrier: Carrier | Prod, lead: tuple[int, ...]) -> object:
        if isinstance(carrier, Prod):
            return tuple(self.atom(a, lead) for a in carrier.atoms)
        return self.carrier(carrier, lead)

    def carrier(self, c: Carrier, lead: tuple[int, ...] = ()) -> object:
        """A value of the carrier, with `lead` extra leading axes (those of enclosing lists)."""
        return SAMPLERS[c.kind](self, c, lead)

    def shape(self, c: Carrier, lead: tuple[int, ...]) -> tuple[int, ...]:
        """The shape of an array carrier's value under `lead` leading axes."""
        shape = lead + tuple(self.size(d) for d in c.shape.dims)
        within_budget(shape, f"a sample of `{c}`{dim_bindings(c)}")
        return shape

    def record(self, r: Record) -> dict:
        if r.kind == "Params":
            return {
                name: self.params[name] + 0.05 * self.rng.normal(size=self.params[name].shape)
                for name, _ in r.fields
            }
        values: dict = {}
        for name, atom in r.fields:
            if name == "step":
                values[name] = np.asarray(int(self.rng.integers(0, 5)))
            elif name == "v" and isinstance(atom, Record):
                values[name] = {k: np.abs(v) for k, v in self.record(atom).items()}
            else:
                values[name] = self.atom(atom)
        return values


def _real(sampler: Sampler, c: Carrier, lead: tuple[int, ...]) -> object:
    return sampler.rng.normal(size=sampler.shape(c, lead))


def _distribution(sampler: Sampler, c: Carrier, lead: tuple[int, ...]) -> object:
    z = sampler.rng.normal(size=sampler.shape(c, lead))
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _index(sampler: Sampler, c: Carrier, lead: tuple[int, ...]) -> object:
    shape = sampler.shape(c, lead)
    bound = sampler.size(c.bound) if c.bound is not None else 2
    return sampler.rng.integers(0, bound, size=shape)


def _natural(sampler: Sampler, c: Carrier, lead: tuple[int, ...]) -> object:
    return sampler.rng.integers(0, 5, size=sampler.shape(c, lead))


def _integer(sampler: Sampler, c: Carrier, lead: tuple[int, ...]) -> object:
    return sampler.rng.integers(-4, 5, size=sampler.shape(c, lead))


SYMBOLS = ("embedding", "linear", "softmax", "loss")
"""The labels `Symbol` samples are drawn from."""


def _symbol(sampler: Sampler, c: Carrier, lead: tuple[int, ...]) -> object:
    return np.asarray(SYMBOLS)[sampler.rng.integers(0, len(SYMBOLS), size=sampler.shape(c, lead))]


def _mask(sampler: Sampler, c: Carrier, lead: tuple[int, ...]) -> object:
    mask = sampler.rng.random(size=sampler.shape(c, lead)) < 0.7
    if mask.ndim and mask.shape[-1]:  # an empty list of truth values has no first entry
        mask[..., 0] = True  # every row allows at least one entry
    return mask


def _block_mask(sampler: Sampler, c: Carrier, lead: tuple[int, ...]) -> object:
    """A block-mask: the complement of an allow-mask, so every row leaves a key open."""
    return ~np.asarray(_mask(sampler, c, lead), dtype=bool)


def _list(sampler: Sampler, c: Carrier, lead: tuple[int, ...], least: int = 0) -> object:
    inner = (*lead, sampler.list_length(least))
    parts: list[object] = []
    for a in _element(c).atoms:  # an object over a product is one column per component
        value = sampler.atom(a, inner)
        nested = isinstance(a, Obj) and isinstance(a.carrier, Prod)
        parts.extend(value if nested and isinstance(value, tuple) else (value,))
    return parts[0] if len(parts) == 1 else tuple(parts)


def _option(sampler: Sampler, c: Carrier, lead: tuple[int, ...]) -> object:
    """`none`, or a value of the element, as the sampler's case says."""
    if not sampler.present(lead):
        return None
    parts = tuple(sampler.atom(a, lead) for a in _element(c).atoms)
    return parts[0] if len(parts) == 1 else parts


def shortest(obj: Obj) -> int:
    """The fewest elements a list object's `len` invariants allow (`nonempty`, `len >= 2`,
    `len > 1`, `len == 3`)."""
    least = 0
    for p in obj.where:
        if p.op is None and p.left == "nonempty":
            least = max(least, 1)
        elif p.left == "len" and isinstance(p.right, int | float):
            bound = int(p.right)
            if p.op in (">=", "=="):
                least = max(least, bound)
            elif p.op == ">":
                least = max(least, bound + 1)
        elif p.right == "len" and isinstance(p.left, int | float):
            bound = int(p.left)
            if p.op in ("<=", "=="):
                least = max(least, bound)
            elif p.op == "<":
                least = max(least, bound + 1)
    return least


def _element(c: Carrier) -> Prod:
    if c.elem is None:
        raise TypeError(f"cannot sample carrier {c}")
    return c.elem


SAMPLERS: dict[str, Callable[[Sampler, Carrier, tuple[int, ...]], object]] = {
    "Real": _real,
    "Index": _index,
    "Simplex": _distribution,
    "Bool": _mask,
    "AllowMask": _mask,
    "BlockMask": _block_mask,
    "Nat": _natural,
    "Int": _integer,
    "Symbol": _symbol,
    "List": _list,
    "Option": _option,
}
"""How to draw a value of each carrier kind, given the leading axes of enclosing lists."""


def _respect(value: object, obj: Obj) -> object:
    """Make a sample satisfy simple sign invariants (`value >= 0`, `positive`, `value > 0`):
    reals become |x| + 0.1, whole numbers |n|, or |n| + 1 where zero is refused; and, for an
    object over a product, the comparisons of its components (`Start <= End`)."""
    if isinstance(value, tuple):
        return _ordered(value, obj)
    flags = {str(p) for p in obj.where}
    positive = bool(flags & {"positive", "nonnegative"}) or any(
        p.left == "value" and p.op in (">", ">=") for p in obj.where if p.op
    )
    if not positive or not isinstance(value, np.ndarray):
        return value
    if value.dtype.kind == "f":
        return np.abs(value) + 0.1
    if value.dtype.kind in "iu":
        strict = "positive" in flags or any(
            p.left == "value" and p.op == ">" for p in obj.where if p.op
        )
        return np.abs(value) + int(strict)
    return value


def _ordered(value: tuple, obj: Obj) -> tuple:
    """A sample of an object over a product moved to satisfy each comparison of two of its
    components: the right side becomes the left side plus the distance between them (plus
    one for a strict order), so `Start <= End` holds and the gap stays random."""
    positions = component_names(obj.carrier)
    parts = list(value)
    for p in obj.where:
        if p.op is None or p.left not in positions or p.right not in positions:
            continue
        i, j = positions[str(p.left)], positions[str(p.right)]
        if p.op in (">", ">="):
            i, j = j, i
        a, b = np.asarray(parts[i]), np.asarray(parts[j])
        if p.op in ("<", "<=", ">", ">="):
            step = 1 if p.op in ("<", ">") else 0
            parts[j] = (a + np.abs(b - a) + step).astype(b.dtype)
        elif p.op == "==":
            parts[j] = a.copy()
        elif p.op == "!=":
            parts[j] = np.where(a == b, a + 1, b).astype(b.dtype)
    return tuple(parts)


def within_budget(shape: tuple[int, ...], what: str) -> None:
    """Refuse (R0417) to allocate an array of `shape` bigger than the memory budget."""
    size, budget = nbytes(shape), memory_budget()
    if size > budget:
        raise CatRuntimeError(
            "R0417",
            f"{what} would hold {big_number(size // 8)} numbers, {human_bytes(size)}: more than "
            f"the memory budget of {human_bytes(budget)}",
            help="use smaller dims, or raise the budget with CATDSL_MEMORY_BUDGET "
            "(see docs/running.md)",
        )
