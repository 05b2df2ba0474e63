"""Rough edges a user hits, each with the behaviour that replaced it: a checkpoint of epochs
is said to be one; drawings and saved values go into directories made for them; ..."""

from __future__ import annotations

from conftest import REPO, TINY

from catdsl.cli import main

CLASSIFY = str(REPO / "programs" / "classify.cat")


def test_run_params_says_epochs_for_a_checkpoint_of_minibatch_epochs(capsys, tmp_path) -> None:
    path = str(tmp_path / "fit.npz")
    assert main(["train", CLASSIFY, "fit", "--epochs", "2", "--checkpoint", path]) == 0
    capsys.readouterr()
    assert main(["run", CLASSIFY, "val_accuracy", "--params", path]) == 0
    err = capsys.readouterr().err
    assert err == f"params from the checkpoint {path}, after 2 epochs\n"


def test_draw_and_save_make_missing_directories(capsys, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["draw", TINY, "predict", "-o", "some/new/dir/out.svg"]) == 0
    assert (tmp_path / "some" / "new" / "dir" / "out.svg").read_text().startswith("<?xml")
    argv = ["run", TINY, "predict", "--input", "1", "--save", "saved/here/value.npz"]
    assert main(argv) == 0
    assert (tmp_path / "saved" / "here" / "value.npz").is_file()
