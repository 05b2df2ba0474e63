"""Finite ordered objects (`object Level : Observation < Feature < Score < Decision`): their
elements as points and literals, order and lattice operations, JSON names both ways, and the
sampler drawing every element."""

from __future__ import annotations

import json

import numpy as np
import pytest

import catdsl
from catdsl.cli import main
from catdsl.errors import CatError
from catdsl.frontend.sampling import Sampler
from catdsl.loader import check_text

PROGRAM = """
import std.logic
object Level : Observation < Feature < Score < Decision
data f : Level = Feature
data joined : Level = Feature * Decision >> join
data met : Level = Feature * Decision >> meet
data flows : Bool = Feature * Score >> le
data back : Bool = Decision * Observation >> le
data levels : List[Level] = [Feature, Decision, Observation]
data maybe : Option[Level] = some(Score)
morphism Up : Level * Level -> Level = join
morphism Same : Level -> Level = Level
law reflexive : <Level, Level> >> le == <Level, Level> >> eq
law join_example : Feature * Decision >> join == Decision
law join_commutes : join == swap[Level, Level] >> join
"""


@pytest.fixture(scope="module")
def program() -> catdsl.Program:
    return catdsl.loads(PROGRAM)


def test_the_object_is_an_index_over_its_elements(program):
    level = program.checked.objects["Level"]
    assert level.elements == ("Observation", "Feature", "Score", "Decision")
    assert str(level.carrier) == "Index[4]"
    assert str(program["Feature"].cod) == "Level" and int(program["Feature"]()) == 1


def test_order_and_lattice(program):
    assert int(program["joined"]()) == 3 and str(program["joined"].cod) == "Level"
    assert int(program["met"]()) == 1
    assert bool(program["flows"]()) and not bool(program["back"]())
    assert program["levels"]().tolist() == [1, 3, 0]
    assert int(program["maybe"]()) == 2


def test_laws(program):
    reports = {r.name: r for r in program.check_laws()}
    assert all(r.holds for r in reports.values()), reports


def test_json_names_elements_both_ways(capsys, tmp_path):
    path = tmp_path / "o.cat"
    path.write_text(PROGRAM)

    def value(*argv: str) -> object:
        assert main(["run", str(path), *argv, "--json"]) == 0
        return json.loads(capsys.readouterr().out)["value"]

    assert value("joined") == "Decision"
    assert value("levels") == ["Feature", "Decision", "Observation"]
    assert value("maybe") == "Score"
    assert value("Up", "--input", '["Score", "Feature"]') == "Score"


def test_text_output_names_elements(capsys, tmp_path):
    path = tmp_path / "o.cat"
    path.write_text(PROGRAM)
    assert main(["run", str(path), "joined"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "Decision"
    assert main(["run", str(path), "levels"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == '["Feature", "Decision", "Observation"]'


def test_an_unknown_element_name_is_bad_input(program):
    with pytest.raises(CatError) as err:
        program["Same"]("Nope")
    d = err.value.first
    assert d.code == "E0803" and "`Nope` is not an element of `Level`" in d.message
    assert int(program["Same"]("Decision")) == 3


def test_the_sampler_draws_every_element(program):
    level = program.checked.objects["Level"]
    drawn = {int(Sampler(np.random.default_rng(s), {}).atom(level)) for s in range(40)}
    assert drawn == {0, 1, 2, 3}


def test_elements_are_declared_names():
    diags = check_text("object Level : Low < High\ndata High : Real = 1.0\n").diagnostics
    assert [(d.code, d.span.line, d.span.column) for d in diags] == [("E0002", 2, 6)]
    (d,) = check_text("object Level : Low < High\ndata x : Level = Middle\n").diagnostics
    assert (d.code, d.span.line, d.span.column) == ("E0306", 2, 18)
