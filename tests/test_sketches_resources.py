"""Sketch 2, programs/sketches/resources.cat: (compute, memory) bundles, ⊗ componentwise, the
empty bundle its unit (a monoid), ordered kind by kind, and ⊗ monotone."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import PROGRAMS

import catdsl
from catdsl.cli import main
from catdsl.frontend.law_check import check_laws

RESOURCES = PROGRAMS / "sketches" / "resources.cat"


@pytest.fixture(scope="module")
def resources() -> catdsl.Program:
    return catdsl.load(str(RESOURCES))


def run_json(name: str, capsys) -> dict:
    capsys.readouterr()
    assert main(["run", str(RESOURCES), name, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_the_bundle_sum_by_name(capsys) -> None:
    assert run_json("bundle_sum", capsys) == {
        "name": "bundle_sum",
        "type": "Unit -> Compute * Memory",
        "value": [5, 18],
    }
    assert run_json("small_fits_in_sum", capsys)["value"] is True


def test_tensor_adds_each_kind_to_its_own(resources) -> None:
    tensor = resources["Tensor"]
    assert [str(a) for a in tensor.dom.atoms] == ["Compute", "Memory", "Compute", "Memory"]
    c, m = tensor(np.int64(7), np.int64(1), np.int64(0), np.int64(30))
    assert (int(c), int(m)) == (7, 31)


def test_the_order_is_kind_by_kind(resources) -> None:
    within = resources["Within"]
    assert bool(within(np.int64(2), np.int64(8), np.int64(5), np.int64(18)))
    assert not bool(within(np.int64(2), np.int64(20), np.int64(5), np.int64(18)))  # memory
    assert not bool(within(np.int64(6), np.int64(8), np.int64(5), np.int64(18)))  # compute


def test_the_monoid_the_order_and_monotonicity_hold(capsys) -> None:
    capsys.readouterr()
    assert main(["laws", str(RESOURCES), "--json"]) == 0
    reports = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert set(reports) == {
        "tensor_is_monotone",
        "monotone_when_grown",
        "Resources.left_unit",
        "Resources.right_unit",
        "Resources.associativity",
        "Fits.reflexivity",
        "Fits.transitivity",
    }
    assert all(r["holds"] for r in reports.values())


def test_monotonicity_over_a_grid(resources) -> None:
    """a ≤ a' and b ≤ b' ⇒ a ⊗ b ≤ a' ⊗ b' at every bundle with amounts in {0, 2, 5}: the
    program's own `Monotone`, at all 3^8 = 6561 points (`catdsl laws` samples them)."""
    monotone = resources["Monotone"]
    amounts = [np.int64(v) for v in (0, 2, 5)]
    grid = np.array(np.meshgrid(*[amounts] * 8, indexing="ij")).reshape(8, -1)
    held = monotone(*grid)
    assert held.shape == (6561,) and bool(np.all(held))


def test_a_wrong_unit_breaks_the_monoid_laws(tmp_path) -> None:
    """The monoid laws are not vacuous: with (1, 0) as unit, both unit laws fail."""
    text = RESOURCES.read_text(encoding="utf-8")
    broken = text.replace(
        "data no_resources : Bundle = [0, 0]", "data no_resources : Bundle = [1, 0]"
    )
    assert broken != text
    path = tmp_path / "resources.cat"
    path.write_text(broken, encoding="utf-8")
    reports = {r.name: r for r in check_laws(catdsl.load(str(path)))}
    assert not reports["Resources.left_unit"].holds
    assert not reports["Resources.right_unit"].holds
    assert reports["Resources.associativity"].holds


def test_the_bundle_sum_is_drawn(tmp_path) -> None:
    out = tmp_path / "bundle_sum.svg"
    assert main(["draw", str(RESOURCES), "bundle_sum", "-o", str(out)]) == 0
    svg = out.read_text(encoding="utf-8")
    assert "<svg" in svg and "Tensor" in svg and "Memory" in svg


def test_a_non_monotone_tensor_is_caught_by_the_grown_law(tmp_path) -> None:
    """With memory combined by ⌈m / (m' + 1)⌉, which shrinks as m' grows, the law with the
    order built in finds a counterexample (the implication form, whose premise random bundles
    seldom meet, need not: that is why the program states both)."""
    text = RESOURCES.read_text(encoding="utf-8")
    broken = text.replace(
        "    return <add(c, c2), add(m, m2)>", "    return <add(c, c2), ceil_div(m, Inc(m2))>"
    ).replace(
        "data large        : Bundle = [3, 10]",
        "data large        : Bundle = [3, 10]\n"
        "data one : Nat = 1\nmorphism Inc : Nat -> Nat = Nat * one >> add",
    )
    assert broken.count("Inc") == 2
    path = tmp_path / "resources.cat"
    path.write_text(broken, encoding="utf-8")
    reports = {r.name: r for r in check_laws(catdsl.load(str(path)))}
    grown = reports["monotone_when_grown"]
    assert not grown.holds
    assert grown.counterexample is not None
    assert grown.counterexample.left is False and grown.counterexample.right is True
