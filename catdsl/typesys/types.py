"""Carriers, nominal objects, records and strict products: the types of wires.

A wire carries one *atom*: a structural `Carrier` (`Real[V, D]`, `Index[V]`, `List[X]`), a
nominal `Obj` declared with `object`, or a `Record` (`Params(loss)`, `AdamState(loss)`).
A bundle of wires is a `Prod`; products are strict, so nesting flattens and `Unit` is `()`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import ClassVar

from catdsl.errors import Span
from catdsl.typesys.carriers import CARRIER_KINDS, CarrierKind
from catdsl.typesys.dims import Dim, shown


@dataclass(frozen=True)
class Shape:
    """Element shape: fixed trailing dims after an optional variadic prefix `rest` (`?s`)."""

    dims: tuple[Dim, ...] = ()
    rest: str | None = None

    def __str__(self) -> str:
        parts = ([f"*{shown(self.rest)}"] if self.rest else []) + [str(d) for d in self.dims]
        return ", ".join(parts)


@dataclass(frozen=True)
class Carrier:
    """A structural carrier of one of the `CARRIER_KINDS`: an array kind with its `shape` (and
    `bound`, for `Index`), or a container kind with its `elem`."""

    kind: str
    shape: Shape = Shape()
    bound: Dim | None = None
    elem: Prod | None = None
    _ground: ClassVar[bool | None] = None  # cached by `ground`, not a field

    @property
    def spec(self) -> CarrierKind:
        """The spec of this carrier's kind (a number-kind variable's is `Real`'s: an array)."""
        spec = CARRIER_KINDS.get(self.kind)  # (no kind's name starts with `?`)
        return spec if spec is not None else CARRIER_KINDS[shown(self.kind)]

    @property
    def rank(self) -> int:
        return len(self.shape.dims)

    def __str__(self) -> str:
        if self.spec.element:
            return f"{self.kind}[{self.elem}]"
        args = str(self.shape)
        if self.spec.bounded:
            args = f"{args}, {self.bound}" if args else str(self.bound)
        kind = shown(self.kind)
        return f"{kind}[{args}]" if args else kind


NUMBER_KINDS = ("Real", "Nat", "Int")
"""The carrier kinds a number-kind variable may stand for."""


def number_kind_var(tag: int) -> str:
    """A fresh number-kind variable: the kind of a carrier typed on `Real`, `Nat` or `Int`
    with a given shape (`matmul`); it reads `Real` until it is bound (and is `Real` if never)."""
    return f"?Real#{tag}"


def is_kind_var(kind: str) -> bool:
    """Whether a carrier's kind is a number-kind variable rather than a kind."""
    return kind.startswith("?")


@dataclass(frozen=True)
class Predicate:
    """A run-time invariant of an object (`value >= 0`, `len >= 1`, `finite`). A membership
    (`value in departments`, op `in`) carries the entries of the data point it names."""

    left: str | float
    op: str | None
    right: str | float | None
    members: tuple[object, ...] = field(default=(), compare=False, repr=False)

    def __str__(self) -> str:
        if self.op is None:
            return str(self.left)
        return f"{_num(self.left)} {self.op} {_num(self.right)}"


def _num(x: str | float | None) -> str:
    if isinstance(x, float) and x.is_integer():
        return str(int(x))
    return str(x)


@dataclass(frozen=True)
class Obj:
    """A nominal object: equal only to itself (by name and defining module). A finite ordered
    object (`object Level : Observation < Feature < Score`) has its `elements`, least first;
    its carrier is `Index[n]` and an element's value is its position."""

    name: str
    carrier: Carrier | Prod
    where: tuple[Predicate, ...] = field(default=(), compare=False)
    span: Span | None = field(default=None, compare=False)
    module: str = ""
    elements: tuple[str, ...] = field(default=(), compare=False, repr=False)
    _ground: ClassVar[bool | None] = True  # bindings never look inside an object

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class Record:
    """A record object built from a morphism: `Params(loss)`, `AdamState(loss)`.
    Two records are the same object when their kind and fields agree (the product of the same
    parameters); `name` is only how it is shown. At run time its value is a dict."""

    kind: str  # "Params" | "AdamState" | "MomentumState"
    fields: tuple[tuple[str, Atom], ...]
    name: str = field(default="", compare=False)
    _ground: ClassVar[bool | None] = None  # cached by `ground`, not a field

    def __str__(self) -> str:
        return self.name or self.kind


@dataclass(frozen=True)
class TVar:
    """A unification variable over atoms, in generic primitive signatures (`windows(k)`).

    `kinds`, when given, are the carrier kinds it may stand for (`add` is typed on `Real`,
    `Nat` and `Int`); such a variable is bound to the structural carrier of what it meets (an
    object forgets its name, as it does entering `Real[*s]`) unless `nominal` keeps objects;
    `scalar` admits single values only (no axes); `product`: it may stand for a product of
    several atoms (the element of `first : List[a] -> Option[a]`, whose kernel takes a list's
    columns), where others stand for one atom. (These come with the name from the
    signature that made it, so they are left out of its repr and of fingerprints.)"""

    name: str
    kinds: tuple[str, ...] = field(default=(), compare=False, repr=False)
    scalar: bool = field(default=False, compare=False, repr=False)
    nominal: bool = field(default=False, compare=False, repr=False)
    product: bool = field(default=False, compare=False, repr=False)
    _ground: ClassVar[bool | None] = False  # a variable

    def __str__(self) -> str:
        return shown(self.name)

    def admits(self, atom: Atom) -> bool:
        """Whether this variable may stand for `atom`."""
        if not self.kinds:
            return True
        carrier = carrier_of(atom)
        if not isinstance(carrier, Carrier) or carrier.kind not in self.kinds:
            return False
        return not self.scalar or not carrier.shape.dims

    def binding(self, atom: Atom) -> Atom:
        """What this variable is bound to when it meets `atom`: its carrier, or itself."""
        carrier = carrier_of(atom)
        if self.kinds and not self.nominal and isinstance(carrier, Carrier):
            return carrier
        return atom


