"""`catdsl check --classify`: each definition named by its boundary, inputs counted first."""

from __future__ import annotations

import json

from conftest import PROGRAMS

import catdsl
from catdsl.cli import main
from catdsl.frontend.classify import classify
from catdsl.loader import check_text

COURSE = PROGRAMS / "transformer" / "course.cat"

PROGRAM = """
import std.ml
import std.attention
dim T
dim D = 2
object Hidden : Real[T, D]
object Mask   : AllowMask[T, T]
object Pair   : Hidden * Mask
object Other  : Real[T, D]
object Loss   : Real
param g : Real[D] = ones
param s : Real[D] = zeros
morphism Norm     : Hidden -> Hidden = layer_norm(g, s)
morphism Out      : Hidden -> Other = relu
morphism Residual : Hidden * Hidden -> Hidden = residual
morphism Mix      : Hidden * Other -> Loss = mse
morphism First    : Pair -> Hidden
morphism Masked[mask: Mask] : Hidden -> Hidden
data one : Hidden = [[1, 0]]
"""


def classes(text: str) -> dict[str, str]:
    checked = check_text(text)
    return {c.name: c.kind for c in classify(checked)}


def test_each_boundary_gets_its_name():
    assert classes(PROGRAM) == {
        "Norm": "endomorphism",
        "Out": "ordinary morphism",
        "Residual": "product-input morphism returning its first factor",
        "Mix": "product-input morphism",
        "First": "ordinary morphism",
        "Masked": "product-input morphism returning its first factor",
    }


def test_the_reasons_say_why(capsys):
    assert main(["check", "--classify", str(COURSE)]) == 0
    out = capsys.readouterr().out
    lines = {line.split()[0]: line for line in out.splitlines()[1:]}
    assert "only while its params (g1, s1) are fixed" in lines["AttentionNorm"]
    assert (
        "not an endomorphism, which would need `Hidden * Projected -> Hidden * Projected`"
        in (lines["Residual"])
    )
    for step in ("readout_step", "ffn_step", "block_step"):
        assert (
            "state endomorphism: TrainingState(block_loss) -> TrainingState(block_loss)"
            in (lines[step])
        )
    assert "point: Unit -> SequenceLogits" in lines["logits"]


def test_the_json_form_lists_every_definition(capsys):
    assert main(["check", "--classify", "--json", str(COURSE)]) == 0
    data = json.loads(capsys.readouterr().out.splitlines()[0])
    by_name = {d["name"]: d for d in data["definitions"]}
    assert by_name["block"]["class"] == "product-input morphism returning its first factor"
    assert by_name["Project"]["class"] == "ordinary morphism"
    definitions = catdsl.load(str(COURSE)).checked.definitions.values()
    assert set(by_name) == {d.name for d in definitions if d.kind != "data"}  # data are values
