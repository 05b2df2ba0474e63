"""Declarations that carry their laws: functors, natural transformations, monoids; the laws
they generate, their cases, counterexamples and drawings; the diagnostics of chapter 5."""

from __future__ import annotations

import json

import numpy as np
import pytest

import catdsl
from catdsl.cli import main
from catdsl.loader import check_text
from catdsl.syntax.parser import parse

BASE = """
import std.ml

object Scalar : Real
data one : Real = 1.0
data zero : Real = 0.0
morphism AddOne : Scalar -> Scalar = Real * one >> add
morphism Square : Scalar -> Scalar = <Real, Real> >> mul
"""


def load(tmp_path, text: str) -> catdsl.Program:
    path = tmp_path / "s.cat"
    path.write_text(BASE + text, encoding="utf-8")
    return catdsl.load(str(path))


def diagnostics(tmp_path, text: str):
    return check_text(BASE + text, str(tmp_path / "s.cat")).diagnostics


# ---------------------------------------------------------------- functors
PAIRS = "functor Pairs : A ↦ List[A * A], f ↦ List(f * f)\n"


def test_a_declared_functor_maps_objects_and_morphisms(tmp_path) -> None:
    program = load(tmp_path, PAIRS + "let pairs = Pairs(Square)\nlet ids = id[Pairs[Scalar]]\n")
    pairs = program["pairs"]
    assert (str(pairs.dom), str(pairs.cod)) == ("List[Scalar * Scalar]", "List[Scalar * Scalar]")
    assert str(program["ids"].dom) == "List[Scalar * Scalar]"
    left, right = pairs((np.array([1.0, 2.0]), np.array([3.0, 4.0])))
    assert left.tolist() == [1.0, 4.0] and right.tolist() == [9.0, 16.0]


def test_ascii_spelling_of_a_functor(tmp_path) -> None:
    program = load(tmp_path, "functor Twice : A |-> List[A], f |-> List(f)\n")
    assert {"Twice.identity", "Twice.composition"} <= set(program.checked.laws)


def test_functor_laws_have_a_case_per_object_and_composable_pair(tmp_path) -> None:
    program = load(tmp_path, PAIRS)
    identity = program.checked.laws["Pairs.identity"]
    assert identity.case == "X = Scalar" and identity.cases == ()
    composition = program.checked.laws["Pairs.composition"]
    labels = [composition.case, *(c.case for c in composition.cases)]
    assert labels == [
        "f = AddOne, g = AddOne",
        "f = AddOne, g = Square",
        "f = Square, g = AddOne",
        "f = Square, g = Square",
    ]
    reports = {r.name: r for r in program.check_laws(samples=4)}
    assert reports["Pairs.composition"].holds and reports["Pairs.composition"].cases == 4
    assert reports["Pairs.identity"].holds


def test_built_in_functors_by_name(tmp_path) -> None:
    program = load(tmp_path, "functor List\nfunctor Option\n")
    names = set(program.checked.laws)
    assert names == {"List.identity", "List.composition", "Option.identity", "Option.composition"}
    assert all(r.holds for r in program.check_laws(samples=4))


@pytest.mark.parametrize(
    ("text", "code", "column"),
    [
        ("functor Bad : A ↦ List[A * A], f ↦ List(f)\n", "E0342", 36),
        ("functor Pairs\n", "E0346", 9),
        ("functor Scalar2 : Scalar ↦ List[Scalar], f ↦ List(f)\n", "E0341", 9),
    ],
)
def test_functor_mistakes(tmp_path, text: str, code: str, column: int) -> None:
    (d,) = diagnostics(tmp_path, text)
    assert (d.code, d.span.line, d.span.column) == (code, 9, column)


def test_a_functor_named_without_a_morphism(tmp_path) -> None:
    (d,) = diagnostics(tmp_path, PAIRS + "let p = Pairs\n")
    assert (d.code, d.message) == ("E0304", "`Pairs` needs arguments")


# ---------------------------------------------------------------- natural transformations
HEAD = "morphism Head[A] : List[A] -> Option[A]\nnatural head : List ⇒ Option = Head\n"


