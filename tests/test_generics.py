"""Generic definitions: checked once with rigid parameters, instantiated at each use."""

from __future__ import annotations

import numpy as np
import pytest

import catdsl
from catdsl.loader import check_text

BASE = """
import std.ml

object Scalar : Real
data one : Real = 1.0
morphism AddOne : Scalar -> Scalar = Real * one >> add

morphism Dup[A] : A -> A * A = copy[A]
let Swap2[A, B] = swap[A, B]
"""


def checked(text: str, tmp_path):
    return check_text(BASE + text, str(tmp_path / "g.cat"))


def codes(program) -> list[tuple[str, int, int]]:
    return [(d.code, d.span.line, d.span.column) for d in program.diagnostics]


def test_explicit_instance_has_the_written_objects(tmp_path) -> None:
    program = checked("let twice = Dup[Scalar]\n", tmp_path)
    assert program.diagnostics == []
    term = program.definitions["twice"].term
    assert (str(term.dom), str(term.cod)) == ("Scalar", "Scalar * Scalar")


def test_instance_by_unification_at_the_use_site(tmp_path) -> None:
    program = checked("let both = AddOne >> Dup >> Swap2\n", tmp_path)
    assert program.diagnostics == []
    term = program.definitions["both"].term
    assert (str(term.dom), str(term.cod)) == ("Scalar", "Scalar * Scalar")


def test_instances_run(tmp_path) -> None:
    path = tmp_path / "g.cat"
    path.write_text(BASE + "let both = AddOne >> Dup >> Swap2\nlet twice = Dup[Real[3]]\n")
    program = catdsl.load(str(path))
    assert program["both"](2.0) == (3.0, 3.0)
    out = program["twice"](np.array([1.0, 2.0, 3.0]))
    assert [list(x) for x in out] == [[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]]


def test_the_same_generic_at_two_objects_in_one_definition(tmp_path) -> None:
    program = checked("let two = Dup[Scalar] * Dup[Real[2]]\n", tmp_path)
    assert program.diagnostics == []
    assert str(program.definitions["two"].term.cod) == "Scalar * Scalar * Real[2] * Real[2]"


def test_a_generic_body_is_checked_once_for_any_object(tmp_path) -> None:
    program = checked("let Bad[A] : A -> A = scale(2)\n", tmp_path)
    assert [d.code for d in program.diagnostics] == ["E0205"]


def test_wrong_number_of_objects(tmp_path) -> None:
    program = checked("let twice = Dup[Scalar, Scalar]\n", tmp_path)
    ((code, line, column),) = codes(program)
    assert (code, line, column) == ("E0340", 10, 13)
    assert program.diagnostics[0].message == "`Dup` takes 1 object, got 2"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "let Bad[Scalar] = copy[Scalar]\n",
            "the parameter `Scalar` of `Bad` is already a declared name",
        ),
        ("let Bad[B, B] = copy[B]\n", "`Bad` names its parameter `B` twice"),
    ],
)
def test_parameter_names(tmp_path, text: str, message: str) -> None:
    program = checked(text, tmp_path)
    (d,) = program.diagnostics
    assert (d.code, d.message, d.span.line, d.span.column) == ("E0341", message, 10, 5)


def test_a_mismatch_at_a_use_names_the_instance(tmp_path) -> None:
    program = checked("let bad = AddOne >> Dup >> AddOne\n", tmp_path)
    (d,) = program.diagnostics
    assert d.code == "E0202"
    assert "here `Dup` is its instance at A = `Scalar`" in d.notes


def test_a_generic_definition_is_not_run_before_it_is_instantiated(tmp_path) -> None:
    path = tmp_path / "g.cat"
    path.write_text(BASE)
    program = catdsl.load(str(path))
    with pytest.raises(catdsl.CatError) as caught:
        program["Dup"]
    (d,) = caught.value.diagnostics
    assert d.code == "R0510"
    assert "Dup[Scalar]" in (d.help or "")
