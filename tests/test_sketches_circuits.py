"""programs/sketches/circuits.cat: open circuits compose in series (`>>`) and in parallel
(`*`); 10 Ω then 20 Ω is 30 Ω; the interchange law holds at every input of a range; a
boundary mismatch, a zero resistance and a blank port name are refused by `catdsl check`."""

from __future__ import annotations

import json
import re
from pathlib import Path

from conftest import PROGRAMS

from catdsl.cli import main

PROGRAM = str(PROGRAMS / "sketches" / "circuits.cat")


def _run(capsys, *argv: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(list(argv))
    return code, capsys.readouterr().out


def _value(capsys, name: str, *extra: str):
    code, out = _run(capsys, "run", PROGRAM, name, "--json", *extra)
    assert code == 0
    return json.loads(out)


def test_serial_resistance_is_thirty(capsys) -> None:
    answer = _value(capsys, "serial_resistance")
    assert answer == {"name": "serial_resistance", "type": "Unit -> Terminal", "value": 30}


def test_serial_has_one_input_one_output_parallel_two_and_two(capsys) -> None:
    serial = _value(capsys, "serial", "--input", "0")
    assert serial["type"] == "Terminal -> Terminal"  # 1 input, 1 output
    assert serial["value"] == 30
    parallel = _value(capsys, "parallel", "--input", "[0, 5]")
    assert parallel["type"] == "Terminal * Terminal -> Terminal * Terminal"  # 2 and 2
    assert parallel["value"] == [10, 25]  # each path meets its own resistor
    assert _value(capsys, "parallel_resistance")["value"] == [10, 20]


def _boxes(capsys, tmp_path, name: str) -> list[str]:
    target = tmp_path / f"{name}.svg"
    code, _ = _run(capsys, "draw", PROGRAM, name, "-o", str(target))
    assert code == 0
    return re.findall(r"<text[^>]*>([^<]*)</text>", target.read_text())


def test_serial_and_parallel_have_two_components_each(capsys, tmp_path) -> None:
    for name in ("serial", "parallel"):
        labels = _boxes(capsys, tmp_path, name)
        components = [x for x in labels if x.startswith("Resistor")]
        assert sorted(components) == ["Resistor10", "Resistor20"], (name, labels)
    serial = _boxes(capsys, tmp_path, "serial")
    assert serial.index("Resistor10") < serial.index("Resistor20")


def test_every_law_holds_at_every_input_of_its_range(capsys) -> None:
    code, out = _run(capsys, "laws", PROGRAM, "--json")
    assert code == 0
    laws = {law["name"]: law for law in json.loads(out)}
    assert all(law["holds"] for law in laws.values())
    samples = {name: law["samples"] for name, law in laws.items()}
    assert samples == {
        "interchange": 101 * 101,  # both inputs, every resistance in 0..100
        "series_adds": 101,
        "resistors_in_series": 60**3,  # a path and two resistances, each in 1..60
        "associativity": 101,
        "wire_is_unit": 101,
    }


def test_the_interchange_law_catches_a_wrong_circuit(tmp_path, capsys) -> None:
    """The same law with the right-hand side's series composites crossed over is false, and
    the counterexample is the first pair of inputs of the range."""
    original = Path(PROGRAM).read_text(encoding="utf-8")
    text = original.replace(
        "== (Resistor10 >> Resistor20) * (Resistor20 >> Resistor10)",
        "== (Resistor10 >> Resistor10) * (Resistor20 >> Resistor20)",
    )
    assert text != original
    broken = tmp_path / "crossed.cat"
    broken.write_text(text, encoding="utf-8")
    code, out = _run(capsys, "laws", str(broken), "--json")
    assert code == 1
    law = next(x for x in json.loads(out) if x["name"] == "interchange")
    assert law["holds"] is False
    assert law["counterexample"]["input"] == [0, 0]
    assert law["counterexample"]["left"] == [30, 30]
    assert law["counterexample"]["right"] == [20, 40]


def _diagnostic(capsys, monkeypatch, name: str) -> dict:
    monkeypatch.chdir(PROGRAMS / "errors")
    code, out = _run(capsys, "check", f"{name}.cat", "--json")
    assert code == 1
    (d,) = json.loads(out or capsys.readouterr().err)
    return d


def test_a_boundary_mismatch_is_an_open_circuit_serial_composition_error(
    capsys, monkeypatch
) -> None:
    d = _diagnostic(capsys, monkeypatch, "open_circuit_mismatch")
    assert (d["code"], d["line"], d["column"]) == ("E0380", 15, 36)
    assert d["message"].startswith("open circuit serial composition of `side_by_side`")
    assert "(2 outputs against 1 input)" in d["message"]


def test_a_zero_resistance_and_a_blank_port_name_are_refused(capsys, monkeypatch) -> None:
    d = _diagnostic(capsys, monkeypatch, "zero_resistance")
    assert (d["code"], d["line"], d["column"]) == ("E0382", 9, 31)
    assert "`value > 0` does not hold (found 0)" in d["message"]
    d = _diagnostic(capsys, monkeypatch, "blank_port_name")
    assert (d["code"], d["line"], d["column"]) == ("E0382", 4, 31)
    assert "`nonblank` does not hold" in d["message"]