def test_a_natural_transformation_is_generic_and_carries_naturality(tmp_path) -> None:
    checked = check_text(BASE + HEAD + "let h = head[Scalar]\n", str(tmp_path / "s.cat"))
    assert checked.diagnostics == []
    assert checked.definitions["head"].params == ("A",)
    h = checked.definitions["h"].term
    assert (str(h.dom), str(h.cod)) == ("List[Scalar]", "Option[Scalar]")
    law = checked.laws["head.naturality"]
    assert [law.case, *(c.case for c in law.cases)] == ["f = AddOne", "f = Square"]
    source = checked.sources[law.span.file]
    assert source == "law generated : List(AddOne) >> head == head >> Option(AddOne)\n"


def test_natural_between_non_functors(tmp_path) -> None:
    text = "morphism Head[A] : List[A] -> Option[A]\nnatural head : List ⇒ Scalar = Head\n"
    (d,) = diagnostics(tmp_path, text)
    assert (d.code, d.span.line, d.span.column) == ("E0343", 10, 23)


# ---------------------------------------------------------------- monoids
def test_monoid_laws_pass_for_a_monoid(tmp_path) -> None:
    program = load(tmp_path, "monoid Sum : Real where unit = zero, op = add\n")
    reports = {r.name: r for r in program.check_laws(samples=8)}
    assert set(reports) == {"Sum.left_unit", "Sum.right_unit", "Sum.associativity"}
    assert all(r.holds for r in reports.values())
    law = program.checked.laws["Sum.associativity"]
    assert program.checked.sources[law.span.file] == (
        "law generated : add * id[Real] >> add == id[Real] * add >> add\n"
    )


def test_a_failing_monoid_law_has_a_counterexample(tmp_path, capsys) -> None:
    path = tmp_path / "s.cat"
    minus = "morphism Minus : Real * Real -> Real = Real * scale(-1) >> add\n"
    text = BASE + minus + "monoid Diff : Real where unit = zero, op = Minus\n"
    path.write_text(text, encoding="utf-8")
    program = catdsl.load(str(path))
    reports = {r.name: r for r in program.check_laws(samples=8)}
    assert reports["Diff.right_unit"].holds  # a - 0 = a
    assert not reports["Diff.left_unit"].holds  # 0 - a != a
    example = reports["Diff.left_unit"].counterexample
    assert example is not None
    assert example.input == 1.0  # the program's data are tried first: `one`
    assert (example.left, example.right) == (-1.0, 1.0)
    assert not reports["Diff.associativity"].holds
    ex = reports["Diff.associativity"].counterexample
    a, b, c = ex.input
    assert ex.left == pytest.approx((a - b) - c) and ex.right == pytest.approx(a - (b - c))
    code = main(["laws", str(path), "--samples", "2"])
    out = capsys.readouterr().out
    assert code == 1
    lines = out.splitlines()
    at = lines.index(next(line for line in lines if "Diff.left_unit" in line))
    assert lines[at + 1 : at + 5] == [
        "       COUNTEREXAMPLE",
        "         input  1",
        "         left   -1",
        "         right  1",
    ]
    main(["laws", str(path), "--samples", "2", "--json"])
    reports_json = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert reports_json["Diff.left_unit"]["counterexample"] == {
        "case": None,
        "input": 1.0,
        "left": -1.0,
        "right": 1.0,
        "error": 2.0,
    }


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("monoid Sum : Real where unit = zero\n", "E0344"),
        ("monoid Sum : Real where unit = zero, op = add, unit = zero\n", "E0344"),
        ("monoid Sum : Real where zero = zero, op = add\n", "E0344"),
        ("monoid Sum : Real where unit = add, op = add\n", "E0345"),
        ("monoid Sum : Real where unit = zero, op = AddOne\n", "E0345"),
    ],
)
def test_monoid_mistakes(tmp_path, text: str, code: str) -> None:
    assert [d.code for d in diagnostics(tmp_path, text)] == [code]


