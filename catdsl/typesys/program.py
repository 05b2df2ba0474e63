"""The checker's output: a program's typed definitions, objects, params, data and laws."""

from __future__ import annotations

from dataclasses import dataclass, field

from catdsl.errors import Diagnostic, Span
from catdsl.typesys.terms import Term
from catdsl.typesys.types import Carrier, Obj, Prod


@dataclass(frozen=True)
class ParamInfo:
    """A learnable parameter: its carrier (concrete shape) and how to initialise it."""

    name: str
    carrier: Carrier
    init: str  # an initialiser name, "literal" or "load"
    init_args: tuple[tuple[str, object], ...] = ()
    literal: object = None
    path: str | None = None
    span: Span | None = None
    order: int = 0

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(d.value or 0 for d in self.carrier.shape.dims)


@dataclass(frozen=True)
class Definition:
    """A named morphism, let, wiring block or data point with its checked term."""

    name: str
    kind: str  # "morphism" | "let" | "wiring" | "data" | "natural"
    term: Term
    span: Span | None = None
    file: str = ""
    params: tuple[str, ...] = ()
    """The object parameters of a generic definition (`First[A]`); its term is checked with
    each standing for a rigid object, and a use instantiates it (typesys/generics.py)."""


@dataclass(frozen=True)
class Law:
    name: str
    lhs: Term
    rhs: Term
    tolerance: float | None
    span: Span | None = None
    case: str = ""
    """For a law generated from a declaration, the instance (`f = Negate`)."""
    cases: tuple[Law, ...] = ()
    """Further instances of a generated law, checked with it (naturality for every `f`)."""
    generated: bool = False
    """Carried by a declaration (functor, natural, monoid, preorder), not written as a law."""
    over: tuple[int, int] | None = None
    """`law name over [lo, hi]`: every whole-number input takes every value from lo to hi, and
    the law is checked at all of them (each finite input at all its values too)."""


@dataclass(frozen=True)
class Structure:
    """A declaration that carries laws: a functor, a monoid or a preorder. `maps` are the
    checked parts by role (`unit`, `op`, `le`); a functor keeps its declaration, which its
    uses instantiate."""

    kind: str  # "functor" | "monoid" | "preorder"
    name: str
    carrier: Prod | None = None
    maps: tuple[tuple[str, Term], ...] = ()
    decl: object = field(default=None, compare=False, repr=False)
    span: Span | None = None


@dataclass
class CheckedProgram:
    """Everything the later phases need; no AST nodes leak past this point."""

    file: str
    definitions: dict[str, Definition] = field(default_factory=dict)
    objects: dict[str, Obj] = field(default_factory=dict)
    aliases: dict[str, Prod] = field(default_factory=dict)
    params: dict[str, ParamInfo] = field(default_factory=dict)
    laws: dict[str, Law] = field(default_factory=dict)
    structures: dict[str, Structure] = field(default_factory=dict)
    dims: dict[str, int | None] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)
