"""The abstract syntax of catdsl: frozen dataclasses, every node with its source span.

Types and dims share one syntax (`Real[H * K]`, `TokenId * TokenId`); the checker tells them
apart by position. Chains of `>>` and `*` are n-ary tuples, never nested pairs.
"""

from __future__ import annotations

from dataclasses import dataclass

from catdsl.errors import Span

# ---------------------------------------------------------------- type / dim expressions


@dataclass(frozen=True)
class TName:
    """A bare name in a type position: an object, alias, carrier, or dim."""

    name: str
    span: Span


@dataclass(frozen=True)
class TInt:
    value: int
    span: Span


@dataclass(frozen=True)
class TApply:
    """`Real[V, D]`, `List[TokenId]`, `Simplex[T, S]`."""

    name: str
    args: tuple[TypeExpr, ...]
    span: Span


@dataclass(frozen=True)
class TCall:
    """`Params(loss)`, `AdamState(loss)`: an object computed from a morphism."""

    name: str
    args: tuple[Arg, ...]
    span: Span


@dataclass(frozen=True)
class TProduct:
    """`A * B * C` (strict, flattened by the checker); in a dim position, `H * K`."""

    items: tuple[TypeExpr, ...]
    span: Span


@dataclass(frozen=True)
class TSum:
    """`d + 1`, `n - 1`: dim arithmetic; `ops[i]` joins `items[i]` and `items[i + 1]`."""

    items: tuple[TypeExpr, ...]
    ops: tuple[str, ...]
    span: Span


TypeExpr = TName | TInt | TApply | TCall | TProduct | TSum

# ---------------------------------------------------------------- morphism expressions


@dataclass(frozen=True)
class Name:
    name: str
    span: Span


@dataclass(frozen=True)
class Compose:
    """`f >> g >> h`, diagrammatic order."""

    parts: tuple[Expr, ...]
    span: Span


@dataclass(frozen=True)
class Tensor:
    """`f * g * h` (also written with ⊗)."""

    parts: tuple[Expr, ...]
    span: Span


@dataclass(frozen=True)
class Power:
    """`f ^ n`; `exponent` is an int or a dim name."""

    base: Expr
    exponent: int | str
    span: Span
    exponent_span: Span


@dataclass(frozen=True)
class Pairing:
    """`<f, g>`: copy the input and run each branch, giving the product of the results."""

    parts: tuple[Expr, ...]
    span: Span


@dataclass(frozen=True)
class Structural:
    """`id[A]`, `swap[A, B]`, `copy[A]`, `discard[A]`, `fst[A, B]`, `snd[A, B]`."""

    kind: str
    args: tuple[TypeExpr, ...]
    span: Span


@dataclass(frozen=True)
class Call:
    """`f(args)`: a primitive with arguments, a functor or family application, or (in a
    wiring block) a morphism applied to wires."""

    func: Expr
    args: tuple[Arg, ...]
    span: Span


@dataclass(frozen=True)
class Bracket:
    """`Name[args]`: type arguments or port bindings, e.g. `Block[M]`, `Real[V]` as identity."""

    func: Expr
    args: tuple[TypeExpr, ...]
    span: Span


@dataclass(frozen=True)
class Hole:
    """`?` or `?name`: a typed hole."""

    name: str | None
    span: Span


@dataclass(frozen=True)
class Literal:
    """A number, string, bool, or a (nested) list of literals."""

    value: object
    span: Span


@dataclass(frozen=True)
class ListLiteral:
    """`[e1, e2, ...]`: items may be literals or, for parameters, other expressions."""

    items: tuple[Expr, ...]
    span: Span


Expr = (
    Name
    | Compose
    | Tensor
    | Power
    | Pairing
    | Structural
    | Call
    | Bracket
    | Hole
    | Literal
    | ListLiteral
)


@dataclass(frozen=True)
class Arg:
    """A call argument; `name` is None when positional."""

    name: str | None
    value: Expr
    span: Span


# ---------------------------------------------------------------- declarations


@dataclass(frozen=True)
class Predicate:
    """One `where` condition: a flag (`finite`), a comparison (`value >= 0`, `len >= 2`) or a
    membership (`value in departments`: op `in`, right the data point's name)."""

    left: str | float
    op: str | None
    right: str | float | None
    span: Span


@dataclass(frozen=True)
class ImportModule:
    module: str
    span: Span


