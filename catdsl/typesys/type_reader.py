"""Resolve type expressions to carriers, objects and products, and dim expressions to dims.

Types and dims share one syntax; this module reads `Real[V, D]`, `H * K`, `TokenId * TokenId`
and `Params(loss)` by position, reporting unknown names with a suggestion.
"""

from __future__ import annotations

from collections.abc import Callable

from catdsl.errors import Span
from catdsl.syntax import ast
from catdsl.typesys import messages as M
from catdsl.typesys.carriers import ARRAY_KINDS, CARRIER_KINDS, CONTAINER_KINDS, Axes
from catdsl.typesys.dims import Dim, labelled
from catdsl.typesys.hints import did_you_mean
from catdsl.typesys.limits import MAX_DIM
from catdsl.typesys.reporting import Failed, Reporter
from catdsl.typesys.types import UNIT, Carrier, Prod, Shape, prod

_ARRAY_NAMES = frozenset(ARRAY_KINDS)
CARRIER_NAMES = (*ARRAY_KINDS, "Unit", *CONTAINER_KINDS)
"""The names a type may start with besides declared ones, as suggested for a misspelling."""


class TypeReader:
    """Reads type and dim expressions against a scope of dims, objects and aliases.

    The scope is given as functions: the value of a dim name, the type an object or alias
    name stands for, the type computed by a call such as `Params(loss)`, and every known name
    (for suggestions)."""

    def __init__(
        self,
        reporter: Reporter,
        dim_value: Callable[[str], Dim | None],
        named_type: Callable[[str], Prod | None],
        call_type: Callable[[ast.TCall], Prod],
        known_names: Callable[[], list[str]],
        applied_type: Callable[[ast.TApply], Prod | None] | None = None,
        settled_dim: Callable[[str], bool] | None = None,
    ):
        self.reporter = reporter
        self.dim_value = dim_value
        self.named_type = named_type
        self.call_type = call_type
        self.known_names = known_names
        self.applied_type = applied_type
        """`F[X]` for a declared functor F (None when the name is not one)."""
        self.settled_dim = settled_dim
        """Whether a dim name reads the same wherever it is written from now on (None: no
        array type is remembered)."""
        self._arrays: dict[tuple[str, tuple[str | int, ...]], Prod] = {}

    # ---------------------------------------------------------------- dims
    def dim(self, expr: ast.TypeExpr) -> Dim:
        if isinstance(expr, ast.TInt):
            return Dim.const(expr.value)
        if isinstance(expr, ast.TName):
            value = self.dim_value(expr.name)
            if value is None:
                hint = did_you_mean(expr.name, self.known_names())
                raise self.reporter.fail(M.unknown_dim(expr.name, hint), expr.span)
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
        raise self.reporter.fail(M.not_a_dim(), expr.span)

    # ---------------------------------------------------------------- types
    def type(self, expr: ast.TypeExpr) -> Prod:
        if type(expr) is ast.TApply and expr.name in _ARRAY_NAMES:  # the commonest: `Real[D]`
            return self._array(expr)
        if isinstance(expr, ast.TProduct):
            return prod(*(self.type(item) for item in expr.items))
        if isinstance(expr, ast.TName):
            if expr.name == "Unit":
                return UNIT
            if expr.name in ARRAY_KINDS:
                return Prod((self._carrier(expr.name, (), expr.span),))
            found = self.named_type(expr.name)
            if found is None:
                raise self._unknown_type(expr.name, expr.span)
            return found
        if isinstance(expr, ast.TApply):
            if expr.name in CONTAINER_KINDS:
                if len(expr.args) != 1:
                    raise self.reporter.fail(M.functor_type_arity(expr.name), expr.span)
                return Prod((Carrier(expr.name, elem=self.type(expr.args[0])),))
            if expr.name in ARRAY_KINDS:
                return self._array(expr)
            applied = self.applied_type(expr) if self.applied_type is not None else None
            if applied is not None:
                return applied
            if self.named_type(expr.name) is not None:
                raise self.reporter.fail(M.object_with_arguments(expr.name), expr.span)
            raise self._unknown_type(expr.name, expr.span)
        if isinstance(expr, ast.TCall):
            return self.call_type(expr)
        if isinstance(expr, ast.TInt):
            raise self.reporter.fail(M.number_as_type(expr.value), expr.span)
        raise self.reporter.fail(M.not_a_type(), expr.span)

    def carrier(self, expr: ast.TypeExpr) -> Carrier | Prod:
        """An object's carrier: one structural carrier, or a product of types."""
        t = self.type(expr)
        if len(t) == 1 and isinstance(t.atoms[0], Carrier):
            return t.atoms[0]
        return t

    def _array(self, expr: ast.TApply) -> Prod:
        """An array type written with its dims (`Real[D, D]`). One whose dims are names and
        numbers is read once per distinct way of writing it: its dims' values are settled
        by then, and a mistake in it is never remembered, so it is reported wherever it is
        written."""
        key = _array_key(expr)
        if key is not None:
            found = self._arrays.get(key)
            if found is not None:
                return found
        found = Prod((self._carrier(expr.name, expr.args, expr.span),))
        settled = self.settled_dim
        if (
            key is not None
            and settled is not None
            and all(settled(a) for a in key[1] if isinstance(a, str))
        ):
            self._arrays[key] = found
        return found

    def _carrier(self, name: str, args: tuple[ast.TypeExpr, ...], span: Span) -> Carrier:
        """An array carrier from its arguments, as its kind's spec says they are written."""
        kind = CARRIER_KINDS[name]
        dims = tuple(self._dim_arg(a) for a in args)
        if kind.bounded:
            if not dims:
                raise self.reporter.fail(M.carrier_without_bound(name), span)
            return Carrier(name, Shape(dims[:-1]), dims[-1])
        if kind.axes is Axes.NONE and dims:
            raise self.reporter.fail(M.carrier_with_dims(name), span)
        if kind.axes is Axes.SOME and not dims:
            raise self.reporter.fail(M.carrier_without_size(name), span)
        return Carrier(name, Shape(dims))

    def _dim_arg(self, expr: ast.TypeExpr) -> Dim:
        dim = self.dim(expr)
        if dim.value is not None and dim.value <= 0:
            raise self.reporter.fail(M.nonpositive_axis(dim.value), expr.span)
        if dim.value is not None and dim.value > MAX_DIM:
            name = expr.name if isinstance(expr, ast.TName) else None
            raise self.reporter.fail(M.dim_out_of_range(name, dim.value, MAX_DIM), expr.span)
        if isinstance(expr, ast.TName) and dim.value is not None:
            return labelled(dim, expr.name)
        return dim

    def _unknown_type(self, name: str, span: Span) -> Failed:
        hint = did_you_mean(name, [*self.known_names(), *CARRIER_NAMES])
        return self.reporter.fail(M.unknown_type(name, hint), span)


def _array_key(expr: ast.TApply) -> tuple[str, tuple[str | int, ...]] | None:
    """An array type by its kind and its dims as written, when each is a name or a whole
    number (None for any other, such as `Real[H * K]`)."""
    dims: list[str | int] = []
    for arg in expr.args:
        if isinstance(arg, ast.TName):
            dims.append(arg.name)
        elif isinstance(arg, ast.TInt):
            dims.append(arg.value)
        else:
            return None
    return expr.name, tuple(dims)


def _text(expr: ast.TypeExpr) -> str:
    if isinstance(expr, ast.TName):
        return expr.name
    if isinstance(expr, ast.TInt):
        return str(expr.value)
    return "…"
