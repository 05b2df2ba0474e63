"""The carrier kinds of the language: one spec each, the one place that classifies a kind.

A `CarrierKind` says how a kind is written (whether it takes axes, a bound or an element type),
what its entries are (`DtypeClass`) and whether cotangents flow through it. The set is fixed by
the language (`Unit` is the empty product, not a kind). Each later phase keeps its own table of
behaviour keyed by kind name (conversion of plain data and the run-time entry check in
semantics, the sampler and the JSON form in the front end), and a test checks that every table
covers `CARRIER_KINDS`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class DtypeClass(Enum):
    """What the entries of a value are: the run time picks its array dtype from this."""

    REAL = "real"  # the plan's float dtype
    INTEGER = "integer"  # 64-bit integers
    BOOLEAN = "boolean"
    SYMBOL = "symbol"  # strings: labels, step names, tokens
    CONTAINER = "container"  # no entries of its own: the element's values


class Axes(Enum):
    """Which element axes a kind is written with (`Real[V, D]`, `Nat`, `Simplex[V]`)."""

    NONE = "none"  # `Nat`: a single number, never axes
    ANY = "any"  # `Real`, `Real[D]`, `Real[V, D]`
    SOME = "some"  # `Simplex[V]`: at least one axis (the one that sums to 1)


@dataclass(frozen=True)
class CarrierKind:
    """One carrier kind.

    `axes` says which shapes it is written with; `bounded`: its last argument is an exclusive
    upper bound on the entries (`Index[V]`), not an axis; `element`: it takes one type argument,
    its element (`List[X]`), and no axes. `differentiable`: cotangents flow along its wires (for
    a container: through to its element, so a container of reals is differentiable).
    """

    name: str
    dtype: DtypeClass
    differentiable: bool
    doc: str
    axes: Axes = Axes.NONE
    bounded: bool = False
    element: bool = False

    @property
    def is_array(self) -> bool:
        """Whether a value is one array of entries (not a container of elements)."""
        return not self.element

    @property
    def takes_arguments(self) -> bool:
        """Whether the kind is ever written with brackets (`Real[D]`; never `Nat[3]`)."""
        return self.axes is not Axes.NONE or self.bounded or self.element

    @property
    def written_bare(self) -> bool:
        """Whether the kind's name alone is a type (`Real`, `Nat`; not `Index` or `List`)."""
        return self.axes is not Axes.SOME and not self.bounded and not self.element


def _table(*kinds: CarrierKind) -> dict[str, CarrierKind]:
    return {kind.name: kind for kind in kinds}


CARRIER_KINDS: dict[str, CarrierKind] = _table(
    CarrierKind(
        name="Real",
        dtype=DtypeClass.REAL,
        differentiable=True,
        doc="real numbers, a scalar or an array",
        axes=Axes.ANY,
    ),
    CarrierKind(
        name="Index",
        dtype=DtypeClass.INTEGER,
        differentiable=False,
        doc="integers in [0, bound): token ids, class labels",
        axes=Axes.ANY,
        bounded=True,
    ),
    CarrierKind(
        name="Simplex",
        dtype=DtypeClass.REAL,
        differentiable=True,
        doc="probability distributions: nonnegative, the last axis sums to 1",
        axes=Axes.SOME,
    ),
    CarrierKind(
        name="Bool",
        dtype=DtypeClass.BOOLEAN,
        differentiable=False,
        doc="truth values: masks",
        axes=Axes.ANY,
    ),
    CarrierKind(
        name="AllowMask",
        dtype=DtypeClass.BOOLEAN,
        differentiable=False,
        doc="an attention mask, true = may attend; every row allows a key",
        axes=Axes.SOME,
    ),
    CarrierKind(
        name="BlockMask",
        dtype=DtypeClass.BOOLEAN,
        differentiable=False,
        doc="an attention mask, true = blocked; every row leaves a key open",
        axes=Axes.SOME,
    ),
    CarrierKind(
        name="Nat",
        dtype=DtypeClass.INTEGER,
        differentiable=False,
        doc="a natural number: counts, steps",
    ),
    CarrierKind(
        name="Int",
        dtype=DtypeClass.INTEGER,
        differentiable=False,
        doc="integers, a scalar or an array: a difference of counts, an offset, a signal matrix",
        axes=Axes.ANY,
    ),
    CarrierKind(
        name="Symbol",
        dtype=DtypeClass.SYMBOL,
        differentiable=False,
        doc="a label: a step name, a token",
    ),
    CarrierKind(
        name="List",
        dtype=DtypeClass.CONTAINER,
        differentiable=True,
        doc="a sequence of elements of one type; a batch",
        element=True,
    ),
    CarrierKind(
        name="Option",
        dtype=DtypeClass.CONTAINER,
        differentiable=True,
        doc="an element, or nothing",
        element=True,
    ),
)
"""Every carrier kind of the language, in the order they are listed to users."""

MASK_POLARITY = {"AllowMask": "true = may attend", "BlockMask": "true = blocked"}
"""The two mask kinds and what `true` means in each: distinct kinds, so polarity is a type."""

ARRAY_KINDS = tuple(name for name, kind in CARRIER_KINDS.items() if kind.is_array)
"""The kinds whose values are one array: `Real`, `Index`, `Simplex`, `Bool`, the masks, `Nat`,
`Int`, `Symbol`."""
CONTAINER_KINDS = tuple(name for name, kind in CARRIER_KINDS.items() if kind.element)
"""The kinds that hold an element type: `List`, `Option`."""
