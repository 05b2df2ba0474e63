"""Nothing differentiates through a box without a gradient: a training step whose loss reaches
a comparison (or another discrete primitive) from its params is E0330 at the box, one that
reaches an evaluation morphism (`argmax`) is E0361, and `catdsl gradcheck` refuses a definition
that goes through either. A box that only data reaches cuts nothing and is allowed."""

from __future__ import annotations

import pytest
from evalkit import CLASSIFIER

import catdsl
from catdsl.cli import main
from catdsl.errors import CatError
from catdsl.loader import check_text

HEAD = """\
import std.ml
import std.logic
param v : Real[2] = [0.5, -1.0]
data x : Real[2] = [1.0, 2.0]
data one : Real = 1.0
data flags : List[Bool] = [true, false]
"""


def diagnostics(src: str):
    return check_text(HEAD + src, "t.cat").diagnostics


def test_training_through_a_comparison_is_refused_at_the_box():
    (d,) = diagnostics(
        "let passes : Unit -> Bool = x >> dot(v) * one >> le\n"
        "let step = TrainStep(passes, lr = 0.1)\n"
    )
    assert (d.code, d.span.line, d.span.column) == ("E0330", 7, 50)
    assert "through `le`" in d.message and "TrainStep(passes, ...)" in d.message
    assert d.labels[0].span.line == 8 and d.labels[0].message == "trained here"


def test_the_box_is_found_inside_definitions():
    (d,) = diagnostics(
        "let judge = dot(v) * one >> gt\n"
        "let passes : Unit -> Bool = x >> judge\n"
        "let step = Adam(passes, lr = 0.1)\n"
    )
    assert (d.code, d.span.line) == ("E0330", 7)
    assert "through `gt`" in d.message


def test_the_box_is_named_with_its_definition():
    (d,) = diagnostics(
        "let judge = dot(v) * one >> gt\n"
        "let passes : Unit -> Bool = x >> judge\n"
        "let step = Adam(passes, lr = 0.1)\n"
    )
    assert d.message.startswith("`Adam(passes, ...)` would differentiate through `gt` (in `judge`)")


def test_the_box_is_found_along_the_wires_of_a_block():
    (d,) = diagnostics(
        "let judge(a: Real[2], b: Real) -> Bool = { s = dot(v)(a); return le(s, b) }\n"
        "let passes : Unit -> Bool = x * one >> judge\n"
        "let step = TrainStep(passes, lr = 0.1)\n"
    )
    assert (d.code, d.span.line) == ("E0330", 7)
    assert "through `le` (in `judge`)" in d.message


def test_a_block_whose_box_only_data_reaches_is_fine():
    source = (
        "let gated(a: Real[2], b: Real) -> Real = "
        "{ s = dot(v)(a); c = le(b, b); return tanh(s) }\n"
        "let step = TrainStep(x * one >> gated, lr = 0.1)\n"
    )
    assert diagnostics(source) == []


def test_an_evaluation_morphism_on_data_is_fine_and_trains_like_its_labels():
    source = (
        CLASSIFIER
        + """
let soft = Classify * argmax >> cross_entropy
data onehot : List[Features * Logits] = [[[2, 0], [1, 0, 0]], [[0, 2], [0, 1, 0]]]
data labelled : List[Features * Label] = [[[2, 0], 0], [[0, 2], 1]]
let after_soft = Init(soft) >> TrainStep(soft, onehot, lr = 0.1) >> MeanLoss(soft, onehot)
let after_hard = Init(loss) >> TrainStep(loss, labelled, lr = 0.1) >> MeanLoss(loss, labelled)
"""
    )
    program = catdsl.loads(source)
    assert program["after_soft"]() == program["after_hard"]()


def test_discrete_boxes_on_data_are_fine():
    assert (
        diagnostics(
            "data ok : Bool = flags >> all\n"
            "let loss : Unit -> Real = x >> dot(v) >> tanh\n"
            "let step = TrainStep(loss, lr = 0.1)\n"
            "let judged : Unit -> Bool = x >> dot(v) * one >> le\n"
        )
        == []
    )


def test_gradcheck_refuses_a_discrete_box(capsys, tmp_path):
    path = tmp_path / "g.cat"
    path.write_text(HEAD + "let judged = dot(v) * one >> le\nlet fine = dot(v) >> tanh\n")
    program = catdsl.load(str(path))
    with pytest.raises(CatError) as err:
        program.gradcheck("judged")
    d = err.value.first
    assert (d.code, d.span.line, d.span.column) == ("E0330", 7, 30)
    assert "`judged` goes through `le`" in d.message
    assert program.gradcheck("fine").ok
    assert main(["gradcheck", str(path), "judged"]) == 1
    assert "E0330" in capsys.readouterr().err


def test_gradcheck_refuses_an_evaluation_morphism():
    extra = "param Cost : Real[C, 1] = ones\nlet hard = Classify >> argmax >> lookup(Cost) >> sum\n"
    program = catdsl.loads(CLASSIFIER + extra)
    with pytest.raises(CatError) as err:
        program.gradcheck("hard")
    d = err.value.first
    assert d.code == "E0361"
    assert (
        d.message
        == "`hard` goes through `argmax`, an evaluation morphism: it has no gradient to check"
    )
