"""Resolve type expressions to carriers, objects and products, and dim expressions to dims.

Types and dims share one syntax; this module reads `Real[V, D]`, `H * K`, `TokenId * TokenId`
and `Params(loss)` by position, reporting unknown names with a suggestion.
"""

from __future__ import annotations

from collections.abc import Callable

from catdsl.errors import Diagnostic
from catdsl.syntax import ast
from catdsl.typesys.dims import Dim, labelled
from catdsl.typesys.hints import did_you_mean
from catdsl.typesys.types import ARRAY_KINDS, UNIT, Carrier, Prod, Shape, prod

CARRIER_NAMES = (*ARRAY_KINDS, "Unit", "List", "Option")


class TypeError_(Exception):
    """Carries one diagnostic out of a nested type resolution."""

    def __init__(self, diagnostic: Diagnostic):
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


class TypeReader:
    """Reads type and dim expressions against a scope of dims, objects and aliases."""

    def __init__(
        self,
        dim_value: Callable[[str], Dim | None],
        named_type: Callable[[str], Prod | None],
        call_type: Callable[[ast.TCall], Prod],
        known_names: Callable[[], list[str]],
    ):
        self.dim_value = dim_value
        self.named_type = named_type
        self.call_type = call_type
        self.known_names = known_names

    # ---------------------------------------------------------------- dims
    def dim(self, expr: ast.TypeExpr) -> Dim:
        if isinstance(expr, ast.TInt):
            return Dim.const(expr.value)
        if isinstance(expr, ast.TName):
            value = self.dim_value(expr.name)
            if value is None:
                raise TypeError_(
                    Diagnostic(
                        "E0402",
                        f"unknown dim `{expr.name}`",
                        expr.span,
                        help=did_you_mean(expr.name, self.known_names())
                        or f"declare it: `dim {expr.name} = 8` (or `dim {expr.name}`, free)",
                    )
                )
            return value
        if isinstance(expr, ast.TProduct):
            total = Dim.const(1)
            for item in expr.items:
                total = total * self.dim(item)
            return (
                labelled(total, " * ".join(_text(i) for i in expr.items))
                if total.value is None
                else total
            )
        if isinstance(expr, ast.TSum):
            total = self.dim(expr.items[0])
            for op, item in zip(expr.ops, expr.items[1:], strict=True):
                total = total + self.dim(item) if op == "+" else total - self.dim(item)
            return total
        raise TypeError_(Diagnostic("E0403", "expected a dim (a size or a dim name)", expr.span))

    # ---------------------------------------------------------------- types
    def type(self, expr: ast.TypeExpr) -> Prod:
        if isinstance(expr, ast.TProduct):
            return prod(*(self.type(item) for item in expr.items))
        if isinstance(expr, ast.TName):
            if expr.name == "Unit":
                return UNIT
            if expr.name in ARRAY_KINDS:
                return Prod((self._carrier(expr.name, (), expr),))
            found = self.named_type(expr.name)
            if found is None:
                raise TypeError_(self._unknown_type(expr.name, expr))
            return found
        if isinstance(expr, ast.TApply):
            if expr.name in ("List", "Option"):
                if len(expr.args) != 1:
                    raise TypeError_(
                        Diagnostic(
                            "E0404", f"`{expr.name}` takes one type: `{expr.name}[A]`", expr.span
                        )
                    )
                return Prod((Carrier(expr.name, elem=self.type(expr.args[0])),))
            if expr.name in ARRAY_KINDS:
                return Prod((self._carrier(expr.name, expr.args, expr),))
            if self.named_type(expr.name) is not None:
                raise TypeError_(
                    Diagnostic(
                        "E0404", f"`{expr.name}` is an object and takes no arguments", expr.span
                    )
                )
            raise TypeError_(self._unknown_type(expr.name, expr))
        if isinstance(expr, ast.TCall):
            return self.call_type(expr)
        if isinstance(expr, ast.TInt):
            raise TypeError_(
                Diagnostic("E0405", f"expected a type, found the number `{expr.value}`", expr.span)
            )
        raise TypeError_(Diagnostic("E0405", "expected a type", expr.span))

    def carrier(self, expr: ast.TypeExpr) -> Carrier | Prod:
        """An object's carrier: one structural carrier, or a product of types."""
        t = self.type(expr)
        if len(t) == 1 and isinstance(t.atoms[0], Carrier):
            return t.atoms[0]
        return t

    def _carrier(self, kind: str, args: tuple[ast.TypeExpr, ...], expr) -> Carrier:
        dims = tuple(self._dim_arg(a) for a in args)
        if kind == "Index":
            if not dims:
                raise TypeError_(
                    Diagnostic("E0404", "`Index` needs its bound: `Index[V]`", expr.span)
                )
            return Carrier("Index", Shape(dims[:-1]), dims[-1])
        if kind == "Nat" and dims:
            raise TypeError_(Diagnostic("E0404", "`Nat` takes no dims", expr.span))
        if kind == "Simplex" and not dims:
            raise TypeError_(
                Diagnostic("E0404", "`Simplex` needs its size: `Simplex[V]`", expr.span)
            )
        return Carrier(kind, Shape(dims))

    def _dim_arg(self, expr: ast.TypeExpr) -> Dim:
        dim = self.dim(expr)
        if dim.value is not None and dim.value <= 0:
            raise TypeError_(
                Diagnostic(
                    "E0406",
                    f"an axis of a carrier must have a positive size, not {dim.value}",
                    expr.span,
                )
            )
        if isinstance(expr, ast.TName) and dim.value is not None:
            return labelled(dim, expr.name)
        return dim

    def _unknown_type(self, name: str, expr) -> Diagnostic:
        hint = did_you_mean(name, [*self.known_names(), *CARRIER_NAMES])
        return Diagnostic(
            "E0401",
            f"unknown object or type `{name}`",
            expr.span,
            help=hint or f"declare it first, e.g. `object {name} : Real[4]`",
        )


def _text(expr: ast.TypeExpr) -> str:
    if isinstance(expr, ast.TName):
        return expr.name
    if isinstance(expr, ast.TInt):
        return str(expr.value)
    return "…"
