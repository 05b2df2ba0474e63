"""Sketch 4, programs/sketches/codesign.cat: feasibility as a Bool-valued relation, relations
between finite catalogues composed with `>>` through a middle, associativity at every
relation on two elements."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
from conftest import PROGRAMS

import catdsl
from catdsl.cli import main

CODESIGN = PROGRAMS / "sketches" / "codesign.cat"


@pytest.fixture(scope="module")
def cd() -> catdsl.Program:
    return catdsl.load(str(CODESIGN))


def run_json(name: str, capsys) -> dict:
    capsys.readouterr()
    assert main(["run", str(CODESIGN), name, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_the_course_example_is_feasible(capsys) -> None:
    out = run_json("feasible_example", capsys)
    assert out == {"name": "feasible_example", "type": "Unit -> Bool", "value": True}


def test_feasibility_is_a_relation_not_a_function(cd) -> None:
    """One requirement, several offers: met by some, by none, by all of them."""
    feasible = cd["Feasible"]

    def ok(need, allowed, gives, takes):
        return bool(feasible(*(np.int64(x) for x in (need, allowed, gives, takes))))

    assert ok(100, 80, 120, 50) and ok(100, 80, 100, 80)
    assert not ok(100, 80, 99, 50) and not ok(100, 80, 120, 81)
    rng = np.random.default_rng(2)
    for need, allowed, gives, takes in rng.integers(1, 300, size=(500, 4)):
        assert ok(need, allowed, gives, takes) == (gives >= need and takes <= allowed)


def test_the_matrix_is_the_feasibility_relation_at_every_pair(cd) -> None:
    """`meets` (a literal) agrees with `Meets = Needs * Provides >> Feasible` everywhere."""
    meets = np.asarray(cd["meets"]())
    for level, design in itertools.product(range(3), range(3)):
        assert bool(cd["Meets"](np.int64(level), np.int64(design))) == meets[level, design]


def test_composites_exist_through_a_middle(capsys) -> None:
    assert run_json("premium_designs", capsys)["value"] == [[False, False, True]]
    assert run_json("premium_servers", capsys)["value"] == [[False, True]]


def test_every_law_holds_and_associativity_is_exhaustive(capsys) -> None:
    capsys.readouterr()
    assert main(["laws", str(CODESIGN), "--json"]) == 0
    reports = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert set(reports) == {
        "composition_is_exists",
        "feasibility_is_monotone",
        "Relations.left_unit",
        "Relations.right_unit",
        "Relations.associativity",
    }
    assert all(r["holds"] for r in reports.values())
    assert reports["Relations.left_unit"]["samples"] == 16  # every relation on 2 elements
    assert reports["Relations.associativity"]["samples"] == 4096  # every triple


def test_a_composition_without_the_identity_as_unit_is_refuted(tmp_path) -> None:
    """The laws are not vacuous: `and` elementwise in place of composition loses the unit."""
    text = CODESIGN.read_text(encoding="utf-8")
    broken = text.replace("unit = identity2, op = rel_compose", "unit = identity2, op = and")
    path = tmp_path / "codesign.cat"
    path.write_text(broken, encoding="utf-8")
    from catdsl.frontend.law_check import check_laws

    reports = {r.name: r for r in check_laws(catdsl.load(str(path)))}
    assert not reports["Relations.left_unit"].holds
    assert reports["Relations.associativity"].holds  # `and` is associative, but no unit


@pytest.mark.parametrize(
    ("case", "obj"), [("zero_throughput", "`Throughput`"), ("zero_latency", "`Latency`")]
)
def test_zero_throughput_and_latency_are_refused(case, obj) -> None:
    program = catdsl.load(str(PROGRAMS / "errors" / f"{case}.cat"))
    name = "feasible_idle" if case == "zero_throughput" else "feasible_instant"
    with pytest.raises(catdsl.CatError) as err:
        program[name]()
    assert err.value.first.code == "R0414" and obj in err.value.first.message


def test_the_composite_relation_is_drawn(tmp_path) -> None:
    out = tmp_path / "codesign.svg"
    assert main(["draw", str(CODESIGN), "buildable", "-o", str(out)]) == 0
    svg = out.read_text(encoding="utf-8")
    assert "MeetsRel" in svg and "RunsOn" in svg