@dataclass(frozen=True)
class ImportFile:
    path: str
    span: Span


@dataclass(frozen=True)
class DimDecl:
    name: str
    value: TypeExpr | None
    span: Span
    name_span: Span


@dataclass(frozen=True)
class ObjectDecl:
    name: str
    carrier: TypeExpr
    where: tuple[Predicate, ...]
    span: Span
    name_span: Span
    elements: tuple[str, ...] = ()  # a finite ordered object's elements, least first


@dataclass(frozen=True)
class TypeDecl:
    name: str
    type: TypeExpr
    span: Span
    name_span: Span


@dataclass(frozen=True)
class ParamDecl:
    name: str
    type: TypeExpr
    init: Expr
    span: Span
    name_span: Span


@dataclass(frozen=True)
class PortDecl:
    name: str
    type: TypeExpr
    span: Span


@dataclass(frozen=True)
class MorphismDecl:
    name: str
    ports: tuple[PortDecl, ...]
    dom: TypeExpr
    cod: TypeExpr
    body: Expr | None
    span: Span
    name_span: Span
    type_params: tuple[str, ...] = ()  # `morphism First[A] : ...`: a generic definition


@dataclass(frozen=True)
class LetDecl:
    name: str
    dom: TypeExpr | None
    cod: TypeExpr | None
    body: Expr
    span: Span
    name_span: Span
    type_params: tuple[str, ...] = ()  # `let Twice[A] = ...`: a generic definition


@dataclass(frozen=True)
class WireInput:
    name: str
    type: TypeExpr
    span: Span


@dataclass(frozen=True)
class Assign:
    name: str
    value: Expr
    span: Span


@dataclass(frozen=True)
class WiringDecl:
    """`let f(x: A, y: B) -> C = { a = g(x); return h(a, y) }`."""

    name: str
    inputs: tuple[WireInput, ...]
    cod: TypeExpr
    statements: tuple[Assign, ...]
    result: Expr
    span: Span
    name_span: Span


@dataclass(frozen=True)
class DataDecl:
    name: str
    type: TypeExpr
    value: Expr
    span: Span
    name_span: Span


@dataclass(frozen=True)
class LawDecl:
    name: str
    lhs: Expr
    rhs: Expr
    tolerance: float | None
    span: Span
    name_span: Span


@dataclass(frozen=True)
class FunctorMaps:
    """`A ↦ List[A * Prob], f ↦ List(f * Prob)`: a functor's object map and morphism map."""

    obj_var: str
    obj_map: TypeExpr
    mor_var: str
    mor_map: Expr


@dataclass(frozen=True)
class FunctorDecl:
    """`functor F : A ↦ ..., f ↦ ...`; `maps` is None for `functor List` (a built-in one)."""

    name: str
    maps: FunctorMaps | None
    span: Span
    name_span: Span


@dataclass(frozen=True)
class NaturalDecl:
    """`natural alpha : F ⇒ G = body`: a family of morphisms `F[A] -> G[A]`, one per object
    (or one per object in `at`)."""

    name: str
    source: str
    target: str
    body: Expr
    span: Span
    name_span: Span
    source_span: Span
    target_span: Span
    at: TypeExpr | None = None
    """`natural FirstClipped[Scalar] : ...`: defined only at this object (its body may look at
    its values), so natural only for the morphisms from the object to itself."""


@dataclass(frozen=True)
class StructureField:
    """`unit = e`, `op = m`, `le = r` in a `monoid` or `preorder` declaration."""

    name: str
    value: Expr
    span: Span
    name_span: Span


@dataclass(frozen=True)
class StructureDecl:
    """`monoid M : Carrier where unit = e, op = m` or `preorder P : Carrier where le = r`."""

    kind: str  # "monoid" | "preorder"
    name: str
    carrier: TypeExpr
    fields: tuple[StructureField, ...]
    span: Span
    name_span: Span


Decl = (
    DimDecl
    | ObjectDecl
    | TypeDecl
    | ParamDecl
    | MorphismDecl
    | LetDecl
    | WiringDecl
    | DataDecl
    | LawDecl
    | FunctorDecl
    | NaturalDecl
    | StructureDecl
)
Item = ImportModule | ImportFile | Decl


@dataclass(frozen=True)
class Module:
    """One parsed `.cat` file."""

    file: str
    items: tuple[Item, ...]
