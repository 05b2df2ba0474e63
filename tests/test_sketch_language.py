"""The language features the sketches brought: `category` declarations (E0380, E0381),
literals checked against their object's invariants (E0382), `law … over [lo, hi]` (E0383),
comparisons of two components in a `where` clause, and the `nonblank` invariant."""

from __future__ import annotations

import numpy as np
import pytest

import catdsl
from catdsl.frontend.law_check import check_laws
from catdsl.frontend.sampling import Sampler, case_of
from catdsl.loader import check_text
from catdsl.typesys.messages import words

WIRES = """
import std.ml
object One : Real[1]
object Two : Real[2]
object Other : Real[1]
data m : Real[1, 2] = [[1.0, 1.0]]
morphism Up : One -> Two = linear(m)
morphism Leave : One -> Other = relu
"""


def _codes(text: str) -> list[tuple[str, int, int, str]]:
    return [
        (d.code, d.span.line, d.span.column, d.message)
        for d in check_text(text).diagnostics
        if d.span is not None
    ]


def test_a_category_names_the_composition_that_does_not_fit() -> None:
    ((code, line, column, message),) = _codes(
        WIRES + "category Matrix : One, Two\nlet bad = Up >> Up\n"
    )
    assert (code, line, column) == ("E0380", 10, 17)
    assert message.startswith("matrix composition of `Up` and `Up` does not fit")
    assert "`Up` gives `Two`, but `Up` takes `One`" in message


def test_a_monoidal_category_says_serial_and_counts_the_wires() -> None:
    text = WIRES + "monoidal category Circuit : One\nlet bad = One * One >> One\n"
    ((code, _, _, message),) = _codes(text)
    assert code == "E0380"
    assert message.startswith("circuit serial composition of `One * One` and `One`")
    assert message.endswith("(2 outputs against 1 input)")


def test_a_mismatch_that_leaves_the_category_is_an_ordinary_one() -> None:
    text = WIRES + "category Matrix : One, Two\nlet bad = Leave >> Up\n"
    ((code, _, _, message),) = _codes(text)
    assert code == "E0201"
    assert "`Other` is not `One`" in message


def test_a_category_lists_only_objects() -> None:
    found = _codes(WIRES + "category Matrix : One, Up, Nowhere\n")
    assert [(c, line, col) for c, line, col, _ in found] == [
        ("E0381", 9, 24),
        ("E0381", 9, 28),
    ]
    assert "`Up` is a morphism" in found[0][3]
    assert "`Nowhere` is not declared" in found[1][3]


def test_category_does_not_change_what_checks_or_runs() -> None:
    program = catdsl.loads(WIRES + "category Matrix : One, Two\nlet up = Up\n")
    assert program["up"](np.array([3.0])).tolist() == [3.0, 3.0]


@pytest.mark.parametrize(
    ("decl", "literal", "found"),
    [
        ("Nat where value > 0", "0", "(found 0)"),
        ("Real where value >= 1", "0.5", "(found 0.5)"),
        ("Int where value != 3", "3", "(found 3)"),
        ("Real where positive", "-2.0", "(found -2)"),
        ("Symbol where nonblank", '" "', '(found " ")'),
    ],
)
def test_a_literal_its_object_refuses_is_refused_by_check(decl, literal, found) -> None:
    ((code, line, column, message),) = _codes(
        f"object FeatureCount : {decl}\ndata x : FeatureCount = {literal}\n"
    )
    assert (code, line, column) == ("E0382", 2, 25)
    assert "not a valid `FeatureCount` (feature count)" in message
    assert message.endswith(found)


def test_literals_the_object_admits_pass() -> None:
    text = (
        "object Count : Nat where value > 0\n"
        "object Some : List[Count] where len >= 1\n"
        "object Name : Symbol where nonblank\n"
        "data one : Count = 1\n"
        "data some : List[Count] = [1, 2]\n"
        'data name : Name = "in"\n'
    )
    assert check_text(text).diagnostics == []
    ((code, _, _, message),) = _codes(text + "data bad : List[Count] = [1, 0]\n")
    assert code == "E0382" and message.endswith("(found 0)")


def test_nonblank_is_for_symbols_only() -> None:
    ((code, _, _, message),) = _codes("object Ohms : Real where nonblank\n")
    assert code == "E0407"
    assert "`Real` holds no symbols" in message


INTERVALS = """
object Start : Nat
object End : Nat
object Interval : Start * End where Start <= End
"""


