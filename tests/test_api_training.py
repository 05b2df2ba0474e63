"""Training from the Python API and checkpoints as params: `program.train` makes the trained
params the program's and takes hyperparameter overrides; a checkpoint of `catdsl train` is
accepted by `load_params` and `run --params`, which state its step count."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import PROGRAMS, TINY

import catdsl
from catdsl import CatError
from catdsl.cli import main

ADAM = str(PROGRAMS / "adam_challenge.cat")


def tiny_with_lr(lr: str) -> catdsl.Program:
    """The tiny program with its step's learning rate written as `lr`."""
    text = Path(TINY).read_text(encoding="utf-8")
    assert "lr = 1.0)" in text
    return catdsl.loads(text.replace("lr = 1.0)", f"lr = {lr})"), file=TINY)


def equal_params(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


# ============================================================== train updates the params
def test_train_makes_the_trained_params_the_programs() -> None:
    program = catdsl.load(TINY)
    before = program["loss"]((1, 2))
    result = program.train("step", steps=4)
    assert equal_params(program.params, result.params)
    after = program["loss"]((1, 2))
    assert after < before
    # the morphism now computes the loss at the trained params, as a fresh program given them
    fresh = catdsl.load(TINY)
    fresh.params.update(result.params)
    assert fresh["loss"]((1, 2)) == after


def test_a_second_train_continues_from_the_trained_params() -> None:
    twice = catdsl.load(TINY)
    first = twice.train("step", steps=3)
    second = twice.train("step", steps=2)
    once = catdsl.load(TINY).train("step", steps=5)
    assert second.losses[0] == first.final_loss
    assert first.losses + second.losses == once.losses  # plain SGD has no optimizer state
    assert equal_params(twice.params, once.params)


def test_a_failed_run_leaves_the_params_as_they_were() -> None:
    program = catdsl.load(TINY)
    kept = {k: v.copy() for k, v in program.params.items()}
    with pytest.raises(CatError) as caught:
        program.train("step", steps=30, lr=1e6)
    assert caught.value.first.code.startswith("R06")
    assert equal_params(program.params, kept)


# ============================================================== hyperparameter overrides
def test_lr_override_equals_the_program_written_with_that_lr() -> None:
    overridden = catdsl.load(TINY).train("step", steps=5, lr=0.25)
    written = tiny_with_lr("0.25").train("step", steps=5)
    assert overridden.losses == written.losses
    assert equal_params(overridden.params, written.params)
    assert overridden.losses != catdsl.load(TINY).train("step", steps=5).losses


def test_overrides_reach_the_step_through_a_power() -> None:
    program = catdsl.load(TINY)
    result = program.train("trained", steps=3, lr=0.25)
    assert result.losses == tiny_with_lr("0.25").train("step", steps=3).losses


def test_adam_overrides_several_hyperparameters() -> None:
    text = Path(ADAM).read_text(encoding="utf-8")
    written = catdsl.loads(
        text.replace("lr = 0.1, beta1 = 0.9", "lr = 0.05, beta1 = 0.5"), file=ADAM
    ).train("adam", steps=3)
    overridden = catdsl.load(ADAM).train("adam", steps=3, lr=0.05, beta1=0.5)
    assert overridden.losses == written.losses
    assert equal_params(overridden.params, written.params)


def test_the_program_text_keeps_its_hyperparameters() -> None:
    program = catdsl.load(TINY)
    program.train("step", steps=1, lr=0.25)
    assert dict(program.checked.definitions["step"].term.body.hyper) == {"lr": 1.0}


@pytest.mark.parametrize(
    ("overrides", "code", "message", "help_"),
    [
        (
            {"lrr": 0.1},
            "E0820",
            "`step` trains with `TrainStep`, which has no hyperparameter `lrr`",
            "did you mean `lr`?",
        ),
        (
            {"momentum": 0.1},
            "E0820",
            "`step` trains with `TrainStep`, which has no hyperparameter `momentum`",
            "its hyperparameters: `lr`",
        ),
        (
            {"step": 3},
            "E0820",
            "`step` trains with `TrainStep`, which has no hyperparameter `step`",
            "did you mean `steps`?",
        ),
        (
            {"lr": -1},
            "E0821",
            "`lr = -1` is not a valid learning rate for `step`",
            "it must be finite and > 0",
        ),
        (
            {"lr": "0.1"},
            "E0821",
            "`lr = '0.1'` is not a valid learning rate for `step`",
            "it must be finite and > 0",
        ),
        ({"lr": float("nan")}, "E0821", "`lr = nan` is not a valid learning rate", None),
    ],
)
def test_bad_overrides_are_refused_before_running(overrides, code, message, help_) -> None:
    program = catdsl.load(TINY)
    kept = {k: v.copy() for k, v in program.params.items()}
    with pytest.raises(CatError) as caught:
        program.train("step", steps=1, **overrides)
    (diag,) = caught.value.diagnostics
    assert diag.code == code and diag.message.startswith(message)
    if help_ is not None:
        assert diag.help == help_
    assert equal_params(program.params, kept)


def test_a_decay_rate_out_of_range_is_refused() -> None:
    with pytest.raises(CatError) as caught:
        catdsl.load(ADAM).train("adam", steps=1, beta1=1.0)
    assert caught.value.first.code == "E0821"
    assert caught.value.first.message == "`beta1 = 1.0` is not a valid decay rate for `adam`"
    assert caught.value.first.help == "it must lie in [0, 1)"


def test_overriding_a_definition_that_is_not_a_step_is_e0805() -> None:
    with pytest.raises(CatError) as caught:
        catdsl.load(TINY).train("predict", steps=1, lr=0.1)
    assert caught.value.first.code == "E0805"


def test_a_checkpoint_of_another_lr_is_not_resumed(tmp_path) -> None:
    path = str(tmp_path / "state.npz")
    catdsl.load(TINY).train("step", steps=2, checkpoint=path)
    with pytest.raises(CatError) as caught:
        catdsl.load(TINY).train("step", steps=4, checkpoint=path, lr=0.5)
    assert caught.value.first.code == "R0607"


# ============================================================== checkpoints are params
def test_load_params_reads_a_training_checkpoint(tmp_path) -> None:
    path = str(tmp_path / "state.npz")
    trained = catdsl.load(TINY)
    result = trained.train("step", steps=6, checkpoint=path)
    program = catdsl.load(TINY)
    assert program.load_params(path) == 6
    assert equal_params(program.params, result.params)
    assert program["loss"]((1, 2)) == trained["loss"]((1, 2))


def test_load_params_reads_an_adam_checkpoint(tmp_path) -> None:
    path = str(tmp_path / "adam.npz")
    result = catdsl.load(ADAM).train("adam", steps=3, checkpoint=path)
    program = catdsl.load(ADAM)
    assert program.load_params(path) == 3
    assert equal_params(program.params, result.params)


def test_a_file_of_arrays_has_no_step_count(tmp_path) -> None:
    path = tmp_path / "p.npz"
    np.savez(path, b=np.arange(5.0))
    program = catdsl.load(TINY)
    assert program.load_params(str(path)) is None
    assert np.array_equal(program.params["b"], np.arange(5.0))


def test_a_checkpoint_of_another_program_is_refused(tmp_path) -> None:
    path = str(tmp_path / "adam.npz")
    catdsl.load(ADAM).train("adam", steps=1, checkpoint=path)
    program = catdsl.load(TINY)
    kept = {k: v.copy() for k, v in program.params.items()}
    with pytest.raises(CatError) as caught:
        program.load_params(path)
    assert caught.value.first.code == "E0802"
    assert caught.value.first.message.endswith(f"holds `theta`, which is not a param of {TINY}")
    assert equal_params(program.params, kept)


def test_a_checkpoint_of_no_params_record_is_refused(tmp_path) -> None:
    from catdsl.semantics.checkpoint import save_checkpoint

    path = str(tmp_path / "odd.npz")
    save_checkpoint(path, (np.zeros(3), np.ones(2)), 1)
    with pytest.raises(CatError) as caught:
        catdsl.load(TINY).load_params(path)
    assert caught.value.first.code == "E0802"
    assert "does not hold the state of one training step" in caught.value.first.message


def test_a_damaged_checkpoint_is_r0607(tmp_path) -> None:
    from catdsl.semantics.checkpoint import save_checkpoint

    path = str(tmp_path / "bad.npz")
    save_checkpoint(path, ({"b": np.zeros(5)},), 1)
    with np.load(path) as data:
        arrays = dict(data)
    arrays["__step__"] = np.array(-3)
    np.savez(path, **arrays)
    with pytest.raises(catdsl.CatRuntimeError) as caught:
        catdsl.load(TINY).load_params(path)
    assert caught.value.diagnostic.code == "R0607"


def test_run_params_takes_a_checkpoint_and_says_its_step(capsys, tmp_path) -> None:
    path = str(tmp_path / "state.npz")
    assert main(["train", TINY, "step", "--steps", "4", "--checkpoint", path, "--json"]) == 0
    trained = json.loads(capsys.readouterr().out)
    argv = ["run", TINY, "loss", "--input", "[1, 2]", "--params", path, "--json"]
    assert main(argv) == 0
    out, err = capsys.readouterr()
    assert err == f"params from the checkpoint {path}, after 4 training steps\n"
    program = catdsl.load(TINY)
    program.params.update({k: np.array(v) for k, v in trained["params"].items()})
    assert json.loads(out)["value"] == float(program["loss"]((1, 2)))