@dataclass(frozen=True)
class Kinds:
    """What a constrained variable stands for, as a message names it: `Real, Nat or Int`."""

    var: TVar

    def __str__(self) -> str:
        kinds = list(self.var.kinds)
        text = ", ".join(kinds[:-1]) + f" or {kinds[-1]}" if len(kinds) > 1 else kinds[0]
        return f"{text} (one value)" if self.var.scalar else text


Atom = Carrier | Obj | Record | TVar


@dataclass(frozen=True)
class Prod:
    """A strict product of atoms (`()` is `Unit`)."""

    atoms: tuple[Atom, ...] = ()
    _ground: ClassVar[bool | None] = None  # cached by `ground`, not a field

    def __str__(self) -> str:
        if not self.atoms:
            return "Unit"
        return " * ".join(str(a) for a in self.atoms)

    def __len__(self) -> int:
        return len(self.atoms)

    def __add__(self, other: Prod) -> Prod:
        return Prod(self.atoms + other.atoms)


UNIT = Prod(())


def ground(t: Prod | Atom) -> bool:
    """Whether a type holds no unification variable of any kind (atom, dim, shape prefix,
    number kind), so that applying any binding table gives it back unchanged. Nominal objects
    count as ground: bindings never look inside them. Cached on the (immutable) object: every
    type class has a `_ground` (True, False, or None until computed)."""
    flag = t._ground
    if flag is not None:
        return flag
    if isinstance(t, Carrier):
        return carrier_ground(t)
    if isinstance(t, Prod):
        return prod_ground(t)
    assert isinstance(t, Record)
    flag = _all_ground([a for _, a in t.fields])
    object.__setattr__(t, "_ground", flag)
    return flag


def prod_ground(p: Prod) -> bool:
    """`ground` for a product."""
    flag = p._ground
    if flag is None:
        flag = _all_ground(p.atoms)
        object.__setattr__(p, "_ground", flag)
    return flag


def _all_ground(atoms: Iterable[Atom]) -> bool:
    """`all(ground(a) for a in atoms)`, reading each cached flag without a call."""
    for a in atoms:
        flag = a._ground
        if not (flag or (flag is None and ground(a))):
            return False
    return True


def carrier_ground(c: Carrier) -> bool:
    """`ground` for a carrier."""
    flag = c._ground
    if flag is None:
        shape = c.shape
        flag = (
            not c.kind.startswith("?")
            and shape.rest is None
            and all(dim_ground(d) for d in shape.dims)
            and (c.bound is None or dim_ground(c.bound))
            and (c.elem is None or prod_ground(c.elem))
        )
        object.__setattr__(c, "_ground", flag)
    return flag


def dim_ground(d: Dim) -> bool:
    """`ground` for a dim: no `?` variable in it (cached on the dim, like a type's)."""
    flag = d._ground
    if flag is None:
        flag = not any(name.startswith("?") for mono, _ in d.terms for name in mono)
        object.__setattr__(d, "_ground", flag)
    return flag


def prod(*items: Atom | Prod) -> Prod:
    """Build a flattened product from atoms and products."""
    atoms: list[Atom] = []
    for item in items:
        atoms.extend(item.atoms if isinstance(item, Prod) else (item,))
    return Prod(tuple(atoms))


@dataclass(frozen=True)
class Port:
    """A named input wire entering a box from above: a user port or a learnable `param`."""

    name: str
    atom: Atom
    kind: str = "port"  # "port" | "param"


def carrier_of(atom: Atom) -> Carrier | Prod | None:
    """What an atom is made of: an object's declared carrier, or the carrier itself."""
    if isinstance(atom, Obj):
        return atom.carrier
    if isinstance(atom, Carrier):
        return atom
    return None


def component_names(carrier: Carrier | Prod) -> dict[str, int]:
    """The components of an object over a product that a `where` clause may name: each factor
    that is an object over a single number, named once (`Start * End`: `Start` is 0, `End` is
    1)."""
    if not isinstance(carrier, Prod):
        return {}
    names = [a.name if isinstance(a, Obj) and _one_number(a.carrier) else "" for a in carrier.atoms]
    return {n: i for i, n in enumerate(names) if n and names.count(n) == 1}


def _one_number(carrier: Carrier | Prod) -> bool:
    """A carrier whose values are single numbers (`Nat`, `Real`, `Index[n]`)."""
    return (
        isinstance(carrier, Carrier)
        and carrier.spec.is_array
        and not carrier.shape.dims
        and carrier.shape.rest is None
        and carrier.kind != "Symbol"
    )


def element_rank(atom: Atom) -> int:
    """The number of trailing axes of one value of this atom: an array's rank; a `List` adds its
    leading (batch) axis to its element's, and a list of several wires counts that axis only,
    since each of its columns is a separate array."""
    carrier = carrier_of(atom)
    if isinstance(carrier, Carrier):
        if carrier.kind == "List" and carrier.elem is not None:
            atoms = carrier.elem.atoms
            return 1 + (element_rank(atoms[0]) if len(atoms) == 1 else 0)
        return carrier.rank
    return 0
