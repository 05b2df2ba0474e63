"""`import std.sketches`: the sketches' reusable objects, morphisms and laws, as a module."""

from __future__ import annotations

import catdsl
from catdsl.frontend.law_check import check_laws
from catdsl.loader import check_text

PROGRAM = """
import std.sketches

data nine  : FeatureCount = 9
data three : LayerBudget  = 3
data small : Bundle = [2, 8]
data large : Bundle = [3, 10]
data basis : Signal1 = [[1]]
data cover : SafetyCover = [[[0, 5], true], [[5, 10], true]]
data ten    : ResistanceOhms = 10
data twenty : ResistanceOhms = 20
data nothing : Terminal = 0

let abstract_9     = nine >> Abstract
let concretize_3   = three >> Concretize
let join_levels    = Feature * Decision >> join
let bundle_sum     = small * large >> Tensor
let composite      = basis >> Duplicate >> WeightedAdd
let glued          = cover >> Glue
let serial_resistance = nothing * ten >> Through * twenty >> Through

data requirement : Requirement = [100, 80]
data offer       : Offer       = [120, 50]
let feasible_example = requirement * offer >> Feasible
"""


def test_the_course_numbers_through_the_module() -> None:
    program = catdsl.loads(PROGRAM)
    assert int(program["abstract_9"]()) == 3
    assert int(program["concretize_3"]()) == 12
    assert int(program["join_levels"]()) == 3  # Decision, the fourth level
    assert [int(v) for v in program["bundle_sum"]()] == [5, 18]
    assert program["composite"]().tolist() == [[5]]  # integers: `Int` signals
    assert bool(program["glued"]()) is True
    assert int(program["serial_resistance"]()) == 30
    assert bool(program["feasible_example"]()) is True


def test_the_module_laws_come_with_the_import_and_hold() -> None:
    reports = check_laws(catdsl.loads(PROGRAM))
    names = {r.name for r in reports}
    assert {"galois", "tensor_is_monotone", "signal_functoriality", "gluing_is_local"} <= names
    assert "series_adds" in names
    assert {"feasibility_is_monotone", "RelationComposition.associativity"} <= names
    galois = next(r for r in reports if r.name == "galois")
    assert galois.samples == 200 * 200  # every f and l in 1..200
    assert {"Levels.transitivity", "Resources.associativity", "Conjunction.left_unit"} <= names
    assert all(r.holds for r in reports), [r.name for r in reports if not r.holds]


def test_the_module_refuses_what_the_sketches_refuse() -> None:
    """A mismatch of signal matrices or open circuits, a zero resistance, a backwards
    interval: each refused by `catdsl check`, named as the sketches name it."""
    cases = {
        "let twice = Duplicate >> Duplicate": ("E0380", "signal matrix composition"),
        "let bad = copy[Terminal] >> Terminal": (
            "E0380",
            "open circuit serial composition",
        ),
        "data short : ResistanceOhms = 0": ("E0382", "resistance ohms"),
        "data back : TimeInterval = [5, 0]": ("E0382", "Start = 5, End = 0"),
        "data none : FeatureCount = 0": ("E0382", "feature count"),
        'data blank : PortName = " "': ("E0382", "port name"),
        "data idle : Offer = [0, 50]": ("E0382", "(throughput)"),
    }
    for line, (code, words) in cases.items():
        (d,) = check_text(f"import std.sketches\n{line}\n").diagnostics
        assert d.code == code, line
        assert words in d.message, (line, d.message)
        assert d.span is not None and d.span.line == 2


def test_names_of_the_module_are_declared_once() -> None:
    program = check_text("import std.sketches\nobject Start : Nat\n")
    assert [d.code for d in program.diagnostics] == ["E0002"]


def test_an_unknown_std_module_lists_std_sketches() -> None:
    program = check_text("import std.sketch\n")
    (d,) = program.diagnostics
    assert "std.sketches" in d.message + str(d.help)
