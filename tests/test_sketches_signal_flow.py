"""programs/sketches/signal_flow.cat: signal matrices compose with `>>`, the composite's matrix
is the product of its parts' matrices, and a middle-wire mismatch is refused statically."""

from __future__ import annotations

import json
import re

from conftest import PROGRAMS

from catdsl.cli import main

PROGRAM = str(PROGRAMS / "sketches" / "signal_flow.cat")


def _run(capsys, *argv: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(list(argv))
    return code, capsys.readouterr().out


def _value(capsys, name: str, *extra: str):
    code, out = _run(capsys, "run", PROGRAM, name, "--json", *extra)
    assert code == 0
    return json.loads(out)


def test_it_checks(capsys) -> None:
    code, out = _run(capsys, "check", PROGRAM)
    assert code == 0
    assert "2 laws" in out


def test_duplicate_then_weighted_add_is_five(capsys) -> None:
    answer = _value(capsys, "composite")
    assert answer["type"] == "Unit -> Signal1"
    assert answer["value"] == [[5]]
    assert isinstance(answer["value"][0][0], int)  # integers, not 5.0
    assert _value(capsys, "product")["value"] == [[5]]


def test_the_composite_runs_on_a_batch_of_signals(capsys) -> None:
    answer = _value(capsys, "flow", "--input", "[[1], [2], [-3], [1099511627777]]")
    assert answer["type"] == "Signal1 -> Signal1"
    assert answer["value"] == [[5], [10], [-15], [5497558138885]]  # 2x + 3x, exact


def test_the_parts_have_their_matrices(capsys) -> None:
    # one signal x goes to (x, x); (x, y) goes to 2x + 3y
    assert _value(capsys, "Duplicate", "--input", "[[4]]")["value"] == [[4, 4]]
    assert _value(capsys, "WeightedAdd", "--input", "[[1, 10]]")["value"] == [[32]]


def test_functoriality_holds(capsys) -> None:
    code, out = _run(capsys, "laws", PROGRAM, "--json")
    assert code == 0
    laws = {law["name"]: law for law in json.loads(out)}
    assert set(laws) == {"functoriality", "functoriality_any_matrices"}
    for law in laws.values():
        assert law["holds"] is True
        assert law["max_error"] == 0.0  # integer matrices: exact
        assert law["samples"] >= 16


def test_the_main_composite_is_drawn(capsys, tmp_path) -> None:
    target = tmp_path / "flow.svg"
    code, _ = _run(capsys, "draw", PROGRAM, "flow", "-o", str(target))
    assert code == 0
    labels = re.findall(r"<text[^>]*>([^<]*)</text>", target.read_text())
    assert labels.index("Duplicate") < labels.index("WeightedAdd")
    assert {"Signal1", "Signal2", "flow"} <= set(labels)


def test_a_middle_wire_mismatch_is_a_type_error(capsys, monkeypatch) -> None:
    monkeypatch.chdir(PROGRAMS / "errors")
    capsys.readouterr()
    assert main(["check", "signal_matrix_mismatch.cat", "--json"]) == 1
    out, err = capsys.readouterr()
    (diagnostic,) = json.loads(out or err)
    assert diagnostic["code"] == "E0380"
    assert (diagnostic["line"], diagnostic["column"]) == (14, 26)
    assert diagnostic["message"].startswith("signal matrix composition of `Duplicate`")
    assert "`Duplicate` gives `Signal2`, but `Duplicate` takes `Signal1`" in diagnostic["message"]


def test_a_matrix_written_for_column_vectors_is_refused(capsys, monkeypatch) -> None:
    monkeypatch.chdir(PROGRAMS / "errors")
    capsys.readouterr()
    assert main(["check", "signal_matrix_transposed.cat", "--json"]) == 1
    out, err = capsys.readouterr()
    (diagnostic,) = json.loads(out or err)
    assert diagnostic["code"] == "E0205"
    assert (diagnostic["line"], diagnostic["column"]) == (12, 43)
    assert "`Duplicate` is declared with domain `Signal1`" in diagnostic["message"]


def test_a_real_signal_is_not_an_integer_signal(capsys) -> None:
    capsys.readouterr()
    assert main(["run", PROGRAM, "flow", "--input", "[[1.5]]", "--json"]) == 1
    out, err = capsys.readouterr()
    (diagnostic,) = json.loads(out or err)
    assert diagnostic["code"] == "R0416"
    assert "expected integers" in diagnostic["message"]
