"""Sketch 1, programs/sketches/orders.cat: the information levels as an order, feature counts
and layer budgets above zero, and the Galois connection between them (over 1..200 here)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import PROGRAMS

import catdsl
from catdsl.cli import main
from catdsl.frontend.law_check import check_laws

ORDERS = PROGRAMS / "sketches" / "orders.cat"


@pytest.fixture(scope="module")
def orders() -> catdsl.Program:
    return catdsl.load(str(ORDERS))


def run_json(name: str, capsys) -> dict:
    capsys.readouterr()
    assert main(["run", str(ORDERS), name, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize(
    ("name", "typ", "value"),
    [
        ("join_feature_decision", "Unit -> Level", "Decision"),
        ("abstract_9", "Unit -> LayerBudget", 3),
        ("concretize_3", "Unit -> FeatureCount", 12),
    ],
)
def test_the_course_examples_by_name(name, typ, value, capsys) -> None:
    assert run_json(name, capsys) == {"name": name, "type": typ, "value": value}


def test_every_law_holds_and_the_order_is_checked_exhaustively(capsys) -> None:
    capsys.readouterr()
    assert main(["laws", str(ORDERS), "--json"]) == 0
    reports = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert set(reports) == {
        "feature_below_decision",
        "galois",
        "round_trip_covers",
        "Levels.reflexivity",
        "Levels.transitivity",
    }
    assert all(r["holds"] for r in reports.values())
    assert reports["Levels.reflexivity"]["samples"] == 4  # every level
    assert reports["Levels.transitivity"]["samples"] == 64  # every triple
    assert reports["galois"]["samples"] == 200 * 200  # `over [1, 200]`: every f and l


def test_the_galois_law_holds_for_every_count_and_budget_up_to_200(orders) -> None:
    """abstract(f) ≤ l ⇔ f ≤ concretize(l), f and l in 1..200, both sides from the program's
    own morphisms, one pair at a time (`catdsl laws` runs all 40,000 pairs at once)."""
    up, down = orders["Abstract"], orders["Concretize"]
    abstract = {f: int(up(np.int64(f))) for f in range(1, 201)}
    concretize = {n: int(down(np.int64(n))) for n in range(1, 201)}
    assert abstract[9] == 3 and concretize[3] == 12 and abstract[200] == 50
    for f in range(1, 201):
        for n in range(1, 201):
            assert (abstract[f] <= n) == (f <= concretize[n]), (f, n)


def test_the_galois_law_is_refuted_when_the_maps_disagree(tmp_path) -> None:
    """The law is not vacuous: with ⌈(f + 1) / 4⌉ for ⌈f / 4⌉ it fails on a multiple of 4."""
    text = ORDERS.read_text(encoding="utf-8")
    broken = text.replace(
        "= Nat * per_layer >> ceil_div   # ⌈f / 4⌉",
        "= Nat * one >> add * per_layer >> ceil_div",
    ).replace("data per_layer : Nat = 4", "data per_layer : Nat = 4\ndata one : Nat = 1")
    assert broken != text
    path = tmp_path / "orders.cat"
    path.write_text(broken, encoding="utf-8")
    reports = {r.name: r for r in check_laws(catdsl.load(str(path)))}
    assert not reports["galois"].holds
    counterexample = reports["galois"].counterexample
    assert counterexample is not None
    # the first pair in range order: ⌈(4 + 1) / 4⌉ = 2 > 1 layer, though 4 ≤ 4 · 1 features
    assert counterexample.input == [4, 1]
    assert (counterexample.left, counterexample.right) == (False, True)


def test_zero_counts_and_budgets_are_refused_where_they_enter(orders) -> None:
    with pytest.raises(catdsl.CatError) as err:
        orders["Abstract"](np.int64(0))
    assert err.value.first.code == "R0414"
    assert "`FeatureCount`" in err.value.first.message
    with pytest.raises(catdsl.CatError) as err:
        orders["Concretize"](np.int64(0))
    assert err.value.first.code == "R0414"
    assert "`LayerBudget`" in err.value.first.message


def test_the_galois_law_is_drawn(tmp_path, capsys) -> None:
    out = tmp_path / "galois.svg"
    assert main(["draw", str(ORDERS), "galois", "-o", str(out)]) == 0
    svg = out.read_text(encoding="utf-8")
    assert "<svg" in svg and "Abstract" in svg and "Concretize" in svg
