"""Shared pieces of the checker: the failure signal, constants of the built-in families,
and the small helpers that word diagnostics.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, is_dataclass, replace
from functools import lru_cache

from catdsl.errors import Span
from catdsl.syntax import ast
from catdsl.typesys import terms as T
from catdsl.typesys.types import (
    Atom,
    Carrier,
    Obj,
    Prod,
    Shape,
)
from catdsl.typesys.unify import Mismatch, Subst

FAMILIES = (
    "Init",
    "MeanLoss",
    "TrainStep",
    "Momentum",
    "MomentumInit",
    "Adam",
    "AdamInit",
    "AdamParams",
    "MomentumParams",
)
FUNCTORS = ("List", "Option")
INITIALISERS = ("zeros", "ones", "normal", "uniform", "course_init")
HYPER = {
    "TrainStep": ("lr",),
    "Momentum": ("lr", "beta"),
    "Adam": ("lr", "beta1", "beta2", "eps"),
}
HYPER_DEFAULTS = {"beta": 0.9, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}


class Failed(Exception):
    """A sub-expression failed; its diagnostic is already recorded."""


@dataclass
class Entry:
    """A top-level name: what kind of declaration, and the AST node."""

    kind: str
    decl: object


# ==================================================================== helpers


def use(term: T.Term, span: Span) -> T.Term:
    """A use of a named definition: its term, with the span of the use (for diagnostics)."""
    return replace(term, span=span) if isinstance(term, T.Ref) else term


def meets(a: Atom, b: Atom) -> bool:
    try:
        Subst().flow(a, b)
        return True
    except Mismatch:
        return False


def carrier_notes(
    err: Mismatch, subst: Subst | None = None, declared_atoms: Prod | None = None
) -> tuple[str, ...]:
    if err.reason in ("dims differ", "ranks differ") and err.expected is not None:
        found, found_dims = err.found, dim_bindings(err.found)
        if isinstance(found, Obj):
            found, found_dims = f"{found.name}` = `{found.carrier}", ""
        expected = strip_rest(err.expected)
        return (
            f"the shapes differ: expected `{expected}`{dim_bindings(err.expected)}, "
            f"found `{found}`{found_dims}",
        )
    if err.reason == "carriers differ" and err.expected is not None:
        return (f"expected a `{err.expected}`, found a `{err.found}`",)
    return ()


def strip_rest(x):
    if isinstance(x, Carrier) and x.shape.rest:
        return Carrier(x.kind, Shape(x.shape.dims), x.bound, x.elem)
    return x


def origin_notes(body: T.Term) -> tuple[str, ...]:
    """Where a primitive's shape came from: its array arguments and their dims."""
    prim = body
    while isinstance(prim, T.Seq):
        prim = prim.parts[0]
    if not isinstance(prim, T.Prim) or not prim.args:
        return ()
    pieces = []
    for arg in prim.args:
        port = next((p for p in prim.ports if p.name == arg), None)
        if port is not None:
            pieces.append(f"`{arg} : {port.atom}`" + dim_bindings(port.atom))
    return (f"`{prim.name}` takes its shape from " + " and ".join(pieces),) if pieces else ()


def dim_bindings(x) -> str:
    dims = getattr(getattr(x, "shape", None), "dims", ())
    bound = [f"{d.label} = {d.value}" for d in dims if d.label and d.value is not None]
    return f" (with {', '.join(bound)})" if bound else ""


def last_name(expr: ast.Expr) -> str:
    if isinstance(expr, ast.Compose):
        return last_name(expr.parts[-1])
    if isinstance(expr, ast.Name):
        return expr.name
    return "f"


@lru_cache(maxsize=8)
def _lines(text: str) -> list[str]:
    return text.split("\n")


def expr_text(expr, sources: dict[str, str]) -> str:
    """The source text of an expression, on one line and at most 40 characters."""
    span = expr.span
    text = sources.get(span.file)
    if text is None:
        return "expression"
    lines = _lines(text)
    if span.line == span.end_line and 0 < span.line <= len(lines):
        snippet = lines[span.line - 1][span.column - 1 : span.end_column - 1]
    else:
        snippet = lines[span.line - 1][span.column - 1 :] + " …"
    snippet = " ".join(snippet.split())
    return snippet if len(snippet) <= 40 else snippet[:37] + "…"


def literal_shape(value) -> tuple[int, ...] | None:
    if not isinstance(value, tuple):
        return ()
    if not value:
        return (0,)
    shapes = {literal_shape(v) for v in value}
    if len(shapes) != 1 or None in shapes:
        return None
    return (len(value), *shapes.pop())


def flatten(value) -> list:
    if isinstance(value, tuple):
        return [x for v in value for x in flatten(v)]
    return [value]


def family_usage(name: str) -> str:
    return {
        "Init": "`Init(loss) : Unit -> Params(loss)`",
        "MeanLoss": "`MeanLoss(loss, data) : Params(loss) -> Loss`",
        "TrainStep": "`TrainStep(loss, data, lr = 0.1) : Params(loss) -> Params(loss)`",
        "Momentum": "`Momentum(loss, data, lr = 0.1, beta = 0.9)` on `MomentumState(loss)`",
        "MomentumInit": "`MomentumInit(loss) : Unit -> MomentumState(loss)`",
        "MomentumParams": "`MomentumParams(loss) : MomentumState(loss) -> Params(loss)`",
        "Adam": "`Adam(loss, data, lr, beta1 = 0.9, beta2 = 0.999, eps = 1e-8)` "
        "on `AdamState(loss)`",
        "AdamInit": "`AdamInit(loss) : Unit -> AdamState(loss)`",
        "AdamParams": "`AdamParams(loss) : AdamState(loss) -> Params(loss)`",
        "List": "`List(f) : List[A] -> List[B]` for `f : A -> B`",
        "Option": "`Option(f) : Option[A] -> Option[B]` for `f : A -> B`",
    }.get(name, "")


def prim_usage(spec) -> str:
    args = ", ".join([*spec.param_names, *(f"{s} = …" for s in spec.static_names)])
    return f"`{spec.name}({args})`: {spec.doc}" if args else f"`{spec.name}`: {spec.doc}"


def struct_usage(kind: str) -> str:
    return {
        "id": "`id[A]`",
        "copy": "`copy[A]`",
        "discard": "`discard[A]`",
        "swap": "`swap[A, B]`",
        "fst": "`fst[A, B]`",
        "snd": "`snd[A, B]`",
    }[kind]


def referenced_names(node: object) -> set[str]:
    """Every name an AST declaration mentions (in types and expressions), without recursion:
    deep expressions must not overflow the stack here."""
    found: set[str] = set()
    pending = [node]
    while pending:
        item = pending.pop()
        if isinstance(item, tuple):
            pending.extend(item)
        elif is_dataclass(item) and not isinstance(item, Span):
            if isinstance(item, ast.Name | ast.TName | ast.TApply | ast.TCall):
                found.add(item.name)
            pending.extend(getattr(item, f.name) for f in fields(item))
    return found
