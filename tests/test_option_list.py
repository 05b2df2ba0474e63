"""`Option` values (`none`, `some(x)`) and empty lists: literals, JSON, the Python API and the
functors `Option(f)` and `List(f)` on them."""

from __future__ import annotations

import json

import numpy as np
import pytest

import catdsl
from catdsl.cli import main
from catdsl.errors import CatError
from catdsl.loader import check_text

OPTIONS = """\
import std.ml
object Scalar : Real
morphism Double : Scalar -> Scalar = scale(2)
morphism Twice : Option[Scalar] -> Option[Scalar] = Option(Double)
data nothing : Option[Real] = none
data seven : Option[Nat] = some(7)
data three : Option[Scalar] = some(3.0)
data six : Option[Scalar] = some(6.0)
data pair : Option[Real * Nat] = some([1.5, 2])
data vec : Option[Real[2]] = some([1.0, 2.0])
data doubled : Option[Scalar] = three >> Twice
data still_nothing : Option[Real] = nothing >> Option(scale(2))
law none_maps_to_none : nothing >> Option(scale(2)) == nothing
law some_maps_inside : three >> Twice == six
"""

LISTS = """\
import std.ml
object V3 : Real[3]
data empty : List[Real] = []
data empty3 : List[Real[3]] = []
data empty_pairs : List[Real * Nat] = []
data empty_nested : List[List[Real]] = []
data empty_objects : List[V3] = []
data mapped : List[Real[3]] = empty3 >> List(scale(2))
data mapped_pairs : List[Real * Nat] = empty_pairs >> List(id[Real * Nat])
morphism Squash : List[Real] -> List[Real] = List(tanh)
"""


@pytest.fixture(scope="module")
def options() -> catdsl.Program:
    return catdsl.loads(OPTIONS)


@pytest.fixture(scope="module")
def lists() -> catdsl.Program:
    return catdsl.loads(LISTS)


def run_json(capsys, path, *argv: str) -> dict:
    code = main(["run", str(path), *argv, "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


def one_error(src: str):
    diags = check_text(src, "t.cat").diagnostics
    assert len(diags) == 1, [(d.code, d.message) for d in diags]
    return diags[0]


# ---------------------------------------------------------------- values


def test_option_literals_are_none_or_their_element(options) -> None:
    assert options["nothing"]() is None
    assert int(options["seven"]()) == 7
    assert options["seven"]().dtype == np.int64
    assert float(options["three"]()) == 3.0
    assert [float(x) for x in options["pair"]()] == [1.5, 2.0]
    assert options["vec"]().tolist() == [1.0, 2.0]


def test_option_functor_maps_none_to_none_and_some_inside(options) -> None:
    assert options["still_nothing"]() is None
    assert float(options["doubled"]()) == 6.0
    assert options["Twice"](None) is None
    assert float(options["Twice"](4.0)) == 8.0


def test_option_laws_hold(options) -> None:
    reports = {r.name: r for r in options.check_laws()}
    assert reports["none_maps_to_none"].holds and reports["none_maps_to_none"].max_error == 0
    assert reports["some_maps_inside"].holds


def test_a_law_between_none_and_a_value_fails() -> None:
    extra = "data none_scalar : Option[Scalar] = none\nlaw wrong : three >> Twice == none_scalar\n"
    program = catdsl.loads(OPTIONS + extra)
    report = next(r for r in program.check_laws() if r.name == "wrong")
    assert not report.holds and report.max_error == float("inf")


def test_none_is_an_input_only_of_an_option(options) -> None:
    with pytest.raises(CatError) as err:
        options["Double"](None)
    assert err.value.first.code == "E0803"
    assert "needs an input of `Scalar`" in err.value.first.message
    with pytest.raises(CatError) as err:
        options["Twice"]()
    assert err.value.first.code == "E0803"


def test_json_null_is_none_in_and_out(capsys, tmp_path) -> None:
    path = tmp_path / "o.cat"
    path.write_text(OPTIONS)
    assert run_json(capsys, path, "Twice", "--input", "null")["value"] is None
    assert run_json(capsys, path, "Twice", "--input", "3")["value"] == 6.0
    assert run_json(capsys, path, "nothing")["value"] is None
    assert run_json(capsys, path, "seven")["value"] == 7
    code = main(["run", str(path), "nothing"])
    out = capsys.readouterr().out
    assert code == 0 and out.splitlines()[-1] == "none"


# ---------------------------------------------------------------- option literal errors


@pytest.mark.parametrize(
    ("decl", "code", "column", "words"),
    [
        ("data x : Option[Real] = []", "E0420", 25, "not []"),
        ("data x : Option[Real] = 3.0", "E0420", 25, "its values are `none` and `some(x)`"),
        ("data x : Option[Real] = some(1, 2)", "E0420", 25, "exactly one value"),
        ("data x : Option[Option[Real]] = some(none)", "E0420", 33, "`some(none)`"),
        ("data x : Real = none", "E0421", 17, "`Real` is not one"),
        ("data x : List[Real] = [none]", "E0421", 23, "`Real` is not one"),
        ("data x : Option[Real[2]] = some([1.0])", "E0415", 28, "Real[2]"),
    ],
)
def test_option_literal_errors(decl: str, code: str, column: int, words: str) -> None:
    d = one_error(decl + "\n")
    assert (d.code, d.span.line, d.span.column) == (code, 1, column)
    assert words in d.message


# ---------------------------------------------------------------- empty lists


def test_empty_lists_of_every_element(lists) -> None:
    assert lists["empty"]().shape == (0,)
    assert lists["empty3"]().shape == (0, 3)
    assert [c.shape for c in lists["empty_pairs"]()] == [(0,), (0,)]
    assert lists["empty_pairs"]()[1].dtype == np.int64
    assert lists["empty_nested"]().shape == (0, 0)
    assert lists["empty_objects"]().shape == (0, 3)


def test_list_functor_maps_empty_to_empty(lists) -> None:
    assert lists["mapped"]().shape == (0, 3)
    assert [c.shape for c in lists["mapped_pairs"]()] == [(0,), (0,)]
    assert lists["Squash"]([]).shape == (0,)
    assert lists["Squash"]([0.0, 1.0]).tolist() == [0.0, np.tanh(1.0)]


def test_empty_lists_in_json(capsys, tmp_path) -> None:
    path = tmp_path / "l.cat"
    path.write_text(LISTS)
    assert run_json(capsys, path, "empty")["value"] == []
    assert run_json(capsys, path, "empty3")["value"] == []
    assert run_json(capsys, path, "Squash", "--input", "[]")["value"] == []
