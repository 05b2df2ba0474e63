"""Dims, objects (a name over a carrier, with invariants) and type aliases."""

from __future__ import annotations

from collections.abc import Callable

from catdsl.errors import Span
from catdsl.syntax import ast
from catdsl.typesys import messages as M
from catdsl.typesys.dims import Dim, labelled
from catdsl.typesys.limits import MAX_DIM
from catdsl.typesys.reporting import Reporter
from catdsl.typesys.type_reader import TypeReader
from catdsl.typesys.types import Carrier, Obj, Predicate, Prod

FLAGS = ("finite", "nonempty", "positive", "nonnegative")
"""Invariants written as one word."""
QUANTITIES = ("value", "len", "sum")
"""What a comparison invariant may measure."""
SETS = ("Nat", "Int", "Index", "Symbol")
"""The carriers whose objects may be sets given by a data point (`where value in S`)."""


class ObjectChecker:
    """Checks `dim`, `object` and `type` declarations."""

    def __init__(
        self,
        reporter: Reporter,
        types: TypeReader,
        members: Callable[[str, Span], tuple[object, ...]],
    ) -> None:
        self.reporter = reporter
        self.types = types
        self.members = members
        """The entries of the data point a membership invariant names (`value in NAME`)."""

    def dim(self, decl: ast.DimDecl) -> Dim:
        if decl.value is None:
            return Dim.symbol(decl.name)
        value = self.types.dim(decl.value)
        if value.value is not None and value.value <= 0:
            raise self.reporter.fail(M.nonpositive_dim(decl.name, value.value), decl.value.span)
        if value.value is not None and value.value > MAX_DIM:
            message = M.dim_out_of_range(decl.name, value.value, MAX_DIM)
            raise self.reporter.fail(message, decl.value.span)
        return labelled(value, decl.name) if value.value is not None else value

    def object(self, decl: ast.ObjectDecl) -> Obj:
        carrier = self.types.carrier(decl.carrier)
        for pred in decl.where:
            self._check_invariant(pred, carrier)
        where = tuple(self._predicate(p) for p in decl.where)
        return Obj(decl.name, carrier, where, decl.name_span, decl.span.file, decl.elements)

    def _predicate(self, pred: ast.Predicate) -> Predicate:
        if pred.op != "in":
            return Predicate(pred.left, pred.op, pred.right)
        return Predicate(pred.left, pred.op, pred.right, self.members(str(pred.right), pred.span))

    def _check_invariant(self, pred: ast.Predicate, carrier: Carrier | Prod) -> None:
        """Report every problem of one `where` condition; none stops the object."""
        if pred.op == "in":
            if pred.left != "value":
                raise self.reporter.fail(M.unknown_quantity(str(pred.left)), pred.span)
            if not (_is_scalar(carrier) and isinstance(carrier, Carrier) and carrier.kind in SETS):
                problem = f"a set holds single whole numbers or symbols, not `{carrier}` values"
                raise self.reporter.fail(M.member_set(str(pred.right), problem), pred.span)
            return
        if pred.op is None and pred.left not in FLAGS:
            self.reporter.error(M.unknown_invariant(str(pred.left)), pred.span)
        for side in (pred.left, pred.right):
            if isinstance(side, str) and pred.op and side not in QUANTITIES:
                self.reporter.error(M.unknown_quantity(side), pred.span)
        uses_length = "len" in (pred.left, pred.right) or pred.left == "nonempty"
        if uses_length and _is_scalar(carrier):
            self.reporter.error(M.length_of_number(carrier), pred.span)
        if pred.op and not any(isinstance(side, str) for side in (pred.left, pred.right)):
            self.reporter.error(M.two_numbers_compared(), pred.span)

    def alias(self, decl: ast.TypeDecl) -> Prod:
        return self.types.type(decl.type)


def _is_scalar(carrier: object) -> bool:
    """A carrier whose values are single numbers (`Real`, `Nat`, `Index[V]`): no axis at all."""
    return (
        isinstance(carrier, Carrier)
        and carrier.spec.is_array
        and carrier.rank == 0
        and carrier.shape.rest is None
    )
