"""programs/sketches/behaviour.cat: the global truth of a safety cover is the conjunction of
its local truths; a cover glued so that it ignores a false interval breaks the law."""

from __future__ import annotations

import json
import re

from conftest import PROGRAMS

from catdsl.cli import main

PROGRAM = str(PROGRAMS / "sketches" / "behaviour.cat")


def _run(capsys, *argv: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(list(argv))
    return code, capsys.readouterr().out


def _value(capsys, name: str, *extra: str):
    code, out = _run(capsys, "run", PROGRAM, name, "--json", *extra)
    assert code == 0
    answer = json.loads(out)
    assert answer["name"] == name
    return answer["value"]


def test_the_course_examples(capsys) -> None:
    assert _value(capsys, "glued") is True  # [0, 5] true and [5, 10] true
    assert _value(capsys, "true_implies_false") is False
    assert _value(capsys, "whole_false") is False  # one false interval among true ones
    assert _value(capsys, "interval_ok") is True


def test_the_glue_is_the_conjunction_of_every_local_truth(capsys) -> None:
    for cover, truth in (
        ([[0, 5, True]], True),
        ([[0, 5, False]], False),
        ([[0, 5, True], [5, 10, True], [10, 20, True]], True),
        ([[0, 5, True], [5, 10, True], [10, 20, False]], False),
        ([[0, 5, False], [5, 10, True]], False),
    ):
        assert _value(capsys, "Glue", "--input", json.dumps(cover)) is truth, cover
    # the fold starts from true: the empty list of checks is safe, though no cover is empty
    assert _value(capsys, "Conjoin", "--input", "[]") is True


def test_an_empty_cover_is_refused(capsys) -> None:
    capsys.readouterr()
    assert main(["run", PROGRAM, "Glue", "--input", "[]"]) != 0
    assert "SafetyCover" in capsys.readouterr().err


def test_well_formed_intervals(capsys) -> None:
    assert _value(capsys, "WellFormed", "--input", "[0, 5]") is True
    assert _value(capsys, "WellFormed", "--input", "[5, 5]") is True
    assert _value(capsys, "WellFormed", "--input", "[5, 0]") is False


def test_every_law_holds_and_the_truth_value_laws_are_exhaustive(capsys) -> None:
    code, out = _run(capsys, "laws", PROGRAM, "--json")
    assert code == 0
    laws = {law["name"]: law for law in json.loads(out)}
    assert all(law["holds"] for law in laws.values())
    samples = {name: law["samples"] for name, law in laws.items()}
    assert samples == {
        "gluing_is_local": 16,
        "one_false_spoils": 16,
        "Conjunction.left_unit": 2,  # true and false: every Bool
        "Conjunction.right_unit": 2,
        "Conjunction.associativity": 8,  # every triple
        "Entailment.reflexivity": 2,
        "Entailment.transitivity": 8,
    }


def test_the_fold_is_drawn(capsys, tmp_path) -> None:
    target = tmp_path / "conjoin.svg"
    code, _ = _run(capsys, "draw", PROGRAM, "Conjoin", "-o", str(target))
    assert code == 0
    labels = re.findall(r"<text[^>]*>([^<]*)</text>", target.read_text())
    box = max(i for i, label in enumerate(labels) if label == "fold(and, true)")
    assert labels.index("Truth") < box  # (the first is the title of the fold's frame)
    assert {"op = and", "unit = true"} <= set(labels)  # its arguments, drawn beside it
    assert {"Conjoin", "List[Bool]", "Bool"} <= set(labels)


def test_a_cover_that_ignores_a_false_interval_is_refused(capsys, monkeypatch) -> None:
    monkeypatch.chdir(PROGRAMS / "errors")
    code, out = _run(capsys, "laws", "cover_ignores_false.cat", "--json")
    assert code == 1
    (law,) = json.loads(out)
    assert law["name"] == "one_false_spoils"
    assert law["holds"] is False
    assert law["counterexample"]["left"] is True
    assert law["counterexample"]["right"] is False
