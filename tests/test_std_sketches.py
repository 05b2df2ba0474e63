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
data basis : Signal1 = [[1.0]]
data cover : SafetyCover = [[0, 5, true], [5, 10, true]]

let abstract_9     = nine >> Abstract
let concretize_3   = three >> Concretize
let join_levels    = Feature * Decision >> join
let bundle_sum     = small * large >> Tensor
let composite      = basis >> Duplicate >> WeightedAdd
let glued          = cover >> Glue
"""


def test_the_course_numbers_through_the_module() -> None:
    program = catdsl.loads(PROGRAM)
    assert int(program["abstract_9"]()) == 3
    assert int(program["concretize_3"]()) == 12
    assert int(program["join_levels"]()) == 3  # Decision, the fourth level
    assert [int(v) for v in program["bundle_sum"]()] == [5, 18]
    assert program["composite"]().tolist() == [[5.0]]
    assert bool(program["glued"]()) is True


def test_the_module_laws_come_with_the_import_and_hold() -> None:
    reports = check_laws(catdsl.loads(PROGRAM))
    names = {r.name for r in reports}
    assert {"galois", "tensor_is_monotone", "signal_functoriality", "gluing_is_local"} <= names
    assert {"Levels.transitivity", "Resources.associativity", "Conjunction.left_unit"} <= names
    assert all(r.holds for r in reports), [r.name for r in reports if not r.holds]


def test_names_of_the_module_are_declared_once() -> None:
    program = check_text("import std.sketches\nobject Tick : Nat\n")
    assert [d.code for d in program.diagnostics] == ["E0002"]


def test_an_unknown_std_module_lists_std_sketches() -> None:
    program = check_text("import std.sketch\n")
    (d,) = program.diagnostics
    assert "std.sketches" in d.message + str(d.help)