def test_a_where_clause_compares_two_components() -> None:
    program = catdsl.loads(INTERVALS + "let span = Interval\n")
    assert [int(v) for v in program["span"]((np.int64(2), np.int64(2)))] == [2, 2]
    with pytest.raises(catdsl.CatError) as err:
        program["span"]((np.int64(4), np.int64(1)))
    assert err.value.first.code == "R0414"
    assert "`Start <= End` does not hold (found Start = 4, End = 1)" in err.value.first.message
    ((code, _, _, message),) = _codes(INTERVALS + "data bad : Interval = [4, 1]\n")
    assert code == "E0382"
    assert message.endswith("(found Start = 4, End = 1)")


def test_a_component_is_compared_with_a_component_or_a_number() -> None:
    ok = INTERVALS.replace("where Start <= End", "where Start <= End and End < 100")
    assert check_text(ok).diagnostics == []
    ((code, _, _, message),) = _codes(INTERVALS.replace("Start <= End", "Start <= len"))
    assert code == "E0407"
    assert "`Start` is a component of the value and `len` is not" in message


@pytest.mark.parametrize("op", ["<", "<=", ">", ">=", "==", "!="])
def test_samples_respect_a_comparison_of_components(op) -> None:
    program = catdsl.loads(INTERVALS.replace("<=", op) + "law same : Interval == Interval\n")
    interval = program.checked.objects["Interval"]
    compare = {
        "<": np.less,
        "<=": np.less_equal,
        ">": np.greater,
        ">=": np.greater_equal,
        "==": np.equal,
        "!=": np.not_equal,
    }[op]
    for i in range(32):
        start, end = Sampler(np.random.default_rng(i), {}, case_of(i)).atom(interval)
        assert compare(start, end).all(), (op, start, end)
    assert all(r.holds for r in check_laws(program))


LAWS = """
import std.ml
import std.logic
object Count : Nat
morphism Double : Count -> Count = Nat * two >> mul
data two : Nat = 2
"""


def test_a_law_over_a_range_is_checked_at_every_input() -> None:
    text = LAWS + (
        "law doubling over [0, 50] : Double == copy[Count] >> add\n"
        "law with_a_flag over [1, 9] : Count * Bool >> fst[Count, Bool] == fst[Count, Bool]\n"
    )
    reports = {r.name: r for r in check_laws(catdsl.loads(text))}
    assert reports["doubling"].holds and reports["doubling"].samples == 51
    assert reports["with_a_flag"].holds and reports["with_a_flag"].samples == 9 * 2


def test_a_law_over_a_range_shows_its_first_counterexample() -> None:
    text = LAWS + "law wrong over [0, 50] : Double == Count\n"
    (report,) = check_laws(catdsl.loads(text))
    assert not report.holds
    assert report.samples == 51
    assert report.counterexample is not None
    assert (report.counterexample.input, report.counterexample.left) == (1, 2)
    assert report.counterexample.right == 1


@pytest.mark.parametrize(
    ("law", "why"),
    [
        ("law e over [3, 1] : Count == Count", "the range is empty (3 is above 1)"),
        ("law r over [0, 9] : Real >> relu == Real >> relu", "`Real` is not a whole number"),
        (
            "law big over [0, 999] : Count * Count * Count == Count * Count * Count",
            "1,000,000,000 inputs",
        ),
    ],
)
def test_a_law_over_a_range_it_cannot_cover_is_refused(law, why) -> None:
    ((code, line, column, message),) = _codes(LAWS + law + "\n")
    assert (code, line, column) == ("E0383", 7, 1)
    assert why in message


def test_words_are_how_prose_names_an_object() -> None:
    assert words("OpenCircuit") == "open circuit"
    assert words("FeatureCount") == "feature count"
    assert words("ResistanceOhms") == "resistance ohms"
    assert words("HTTPServer") == "http server"
    assert words("Signal2") == "signal2"


def test_only_components_that_are_single_numbers_can_be_compared() -> None:
    text = "object A : List[Nat]\nobject B : List[Nat]\nobject P : A * B where A <= B\n"
    assert {code for code, *_ in _codes(text)} == {"E0407"}


def test_equality_of_a_literal_is_as_tolerant_as_the_run() -> None:
    """`==` on reals holds within numpy's `isclose`, at check time as at run time."""
    text = "object Third : Real where value == 0.3333333\ndata t : Third = 0.33333331\n"
    assert check_text(text).diagnostics == []
    ((code, *_),) = _codes(text.replace("0.33333331", "0.34"))
    assert code == "E0382"
