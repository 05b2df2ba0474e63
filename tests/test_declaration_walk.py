"""The names a declaration mentions (what orders declarations before checking), the order
itself, and the memory budget every param is held to: read once per program, applied to each."""

from __future__ import annotations

from dataclasses import fields, is_dataclass

import pytest
from conftest import REPO

from catdsl.errors import Span
from catdsl.loader import check_text
from catdsl.std.library import PRIMITIVES
from catdsl.std.optim import FAMILIES
from catdsl.syntax import ast
from catdsl.syntax.parser import parse
from catdsl.typesys import limits, values
from catdsl.typesys.environment import _INERT, _NAMING, Environment, referenced_names
from catdsl.typesys.reporting import Reporter


def plain_walk(node: object) -> list[str]:
    """The walk `referenced_names` makes, written out plainly: depth first, a node's walked
    fields and a tuple's items taken last to first; names in the order they are met."""
    found: list[str] = []
    pending = [node]
    while pending:
        item = pending.pop()
        if isinstance(item, tuple):
            pending.extend(item)
        elif is_dataclass(item) and not isinstance(item, Span | type):
            if isinstance(item, _NAMING) and item.name not in found:
                found.append(item.name)
            pending.extend(getattr(item, f.name) for f in fields(item) if str(f.type) not in _INERT)
    return found


def declarations(path: str) -> list[object]:
    module, diagnostics = parse((REPO / path).read_text(encoding="utf-8"), path)
    assert module is not None and not diagnostics
    return list(module.items)


def test_a_declaration_names_its_types_params_and_morphisms():
    (decl,) = declarations_of(
        "morphism Layer[w: Weight] : Real[D, H] -> Real[K] = affine(W, b) >> <tanh, relu> >> act"
    )
    names = {"Weight", "Real", "D", "H", "K", "affine", "W", "b", "tanh", "relu", "act"}
    assert referenced_names(decl) == names


def declarations_of(src: str) -> list[object]:
    module, diagnostics = parse(src, "<string>")
    assert module is not None and not diagnostics
    return list(module.items)


@pytest.mark.parametrize(
    "path",
    ["programs/classify.cat", "programs/structure.cat", "bench/mlp.cat", "catdsl/std/sketches.cat"],
)
def test_the_walk_meets_names_in_the_plain_walks_order(path):
    """Same names, added in the same order (so a set of them iterates the same way)."""
    for decl in declarations(path):
        met = plain_walk(decl)
        rebuilt: set[str] = set()
        for name in met:
            rebuilt.add(name)
        names = referenced_names(decl)
        assert names == set(met) and list(names) == list(rebuilt)


def test_a_deep_expression_is_walked_without_recursion():
    span = Span("<deep>", 1, 1, 1, 2)
    expr: ast.Expr = ast.Name("x", span)
    for i in range(50_000):
        expr = ast.Call(ast.Name(f"f{i % 3}", span), (ast.Arg(None, expr, span),), span)
    decl = ast.LetDecl("deep", None, None, expr, span, span)
    assert referenced_names(decl) == {"x", "f0", "f1", "f2"}


def test_declarations_come_after_the_names_they_use_and_cycles_stay_for_resolve():
    src = (
        "let d = c >> b\n"  # uses two later names: c's uses first, then b
        "let c = b >> a\n"
        "let b = a\n"
        "let a = id[Unit]\n"
        "let x = y\n"  # a cycle: left in source order for `resolve` to report
        "let y = x\n"
    )
    env = Environment(Reporter(), PRIMITIVES, FAMILIES, {"std.ml"}, define=lambda entry: None)
    env.declare(declarations_of(src))
    order = env.dependency_order()
    assert sorted(order) == ["a", "b", "c", "d", "x", "y"]
    assert order.index("a") < order.index("b") < order.index("c") < order.index("d")
    assert order[-2:] == ["y", "x"]