def test_a_monoid_is_not_a_morphism(tmp_path) -> None:
    text = "monoid Sum : Real where unit = zero, op = add\nlet s = Sum\n"
    (d,) = diagnostics(tmp_path, text)
    assert (d.code, d.message) == ("E0303", "`Sum` is a monoid, not a morphism")
    assert d.help == "use the morphisms it is given by (`zero` and `add`) by their own names"


# ---------------------------------------------------------------- drawing
def test_the_regrouping_is_drawn_as_a_commutative_diagram(tmp_path) -> None:
    from catdsl.frontend.drawing import dot_for

    program = load(tmp_path, "monoid Sum : Real where unit = zero, op = add\n")
    dot = dot_for(program, "Sum.associativity")
    assert "Sum.associativity:  add * id[Real] >> add = id[Real] * add >> add" in dot
    assert '"law.src" [label="Real * Real * Real"' in dot


def test_the_naturality_square_is_drawn(tmp_path) -> None:
    from catdsl.frontend.drawing import dot_for

    program = load(tmp_path, HEAD)
    dot = dot_for(program, "head.naturality")
    assert "List(AddOne) >> head = head >> Option(AddOne)" in dot
    for corner in ("List[Scalar]", "Option[Scalar]"):
        assert f'label="{corner}"' in dot


# ---------------------------------------------------------------- what category theorists type
@pytest.mark.parametrize(
    ("text", "code", "column", "help_part"),
    [
        ("let h = Square ∘ AddOne\n", "E0111", 16, "`Square ∘ AddOne` is `AddOne >> Square`"),
        ("let h = Square · AddOne\n", "E0111", 16, "`Square · AddOne` is `AddOne >> Square`"),
        ("let h = AddOne ; Square\n", "E0112", 16, "`AddOne >> Square`"),
        ("monad T : Scalar -> Scalar\n", "E0113", 1, "`functor`, `natural`, `monoid`"),
        ("functor F : List -> Option\n", "E0114", 18, "`functor F : A ↦ List[A], f ↦ List(f)`"),
        ("functor F : A ↦ List[A]\n", "E0114", 24, "`functor F : A ↦ List[A], f ↦ List(f)`"),
        ("natural h : List -> Option = first\n", "E0115", 18, "`natural first : List ⇒ Option"),
        ("natural h : List ⇒ Option\n", "E0115", 26, "one morphism `List[A] -> Option[A]`"),
        ("natural transformation h : List ⇒ Option = first\n", "E0115", 24, "without"),
        ("monoid M : Real = (zero, add)\n", "E0116", 17, "where unit = empty, op = concat"),
        ("preorder P : Real (le)\n", "E0116", 23, "where le = le"),
    ],
)
def test_diagnostics_for_category_notation(text, code, column, help_part) -> None:
    _, (d,) = parse(BASE + text, "n.cat")
    assert (d.code, d.span.line, d.span.column) == (code, 9, column)
    assert help_part in (d.help or "")


def test_unicode_arrows_and_products_are_accepted(tmp_path) -> None:
    text = "morphism Both : Scalar × Scalar → Scalar ⊗ Scalar = AddOne × Square\n"
    program = load(tmp_path, text)
    assert program["Both"]((1.0, 3.0)) == (2.0, 9.0)


def test_a_declaration_law_on_a_finite_domain_is_checked_at_every_input(tmp_path) -> None:
    """`fst` is associative with a right unit but no left one: on `Index[4]` every input is
    tried, so the counterexample is the first value that is not the unit."""
    path = tmp_path / "f.cat"
    path.write_text(
        "object Digit : Index[4]\ndata d0 : Digit = 0\n"
        "monoid Left : Digit where unit = d0, op = fst[Digit, Digit]\n",
        encoding="utf-8",
    )
    program = catdsl.load(str(path))
    reports = {r.name: r for r in program.check_laws(samples=2)}
    assert reports["Left.associativity"].holds and reports["Left.associativity"].samples == 64
    assert reports["Left.right_unit"].holds and reports["Left.right_unit"].samples == 4
    left = reports["Left.left_unit"]
    assert not left.holds and left.samples == 4
    assert left.counterexample is not None
    assert (left.counterexample.input, left.counterexample.left) == (1, 0)


