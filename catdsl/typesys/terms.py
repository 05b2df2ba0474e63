"""Typed terms: what the checker produces and the diagram lowering consumes.

Every term knows its domain, codomain and ports (user ports and learnable params, collected by
name through composition). Types here are fully resolved: no unification variables remain,
except in generic definitions that are never run.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any, ClassVar

from catdsl.errors import Span
from catdsl.typesys.family_spec import Family, Schedule
from catdsl.typesys.primitives import PrimSpec
from catdsl.typesys.types import Atom, Port, Prod


@dataclass(frozen=True)
class Term:
    dom: Prod
    cod: Prod
    span: Span | None = field(compare=False)
    ports: tuple[Port, ...] = field(default=(), kw_only=True)
    _no_cut: ClassVar[bool] = False  # not a field: neither equality nor the repr sees it
    """True on a finished term that holds no box without a gradient, neither itself nor in the
    definitions it uses (set by `resolve`): `no_gradient` need not search it. False is
    "not known"."""

    @property
    def is_endo(self) -> bool:
        return self.dom == self.cod


@dataclass(frozen=True)
class Prim(Term):
    """A standard-library kernel box. Inputs are the domain wires then `args` in order: each
    arg is the name of a `param` (a port from above) or of a constant (`Const`). `spec` is the
    primitive it was checked against (None only in terms built by hand, without the checker)."""

    name: str
    static: tuple[tuple[str, object], ...] = ()
    args: tuple[str, ...] = ()
    arg_types: tuple[Atom, ...] = ()
    in_ranks: tuple[int, ...] = ()
    spec: PrimSpec | None = field(default=None, compare=False, repr=False)
    # The morphism arguments (`fold(op, unit)`), in the spec's `morphism_names` order;
    # `absent_unless_set`: a primitive without any keeps the fingerprint it had before them.
    morphisms: tuple[Term, ...] = field(default=(), metadata={"absent_unless_set": True})


@dataclass(frozen=True)
class Ref(Term):
    """A use of a named definition (`morphism` or `let`); `body` is its term, or None for a
    morphism declared without a body (drawable, not runnable)."""

    name: str
    body: Term | None
    kind: str = "morphism"  # "morphism" | "let" | "data" | "wiring"
    instance: bool = field(default=False, repr=False)
    """Built at its use (a generic definition instantiated, a functor's morphism map applied):
    its body holds the use's type variables, so finishing the user resolves it too. (Out of
    the repr: a checkpoint's fingerprint of a term does not change with how it was built.)"""
    type_args: tuple[tuple[str, Prod], ...] = field(default=(), compare=False, repr=False)
    """A generic definition's instance: each parameter and the type it stands for here."""


@dataclass(frozen=True)
class Seq(Term):
    """`f >> g >> ...`."""

    parts: tuple[Term, ...]


@dataclass(frozen=True)
class Par(Term):
    """`f * g * ...`: wires side by side."""

    parts: tuple[Term, ...]


@dataclass(frozen=True)
class Pair(Term):
    """`<f, g, ...>`: one input copied to every branch."""

    parts: tuple[Term, ...]


@dataclass(frozen=True)
class Power(Term):
    """`f ^ n` for an endomorphism f; `^ 0` is the identity."""

    base: Term
    n: int


@dataclass(frozen=True)
class Struct(Term):
    """Built-in structure: `id`, `swap`, `copy`, `discard`, `fst`, `snd`. Its wiring is read
    from `kind`, `dom` and `cod` (e.g. `swap[A, B]`: `A * B -> B * A`; `copy`: `A -> A * A`;
    `fst[A, B]`: `A * B -> A`). `split` is the number of atoms of the first argument."""

    kind: str
    split: int = 0


@dataclass(frozen=True)
class Functor(Term):
    """`List(f)` (vectorised over a leading axis) or `Option(f)`."""

    functor: str
    inner: Term


@dataclass(frozen=True)
class Const(Term):
    """A point `Unit -> A` with a literal value (nested tuples of numbers) or a file to load."""

    name: str
    value: object = None
    path: str | None = None


@dataclass(frozen=True)
class PortWire(Term):
    """A user port as a point `Unit -> A`: the wire that enters from above. Used where a
    declared port feeds a primitive's extra input (`CrossEntropy[target: TokenId] = nll`)."""

    name: str


@dataclass(frozen=True)
class Param(Term):
    """The stored value of a learnable parameter, as a point `Unit -> A` (used by `Init`)."""

    name: str
    init: str
    init_args: tuple[tuple[str, object], ...] = ()
    literal: object = None


@dataclass(frozen=True)
class Train(Term):
    """Training families over a loss: `Init`, `MeanLoss`, `TrainStep`, `Momentum`, `Adam`,
    `AdamInit`. `params` lists the learnable ports of `loss` in order; `data` is a point of
    the examples (None when the loss's domain is `Unit`)."""

    family: str
    spec: Family = field(compare=False, repr=False)
    loss: Term
    data: Term | None
    params: tuple[Port, ...]
    hyper: tuple[tuple[str, float], ...] = ()
    # A learning-rate schedule, for optimizers that count steps; `absent_unless_set`: a term
    # without one has the fingerprint it had before schedules existed (old checkpoints fit).
    schedule: Schedule | None = field(default=None, metadata={"absent_unless_set": True})
    # the params a step updates (`only = [...]`); () is all. Out of the repr so that the
    # checkpoint fingerprints of every step written without it stay as they were (a step
    # with `only` is a training state's, which starts from `StateInit`, never a checkpoint)
    only: tuple[str, ...] = field(default=(), repr=False)


@dataclass(frozen=True)
class Wiring(Term):
    """A wiring block: named wires, each step applies a term to named wires.
    `steps` are (output names, term, input names); `result` names the returned wires."""

    inputs: tuple[str, ...]
    steps: tuple[tuple[tuple[str, ...], Term, tuple[str, ...]], ...]
    result: tuple[str, ...]


@dataclass(frozen=True)
class Bind(Term):
    """`f[port = point]`: a port of f closed over a point, as in `Block[M]`."""

    inner: Term
    bindings: tuple[tuple[str, Term], ...]


@dataclass(frozen=True)
class HoleTerm(Term):
    """`?name`: a typed hole; makes the program incomplete."""

    name: str | None


def holds_hole(term: Term) -> bool:
    """Whether a term, or a definition it uses, still has a hole (`?`) in it."""
    seen: set[int] = set()
    todo: list[object] = [term]
    while todo:
        item = todo.pop()
        if isinstance(item, tuple):
            todo.extend(item)
        elif isinstance(item, Term) and id(item) not in seen:
            seen.add(id(item))
            if isinstance(item, HoleTerm):
                return True
            todo.extend(getattr(item, f.name) for f in fields(item))
    return False


_PLAIN: dict[type, bool] = {}


def plain(cls: type) -> bool:
    """Whether a term class's `__init__` only stores its fields in the instance's `__dict__`
    (no `__post_init__`, no slots): such terms can be read and copied through `__dict__`."""
    found = _PLAIN.get(cls)
    if found is None:
        found = _PLAIN[cls] = not hasattr(cls, "__post_init__") and not hasattr(cls, "__slots__")
    return found


def rebuilt(term: Term, changes: dict[str, Any]) -> Term:
    """A new term equal to `term` but for `changes`: `dataclasses.replace` without its cost
    (argument checks and `__init__`) for the plain term classes; any other goes through
    `replace`."""
    if not plain(type(term)):
        return replace(term, **changes)
    return copied(term, changes)


def copied(term: Term, changes: dict[str, Any]) -> Term:
    """`rebuilt` for a term whose class is known to be `plain`: its `__dict__` copied, then
    `changes` written over it."""
    new = object.__new__(type(term))
    state = new.__dict__
    state.update(term.__dict__)
    state.update(changes)
    return new
