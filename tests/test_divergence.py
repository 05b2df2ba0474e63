"""Divergence is an error: a training run that blows up stops at the first box or param that
went bad, names the step, and keeps the losses of the steps already done.

The three ways the tiny model diverges (`programs/tiny_ml.cat` with a larger `lr`):

- lr = 1e6: every param stays finite, but the logits grow so far apart that `softmax` gives the
  targets the probability 0; `nll`'s floor shows −ln 0 = ∞ as −ln(1e-9) = 20.723266 with no
  gradient, and the run used to end "successfully" stuck there. Now R0606 at `nll`.
- lr = 1e300: the logits overflow in `affine`; the error used to name `softmax` (R0402), which
  only refused them. Now R0415 at `affine`.
- a NaN param (a bad checkpoint, an update that overflowed): R0413 naming the param.

A loss at the floor whose probability is tiny but not 0 is `nll`'s defined value, not an error.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from conftest import TINY_TEXT

import catdsl
from catdsl.cli import main
from catdsl.errors import CatError
from catdsl.frontend.training_run import TrainingFailed
from catdsl.semantics import progress
from catdsl.std.kernels import Nll

FIRST_LOSS = 1.6093892537567045  # the mean loss at the initial params


def tiny(lr: str) -> catdsl.Program:
    assert "lr = 1.0" in TINY_TEXT
    return catdsl.loads(TINY_TEXT.replace("lr = 1.0", f"lr = {lr}"), "tiny.cat")


def line_of(text: str) -> int:
    return next(i for i, line in enumerate(TINY_TEXT.splitlines(), 1) if text in line)


def failure(program: catdsl.Program, steps: int = 80, **options) -> TrainingFailed:
    with pytest.raises(TrainingFailed) as err:
        program.train("step", steps=steps, **options)
    assert len(err.value.diagnostics) == 1
    return err.value


def test_a_loss_stuck_at_the_floor_over_zero_probabilities_is_an_error():
    err = failure(tiny("1e6"))
    (diag,) = err.diagnostics
    assert diag.code == "R0606"
    assert diag.message.startswith("the mean loss of `TrainStep(loss)` is infinite: `nll` got ")
    assert "the probability 0 for the target of 7 of 7 example(s)" in diag.message
    assert "−ln(1e-09) = 20.723266" in diag.message
    assert diag.span is not None and diag.span.line == line_of("= nll")
    (label,) = diag.labels  # the box that produced the zeros
    assert label.span.line == line_of("= softmax") and "probability 0" in label.message
    assert diag.notes[0] == "in step 2 of 80 of `step ^ 80`, from the state after step 1"
    assert diag.notes[1] == "the losses so far, as `catdsl train` prints them: step 0 1.60939"
    assert "`b` 2e+05" in diag.help and "smaller `lr`" in diag.help
    assert err.losses == [FIRST_LOSS] and err.steps_done == 1


def test_overflowing_logits_name_affine_not_softmax():
    (diag,) = failure(tiny("1e300")).diagnostics
    assert (diag.code, diag.message) == ("R0415", "`affine(W, b)` produced an infinite value")
    assert diag.span is not None and diag.span.line == line_of("= affine(W, b)")
    assert diag.notes[0] == "in step 2 of 80 of `step ^ 80`, from the state after step 1"
    assert "the largest param entries are `b` 2e+299" in diag.help


@pytest.mark.parametrize("lr", ["1.0", "0.1", "40"])
def test_finite_losses_are_not_flagged(lr):
    """At lr = 40 the tiny model also sticks at the floor, but over probabilities of 1e-73 to
    1e-240: finite losses the floor defines as 20.723266. That is not divergence."""
    result = tiny(lr).train("step", steps=80)
    assert np.isfinite(result.losses).all() and len(result.losses) == 80
    if lr == "40":
        assert result.final_loss == pytest.approx(-np.log(1e-9))


def test_the_floor_hook_counts_only_hidden_infinities():
    kernel = Nll()
    probs = np.array([[1.0, 0.0], [1e-12, 1.0], [0.5, 0.5], [np.nan, 1.0]])
    (loss,), residual = kernel.forward(probs, np.array([1, 0, 0, 0]))
    assert kernel.hidden_infinities(residual) == 2  # 0 and NaN; 1e-12 is a finite loss
    assert np.isfinite(loss[:3]).all() and loss[1] == pytest.approx(-np.log(1e-9))


DIVERGING = """
import std.ml
dim D = 2
object Features : Real[D]
object Loss : Real
param v : Real[D] = ones
morphism Score : Features -> Loss = dot(v)
data xs : List[Features] = [[1e10, 1e10], [2e10, 2e10]]
let step = TrainStep(Score, xs, lr = 1e300)
"""


def test_a_param_made_infinite_is_named_with_its_step():
    program = catdsl.loads(DIVERGING)
    (diag,) = failure(program, steps=1).diagnostics
    assert (diag.code, diag.message) == (
        "R0413",
        "the param `v` is not finite after step 1 of `step ^ 1`",
    )
    (diag,) = failure(program, steps=3).diagnostics  # caught by step 2's mean loss
    assert diag.code == "R0413" and "the param `v`" in diag.message
    assert diag.notes[0] == "in step 2 of 3 of `step ^ 3`, from the state after step 1"


def test_no_checkpoint_of_a_diverged_state_is_saved(tmp_path):
    path = tmp_path / "state.npz"
    (diag,) = failure(catdsl.loads(DIVERGING), steps=1, checkpoint=str(path)).diagnostics
    assert diag.code == "R0413" and "after step 1 of" in diag.message
    assert "no checkpoint of this state was saved" in (diag.help or "")
    assert not path.exists()


def test_a_nan_checkpoint_names_the_param(tmp_path):
    program = tiny("1.0")
    path = tmp_path / "state.npz"
    program.train("step", steps=4, checkpoint=str(path))
    saved = dict(np.load(path, allow_pickle=False))
    saved["0/W"] = saved["0/W"].copy()
    saved["0/W"][0, 0] = np.nan
    np.savez(path, **saved)
    try:
        program.train("step", steps=8, checkpoint=str(path))
    except CatError as err:
        (diag,) = err.diagnostics
    else:
        pytest.fail("a NaN checkpoint must not train")
    if diag.code == "R0607":
        return  # refused when read: the checkpoint's own check (also fine)
    assert (diag.code, diag.message) == (
        "R0413",
        "the param `W` given to `TrainStep(loss)` is not finite",
    )
    assert diag.notes[0] == (
        f"in step 5 of 8 of `step ^ 8`, from the state of checkpoint `{path}` (step 4)"
    )


def test_the_cli_exits_1_with_the_rows_and_the_step(tmp_path, capsys):
    path = tmp_path / "tiny.cat"
    path.write_text(TINY_TEXT.replace("lr = 1.0", "lr = 1e6"), encoding="utf-8")
    assert main(["train", str(path), "step", "--steps", "80"]) == 1
    out, err = capsys.readouterr()
    assert "error[R0606]" in err and "Traceback" not in err
    assert "note: in step 2 of 80 of `step ^ 80`" in err
    assert "step 0 1.60939" in err
    assert main(["train", str(path), "step", "--steps", "80", "--json"]) == 1
    out, _ = capsys.readouterr()
    assert '"R0606"' in out and "in step 2 of 80" in out


def test_the_progress_display_keeps_its_rows_on_error(monkeypatch):
    """A bar already on screen is left there (not erased) when the loop stops with an error."""
    stream = io.StringIO()
    monkeypatch.setattr(progress, "DELAY_SECONDS", 0.0)
    monkeypatch.setattr(progress.sys, "stderr", stream)
    with pytest.raises(RuntimeError), progress.ProgressBar(10, "step ^ 10", 0, True) as bar:
        for done in range(1, 8):
            bar.update(done, 1.0 / done)
        raise RuntimeError("diverged")
    shown = stream.getvalue()
    assert "7/10" in shown and "step ^ 10" in shown
