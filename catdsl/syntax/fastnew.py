"""Constructors for frozen dataclasses with less work per field than their `__init__`.

A frozen dataclass's `__init__` stores each field with `__dataclass_builtins_object__.
__setattr__(self, name, value)`: a global and an attribute looked up for every field. The
parser makes a node and a `Span` for nearly every rule it reduces; `constructor(cls)` returns
a function with the same parameters (and defaults) that makes the same object the same way,
with `object.__setattr__` bound once: the fields stored in the same order, so the instance is
laid out as `__init__` lays it out (filling its `__dict__` directly would be faster still,
but leaves every node a dict of its own: more memory, and slower attribute reads for every
later phase), and equality, hashing, `repr`, `dataclasses.replace` and pickling see no
difference.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any, TypeVar, cast

from catdsl import errors
from catdsl.syntax import ast

T = TypeVar("T")


def constructor(cls: type[T]) -> type[T]:
    """A faster stand-in for calling `cls`, or `cls` itself when it is not a plain frozen
    dataclass (its own `__init__` or `__post_init__`, slots, defaults made by a factory,
    keyword-only or non-init fields)."""
    params = getattr(cls, "__dataclass_params__", None)
    if (
        params is None
        or not params.frozen
        or not params.init
        or hasattr(cls, "__post_init__")
        or "__slots__" in cls.__dict__
    ):
        return cls
    names: list[str] = []
    defaults: dict[str, Any] = {}
    for field in dataclasses.fields(cast(Any, cls)):
        if (
            not field.init
            or field.kw_only
            or field.default_factory is not dataclasses.MISSING
            or not field.name.isidentifier()
            or field.name in ("new", "cls", "o", "store")
        ):
            return cls
        names.append(field.name)
        if field.default is not dataclasses.MISSING:
            defaults[f"_default_{field.name}"] = field.default
    signature = ", ".join(
        f"{name}=_default_{name}" if f"_default_{name}" in defaults else name for name in names
    )
    stores = "".join(f"    store(o, {name!r}, {name})\n" for name in names)
    source = f"def make({signature}):\n    o = new(cls)\n{stores}    return o\n"
    namespace: dict[str, Any] = {
        "new": object.__new__,
        "store": object.__setattr__,
        "cls": cls,
        **defaults,
    }
    exec(source, namespace)  # the same technique `dataclasses` uses to write `__init__`
    make = namespace["make"]
    make.__qualname__ = make.__name__ = f"new_{cls.__name__}"
    make.__doc__ = f"A {cls.__name__}, made as its `__init__` would make it."
    return cast(type[T], make)


def span_maker(file: str) -> Callable[[Sequence[int] | None], errors.Span]:
    """`Span(file, *place[:4])` for a builder's place, in one call (None, a node of no
    tokens: the file's first character, where Lark's tree leaves it)."""
    new, cls = object.__new__, errors.Span
    if (
        tuple(field.name for field in dataclasses.fields(cls))
        != (
            "file",
            "line",
            "column",
            "end_line",
            "end_column",
        )
        or constructor(cls) is cls
    ):

        def plain(place: Sequence[int] | None) -> errors.Span:
            if place is None:
                return cls(file, 1, 1, 1, 1)
            return cls(file, place[0], place[1], place[2], place[3])

        return plain

    store = object.__setattr__

    def make(place: Sequence[int] | None) -> errors.Span:
        if place is None:
            place = (1, 1, 1, 1)
        span = new(cls)
        store(span, "file", file)
        store(span, "line", place[0])
        store(span, "column", place[1])
        store(span, "end_line", place[2])
        store(span, "end_column", place[3])
        return span

    return make


class _Blank:
    """A plain object with the layout of a `Span` (a dict, a weak reference), made a `Span`
    once its fields are stored (`token_span_maker`)."""


def token_span_maker(
    file: str, lines: Sequence[int], columns: Sequence[int]
) -> Callable[[int, int], errors.Span]:
    """`span(first, last)`: the span from the start of token `first` to the end of token
    `last`, for tokens whose lines are `lines` and whose columns and end columns alternate in
    `columns` (token k's at 2k and 2k + 1). Each span is made as a `_Blank`, its fields stored
    in field order by plain attribute stores, then given the class `Span`, which turns its
    fields into the dict a `Span`'s `__init__` leaves: equality, hashing, `repr` and pickling
    see no difference. `object.__new__` of the frozen class and five stores into its
    `__dict__` cost a third more; `object.__setattr__` per field, twice as much."""
    cls = errors.Span
    if constructor(cls) is cls or [f.name for f in dataclasses.fields(cls)] != _SPAN_FIELDS:

        def plain(first: int, last: int) -> errors.Span:
            return cls(file, lines[first], columns[2 * first], lines[last], columns[2 * last + 1])

        return plain

    starts, ends = columns[0::2], columns[1::2]

    def span(first: int, last: int) -> errors.Span:
        made: Any = _Blank()
        made.file = file
        made.line = lines[first]
        made.column = starts[first]
        made.end_line = lines[last]
        made.end_column = ends[last]
        made.__class__ = cls
        return made

    return span


_SPAN_FIELDS = ["file", "line", "column", "end_line", "end_column"]


# The nodes the parser makes, and their spans.
Span = constructor(errors.Span)
Arg = constructor(ast.Arg)
Assign = constructor(ast.Assign)
Bracket = constructor(ast.Bracket)
Call = constructor(ast.Call)
CategoryDecl = constructor(ast.CategoryDecl)
Compose = constructor(ast.Compose)
DataDecl = constructor(ast.DataDecl)
DimDecl = constructor(ast.DimDecl)
FunctorDecl = constructor(ast.FunctorDecl)
FunctorMaps = constructor(ast.FunctorMaps)
Hole = constructor(ast.Hole)
ImportFile = constructor(ast.ImportFile)
ImportModule = constructor(ast.ImportModule)
LawDecl = constructor(ast.LawDecl)
LetDecl = constructor(ast.LetDecl)
ListLiteral = constructor(ast.ListLiteral)
Literal = constructor(ast.Literal)
MorphismDecl = constructor(ast.MorphismDecl)
Name = constructor(ast.Name)
NaturalDecl = constructor(ast.NaturalDecl)
ObjectDecl = constructor(ast.ObjectDecl)
Pairing = constructor(ast.Pairing)
ParamDecl = constructor(ast.ParamDecl)
PortDecl = constructor(ast.PortDecl)
Power = constructor(ast.Power)
Predicate = constructor(ast.Predicate)
Structural = constructor(ast.Structural)
StructureDecl = constructor(ast.StructureDecl)
StructureField = constructor(ast.StructureField)
TApply = constructor(ast.TApply)
TCall = constructor(ast.TCall)
TInt = constructor(ast.TInt)
TName = constructor(ast.TName)
TProduct = constructor(ast.TProduct)
TSum = constructor(ast.TSum)
Tensor = constructor(ast.Tensor)
TypeDecl = constructor(ast.TypeDecl)
WireInput = constructor(ast.WireInput)
WiringDecl = constructor(ast.WiringDecl)