def test_every_param_over_the_budget_is_refused_with_the_budget_read_once(monkeypatch):
    monkeypatch.setenv("CATDSL_MEMORY_BUDGET", "1M")
    reads: list[int] = []

    def budget() -> int:
        reads.append(limits.memory_budget())
        return reads[-1]

    monkeypatch.setattr(values, "memory_budget", budget)
    src = (
        "import std.ml\n"
        "param small : Real[4] = zeros\n"
        "param big : Real[1000, 1000] = zeros\n"
        "param bigger : Real[2000, 1000] = zeros\n"
    )
    checked = check_text(src, "budget.cat")
    assert [(d.code, d.span.line) for d in checked.diagnostics] == [("E0419", 3), ("E0419", 4)]
    assert [d.message for d in checked.diagnostics] == [
        "param `big` of `Real[1000, 1000]` holds 1000000 numbers, 7.63 MiB: more than the "
        "memory budget of 977 KiB",
        "param `bigger` of `Real[2000, 1000]` holds 2000000 numbers, 15.3 MiB: more than the "
        "memory budget of 977 KiB",
    ]
    assert list(checked.params) == ["small"]
    assert reads == [1_000_000]


def test_only_fields_that_always_hold_a_tuple_are_spliced():
    """A field that may hold None is read as one value (splicing None would raise)."""
    from catdsl.typesys.environment import _spliced

    assert _spliced("tuple[Expr, ...]")
    assert _spliced("tuple[tuple[str, Expr], ...]")
    assert not _spliced("tuple[int, int] | None")
    assert not _spliced("Expr | None")


def test_names_and_type_names_are_leaves_that_name():
    """`referenced_names` adds a `Name`'s or `TName`'s name without reading its fields: both
    name something and hold no node."""
    from catdsl.typesys.environment import _walk_of

    span = Span("<leaf>", 1, 1, 1, 2)
    assert _walk_of(ast.Name("x", span)) == (True, None)
    assert _walk_of(ast.TName("X", span)) == (True, None)


def test_a_literal_holds_no_name():
    (decl,) = declarations_of("param w : Real[2] = [1.5, 2]")
    assert referenced_names(decl) == {"Real"}
    assert plain_walk(decl) == ["Real"]


def test_one_type_shared_by_params_is_refused_at_each_param(monkeypatch):
    """The checks of a param's type are remembered for a type that passes them only: every
    param of a failing type reports it at its own name and line."""
    monkeypatch.setenv("CATDSL_MEMORY_BUDGET", "1M")
    src = (
        "import std.ml\n"
        "param a : Real[4] = zeros\n"
        "param b : Real[1000, 1000] = zeros\n"
        "param c : Real[4] = ones\n"
        "param d : Real[1000, 1000] = ones\n"
    )
    checked = check_text(src, "shared.cat")
    assert [(d.code, d.span.line, d.span.column) for d in checked.diagnostics] == [
        ("E0419", 3, 11),
        ("E0419", 5, 11),
    ]
    assert ["`b`" in checked.diagnostics[0].message, "`d`" in checked.diagnostics[1].message] == [
        True,
        True,
    ]
    a, c = checked.params["a"], checked.params["c"]
    assert a.carrier is c.carrier and (a.init, c.init) == ("zeros", "ones")


def test_every_declaration_class_has_the_part_that_checks_it():
    from typing import get_args

    from catdsl.typesys.checker import Checker
    from catdsl.typesys.environment import Declaration

    checker = Checker(
        "<p>", [], {}, primitives=PRIMITIVES, families=FAMILIES, imported_std={"std.ml"}
    )
    assert set(checker._parts) == set(get_args(Declaration))


def test_arguments_ports_and_statements_are_read_through_to_what_they_hold():
    """An argument names nothing and holds one node: a call's reader splices in the values of
    its arguments, which the walk would meet next anyway (a plain tuple is spliced as is)."""
    from catdsl.typesys.environment import _read_of

    def reads(cls: type) -> list[str]:
        return [_read_of(f) for f in fields(cls) if str(f.type) not in _INERT]

    assert reads(ast.Call) == ["node.func", "*map(get_value, node.args)"]
    assert reads(ast.MorphismDecl)[0] == "*map(get_type, node.ports)"
    assert reads(ast.Compose) == ["*node.parts"]
    (decl,) = declarations_of("let f = g(a = h(x), b = [y, k(z)]) >> m")
    met = plain_walk(decl)
    assert met == ["m", "z", "k", "y", "x", "h", "g"]
    rebuilt: set[str] = set()
    for name in met:
        rebuilt.add(name)
    assert list(referenced_names(decl)) == list(rebuilt)
