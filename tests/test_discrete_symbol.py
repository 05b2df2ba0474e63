"""The `Symbol` carrier (labels written as strings) and the `Int` carrier: literals, JSON,
lists of symbols through `concat` (the trace monoid's product), and their errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

import catdsl
from catdsl.cli import main
from catdsl.errors import CatError
from catdsl.loader import check_text

PROGRAM = """
import std.lists
object Trace : List[Symbol]
object Step : Symbol
data step : Step = "embedding"
data a : Trace = ["embedding"]
data b : Trace = ["linear"]
data c : Trace = ["softmax"]
data empty : Trace = []
data trace : List[Symbol] = a * b >> concat >> List[Symbol] * c >> concat
data offset : Int = -3
data label : Option[Symbol] = some("x")
morphism Same : Symbol -> Symbol = Symbol
law associative : (concat * List[Symbol]) >> concat == (List[Symbol] * concat) >> concat
law left_unit : empty * List[Symbol] >> concat == List[Symbol]
law wrong : <List[Symbol], List[Symbol]> >> concat == List[Symbol]
"""


@pytest.fixture(scope="module")
def program() -> catdsl.Program:
    return catdsl.loads(PROGRAM)


def test_symbol_values(program):
    assert str(program["step"]()) == "embedding"
    assert program["trace"]().tolist() == ["embedding", "linear", "softmax"]
    assert program["empty"]().shape == (0,) and program["empty"]().dtype.kind == "U"
    assert str(program["label"]()) == "x"
    assert int(program["offset"]()) == -3 and program["offset"]().dtype == np.int64


def test_symbol_laws_compare_labels(program):
    reports = {r.name: r for r in program.check_laws()}
    assert reports["associative"].holds and reports["left_unit"].holds
    assert not reports["wrong"].holds and reports["wrong"].max_error == float("inf")


def test_symbols_as_json(capsys, tmp_path):
    path = tmp_path / "s.cat"
    path.write_text(PROGRAM)
    assert main(["run", str(path), "trace", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["value"] == ["embedding", "linear", "softmax"]
    assert main(["run", str(path), "Same", "--input", '"softmax"', "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["value"] == "softmax"


def test_a_number_is_not_a_symbol_input(program):
    with pytest.raises(CatError) as err:
        program["Same"](3)
    assert err.value.first.code == "R0416"
    assert "symbols (strings)" in err.value.first.message


@pytest.mark.parametrize(
    ("decl", "code", "column", "words"),
    [
        ("data s : Symbol = 3", "E0422", 19, "found `3`"),
        ('data s : List[Symbol] = ["a", 1]', "E0422", 25, "found `1`"),
        ('data x : Real = "x"', "E0414", 17, "a string is not a value here"),
        ("data i : Int = 1.5", "E0423", 16, "`Int` holds integers, found `1.5`"),
        ("data n : Nat = -1", "E0423", 16, "natural numbers"),
        ("data n : Nat = true", "E0423", 16, "found `true`"),
    ],
)
def test_literal_errors(decl, code, column, words):
    (d,) = check_text(decl + "\n", "t.cat").diagnostics
    assert (d.code, d.span.line, d.span.column) == (code, 1, column)
    assert words in d.message
