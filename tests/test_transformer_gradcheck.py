"""`catdsl gradcheck` on attention: masked scores checked without a false failure, negligible
gradients flagged, and the course's one-step finite-difference procedure as its own mode."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import PROGRAMS, TINY, TINY_TEXT

import catdsl
from catdsl.cli import main

COURSE = PROGRAMS / "transformer" / "course.cat"
WIDE = PROGRAMS / "transformer" / "wide.cat"

MASKED = """
import std.attention
dim T = 4
object Scores : Real[T, T]
object Mask   : AllowMask[T, T]
morphism Masked : Scores * Mask -> Scores = mask_scores
let weights = Masked >> row_softmax
"""


def test_masked_scores_pass_where_summing_first_would_fail():
    program = catdsl.loads(MASKED)
    for name in ("Masked", "weights"):
        report = program.gradcheck(name)
        assert report.ok, report
        assert report.rows[0].max_abs_error < 1e-8
    # pairing the −1e6 outputs with the cotangent before differencing loses the change
    rng = np.random.default_rng(0)
    scores, c = rng.normal(size=(4, 4)), rng.normal(size=(4, 4))
    mask = np.tri(4, dtype=bool)
    f = program["Masked"]
    eps = 1e-6
    up, down = scores.copy(), scores.copy()
    up[3, 0] += eps
    down[3, 0] -= eps
    summed_first = (np.sum(c * f((up, mask))) - np.sum(c * f((down, mask)))) / (2 * eps)
    assert abs(summed_first - c[3, 0]) > 1e-5


def test_a_negligible_gradient_gets_a_warning(capsys):
    report = catdsl.load(str(WIDE)).gradcheck("block_loss")
    assert report.ok
    flagged = [r.name for r in report.rows if r.negligible]
    assert flagged == ["bk"]  # a key bias shifts every score of a row alike: softmax ignores it
    assert main(["gradcheck", str(WIDE), "block_loss"]) == 0
    out = capsys.readouterr().out
    assert "warning: the gradient of `bk` is at most" in out
    assert main(["gradcheck", str(WIDE), "block_loss", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [t["name"] for t in data["tensors"] if t["negligible"]] == ["bk"]


def test_a_wrong_derivative_still_fails(monkeypatch):
    from catdsl.std.prims import self_attention as heads

    original = heads.MultiHead.vjp

    def off(self, residual, dy):
        grads = list(original(self, residual, dy))
        grads[-2] = grads[-2] * 1.01  # Wv's gradient 1 % too large
        return tuple(grads)

    monkeypatch.setattr(heads.MultiHead, "vjp", off)
    report = catdsl.load(str(WIDE)).gradcheck("block_loss")
    assert [r.name for r in report.rows if not r.ok] == ["Wv"]


ONE_STEP = ["--one-step", "--start", "block_start", "--loss", "block_mean"]


def test_the_course_one_step_check_passes_every_family(capsys):
    assert main(["gradcheck", str(COURSE), "block_step", *ONE_STEP, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["lr"] == 0.2 and report["ok"]
    families = {f["name"]: f for f in report["families"]}
    # the course's eight: readout W and b, FFN W and b, a norm param, attention Q/K/V weight and
    # bias, output-projection bias
    for name in ("Wr", "br", "W1", "b1", "g1", "Wq", "bq", "bo"):
        assert families[name]["ok"] and families[name]["error"] < 1e-2
    # at d = 2 the inner block's gradients are ~1e-11: flagged, not certified
    assert all(families[n]["negligible"] for n in ("Wq", "Wk", "Wv", "Wo", "bo"))
    assert all(families[n]["strict"] for n in ("Wr", "br", "g2", "s2"))


def test_on_the_wide_fixture_every_family_passes_the_strict_rule():
    from catdsl.frontend.gradcheck import one_step

    report = one_step(catdsl.load(str(WIDE)), "block_step", "block_start", "block_mean")
    assert report.ok and len(report.rows) == 17  # every param but the key bias moved
    assert all(r.strict for r in report.rows), [r for r in report.rows if not r.strict]


def test_one_step_needs_a_start_and_a_loss(capsys):
    assert main(["gradcheck", str(COURSE), "block_step", "--one-step"]) == 2
    assert "--start STATE and --loss LOSS" in capsys.readouterr().err


def test_a_params_state_needs_its_rate():
    from catdsl.frontend.gradcheck import one_step

    text = TINY_TEXT + "\nlet start = Init(loss)\n"
    text += "let mean_loss = MeanLoss(loss, examples)\n"
    program = catdsl.loads(text, TINY)
    with pytest.raises(catdsl.CatError) as info:
        one_step(program, "step", "start", "mean_loss")
    assert info.value.diagnostics[0].code == "R0307"
    report = one_step(program, "step", "start", "mean_loss", lr=1.0)
    assert report.ok and {r.name for r in report.rows} == {"E", "W", "b"}
