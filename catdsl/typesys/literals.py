"""Literal numbers and arrays written in a program: reading them and checking their shape."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from catdsl.errors import Span
from catdsl.files import ReadScope
from catdsl.syntax import ast
from catdsl.typesys import messages as M
from catdsl.typesys.reporting import Reporter
from catdsl.typesys.types import Carrier

LiteralValue = object
"""A literal value: a number, a bool, a string, `none` / `some(x)`, or nested tuples of them."""


class Nothing:
    """`none` written in a literal: the absent value of an `Option`."""

    def __repr__(self) -> str:
        return "none"


NOTHING = Nothing()
"""The one `none` of literals."""


@dataclass(frozen=True)
class Some:
    """`some(x)` written in a literal: an `Option` holding the literal x."""

    value: LiteralValue


def is_optional(value: LiteralValue) -> bool:
    """Whether a literal is `none` or `some(x)`."""
    return value is NOTHING or isinstance(value, Some)


def plain(value: LiteralValue) -> object:
    """The plain data of a checked literal, as the run time converts it: `none` is None,
    `some(x)` is x's (an `Option` is its element's value or None), and a list is a Python
    list, so its items read as rows (a tuple of arrays is a list's columns at run time)."""
    if value is NOTHING:
        return None
    if isinstance(value, Some):
        return plain(value.value)
    if isinstance(value, tuple):
        return [plain(v) for v in value]
    return value


def literal_shape(value: LiteralValue) -> tuple[int, ...] | None:
    """The shape of a nested tuple of numbers, or None when it is ragged."""
    if is_optional(value):
        return None
    if not isinstance(value, tuple):
        return ()
    if not value:
        return (0,)
    shapes = {literal_shape(v) for v in value}
    if len(shapes) != 1 or None in shapes:
        return None
    shape = shapes.pop()
    assert shape is not None
    return (len(value), *shape)


def flatten(value: LiteralValue) -> list[object]:
    """The numbers of a nested tuple, in order."""
    if isinstance(value, tuple):
        return [x for v in value for x in flatten(v)]
    return [value]


def is_nothing(expr: ast.Expr) -> bool:
    """Whether `expr` is the literal `none`."""
    return isinstance(expr, ast.Name) and expr.name == "none"


def is_some(expr: ast.Expr) -> bool:
    """Whether `expr` is a literal `some(...)`."""
    func = expr.func if isinstance(expr, ast.Call) else None
    return isinstance(func, ast.Name) and func.name == "some"


def is_literal(expr: ast.Expr) -> bool:
    """Whether `expr` is written as a literal value (a number, a list, `none`, `some(x)`)."""
    return isinstance(expr, ast.Literal | ast.ListLiteral) or is_nothing(expr) or is_some(expr)


class LiteralReader:
    """Reads constants out of expressions, reporting what is not one."""

    def __init__(self, reporter: Reporter, reads: ReadScope | None = None) -> None:
        self.reporter = reporter
        self.reads = reads

    def number(self, expr: ast.Expr) -> float | int:
        if (
            isinstance(expr, ast.Literal)
            and isinstance(expr.value, int | float)
            and not isinstance(expr.value, bool)
        ):
            return expr.value
        raise self.reporter.fail(M.number_expected(), expr.span)

    def literal(
        self, expr: ast.Expr, strings: bool = False, elements: Mapping[str, int] | None = None
    ) -> LiteralValue:
        """The value written by `expr`; strings only where `strings` allows them (a `Symbol`);
        the name of an element of a finite ordered object in `elements` is its position."""
        if elements and isinstance(expr, ast.Name) and expr.name in elements:
            return elements[expr.name]
        if isinstance(expr, ast.Literal):
            if isinstance(expr.value, str) and not strings:
                raise self.reporter.fail(M.string_as_value(), expr.span)
            if isinstance(expr.value, int) and not -(2**63) <= expr.value < 2**63:
                return float(expr.value)  # no 64-bit integer holds it: a real (never an index)
            return expr.value
        if isinstance(expr, ast.ListLiteral):
            return tuple(self.literal(item, strings, elements) for item in expr.items)
        if is_nothing(expr):
            return NOTHING
        if is_some(expr):
            assert isinstance(expr, ast.Call)
            if len(expr.args) != 1 or expr.args[0].name is not None:
                raise self.reporter.fail(M.some_arguments(), expr.span)
            return Some(self.literal(expr.args[0].value, strings, elements))
        raise self.reporter.fail(M.not_a_literal(), expr.span)

    def check_shape(self, value: LiteralValue, carrier: Carrier, span: Span, name: str) -> None:
        """A literal for `name` has exactly the shape of `carrier` where its dims are sized."""
        shape = literal_shape(value)
        if shape is None:
            raise self.reporter.fail(M.ragged_literal_for(name), span)
        expected = carrier.shape.dims
        if len(shape) != len(expected):
            raise self.reporter.fail(M.literal_rank(name, carrier, len(shape)), span)
        for got, want in zip(shape, expected, strict=True):
            if want.value is not None and got != want.value:
                raise self.reporter.fail(M.literal_shape(name, carrier, shape), span)

    def load_path(self, call: ast.Call) -> str:
        """The file of `load("x.npy")`, resolved against the directory of the program; one
        outside the directories the program may read (`ReadScope`) is refused."""
        if (
            len(call.args) != 1
            or not isinstance(call.args[0].value, ast.Literal)
            or not isinstance(call.args[0].value.value, str)
        ):
            raise self.reporter.fail(M.load_arguments(), call.span)
        path = call.args[0].value.value
        if not path.endswith((".npy", ".npz")):
            raise self.reporter.fail(M.load_suffix(path), call.args[0].span)
        base = Path(call.span.file).parent if call.span.file not in ("<string>", "") else Path.cwd()
        scope = self.reads or ReadScope.around(call.span.file)
        refusal = scope.refusal(base, path)
        if refusal is not None:
            raise self.reporter.fail(M.load_outside(path, refusal), call.args[0].span)
        return str((base / path).resolve())
