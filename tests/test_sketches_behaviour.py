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
    assert _value(capsys, "first_half") == [0, 5]


def test_the_glue_is_the_conjunction_of_every_local_truth(capsys) -> None:
    for cover, truth in (
        ([[[0, 5], True]], True),
        ([[[0, 5], False]], False),
        ([[[0, 5], True], [[5, 10], True], [[10, 20], True]], True),
        ([[[0, 5], True], [[5, 10], True], [[10, 20], False]], False),
        ([[[0, 5], False], [[5, 10], True]], False),
    ):
        assert _value(capsys, "Glue", "--input", json.dumps(cover)) is truth, cover
    # the fold starts from true: the empty list of checks is safe, though no cover is empty
    assert _value(capsys, "Conjoin", "--input", "[]") is True


def test_an_empty_cover_is_refused(capsys) -> None:
    capsys.readouterr()
    assert main(["run", PROGRAM, "Glue", "--input", "[]"]) != 0
    assert "SafetyCover" in capsys.readouterr().err


def test_an_interval_starts_no_later_than_it_ends(capsys) -> None:
    """`where Start <= End`: an interval of one tick enters; one that ends before it starts
    is refused where it enters, at run time too, naming both components."""
    assert _value(capsys, "Glue", "--input", "[[[5, 5], true]]") is True
    capsys.readouterr()
    assert main(["run", PROGRAM, "Glue", "--input", "[[[0, 5], true], [[9, 3], true]]"]) == 1
    err = capsys.readouterr().err
    assert "error[R0414]" in err
    assert "the invariant `Start <= End` does not hold (found Start = 9, End = 3)" in err


def test_a_backwards_interval_literal_is_refused_by_check(capsys, monkeypatch) -> None:
    monkeypatch.chdir(PROGRAMS / "errors")
    code, out = _run(capsys, "check", "backwards_interval.cat", "--json")
    assert code == 1
    (d,) = json.loads(out or capsys.readouterr().err)
    assert (d["code"], d["line"], d["column"]) == ("E0382", 9, 33)
    assert "(found Start = 5, End = 0)" in d["message"]


def test_sampled_intervals_respect_the_order() -> None:
    """The samples `catdsl laws` draws for a cover are valid covers: every start <= end."""
    import numpy as np

    import catdsl
    from catdsl.frontend.sampling import Sampler, case_of

    program = catdsl.load(PROGRAM)
    cover = program.checked.objects["SafetyCover"]
    for i in range(16):
        starts, ends, truths = Sampler(np.random.default_rng(i), {}, case_of(i)).atom(cover)
        assert (np.asarray(starts) <= np.asarray(ends)).all()
        assert len(truths) >= 1


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
