"""Sketch 3, programs/sketches/databases.cat: a schema's tables as sets of keys, its foreign
keys as columns checked at check time, its path equations as laws at every row, and Δ
migration along a schema map."""

from __future__ import annotations

import json

import pytest
from conftest import PROGRAMS

import catdsl
from catdsl.cli import main
from catdsl.loader import check_text

DATABASES = PROGRAMS / "sketches" / "databases.cat"


@pytest.fixture(scope="module")
def db() -> catdsl.Program:
    return catdsl.load(str(DATABASES))


def test_department_of_employee_7(capsys) -> None:
    capsys.readouterr()
    assert main(["run", str(DATABASES), "department_of_7", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out == {"name": "department_of_7", "type": "Unit -> Department", "value": 1}


def test_the_instance_as_functions(db) -> None:
    assert [int(db["WorksIn"](e)) for e in (7, 8, 9, 10)] == [1, 1, 2, 2]
    assert [int(db["Secretary"](d)) for d in (1, 2)] == [8, 10]
    assert str(db["secretary_of_department_of_7"]()) == "Brook"


def test_every_law_holds_at_every_row(capsys) -> None:
    capsys.readouterr()
    assert main(["laws", str(DATABASES), "--json"]) == 0
    reports = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert all(r["holds"] for r in reports.values())
    samples = {name: r["samples"] for name, r in reports.items()}
    assert samples == {
        "manager_same_department": 4,  # every employee
        "secretary_works_there": 2,  # every department
        "contact_is_a_member": 2,
        "delta_preserves_composites": 2,
        "boss_team_is_member_of": 4,
    }


def test_a_path_equation_that_fails_is_refuted(tmp_path) -> None:
    """Employee 8's manager 9 works in department 2, not 1: the law names employee 8."""
    text = DATABASES.read_text(encoding="utf-8")
    broken = text.replace("= [7, 7, 9, 9]", "= [7, 9, 9, 9]")
    assert broken != text
    path = tmp_path / "databases.cat"
    path.write_text(broken, encoding="utf-8")
    program = catdsl.load(str(path))
    from catdsl.frontend.law_check import check_laws

    reports = {r.name: r for r in check_laws(program)}
    failed = reports["manager_same_department"]
    assert not failed.holds and failed.counterexample is not None
    assert failed.counterexample.input == 8
    assert (failed.counterexample.left, failed.counterexample.right) == (2, 1)
    assert not reports["boss_team_is_member_of"].holds


def test_a_dangling_department_is_refused_at_check_time() -> None:
    text = DATABASES.read_text(encoding="utf-8").replace("= [1, 1, 2, 2]", "= [1, 1, 2, 3]")
    (d,) = check_text(text).diagnostics
    assert d.code == "E0370" and "3 is not a `Department`" in d.message
    assert "database instance" in " ".join(d.notes)
    assert (
        d.span.line
        == text.splitlines().index(
            "data works_in  : List[Department] = [1, 1, 2, 3]   # employee 7 works in department 1"
        )
        + 1
    )


def test_a_key_outside_the_instance_is_refused_where_it_enters(db) -> None:
    with pytest.raises(catdsl.CatError) as err:
        db["WorksIn"](11)
    assert err.value.first.code == "R0414" and "`Employee`" in err.value.first.message


def test_the_composite_is_drawn(tmp_path) -> None:
    out = tmp_path / "db.svg"
    assert main(["draw", str(DATABASES), "BossTeam", "-o", str(out)]) == 0
    svg = out.read_text(encoding="utf-8")
    assert "Manager" in svg and "WorksIn" in svg