# ---------------------------------------------------------------- preorders
PREORDERS = """
import std.logic

object Size : Index[5]
preorder Sizes : Size where le = le
morphism Differ : Size * Size -> Bool = eq >> not
preorder Apart : Size where le = Differ
"""


def test_preorder_laws_are_checked_on_every_element(tmp_path) -> None:
    path = tmp_path / "p.cat"
    path.write_text(PREORDERS, encoding="utf-8")
    program = catdsl.load(str(path))
    reports = {r.name: r for r in program.check_laws(samples=2)}
    assert reports["Sizes.reflexivity"].holds and reports["Sizes.reflexivity"].samples == 5
    assert reports["Sizes.transitivity"].holds and reports["Sizes.transitivity"].samples == 125
    reflexive = reports["Apart.reflexivity"].counterexample
    assert (reflexive.input, reflexive.left, reflexive.right) == (0, False, True)
    transitive = reports["Apart.transitivity"].counterexample
    assert (transitive.input, transitive.left, transitive.right) == ([0, 1, 0], False, True)
    law = program.checked.laws["Apart.transitivity"]
    assert program.checked.sources[law.span.file].startswith(
        "law generated : ⟨id[Size] * id[Size] * discard[Size] >> Differ, "
    )


def test_a_preorder_needs_std_logic(tmp_path) -> None:
    text = "object Size : Index[5]\npreorder Sizes : Size where le = Square\n"
    (d,) = diagnostics(tmp_path, text)
    assert (d.code, d.span.line, d.span.column) == ("E0347", 10, 10)


def test_a_preorder_relation_gives_a_truth_value(tmp_path) -> None:
    text = "import std.logic\npreorder Sizes : Scalar where le = AddOne\n"
    (d,) = diagnostics(tmp_path, text)
    assert d.code == "E0345"
    assert d.message == (
        "the `le` of preorder `Sizes` must be `Scalar * Scalar -> Bool`, "
        "but it is `Scalar -> Scalar`"
    )


def test_the_applicative_hint_keeps_to_the_two_operands() -> None:
    _, (d,) = parse(BASE + "let h = (Square ∘ AddOne) >> Square\n", "n.cat")
    assert d.code == "E0111"
    assert d.help == "swap the two sides: `Square ∘ AddOne` is `AddOne >> Square`"


def test_a_transformation_at_one_object_between_declared_functors(tmp_path) -> None:
    """Declared at `Scalar` from `Pairs` (a list of pairs), its square is instantiated at the
    endomorphisms of `Scalar`, not at morphisms of the pairs."""
    text = PAIRS + (
        "morphism Fst[A] : Pairs[A] -> List[A] = List(fst[A, A])\n"
        "natural Lefts[Scalar] : Pairs ⇒ List = Fst[Scalar]\n"
    )
    program = load(tmp_path, text)
    law = program.checked.laws["Lefts.naturality"]
    assert [law.case, *(c.case for c in law.cases)] == ["f = AddOne", "f = Square"]
    assert all(r.holds for r in program.check_laws(samples=4) if r.name == "Lefts.naturality")


def test_an_empty_list_as_a_unit_is_told_to_be_declared(tmp_path) -> None:
    text = "import std.lists\nmonoid Trace : List[Symbol] where unit = [], op = concat\n"
    (d,) = diagnostics(tmp_path, text)
    assert d.code == "E0345"
    assert d.help == (
        "`[]` alone does not say what it is a list of: declare the unit, "
        "`data no_steps : List[Symbol] = []`, and give `unit = no_steps`"
    )


def test_the_new_keywords_may_still_name_a_law(tmp_path) -> None:
    program = load(tmp_path, "law natural : AddOne == AddOne\nlaw monoid : Square == Square\n")
    assert {"natural", "monoid"} <= set(program.checked.laws)
