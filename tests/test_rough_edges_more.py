"""Rough edges a user hits, each with the behaviour that replaced it: a checkpoint of epochs
is said to be one, ..."""

from __future__ import annotations

from conftest import REPO

from catdsl.cli import main

CLASSIFY = str(REPO / "programs" / "classify.cat")


def test_run_params_says_epochs_for_a_checkpoint_of_minibatch_epochs(capsys, tmp_path) -> None:
    path = str(tmp_path / "fit.npz")
    assert main(["train", CLASSIFY, "fit", "--epochs", "2", "--checkpoint", path]) == 0
    capsys.readouterr()
    assert main(["run", CLASSIFY, "val_accuracy", "--params", path]) == 0
    err = capsys.readouterr().err
    assert err == f"params from the checkpoint {path}, after 2 epochs\n"
